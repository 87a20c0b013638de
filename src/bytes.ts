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

/**
 * Reads `file` from `offset` into `into` until it is full or the file ends;
 * returns how many bytes were read (a read may return fewer than asked).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readInto } from "./bytes.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello");
 * using file = await Deno.open(path);
 * const buf = new Uint8Array(8);
 * assert.equal(await readInto(file, 1, buf), 4); // "ello"
 * await Deno.remove(path);
 * ```
 */
export async function readInto(
  file: Deno.FsFile,
  offset: number,
  into: Uint8Array,
): Promise<number> {
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < into.length) {
    const n = await file.read(into.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}
