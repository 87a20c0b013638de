/**
 * Interactive tasks: writing to a task's stdin, closing it, and sizing its
 * terminal, from any process sharing the store.
 *
 * A write opens the task's FIFO write-only and non-blocking (`node:fs`: only
 * read/write access to the store is needed) and writes chunks of at most
 * 4096 bytes (PIPE_BUF: each is all or nothing; `writeSync` of more on a
 * non-blocking FIFO may write part and then throw, losing the count). A
 * full FIFO (EAGAIN) is waited out, up to the timeout. Nothing written is
 * kept anywhere: the bytes go from the caller to the kernel's pipe buffer.
 * Writers take the task's stdin lock (flock), so that one call's bytes are
 * never interleaved with another's, whatever their size.
 *
 * @module
 */

import { idTypeError } from "../ids.ts";
import { StdinTimeoutError, TaskStateError } from "../errors.ts";
import { statusOf, type TaskRecords } from "../lifecycle.ts";
import { permissionAdvice, requireRunBash, rethrowPermission } from "../permissions.ts";
import { resizePty, wakeHolder } from "../supervisor/run.ts";
import type { TerminalSize, WriteStdinOptions } from "../types.ts";
import { sleep } from "../timers.ts";
import { STDIN_LOCK_POLL_MAX_MS } from "../timing.ts";
import { type Ctx, nonNegativeInt, requireTask, showValue } from "./context.ts";
import { checkOptionNames, OPTION_NAMES } from "../options.ts";

/** PIPE_BUF: a write to a pipe of at most this many bytes is never split. */
const CHUNK = 4096;
/** How long a write waits for a task that reads none of it while its buffer is full. */
export const DEFAULT_STDIN_TIMEOUT_MS = 10_000;
/** How long a close waits for another writer to finish. */
const CLOSE_LOCK_MS = 10_000;
/** The longest pause between two tries while the task's buffer is full. */
const FULL_BACKOFF_MAX_MS = 25;
/**
 * How long a write that found nobody reading waits for the task's final
 * record (its supervisor writes it a moment after the tree is gone), so that
 * a task killed or ended meanwhile is said to have ended; and how often it
 * looks where the store's changes cannot be heard.
 */
const END_SETTLE_MS = 500;
/**
 * The same for a task someone asked to kill: its end is coming, and a
 * loaded machine's supervisor may take longer than that to record it (the
 * write said "they closed it" of a task killed under it).
 */
const KILLED_END_SETTLE_MS = 10_000;
const END_SETTLE_POLL_MS = 20;
/** Bytes after which a terminal's line is empty: a Ctrl-D then ends input. */
const LINE_ENDS = new Set([0x0a, 0x0d, 0x03, 0x04, 0x15, 0x1c]);

const encoder = new TextEncoder();

type Verb = "write to" | "close" | "resize";

function whatFor(verb: Verb, id: string): string {
  // (An id that is no string is refused first: its message would show it so.)
  const wrongType = idTypeError(id);
  if (wrongType) throw wrongType;
  return verb === "resize"
    ? `Cannot resize the terminal of task ${id}`
    : `Cannot ${verb} the stdin of task ${id}`;
}

/** The records of a task that can take input now; else a TaskStateError that says why not. */
async function inputTask(ctx: Ctx, id: string, verb: Verb): Promise<TaskRecords> {
  return refuseNoInput(await requireTask(ctx, id), id, verb);
}

/** `r` if its task can take input now; else a TaskStateError that says why not. */
function refuseNoInput(r: TaskRecords, id: string, verb: Verb): TaskRecords {
  const what = whatFor(verb, id);
  if (verb === "resize" && r.spec.stdin !== "pty") {
    throw new TaskStateError(
      id,
      `${what}: it has no terminal (its stdin is ${
        r.spec.stdin === "pipe" ? "a pipe" : "/dev/null"
      }; only a task spawned with stdin "pty" has one)`,
    );
  }
  if (r.spec.stdin === "null") {
    throw new TaskStateError(
      id,
      `${what}: its stdin is /dev/null (a task takes input only when spawned with ` +
        `stdin "pipe" or "pty")`,
    );
  }
  if (r.final) throw new TaskStateError(id, `${what}: it has ended (${r.final.status})`);
  if (!r.started) {
    throw new TaskStateError(id, `${what}: it has not started yet (it is ${statusOf(r)})`);
  }
  return r;
}

/** The error for a task nobody reads any more: it ended, or it closed its stdin. */
async function noReader(ctx: Ctx, id: string, verb: Verb, written: number, total: number) {
  let r = await ctx.store.read(id);
  await using w = ctx.hub.watch();
  const killed = await ctx.store.killRequested(id).catch(() => false);
  const deadline = performance.now() + (killed ? KILLED_END_SETTLE_MS : END_SETTLE_MS);
  while (r && !r.final && performance.now() < deadline) {
    w.mark();
    await w.sleep(END_SETTLE_POLL_MS);
    r = await ctx.store.read(id);
  }
  const part = written > 0 ? `; ${written} of ${total} bytes were written` : "";
  if (r?.final) {
    return new TaskStateError(id, `${whatFor(verb, id)}: it has ended (${r.final.status})${part}`);
  }
  return new TaskStateError(
    id,
    `${whatFor(verb, id)}: no process of it reads its stdin any more (they closed it)${part}`,
  );
}

