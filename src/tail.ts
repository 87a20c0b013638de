/**
 * Where the last lines of an output begin, found by reading it backwards:
 * shared by `tailOutput` (through the store) and the CLI's `logs --tail`
 * (through one open file).
 *
 * @module
 */

import { readInto } from "./bytes.ts";

const NEWLINE = 0x0a;
/** The first step back: as much as a tail of short lines takes, at most. */
export const FIRST_STEP = 64 * 1024;
/**
 * The largest step back (each step doubles until this): a line of hundreds
 * of megabytes is scanned in a few hundred reads, in this much memory.
 */
export const MAX_STEP = 1024 * 1024;

/**
 * Reads `length` bytes at `offset` (fewer only where the file ends). The
 * bytes returned may be a view that the next call overwrites.
 */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/**
 * The offset where the last `lines` lines of the first `size` bytes begin:
 * a last line without a newline counts, and a newline as the last byte ends
 * the last line rather than starting an empty one. Reads backwards from
 * `size`, in steps that grow from {@linkcode FIRST_STEP} to
 * {@linkcode MAX_STEP}, and never before `floor`: -1 when the lines begin
 * before it (0 when the whole output has no more lines than asked).
 *
 * @param read Reads the output.
 * @param size Where the output ends (its size when looked at).
 * @param lines How many lines (0: none, the answer is `size`).
 * @param floor Where to stop reading (0: the start).
 *
 * @example
 * ```ts
 * import { lastLinesStart } from "./tail.ts";
 * import { equal } from "node:assert/strict";
 * const text = new TextEncoder().encode("one\ntwo\nthree\n");
 * const read = (offset: number, length: number) =>
 *   Promise.resolve(text.subarray(offset, offset + length));
 * equal(await lastLinesStart(read, text.length, 2), 4); // "two\nthree\n"
 * equal(await lastLinesStart(read, text.length, 9), 0); // every line
 * equal(await lastLinesStart(read, text.length, 1, 10), -1); // it begins at 8
 * ```
 */
export async function lastLinesStart(
  read: ReadAt,
  size: number,
  lines: number,
  floor = 0,
): Promise<number> {
  if (lines === 0) return size;
  let seen = 0;
  let end = size;
  let step = FIRST_STEP;
  while (end > floor) {
    const start = Math.max(floor, end - step);
    const bytes = await read(start, end - start);
    // (Searched backwards from its end; a short read searches what it got.)
    for (let i = bytes.length; i > 0;) {
      i = bytes.lastIndexOf(NEWLINE, i - 1);
      if (i < 0) break;
      if (start + i === size - 1) continue; // the last line's own newline
      if (++seen === lines) return start + i + 1;
    }
    end = start;
    step = Math.min(step * 2, MAX_STEP);
  }
  return end === 0 ? 0 : -1;
}

/**
 * A {@linkcode ReadAt} on an open file that reads into one buffer of
 * {@linkcode MAX_STEP} bytes (each read overwrites the last).
 *
 * @example
 * ```ts
 * import { lastLinesStart, readerOf } from "./tail.ts";
 * import { equal } from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "a\nb\nc");
 * using file = await Deno.open(path);
 * equal(await lastLinesStart(readerOf(file), 5, 2), 2); // "b\nc"
 * ```
 */
export function readerOf(file: Deno.FsFile): ReadAt {
  let buf: Uint8Array | undefined;
  return async (offset, length) => {
    buf ??= new Uint8Array(MAX_STEP);
    const into = buf.subarray(0, Math.min(length, buf.length));
    return into.subarray(0, await readInto(file, offset, into));
  };
}
