/**
 * Whether a tool call's answer is sent: what a call that tells of a task's
 * end (or claims it from the completion log) waits for before it counts the
 * end as told.
 *
 * The SDK drops the answer of a call whose signal aborted before its
 * handler's promise settled (a `notifications/cancelled`, an HTTP
 * connection closed, the transport closed): `Protocol._onrequest` (in
 * `@modelcontextprotocol/server`'s core, `src-*.mjs`) checks
 * `signal.aborted` once the handler has resolved, and sends nothing then;
 * else it encodes the result and calls `transport.send` with no await in
 * between. So the moment `transport.send` is called with a call's result is
 * the moment its answer is decided: a call that marked an end told before
 * (as it formed its answer) lost that end for good when a cancel came in
 * between. Here each call is owed an answer ({@linkcode Answers.owe}); the
 * transport's `send` of that answer settles it, and waits for what the call
 * keeps until then (its claims made done, its ends acknowledged) before it
 * writes: a server killed right after an answer does not tell its ends
 * again. A call whose signal aborts first is settled unanswered: its claims
 * are given back and its ends told by the next `task_completions`.
 *
 * @module
 */

import type { JSONRPCMessage, Transport } from "@modelcontextprotocol/server";
import { idKey } from "./request_ids.ts";

/** Whether a call's result is a tool error (`isError`). */
function isToolError(result: unknown): boolean {
  return typeof result === "object" && result !== null &&
    (result as { isError?: unknown }).isError === true;
}

/** Whether a result has `content` (as a tool call's has). */
function hasContent(result: unknown): boolean {
  return typeof result === "object" && result !== null && "content" in result;
}

/** One call's answer, owed. */
export interface Owed {
  /**
   * Settles true when the answer is about to be written (the SDK decided to
   * send it), false when it never will be: the call's signal aborted first
   * (the SDK sends nothing then), or it went as an error (a JSON-RPC one, or
   * a tool error: a call that failed after it noted an end; but see
   * {@linkcode Owed.errorTells}). Never rejects.
   */
  answered: Promise<boolean>;
  /**
   * Work the answer waits for, once `answered` is true, before it is written
   * (the call's claims made done, its ends acknowledged): its failure does
   * not stop the answer.
   */
  keep(work: Promise<unknown>): void;
  /**
   * Has a tool error that answers the call count as telling the ends it
   * noted: a refusal that says why, "it has ended (completed)".
   */
  errorTells(): void;
}

/** What an owed answer holds until it is settled. */
interface Debt {
  settle: (sent: boolean) => void;
  work: Promise<unknown>[];
  /** A tool error tells the ends noted too (see {@linkcode Owed.errorTells}). */
  errorTells: boolean;
}

/**
 * The answers owed by one MCP session's calls, settled by the transport's
 * `send` of each (see {@linkcode Answers.watch}) or by the call's signal.
 */
export class Answers {
  /** Per id, the calls owed an answer (a client may reuse an id: first come, first settled). */
  readonly #owed = new Map<string, Debt[]>();

  /** Call `id`'s answer, owed until it is sent or `signal` aborts. */
  owe(id: string | number, signal: AbortSignal): Owed {
    let settle!: (sent: boolean) => void;
    const answered = new Promise<boolean>((resolve) => settle = resolve);
    const debt: Debt = { settle, work: [], errorTells: false };
    const owed = {
      answered,
      keep: (work: Promise<unknown>) => void debt.work.push(work),
      errorTells: () => void (debt.errorTells = true),
    };
    const key = idKey(id);
    if (key === undefined) {
      settle(false);
      return owed;
    }
    this.#owed.set(key, [...(this.#owed.get(key) ?? []), debt]);
    // (The SDK checks the signal and calls send with no await between:
    // aborted before the send was called, the answer is never sent.)
    const drop = () => {
      if (this.#take(key, debt)) settle(false);
    };
    if (signal.aborted) drop();
    else signal.addEventListener("abort", drop, { once: true });
    return owed;
  }

  /** Takes `debt` (or the first one of `key`) out of the owed ones. */
  #take(key: string, debt?: Debt): Debt | undefined {
    const queue = this.#owed.get(key);
    if (!queue) return undefined;
    const at = debt ? queue.indexOf(debt) : 0;
    if (at < 0) return undefined;
    const [taken] = queue.splice(at, 1);
    if (queue.length === 0) this.#owed.delete(key);
    return taken;
  }

  /**
   * Wraps `transport.send` so that each answer settles the call it answers
   * (see {@linkcode Answers.owe}), and is written once what that call keeps
   * is done. Before the server connects to it.
   */
  watch(transport: Transport): void {
    const send = transport.send.bind(transport);
    transport.send = async (message, options) => {
      const reply = message as JSONRPCMessage & { id?: unknown; result?: unknown };
      // (A tool call's answer: an error, or a result with content. Another
      // request that reuses a call's id, a ping, is no answer to it.)
      const key = "method" in message || ("result" in reply && !hasContent(reply.result))
        ? undefined
        : idKey(reply.id);
      const debt = key === undefined ? undefined : this.#take(key);
      if (debt) {
        // (An error, a JSON-RPC one or a tool's, shows no end the call noted,
        // but a tool's refusal that says it: see errorTells.)
        const told = "result" in reply && (!isToolError(reply.result) || debt.errorTells);
        debt.settle(told);
        // (Given back, too, before an error goes: the next call sees them.)
        await Promise.allSettled(debt.work);
      }
      return await send(message, options);
    };
  }
}
