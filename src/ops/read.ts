/**
 * Reading output, always bounded: no read holds more than {@linkcode MAX_READ}
 * bytes of output in memory, whatever the output's size. A whole-output read
 * that would need more fails with an {@linkcode OutputTooLargeError} saying
 * how to read it in pieces; the piece readers never fail for size.
 *
 * @module
 */

import { OutputTooLargeError, StoreError } from "../errors.ts";
import type { BoundOptions, OutputChunk, ReadOptions } from "../types.ts";
import type { TaskRecords } from "../lifecycle.ts";
import { DamagedRecordError } from "../store/fs_store.ts";
import { type Ctx, nonNegativeInt, requireTask, shownOutputSize, showValue } from "./context.ts";
import { checkOptionNames, OPTION_NAMES } from "../options.ts";
import { lastLinesStart } from "../tail.ts";

/** The most bytes any one read returns (and holds): 64 MiB. */
export const MAX_READ = 64 * 1024 * 1024;
/** The default of `readOutputChunk` and `readOutputBytes`: 1 MiB. */
export const DEFAULT_READ = 1024 * 1024;
/** The default bound of `readOutput` and `tailOutput`: 16 MiB. */
export const DEFAULT_BOUND = 16 * 1024 * 1024;
const decoder = new TextDecoder(); // lossy: invalid bytes become U+FFFD, never throws
const WHAT = "Cannot read output";

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

/**
 * A size option: `fallback` when not given; a whole number from `min` to
 * {@linkcode MAX_READ}, or a TypeError (not a whole number) or RangeError
 * (one out of range, negative included) naming the bounds.
 */
function bound(v: unknown, name: string, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    throw new TypeError(`${WHAT}: ${name} must be a whole number ≥ ${min}, got ${showValue(v)}`);
  }
  const n = v;
  if (n < min) throw new RangeError(`${WHAT}: ${name} must be at least ${min}, got ${n}`);
  if (n > MAX_READ) {
    throw new RangeError(
      `${WHAT}: ${name} must be at most ${MAX_READ} (64 MiB), got ${n}; read in pieces instead`,
    );
  }
  return n;
}

/** "the last 3 lines", "the last line". */
function lastLines(n: number): string {
  return n === 1 ? "the last line" : `the last ${n} lines`;
}

/** Validated offset and size of a piece read. */
export function readOptions(
  options: ReadOptions,
  minBytes: number,
): { offset: number; maxBytes: number } {
  return {
    offset: nonNegativeInt(options.offset, "offset", WHAT) ?? 0,
    maxBytes: bound(options.maxBytes, "maxBytes", DEFAULT_READ, minBytes),
  };
}

/**
 * The records a read of the task's output needs, and whether it has ended.
 * A task whose final record is damaged has ended all the same (something
 * recorded its end), and its output is intact: it reads as an ended task's.
 */
export async function outputRecords(
  ctx: Ctx,
  id: string,
): Promise<{ r: Pick<TaskRecords, "spec" | "started">; ended: boolean }> {
  try {
    const r = await requireTask(ctx, id);
    return { r, ended: r.final !== undefined };
  } catch (e) {
    if (e instanceof DamagedRecordError && e.id === id && e.ended) {
      return { r: e.ended, ended: true };
    }
    throw e;
  }
}

/**
 * A started task's output must be there; a missing one was deleted from
 * outside, and says so (it is not "no task", and not "no store").
 */
async function checkOutput(ctx: Ctx, id: string, started: boolean): Promise<void> {
  if (!started) return;
  try {
    await Deno.lstat(ctx.store.outputPath(id));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      // (The whole store removed is the likelier why: its error, if so.)
      await ctx.store.removedAs(id);
      // What can be done: its command run again, or the task dropped (its
      // status still reads: the output's size shows as 0).
      throw new StoreError(
        `Task ${id} has no output file "${ctx.store.outputPath(id)}" (deleted from outside ` +
          `bgtask?): what it wrote cannot be read; restart(id) runs its command again, and ` +
          `remove(id) drops the task once it has ended (the CLI: bgtask restart ${id}, ` +
          `bgtask rm ${id})`,
      );
    }
  }
}

/**
 * Up to `maxBytes` of output from `offset`, and whether the task had
 * finished before they were read (then `eof` means there is no more).
 */
