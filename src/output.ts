/**
 * Reading a task's output file: from an offset, whole, or its last lines —
 * without ever splitting a UTF-8 character between two reads.
 *
 * @module
 */

const decoder = new TextDecoder(); // lossy: invalid bytes become U+FFFD, never throws

/**
 * How many bytes at the end of `buf` are the start of a UTF-8 character whose
 * remaining bytes have not been read yet (0 when the buffer ends on a boundary).
 */
export function incompleteTail(buf: Uint8Array): number {
  const n = buf.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = buf[n - back];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/** Decodes bytes lossily. */
export function decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Reads up to `maxBytes` from `offset`. Returns the bytes and whether the end
 * of the file was reached.
 */
export async function readRange(
  path: string,
  offset: number,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; eof: boolean }> {
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  if (offset >= size) return { bytes: new Uint8Array(), eof: true };
  const want = Math.min(maxBytes, size - offset);
  const buf = new Uint8Array(want);
  const got = await readAt(file, offset, buf);
  return { bytes: buf.subarray(0, got), eof: offset + got >= size };
}

/**
 * The last `lines` lines of the file (a final line without a newline counts).
 * Reads backwards in blocks, so a large file costs only what is returned.
 */
export async function readTail(path: string, lines: number): Promise<string> {
  if (lines <= 0) return "";
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const BLOCK = 64 * 1024;
  const blocks: Uint8Array[] = [];
  let pos = size;
  let newlines = 0;
  let start = 0; // offset where the answer starts, once found
  let found = false;
  // A trailing newline ends the last line; it does not start an empty one.
  let skipLast = true;
  while (pos > 0 && !found) {
    const len = Math.min(BLOCK, pos);
    pos -= len;
    const buf = new Uint8Array(len);
    await readAt(file, pos, buf);
    blocks.unshift(buf);
    for (let i = len - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) {
        skipLast = false;
        continue;
      }
      if (skipLast) {
        skipLast = false;
        continue;
      }
      if (++newlines === lines) {
        start = pos + i + 1;
        found = true;
        break;
      }
    }
  }
  const all = concat(blocks);
  const from = found ? start - pos : 0;
  return decoder.decode(all.subarray(from));
}

/** Fills `buf` from `offset` (less at the end of the file); returns how many bytes were read. */
async function readAt(file: Deno.FsFile, offset: number, buf: Uint8Array): Promise<number> {
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < buf.length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}

/** Joins byte arrays into one. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
