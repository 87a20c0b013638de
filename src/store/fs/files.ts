/**
 * The filesystem store's file primitives: reads that take a missing file
 * for an answer, and writes that readers never see half done.
 *
 * Synchronous where they touch a few bytes: a sync call costs microseconds
 * where an async one waits for a thread-pool round trip.
 *
 * @module
 */

import { readInto } from "../../bytes.ts";
import { text } from "../records.ts";

/** No bytes. */
export const EMPTY = new Uint8Array();
/** The store's one encoder. */
export const encoder = new TextEncoder();

/** A file's text; undefined when it does not exist. */
export function readOrUndefined(path: string): string | undefined {
  try {
    return text(Deno.readFileSync(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Up to `maxBytes` of a file from `offset`; a missing file reads as empty.
 * `eof` when the read reached the end.
 */
export async function readRange(
  path: string,
  offset: number,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; eof: boolean }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { bytes: EMPTY, eof: true };
    throw e;
  }
  using _ = file;
  // (Not file.stat(): Deno checks it against the file's real path, outside
  // the permission in a store reached through a symlink.)
  const size = await file.seek(0, Deno.SeekMode.End);
  if (offset >= size) return { bytes: EMPTY, eof: true };
  const buf = new Uint8Array(Math.min(maxBytes, size - offset));
  const got = await readInto(file, offset, buf);
  return { bytes: buf.subarray(0, got), eof: offset + got >= size };
}

/** True when `path` exists (a symlink counts, whatever it points to). */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** True when `path` can be seen to exist (false also when we may not look). */
export function existsQuietly(path: string): boolean {
  try {
    return exists(path);
  } catch {
    return false;
  }
}

/** Deletes a file; one already gone is fine. */
export function unlink(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Creates `path` (0600) if missing, appending `data` (nothing: only the file). */
export function append(path: string, data: Uint8Array = EMPTY): void {
  Deno.writeFileSync(path, data, { append: true, mode: 0o600 });
}

/** Creates `path` (0600) with `data`; an AlreadyExists error if it was there. */
export function createNew(path: string, data: Uint8Array | string): void {
  Deno.writeFileSync(path, typeof data === "string" ? encoder.encode(data) : data, {
    createNew: true,
    mode: 0o600,
  });
}

/**
 * Writes `data` to a temp file next to `path` and hands it to `place`
 * (which moves or links it into place); the temp file never stays behind.
 * `moves`: a `place` that returns has moved it (a rename), so there is
 * nothing left to delete (a failed delete costs a thrown error, ~0.1 ms).
 */
function viaTemp<T>(path: string, data: string, place: (tmp: string) => T, moves = false): T {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  let moved = false;
  try {
    // Inside the try: on a full disk the temp file is created but not written.
    createNew(tmp, data);
    const placed = place(tmp);
    moved = moves;
    return placed;
  } finally {
    if (!moved) {
      try {
        Deno.removeSync(tmp);
      } catch { /* never created */ }
    }
  }
}

/** Writes a whole file so readers see the old content or the new, never half: temp + rename. */
export function writeAtomic(path: string, data: string): void {
  viaTemp(path, data, (tmp) => Deno.renameSync(tmp, path), true);
}

/**
 * Creates `path` with `data` only if it does not exist yet, atomically and
 * completely (temp file + link). Returns false when it already existed.
 */
export function createExclusive(path: string, data: string): boolean {
  return viaTemp(path, data, (tmp) => {
    try {
      Deno.linkSync(tmp, path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return false;
      throw e;
    }
  });
}

/** A write refused for want of room: no block or no inode left (ENOSPC), or over a quota (EDQUOT). */
export function isNoSpace(e: unknown): boolean {
  return e instanceof Error && /os error (28|122)\b|No space left|quota exceeded/i.test(e.message);
}

/**
 * Lets go of a lock held on `file`, then closes it. Unlocked first: a flock
 * lasts while any copy of the descriptor is open, and a child this process
 * is starting at that moment (any spawn, from any part of the program) holds
 * a copy of every descriptor until its exec closes them.
 */
export function unlockAndClose(file: Deno.FsFile): () => void {
  return () => {
    try {
      file.unlockSync();
    } finally {
      file.close();
    }
  };
}