export async function readPiece(
  ctx: Ctx,
  id: string,
  offset: number,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; eof: boolean; finished: boolean }> {
  const { r, ended } = await outputRecords(ctx, id);
  // Never past the cap (see shownBytes): there the output ends for readers.
  const cap = r.spec.maxOutputBytes;
  const room = cap > 0 ? Math.max(0, cap - offset) : maxBytes;
  const { bytes, eof } = room === 0
    ? { bytes: new Uint8Array(0), eof: true }
    : await ctx.store.readOutput(id, offset, Math.min(maxBytes, room));
  if (bytes.length === 0 && eof) await checkOutput(ctx, id, r.started !== undefined);
  // (Ended as the waiters' last look found it, its record not in the store yet: a full disk.)
  const finished = ended || ctx.checks.endedOf(id) !== undefined;
  return { bytes, eof, finished };
}

/** Raw bytes from an offset; see {@linkcode TaskManager.readOutputBytes}. */
export async function readBytes(ctx: Ctx, id: string, options: ReadOptions): Promise<Uint8Array> {
  checkOptionNames(options, OPTION_NAMES.read, WHAT);
  const { offset, maxBytes } = readOptions(options, 1);
  return (await readPiece(ctx, id, offset, maxBytes)).bytes;
}

/** Text from an offset, never half a character; see {@linkcode TaskManager.readOutputChunk}. */
export async function readChunk(ctx: Ctx, id: string, options: ReadOptions): Promise<OutputChunk> {
  checkOptionNames(options, OPTION_NAMES.read, WHAT);
  const { offset, maxBytes } = readOptions(options, 4);
  const { bytes, eof, finished } = await readPiece(ctx, id, offset, maxBytes);
  const keep = finished && eof ? bytes.length : bytes.length - incompleteTail(bytes);
  return {
    text: decoder.decode(bytes.subarray(0, keep)),
    offset,
    nextOffset: offset + keep,
    done: finished && eof && keep === bytes.length,
  };
}

/** The whole output, bounded; see {@linkcode TaskManager.readOutput}. */
export async function readAll(ctx: Ctx, id: string, options: BoundOptions): Promise<string> {
  checkOptionNames(options, OPTION_NAMES.bound, WHAT);
  const limit = bound(options.maxBytes, "maxBytes", DEFAULT_BOUND, 1);
  const { r } = await outputRecords(ctx, id);
  await checkOutput(ctx, id, r.started !== undefined);
  const size = await shownOutputSize(ctx, r);
  if (size > limit) throw new OutputTooLargeError(id, "the output", size, limit);
  const { bytes } = await ctx.store.readOutput(id, 0, size);
  return decoder.decode(bytes);
}

/**
 * The last `lines` lines, bounded: finds where they begin by reading
 * backwards (in steps that grow to 1 MiB: a long line costs a few reads),
 * never more than `maxBytes` + 1 bytes back, then reads them; so a large
 * output costs only what is returned. See {@linkcode TaskManager.tailOutput}.
 */
export async function readTail(
  ctx: Ctx,
  id: string,
  lines: number,
  options: BoundOptions,
): Promise<string> {
  if (lines === undefined) {
    throw new TypeError(
      `${WHAT}: lines is missing: give how many of the last lines to read, ` +
        `e.g. tailOutput(id, 20)`,
    );
  }
  if (!Number.isSafeInteger(lines) || lines < 0) {
    throw new TypeError(`${WHAT}: lines must be a whole number ≥ 0, got ${showValue(lines)}`);
  }
  checkOptionNames(options, OPTION_NAMES.bound, WHAT);
  const limit = bound(options.maxBytes, "maxBytes", DEFAULT_BOUND, 1);
  const { r } = await outputRecords(ctx, id);
  await checkOutput(ctx, id, r.started !== undefined);
  if (lines === 0) return "";
  const size = await shownOutputSize(ctx, r);
  // (One byte more than the limit: whether a line starts just at it.)
  const floor = Math.max(0, size - limit - 1);
  const read = async (offset: number, length: number) =>
    (await ctx.store.readOutput(id, offset, length)).bytes;
  const from = await lastLinesStart(read, size, lines, floor);
  if (from < 0) {
    throw new OutputTooLargeError(id, lastLines(lines), size - floor, limit, true, lines);
  }
  if (size - from > limit) {
    throw new OutputTooLargeError(id, lastLines(lines), size - from, limit, false, lines);
  }
  // The lines found, whatever was written since (the output only grows).
  return decoder.decode(await read(from, size - from));
}
