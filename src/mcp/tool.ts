/**
 * The shape of one MCP tool of bgtask, and how its failures become tool
 * errors (`isError`) that name the problem and the fix.
 *
 * @module
 */

import { StdinTimeoutError, StoreError, TaskNotFoundError, TaskStateError } from "../../mod.ts";
import type { TaskInfo, TaskManager } from "../../mod.ts";
import { toldOfEnd } from "./consumer.ts";
import { idNumber, isValidId } from "../ids.ts";
import type { Fields } from "./args.ts";
import { errorResult, type TextResult } from "./format.ts";

/** What every tool of one MCP session works with. */
export interface Session {
  /** The store. */
  tasks: TaskManager;
  /**
   * This session's completion consumer (`mcp-<random>`): `task_completions`
   * claims finished tasks for it alone, so the CLI's `bgtask completions` or
   * another agent never takes them.
   */
  consumer: string;
  /**
   * Registers the consumer when the session starts (a consumer sees the
   * tasks that finish from its first use on); `task_completions` waits for it.
   */
  registered: Promise<unknown>;
  /**
   * The last `next_cursor` this session gave the client, per task id
   * (task_start, task_read, task_wait, task_write_stdin): where task_wait
   * until "output" without a cursor counts new output from.
   */
  cursors?: Map<string, number>;
  /**
   * The ids of the tasks this session started (task_start), for `only_mine`
   * and the status lines' "(started by this session)": this process's
   * starts only.
   */
  started?: Set<string>;
  /**
   * Set when the consumer is named (`bgtask mcp --consumer NAME`), kept
   * across restarts: `since` is when this session began. A task created
   * before may have been started by a previous server of that name, which
   * `started` does not know: `only_mine` shows its end rather than pass it
   * over.
   */
  named?: { since: number };
  /**
   * The ids of the tasks whose end a call's answer told this session of: an
   * answer that was sent (see {@linkcode noteTold}). `task_completions`
   * leaves them out.
   */
  told?: Set<string>;
  /**
   * The ids of the tasks whose end an answer being formed or sent tells of,
   * each with whether that answer was sent (see {@linkcode noteTold}): a
   * `task_completions` alongside waits to know before it leaves one out.
   */
  telling?: Map<string, Promise<boolean>[]>;
  /**
   * The drains of `task_completions` whose claims wait for their call's
   * answer (kept once it is sent, given back if it never is), with that
   * call's signal: a `task_completions` waits for those of calls aborted (to
   * go unanswered) to have given theirs back before it drains.
   */
  drains?: Set<{ done: Promise<unknown>; signal: AbortSignal }>;
}

/**
 * Notes at once, with no await, that a call's answer tells the session of
 * these tasks' ends (the finished ones), and counts them told once that
 * answer is sent (`call.answered`): then `task_completions` leaves them out,
 * and the store marks them reported to the session's consumer (`toldOfEnd`,
 * before the answer is written). An answer never sent (the call cancelled,
 * its HTTP connection closed first) told nothing: `task_completions`
 * reports those ends.
 * A `task_completions` that runs alongside (two calls of one session in
 * parallel) waits for the answer's fate before it leaves one out (see
 * {@linkcode toldAmong}), where the store's acknowledgement could come after
 * its drain, and the end was told twice.
 */
export function noteTold(
  session: Session,
  infos: readonly TaskInfo[],
  call: Pick<Call, "answered" | "keep">,
): void {
  const ended = infos.filter((t) => t.finishedAt !== null);
  if (ended.length === 0) return;
  const { told, telling } = session;
  const fate = call.answered;
  for (const t of ended) telling?.set(t.id, [...(telling.get(t.id) ?? []), fate]);
  const settled = fate.then((sent) => {
    for (const t of ended) {
      const left = (telling?.get(t.id) ?? []).filter((f) => f !== fate);
      if (left.length > 0) telling?.set(t.id, left);
      else telling?.delete(t.id);
      if (sent) told?.add(t.id);
    }
    if (sent) return toldOfEnd(session, ended);
  });
  // (Acknowledged before the answer is written; the answer waits for it.)
  if (call.keep) call.keep(settled);
  else void settled;
}

