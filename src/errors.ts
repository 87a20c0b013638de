/**
 * The error classes callers may want to catch. Bad arguments are plain
 * `TypeError`/`RangeError`; a missing Deno permission is a
 * `Deno.errors.NotCapable` whose message names the flag to add.
 *
 * @module
 */

/**
 * No task with this id exists in the store.
 *
 * @example
 * ```ts
 * import { TaskManager, TaskNotFoundError } from "@bgtask/bgtask";
 * import { rejects } from "node:assert/strict";
 * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
 * await rejects(tasks.readOutput("b999"), TaskNotFoundError);
 * ```
 */
export class TaskNotFoundError extends Error {
  /** The id that was asked for. */
  readonly id: string;
  /**
   * Creates the error for an id.
   *
   * @param id The id that was asked for (shown quoted in the message).
   * @param message Override the default message.
   */
  constructor(id: string, message?: string) {
    super(message ?? `No task ${JSON.stringify(id)} in the store`);
    this.name = "TaskNotFoundError";
    this.id = id;
  }
}

/**
 * A bash that bgtask ran for a moment (to look at a task's processes, to
 * schedule a queue) was ended by SIGINT, SIGTERM or SIGHUP before it could
 * answer. Such a bash ignores those signals from its first command on (a
 * program that handles a Ctrl-C, which reaches its whole process group,
 * must not see its calls under way fail), and one that a signal ended
 * before that command had done nothing and is run again: this is thrown
 * only when that happened five times in a row, or when another process
 * sent the signal to that bash alone. Nothing of the store is harmed; the
 * call may be made again. (The CLI reports it as the interruption it is:
 * exit 128 + the signal's number.)
 *
 * @example
 * ```ts
 * import { InterruptedError } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const e = new InterruptedError("Cannot check whether a task is alive", "SIGINT");
 * equal(e.signal, "SIGINT");
 * equal(e.name, "InterruptedError");
 * ```
 */
export class InterruptedError extends Error {
  /** The signal that ended the helper. */
  readonly signal: Deno.Signal;
  /**
   * Creates the error for a helper that `signal` ended.
   *
   * @param what What bgtask was doing ("Cannot check whether a task is alive").
   * @param signal The signal that ended its bash.
   */
  constructor(what: string, signal: Deno.Signal) {
    super(
      `${what}: interrupted (${signal} ended its bash, as a Ctrl-C ends a whole process group)`,
    );
    this.name = "InterruptedError";
    this.signal = signal;
  }
}

/**
 * The task is in the wrong state for the operation (e.g. removing a running task).
 *
 * @example
 * ```ts
 * import { TaskStateError } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const e = new TaskStateError("b3", "Cannot remove task b3: it is still running");
 * equal(e.name, "TaskStateError");
 * ```
 */
export class TaskStateError extends Error {
  /** The task concerned. */
  readonly id: string;
  /**
   * Creates the error for a task.
   *
   * @param id The task concerned.
   * @param message What is wrong, naming the task.
   */
  constructor(id: string, message: string) {
    super(message);
    this.name = "TaskStateError";
    this.id = id;
  }
}

/**
 * The store folder is unusable: it cannot be created or written, it is a
 * symlink, it is owned by another user or writable by group/others (looked
 * at when a manager first opens it), it was removed (looked at every call),
 * or one of its records is damaged.
 *
 * @example
 * ```ts
 * import { StoreError } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const e = new StoreError("Store \"/x\" is writable by group or others (mode 777)");
 * equal(e.name, "StoreError");
 * ```
 */
export class StoreError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong, naming the path.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreError";
  }
}

/**
 * A write to a task's stdin did not finish in time: the task did not read
 * (its stdin's buffer was full) for the whole timeout, or another write to
 * the same stdin was still going on when the timeout passed (then nothing
 * was written). The first `written` bytes reached the task, in order; the
 * rest did not.
 *
 * @example
 * ```ts
 * import { StdinTimeoutError } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const e = new StdinTimeoutError("b3", 65536, 100000, 10000);
 * equal(e.name, "StdinTimeoutError");
 * equal(e.total - e.written, 34464);
 * ```
 */
