/**
 * Why a tool call's signal aborted: the client's own `notifications/cancelled`,
 * or the call's going unanswered for another reason (its HTTP connection
 * closed, the session or the server ended). Only the first is the client's
 * choice; a call that undoes what it did when cancelled (`task_start` kills
 * the task it started) does so only then.
 *
 * @module
 */

import { SdkError, SdkErrorCode } from "@modelcontextprotocol/server";
import { STOP_ANSWER_MS } from "../timing.ts";

/**
 * The reason of the `notifications/cancelled` that `bgtask mcp --http` gives a
 * call whose client's connection closed before its answer. It holds a random
 * part, made once per process and never sent, so that no client's own
 * cancellation reads as it.
 */
export const CONNECTION_CLOSED =
  `the client's connection closed before the answer (${crypto.randomUUID()})`;

/**
 * Whether `signal` (a tool call's) aborted because the client cancelled the
 * call (`notifications/cancelled`): not because its HTTP connection closed
 * ({@linkcode CONNECTION_CLOSED}), nor because the session's transport closed
 * (the SDK aborts every call still running with its "Connection closed").
 *
 * @example
 * ```ts
 * import { CONNECTION_CLOSED, cancelledByClient } from "./cancel.ts";
 * import { equal } from "node:assert/strict";
 * const by = (reason?: unknown) => {
 *   const c = new AbortController();
 *   c.abort(reason);
 *   return cancelledByClient(c.signal);
 * };
 * equal(cancelledByClient(new AbortController().signal), false);
 * equal(by("the user pressed Esc"), true);
 * equal(by(), true); // a notifications/cancelled without a reason
 * equal(by(CONNECTION_CLOSED), false);
 * ```
 */
export function cancelledByClient(signal: AbortSignal): boolean {
  if (!signal.aborted) return false;
  const reason: unknown = signal.reason;
  if (reason === CONNECTION_CLOSED) return false;
  return !(reason instanceof SdkError && reason.code === SdkErrorCode.ConnectionClosed);
}

/**
 * The reason `bgtask mcp` aborts its calls' `ending` signal with when it is
 * stopped (SIGTERM, SIGINT, SIGHUP): a call that only waits answers at
 * once with what it has, before the server closes its sessions.
 */
export const SERVER_STOPPING = `the server is stopping (${crypto.randomUUID()})`;

/**
 * Why a call's wait ended early when its `ending` signal aborted, for its
 * answer: the server stopping ({@linkcode SERVER_STOPPING}), or the client
 * gone (stdio: it closed stdin).
 *
 * @example
 * ```ts
 * import { endedEarly, SERVER_STOPPING } from "./cancel.ts";
 * import { equal } from "node:assert/strict";
 * const stop = new AbortController();
 * stop.abort(SERVER_STOPPING);
 * equal(endedEarly(stop.signal), "the server is stopping: call again once it is back");
 * equal(endedEarly(undefined), "the client closed the connection");
 * ```
 */
export function endedEarly(ending: AbortSignal | undefined): string {
  return ending?.reason === SERVER_STOPPING
    ? "the server is stopping: call again once it is back"
    : "the client closed the connection";
}

/**
 * The answer of a call still unfinished when a stopping server stops
 * waiting for it (`STOP_ANSWER_MS`): a JSON-RPC error that says what is
 * known, rather than a stream or pipe closed with no answer at all (a
 * `task_kill` in a long grace left its agent not knowing whether it
 * killed).
 *
 * @example
 * ```ts
 * import { unfinishedAtStop } from "./cancel.ts";
 * import { equal } from "node:assert/strict";
 * equal(unfinishedAtStop(7).id, 7);
 * ```
 */
export function unfinishedAtStop(id: string | number): {
  jsonrpc: "2.0";
  id: string | number;
  error: { code: number; message: string };
} {
  return {
    jsonrpc: "2.0",
    id,
    error: {
      code: -32000,
      message:
        `The server is stopping, and this call had not finished after ${
          STOP_ANSWER_MS / 1000
        } s: what it did by then is not known here (a task_kill's kill goes on without the ` +
        "server); once a server is back, task_status or task_list shows the tasks as they are",
    },
  };
}