/**
 * Takes the task's stdin lock; undefined when another writer held it for
 * `ms` (with 0: held it at all). Tried first without waiting: taking a free
 * lock never counts against `ms` (opening its file can take a long while on
 * a loaded machine, and no timer may race it), only another writer does.
 * Tried again and again, never awaited blocking: a blocking lock cannot be
 * given up, and each writer that gave up left one pending, holding its file
 * and a thread until the holder let go (700 writers: 1,400 open files), and
 * its process alive.
 */
async function lockWithin(
  ctx: Ctx,
  id: string,
  ms: number,
  signal?: AbortSignal,
): Promise<(() => void) | undefined> {
  const free = await ctx.store.tryLockInput(id);
  if (free || ms === 0) return free;
  const deadline = performance.now() + ms;
  for (let nap = 2;; nap = Math.min(nap * 2, STDIN_LOCK_POLL_MAX_MS)) {
    signal?.throwIfAborted();
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(nap, left), signal);
    signal?.throwIfAborted();
    const got = await ctx.store.tryLockInput(id);
    if (got) return got;
  }
}

/**
 * `node:fs`, loaded by the first write or close: loading Deno's Node
 * compatibility for it costs about 30 ms, which every process that imports
 * the library (each CLI call, the MCP server) paid at start-up when it was a
 * static import.
 */
let fs: typeof import("node:fs");
async function loadFs(): Promise<void> {
  fs ??= await import("node:fs");
}

/** Opens the FIFO for writing without blocking; undefined when nobody reads it. */
function openFifo(ctx: Ctx, path: string, what: string): number | undefined {
  try {
    return fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENXIO" || code === "ENOENT") return undefined;
    rethrowPermission(e, what, permissionAdvice(ctx.store.location, true, e));
  }
}

