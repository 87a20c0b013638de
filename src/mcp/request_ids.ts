/**
 * JSON-RPC request ids as the MCP server keeps them: a key for an id (`1`
 * and `"1"` are different ids), and the refusal of a request whose id a
 * call still in progress on the same session has (over HTTP and stdio
 * alike: the SDK keeps calls and their answers by id).
 *
 * @module
 */

/** JSON-RPC's Invalid Request code. */
export const INVALID_REQUEST = -32600;

/**
 * A JSON-RPC id as a key (`1` and `"1"` are different ids); undefined for
 * what is no id.
 *
 * @example
 * ```ts
 * import { idKey } from "./request_ids.ts";
 * import { equal, notEqual } from "node:assert/strict";
 * notEqual(idKey(1), idKey("1"));
 * equal(idKey(null), undefined);
 * ```
 */
export function idKey(id: unknown): string | undefined {
  return typeof id === "string" || typeof id === "number" ? `${typeof id}:${id}` : undefined;
}

/**
 * The refusal of a request whose id a call in progress on the same session
 * has (the first call goes on).
 *
 * @example
 * ```ts
 * import { idInUseMessage } from "./request_ids.ts";
 * import { match } from "node:assert/strict";
 * match(idInUseMessage(7), /^Invalid Request: id 7 is already in use/);
 * ```
 */
export function idInUseMessage(id: string | number): string {
  return `Invalid Request: id ${JSON.stringify(id)} is already in use by a call in progress ` +
    "on this session: give each request an id of its own";
}
