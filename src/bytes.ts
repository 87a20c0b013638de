/**
 * Byte arrays: what several modules need, apart so that loading it loads
 * nothing else.
 *
 * @module
 */

/**
 * Joins byte arrays into one (a copy, even of one part).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { concat } from "./bytes.ts";
 * assert.deepEqual(concat([new Uint8Array([1]), new Uint8Array([2, 3])]), new Uint8Array([1, 2, 3]));
 * ```
 */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
