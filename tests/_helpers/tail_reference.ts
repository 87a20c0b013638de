/**
 * The reference the tail scans are checked against: where the last `n`
 * lines of some bytes begin, found one byte at a time.
 *
 * @module
 */

/** Where the last `n` lines of `b` begin (a last newline ends the last line). */
export function naiveTailStart(b: Uint8Array, n: number): number {
  if (n === 0) return b.length;
  let seen = 0;
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] === 0x0a && i !== b.length - 1 && ++seen === n) return i + 1;
  }
  return 0;
}
