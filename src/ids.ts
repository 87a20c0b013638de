/**
 * Task ids: `b` followed by a positive decimal number without leading zeros.
 * Only a string that matches this pattern ever becomes part of a path.
 *
 * @module
 */

/**
 * The id pattern: `b` and a number without leading zeros.
 *
 * @example
 * ```ts
 * import { ID_PATTERN } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * equal(ID_PATTERN.test("b12"), true);
 * equal(ID_PATTERN.test("b1/.."), false);
 * ```
 */
export const ID_PATTERN: RegExp = /^b[1-9][0-9]{0,15}$/;

/**
 * True when `id` is a well-formed task id. Only such ids ever reach a path.
 *
 * @example
 * ```ts
 * import { isValidId } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * equal(isValidId("b3"), true);
 * equal(isValidId("../x"), false);
 * equal(isValidId("ｂ1"), false); // (a fullwidth ｂ)
 * ```
 */
export function isValidId(id: unknown): id is string {
  return typeof id === "string" && ID_PATTERN.test(id);
}

/** The number inside an id (`b12` → 12). */
export function idNumber(id: string): number {
  return Number(id.slice(1));
}

/**
 * A short, printable form of an untrusted id for error messages: a string
 * quoted, anything else named by its kind (`String(["b1"])` is "b1", which
 * would look like the id it is not).
 */
export function showId(id: unknown): string {
  if (typeof id !== "string") return kindOf(id);
  const cut = id.length > 40 ? id.slice(0, 40) + "…" : id;
  return JSON.stringify(cut);
}

/**
 * What a value that should have been a string is, for an error: `null`,
 * `undefined`, `a number (5)`, `an array (["b1"])`, `an object`.
 */
export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) {
    let shown: string | undefined;
    try {
      shown = JSON.stringify(v);
    } catch {
      // (A cycle, a bigint: the kind says enough.)
    }
    return shown && shown.length <= 40 ? `an array (${shown})` : "an array";
  }
  if (typeof v === "object") return "an object";
  if (typeof v === "function") return "a function";
  if (typeof v === "bigint") return `a bigint (${v}n)`;
  if (typeof v === "symbol") return "a symbol";
  return `a ${typeof v} (${String(v)})`;
}

/**
 * The TypeError for an id that is no string at all (a caller's slip in
 * JavaScript: an array, a task object, null), or undefined for a string,
 * which is looked up (a malformed one is then no task).
 *
 * @example
 * ```ts
 * import { idTypeError } from "./ids.ts";
 * import { equal } from "node:assert/strict";
 * equal(idTypeError("b1"), undefined);
 * equal(
 *   idTypeError(["b1"])?.message,
 *   'id must be a task id string such as "b1", got an array (["b1"]): give the id itself, "b1"',
 * );
 * ```
 */
export function idTypeError(id: unknown): TypeError | undefined {
  if (typeof id === "string") return undefined;
  const fix = Array.isArray(id) && id.length === 1 && typeof id[0] === "string"
    ? `: give the id itself, ${JSON.stringify(id[0])}`
    : typeof id === "object" && id !== null && typeof (id as { id?: unknown }).id === "string"
    ? `: give its id, ${JSON.stringify((id as { id: string }).id)} (a task's .id)`
    : id === undefined
    ? ": no id was given"
    : "";
  return new TypeError(`id must be a task id string such as "b1", got ${kindOf(id)}${fix}`);
}