/**
 * Which of `ids` an answer of this session told the end of: those of an
 * answer sent, once the answers still being sent are (or are not). Waits no
 * longer than `signal` (then the answers not yet sent count as not told).
 */
export async function toldAmong(
  session: Session,
  ids: readonly string[],
  signal?: AbortSignal,
): Promise<Set<string>> {
  const out = new Set<string>();
  const stop = signal ? abortedPromise(signal) : undefined;
  for (const id of ids) {
    if (session.told?.has(id)) {
      out.add(id);
      continue;
    }
    const fates = session.telling?.get(id);
    if (!fates) continue;
    const sent = await Promise.race([
      Promise.all(fates).then((all) => all.some(Boolean)),
      ...(stop ? [stop] : []),
    ]);
    if (sent) out.add(id);
  }
  return out;
}

/** Resolves false once `signal` aborts. */
function abortedPromise(signal: AbortSignal): Promise<false> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(false);
    else signal.addEventListener("abort", () => resolve(false), { once: true });
  });
}

/**
 * Notes that the session gave the client `cursor` for task `id`: the
 * furthest one given counts (a read again from 0 does not make output the
 * client has seen new again).
 */
export function remember(
  cursors: Map<string, number> | undefined,
  id: string,
  cursor: number,
): void {
  if (cursors && cursor > (cursors.get(id) ?? -1)) cursors.set(id, cursor);
}

/** Whether this session started task `id` (task_start): its status lines say so. */
export function startedHere(session: Session, id: string): boolean {
  return session.started?.has(id) ?? false;
}

/** One call of a tool. */
export interface Call {
  /**
   * Aborts when the call is to go unanswered: the client cancelled it, its
   * HTTP connection closed, or its session ended (`cancelledByClient` of
   * `cancel.ts` tells the first from the others).
   */
  signal: AbortSignal;
  /**
   * Settles true once this call's answer is being sent, false when it never
   * will be (see `answer.ts`): what counts an end told ({@linkcode noteTold})
   * or a claim of `task_completions` kept.
   */
  answered: Promise<boolean>;
  /**
   * Has the answer wait, once `answered` is true, for `work` (claims made
   * done, ends acknowledged) before it is written: a server killed right
   * after the answer does not tell those ends again. Unset: nothing waits.
   */
  keep?: (work: Promise<unknown>) => void;
  /**
   * Has the call's answer tell the ends it noted even as a tool error (a
   * refusal that says the task has ended). Unset: an error tells none.
   */
  errorTells?: () => void;
  /**
   * Aborts when the client has gone (stdio: it closed stdin). A call that
   * only waits (task_wait, task_completions' wait_s, the wait of task_start
   * and task_write_stdin) then stops waiting and answers with what it has,
   * as if its deadline had come; what a call changes is still done.
   */
  ending?: AbortSignal;
  /**
   * Sends `notifications/progress` when the client asked for it (sent a
   * progress token); a no-op otherwise.
   */
  progress: (message: string) => void;
}

/** Hints for clients (MCP tool annotations). */
export interface Annotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** A tool: its name, what the model reads about it, its arguments, and what it does. */
export interface Tool<A = Record<string, unknown>> {
  name: string;
  title: string;
  /** Written for a model: when to use it, and what it returns. */
  description: string;
  /** The description for this session, when it depends on it (default `description`). */
  describe?: (session: Session) => string;
  fields: Fields;
  annotations: Annotations;
  run(session: Session, args: A, call: Call): Promise<TextResult>;
}

/** Declares a tool (types its arguments; nothing more). */
export function defineTool<A>(tool: Tool<A>): Tool<A> {
  return tool;
}

/**
 * {@linkcode toolError}, and for an id that names no task and never did,
 * what does: past the newest task's (a number made up, or one a model
 * expected next), the newest; in an empty store, that there is none.
 */