function errno(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

/**
 * Writes `bytes` to the FIFO (the lock held); resolves with how many were
 * written: all of them, or fewer when the task read nothing for `timeoutMs`
 * while its input was full (a task that reads slowly gets all of it), or
 * nobody reads.
 */
async function writeAll(
  fd: number,
  bytes: Uint8Array,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ written: number; stop?: "full" | "gone" }> {
  let off = 0;
  let pause = 1;
  let deadline = performance.now() + timeoutMs;
  while (off < bytes.length) {
    try {
      off += fs.writeSync(fd, bytes, off, Math.min(CHUNK, bytes.length - off));
      pause = 1;
      deadline = performance.now() + timeoutMs; // it read: the wait starts again
    } catch (e) {
      const code = errno(e);
      if (code === "EPIPE") return { written: off, stop: "gone" };
      if (code !== "EAGAIN") throw e;
      if (performance.now() >= deadline) return { written: off, stop: "full" };
      signal?.throwIfAborted();
      await sleep(pause);
      pause = Math.min(pause * 2, FULL_BACKOFF_MAX_MS);
    }
  }
  return { written: off };
}

/** See {@linkcode TaskManager.writeStdin}. */
export async function writeStdin(
  ctx: Ctx,
  id: string,
  data: string | Uint8Array,
  options: WriteStdinOptions,
): Promise<void> {
  await loadFs();
  const what = whatFor("write to", id);
  checkOptionNames(options, OPTION_NAMES.writeStdin, what);
  if (typeof data !== "string" && !(data instanceof Uint8Array)) {
    throw new TypeError(`${what}: data must be a string or a Uint8Array`);
  }
  const timeoutMs = nonNegativeInt(options.timeoutMs, "timeoutMs", what) ??
    DEFAULT_STDIN_TIMEOUT_MS;
  const { signal } = options;
  signal?.throwIfAborted();
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const r = await inputTask(ctx, id, "write to");
  if (bytes.length === 0) return;
  const release = await lockWithin(ctx, id, timeoutMs, signal);
  if (!release) throw new StdinTimeoutError(id, 0, bytes.length, timeoutMs, "busy");
  // From here on the timeout counts how long the task leaves its input unread.
  try {
    const state = await ctx.store.inputState(id);
    // (A terminal's mark only says a Ctrl-D was typed: it takes more keys.)
    if (state.closed && r.spec.stdin === "pipe") {
      throw new TaskStateError(id, `${what}: its stdin was closed (its end of input was sent)`);
    }
    const fd = openFifo(ctx, ctx.store.inputPath(id), what);
    if (fd === undefined) throw await noReader(ctx, id, "write to", 0, bytes.length);
    let result: { written: number; stop?: "full" | "gone" };
    try {
      result = await writeAll(fd, bytes, timeoutMs, signal);
    } finally {
      fs.closeSync(fd);
      // A terminal: whether the line typed so far is empty (for closeStdin's Ctrl-D).
      // (Updated also when the write stopped part way: what was written counts.)
    }
    const { written, stop } = result;
    if (r.spec.stdin === "pty" && written > 0) {
      const midLine = !LINE_ENDS.has(bytes[written - 1]);
      if (midLine !== state.midLine) await ctx.store.setInputState(id, { midLine });
    }
    if (stop === "full") throw new StdinTimeoutError(id, written, bytes.length, timeoutMs);
    if (stop === "gone") throw await noReader(ctx, id, "write to", written, bytes.length);
  } finally {
    release();
  }
}

/** See {@linkcode TaskManager.closeStdin}. */
export async function closeStdin(ctx: Ctx, id: string): Promise<void> {
  await loadFs();
  const what = whatFor("close", id);
  const found = await requireTask(ctx, id);
  // A running task's pipe is closed by waking the process that holds it
  // open, a bash run: allowed, before anything is marked (a mark without the
  // wake closed nothing, and every later close took it for done).
  const pipe = found.spec.stdin === "pipe" && found.final === undefined;
  // Closing twice is no error, even when the task has ended since. (A
  // terminal that still runs gets another Ctrl-D: the program may have
  // taken the first for something else.) A pipe's holder is woken again:
  // a closer that died between the mark and the wake left it open.
  const again = found.spec.stdin === "pipe" || found.final !== undefined;
  const marked = found.spec.stdin !== "null" && again && await ctx.store.inputState(id);
  if (marked && marked.closed) {
    if (pipe && marked.holder) {
      requireRunBash(what, ctx.store.location);
      await wakeHolder(marked.holder, found.spec.token);
    }
    return;
  }
  const r = refuseNoInput(found, id, "close");
  if (pipe) requireRunBash(what, ctx.store.location);
  const release = await lockWithin(ctx, id, CLOSE_LOCK_MS);
  if (!release) {
    throw new TaskStateError(
      id,
      `${what}: another write to it has not finished in ${CLOSE_LOCK_MS} ms`,
    );
  }
  try {
    const state = await ctx.store.inputState(id);
    if (state.closed && r.spec.stdin === "pipe") return;
    if (r.spec.stdin === "pty") {
      // A terminal ends input the way a person does: Ctrl-D at the start of
      // a line (after a partial line, the first one only sends the line).
      // The FIFO stays open: script(1) would send one ^D of its own at its
      // end-of-file, and never read again.
      // Its input full (the task reads nothing), the Ctrl-D waits for room
      // as a write does; not sent in time, the stdin is not closed (it was
      // marked closed, and the task never got its end of input).
      const fd = openFifo(ctx, ctx.store.inputPath(id), what);
      if (fd !== undefined) {
        let stop: "full" | "gone" | undefined;
        try {
          const eof = state.midLine ? new Uint8Array([4, 4]) : new Uint8Array([4]);
          stop = (await writeAll(fd, eof, DEFAULT_STDIN_TIMEOUT_MS)).stop;
        } finally {
          fs.closeSync(fd);
        }
        if (stop === "full") {
          throw new TaskStateError(
            id,
            `${what}: its terminal's input is full (the task has read none of it for ` +
              `${DEFAULT_STDIN_TIMEOUT_MS / 1000} s), so its end of input (Ctrl-D) could not be ` +
              `typed; try again once it reads, or kill it`,
          );
        }
      }
      await ctx.store.setInputState(id, { closed: true, midLine: false });
      return;
    }
    // The holder checks the mark after it has said who it is, so a holder
    // not known yet closes by itself.
    await ctx.store.setInputState(id, { closed: true });
    const holder = (await ctx.store.inputState(id)).holder;
    if (holder) await wakeHolder(holder, r.spec.token);
  } finally {
    release();
  }
}

/** See {@linkcode TaskManager.resizeTerminal}. */
export async function resizeTerminal(ctx: Ctx, id: string, size: TerminalSize): Promise<void> {
  const what = whatFor("resize", id);
  if (typeof size !== "object" || size === null || Array.isArray(size)) {
    throw new TypeError(
      `${what}: the size must be an object { columns, rows } (e.g. { columns: 120, rows: 40 }), ` +
        `got ${showValue(size)}`,
    );
  }
  checkOptionNames(size, OPTION_NAMES.size, what);
  for (const k of ["columns", "rows"] as const) {
    const v = size[k];
    if (v === undefined) {
      throw new TypeError(
        `${what}: ${k} is missing: give both, { columns, rows } (e.g. { columns: 120, rows: 40 })`,
      );
    }
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > 65535) {
      throw new TypeError(
        `${what}: ${k} must be a whole number from 1 to 65535, got ${showValue(v)}`,
      );
    }
  }
  const r = await inputTask(ctx, id, "resize");
  if (!r.pty || !(await resizePty(r.pty, r.spec.token, size.rows, size.columns))) {
    const now = await ctx.store.read(id);
    if (now?.final) throw new TaskStateError(id, `${what}: it has ended (${now.final.status})`);
    throw new TaskStateError(id, `${what}: its terminal is gone (its command has ended)`);
  }
}
