/**
 * Tool calls the SDK would refuse in its own words, refused in bgtask's: a
 * `tools/call` without `params`, with a `name` that is no string or no tool,
 * or with `arguments` that are no object. The SDK answers these with its
 * schema library's JSON dump (`Invalid tools/call request: [\n {\n
 * "expected": "object", …`) or `Tool nope not found`; an agent reading
 * that is told neither what a call looks like nor which tools there are.
 * Here each gets an Invalid Params error that says what was wrong, what a
 * call looks like, and the tools' names. And a request whose id is that of
 * a call still in progress is refused (the HTTP server refuses it before
 * it reaches here; over stdio both ran, and their two answers carried one
 * id, which the client cannot tell apart, nor cancel one of).
 *
 * @module
 */

import type { JSONRPCMessage, Transport } from "@modelcontextprotocol/server";
import { idInUseMessage, idKey, INVALID_REQUEST } from "./request_ids.ts";

/** JSON-RPC's Invalid Params code, as the SDK answers these. */
const INVALID_PARAMS = -32602;

/** What a call looks like, said after what was wrong. */
const SHAPE =
  'a call is {"method": "tools/call", "params": {"name": "task_list", "arguments": {}}}';

/**
 * What is wrong with `message` as a tool call, or `undefined` when it is
 * no tool call or nothing the SDK refuses is wrong with it (its arguments'
 * fields are the tool's to check).
 *
 * @param tools The tools' names.
 *
 * @example
 * ```ts
 * import { toolCallProblem } from "./call_guard.ts";
 * import { equal } from "node:assert/strict";
 * const call = (params?: unknown) =>
 *   ({ jsonrpc: "2.0", id: 1, method: "tools/call", ...(params === undefined ? {} : { params }) });
 * equal(toolCallProblem(call({ name: "task_list" }), ["task_list"]), undefined);
 * equal(
 *   toolCallProblem(call({ name: "task_lst" }), ["task_list", "task_kill"]),
 *   'No tool "task_lst": the tools are task_list, task_kill (tools/list describes them)',
 * );
 * equal(
 *   toolCallProblem(call(), ["task_list"]),
 *   'tools/call needs "params" with the tool\'s "name": ' +
 *     'a call is {"method": "tools/call", "params": {"name": "task_list", "arguments": {}}}; ' +
 *     "the tools are task_list",
 * );
 * ```
 */
export function toolCallProblem(message: unknown, tools: readonly string[]): string | undefined {
  const m = message as { method?: unknown; id?: unknown; params?: unknown } | null;
  if (typeof m !== "object" || m === null || m.method !== "tools/call" || !("id" in m)) {
    return undefined;
  }
  const names = `the tools are ${tools.join(", ")}`;
  const params = m.params;
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    return `tools/call needs "params" with the tool's "name": ${SHAPE}; ${names}`;
  }
  const { name, arguments: args } = params as { name?: unknown; arguments?: unknown };
  if (typeof name !== "string") {
    const what = name === undefined ? "has no" : `has ${typeOf(name)} as its`;
    return `tools/call's "params" ${what} "name", the tool's name as a string: ${SHAPE}; ${names}`;
  }
  if (!tools.includes(name)) {
    return `No tool ${JSON.stringify(name)}: ${names} (tools/list describes them)`;
  }
  if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))) {
    return `${name}: "arguments" must be an object of named fields, not ${typeOf(args)}: ${SHAPE}`;
  }
  return undefined;
}

/** `an array`, `null`, `a number`: a JSON value's type, as said in a sentence. */
function typeOf(value: unknown): string {
  return Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`;
}

/**
 * Refuses the tool calls {@linkcode toolCallProblem} finds wrong, and a
 * request whose id a call in progress has, before the SDK sees them: the
 * refusal is sent through the transport, as the SDK's own would be. Called
 * before anything else wraps the transport's `send` (answer.ts), before the
 * server connects to `transport`: the guard is put in front of the server's
 * `onmessage` when the server starts the transport (after it set
 * `onmessage`, before any message is read).
 *
 * @param tools The tools' names.
 */
export function guardToolCalls(transport: Transport, tools: readonly string[]): void {
  const start = transport.start.bind(transport);
  // (Refusals are sent as they are: no call they answer was seen, and one
  // with the id of a call in progress must settle nothing of that call's.)
  const refusals = transport.send.bind(transport);
  transport.start = async () => {
    guard(transport, tools, refusals);
    await start();
  };
}

/**
 * Puts the guard in front of `transport`'s `onmessage`, and notes the
 * requests in progress: from their arrival to their answer's `send`, or to
 * their cancel (a cancelled call is not answered).
 */
function guard(
  transport: Transport,
  tools: readonly string[],
  refusals: Transport["send"],
): void {
  const onmessage = transport.onmessage;
  if (onmessage === undefined) return;
  const send = transport.send.bind(transport);
  const inProgress = new Set<string>();
  transport.send = (message, options) => {
    const m = message as { id?: unknown; method?: unknown };
    const key = m.method === undefined ? idKey(m.id) : undefined;
    if (key !== undefined) inProgress.delete(key);
    return send(message, options);
  };
  const refuse = (id: string | number, code: number, text: string) =>
    refusals({ jsonrpc: "2.0", id, error: { code, message: text } }, { relatedRequestId: id })
      .catch((e) => transport.onerror?.(e instanceof Error ? e : new Error(String(e))));
  transport.onmessage = (message, extra) => {
    const m = message as JSONRPCMessage & { id?: unknown; method?: unknown; params?: unknown };
    const key = typeof m.method === "string" ? idKey(m.id) : undefined;
    if (key !== undefined && inProgress.has(key)) {
      const id = m.id as string | number;
      return void refuse(id, INVALID_REQUEST, idInUseMessage(id));
    }
    const problem = toolCallProblem(message, tools);
    if (problem !== undefined) {
      return void refuse(m.id as string | number, INVALID_PARAMS, problem);
    }
    if (key !== undefined) inProgress.add(key);
    if (m.method === "notifications/cancelled") {
      const cancelled = idKey((m.params as { requestId?: unknown } | undefined)?.requestId);
      if (cancelled !== undefined) inProgress.delete(cancelled);
    }
    return onmessage.call(transport, message, extra);
  };
}