export async function toolErrorIn(tasks: TaskManager, e: unknown): Promise<TextResult> {
  // (Not "Task b3 was removed …" nor a malformed id: those say what holds.)
  if (e instanceof TaskNotFoundError && isValidId(e.id) && e.message.startsWith("No task ")) {
    const [newest] = await tasks.list({ last: 1 }).catch(() => []);
    if (newest === undefined) {
      return errorResult(`${e.message}: the store has no task yet; task_start starts one.`);
    }
    if (idNumber(e.id) > idNumber(newest.id)) {
      return errorResult(
        `${e.message}: the newest task is ${newest.id}. task_list shows the tasks.`,
      );
    }
  }
  return toolError(e);
}

/**
 * A store's advice for a damaged task (or one whose output file went),
 * which names CLI commands and library calls, in the words of this
 * server's tools where one does the same (`task_read` reads the output,
 * `task_start` runs a command again); a removal has no tool, and is said to
 * be the CLI's.
 *
 * @example
 * ```ts
 * import { forAgents } from "./tool.ts";
 * import { equal } from "node:assert/strict";
 * equal(
 *   forAgents("bgtask logs b3 shows it, bgtask rm b3 removes the task"),
 *   "task_read with id b3 shows it, the command line's bgtask rm b3 removes the task",
 * );
 * equal(
 *   forAgents(
 *     "restart(id) runs its command again, and remove(id) drops the task once it has ended " +
 *       "(the CLI: bgtask restart b3, bgtask rm b3)",
 *   ),
 *   "task_start with its command runs it again, and the command line's bgtask rm b3 drops the " +
 *     "task once it has ended",
 * );
 * ```
 */
export function forAgents(message: string): string {
  return message
    .replace(
      /restart\(id\) runs its command again, and remove\(id\) drops the task once it has ended \(the CLI: bgtask restart (b\d+), bgtask rm \1\)/g,
      "task_start with its command runs it again, and the command line's bgtask rm $1 drops " +
        "the task once it has ended",
    )
    .replace(/\bbgtask logs (b\d+) shows it/g, "task_read with id $1 shows it")
    .replace(/\bbgtask rm (b\d+) removes/g, "the command line's bgtask rm $1 removes");
}

/**
 * A tool error for anything a tool throws: the message, with the fix when
 * the cause is known.
 *
 * @example
 * ```ts
 * import { TaskNotFoundError } from "../../mod.ts";
 * import { toolError } from "./tool.ts";
 * import { equal, match } from "node:assert/strict";
 * const result = toolError(new TaskNotFoundError("b9"));
 * equal(result.isError, true);
 * match(result.content[0].text, /^No task "b9" in the store\. Task ids look like "b1"/);
 * ```
 */
export function toolError(e: unknown): TextResult {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof TaskNotFoundError) {
    return errorResult(
      `${message}. Task ids look like "b1", "b2", …; task_list shows the tasks in the store ` +
        `(a removed task is gone for good).`,
    );
  }
  if (e instanceof TaskStateError && /: it has not started yet \(it is queued\)/.test(message)) {
    return errorResult(
      `${message}. task_status says what it waits for (its place in line, a paused queue and ` +
        `what resumes it, the tasks it runs after); task_wait with until "input" waits until it ` +
        `has started and asks.`,
    );
  }
  if (e instanceof TaskStateError && /: it has ended \(/.test(message)) {
    return errorResult(
      `${message}. task_read shows what it printed; task_start runs something new.`,
    );
  }
  if (e instanceof TaskStateError || e instanceof StoreError) {
    return errorResult(forAgents(message));
  }
  if (e instanceof StdinTimeoutError) {
    return errorResult(
      `${message}. The program is not reading its input now: task_read shows what it printed ` +
        `(it may be busy, or wait for something else); write the rest once it reads, or task_kill it.`,
    );
  }
  if (e instanceof Deno.errors.NotCapable) {
    return errorResult(
      `${message}. The bgtask MCP server lacks a Deno permission: restart it with the flags ` +
        `in its README section "Use from an agent (MCP)".`,
    );
  }
  if (e instanceof TypeError || e instanceof RangeError) {
    // (The core's word for an unknown id in `after`: the fix is the agent's.)
    const hint = /which is not a task in this store$/.test(message)
      ? " task_list shows the tasks in the store."
      : "";
    return errorResult(`${message}.`.replace(/\.\.$/, ".") + hint);
  }
  return errorResult(`Unexpected error: ${message}`);
}
