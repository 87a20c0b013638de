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

/** A short, printable form of an untrusted id for error messages. */
export function showId(id: unknown): string {
  const s = typeof id === "string" ? id : String(id);
  const cut = s.length > 40 ? s.slice(0, 40) + "…" : s;
  return JSON.stringify(cut);
}