export class StdinTimeoutError extends Error {
  /** The task. */
  readonly id: string;
  /** How many bytes were written (they reached the task's stdin). */
  readonly written: number;
  /** How many bytes were to be written. */
  readonly total: number;
  /**
   * Creates the error.
   *
   * @param id The task.
   * @param written Bytes written.
   * @param total Bytes asked for.
   * @param timeoutMs The timeout that passed.
   * @param why `"full"` (the default): the task did not read; `"busy"`:
   *   another write held the task's stdin for the whole timeout.
   */
  constructor(
    id: string,
    written: number,
    total: number,
    timeoutMs: number,
    why: "full" | "busy" = "full",
  ) {
    super(
      why === "busy"
        ? `Cannot write to the stdin of task ${id}: another write to it ` +
          (timeoutMs === 0
            ? "was in progress (a timeout of 0 does not wait for it)"
            : `was still in progress after ${timeoutMs} ms`) +
          `; ${written} of ${total} bytes were written; try again once that write has ` +
          `finished, or give a longer timeout`
        : `Cannot write to the stdin of task ${id}: it did not read its input for ${timeoutMs} ms ` +
          `(its buffer is full); ${written} of ${total} bytes were written, the rest was not`,
    );
    this.name = "StdinTimeoutError";
    this.id = id;
    this.written = written;
    this.total = total;
  }
}

/** The largest `maxBytes` a bounded read takes (`MAX_READ` of ops/read.ts). */
const MAX_BOUND = 64 * 1024 * 1024;

function mib(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${n} bytes`;
}

/**
 * A read would hold more output than its bound allows. Nothing was read; the
 * message says how to read the output in pieces instead.
 *
 * @example
 * ```ts
 * import { OutputTooLargeError } from "@bgtask/bgtask";
 * import { equal, match } from "node:assert/strict";
 * const e = new OutputTooLargeError("b3", "the output", 600 * 1024 * 1024, 16 * 1024 * 1024);
 * equal(e.name, "OutputTooLargeError");
 * match(e.message, /readOutputChunk/);
 * ```
 */
export class OutputTooLargeError extends Error {
  /** The task. */
  readonly id: string;
  /** How many bytes the read would have taken (at least this many when {@linkcode atLeast}). */
  readonly bytes: number;
  /** The bound it passed. */
  readonly limit: number;
  /** Whether {@linkcode bytes} is a lower bound (the read stopped at the limit). */
  readonly atLeast: boolean;
  /**
   * Creates the error.
   *
   * @param id The task.
   * @param what What was read ("the output", "the last 5 lines").
   * @param bytes Its size in bytes.
   * @param limit The bound.
   * @param atLeast `bytes` is a lower bound (the read stopped at the limit).
   * @param lines For a read of the last lines (`tailOutput`), how many were
   *   asked for: the fix named is then a read of the end.
   */
  constructor(
    id: string,
    what: string,
    bytes: number,
    limit: number,
    atLeast = false,
    lines?: number,
  ) {
    // What can help: a read in pieces (of the end, for a tail), fewer lines
    // (when more than one was asked for), a larger maxBytes (only when one
    // is allowed that could hold it).
    const fixes = lines === undefined
      ? ["read it in pieces with readOutputChunk({ offset }) or follow() (the CLI: bgtask logs)"]
      : [
        "read its end with readOutputChunk({ offset: outputBytes - N }) (outputBytes as " +
        "getStatus gives it; the CLI: bgtask logs --offset)",
      ];
    if (lines !== undefined && lines > 1) fixes.push("ask for fewer lines");
    if (limit < MAX_BOUND && (atLeast || bytes <= MAX_BOUND)) {
      fixes.push("pass a larger maxBytes (at most 64 MiB)");
    }
    const last = fixes.pop()!;
    super(
      `Cannot read output: ${what} of task ${id} ${
        atLeast
          ? `would need more than its limit of ${mib(limit)}`
          : `would need ${mib(bytes)}, over the limit of ${mib(limit)}`
      }; ${fixes.length > 0 ? `${fixes.join(", ")}, or ${last}` : last}`,
    );
    this.name = "OutputTooLargeError";
    this.id = id;
    this.bytes = bytes;
    this.limit = limit;
    this.atLeast = atLeast;
  }
}
