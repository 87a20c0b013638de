/**
 * Writing to stdout: whole buffers, JSON, and a quiet end when the reader
 * closes the pipe (`bgtask logs b1 | head -n 1`).
 *
 * @module
 */

import { concat } from "../bytes.ts";
import type { TaskInfo } from "../types.ts";
import { describeError, OutputClosed } from "./errors.ts";
import type { SignalHold } from "./signals.ts";

const encoder = new TextEncoder();

/**
 * Writes all of `bytes` to stdout.
 *
 * @throws {OutputClosed} When the reader has closed stdout.
 *
 * @example
 * ```ts
 * import { writeOut } from "./output.ts";
 * await writeOut(new TextEncoder().encode("hi\n"));
 * ```
 */
export async function writeOut(bytes: Uint8Array): Promise<void> {
  try {
    let done = 0;
    while (done < bytes.length) done += await Deno.stdout.write(bytes.subarray(done));
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) throw new OutputClosed();
    // (A full disk, say: the message says where the writing failed.)
    if (e instanceof Error) throw new Error(`cannot write to stdout: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Output that tells of tasks, in pieces: `head`, then one part per task in
 * order, then `tail`. Each ends with a newline (a table's row, a `--json`
 * element with the `,` and newline after it), so that a task's part is
 * whole once its last byte is written.
 */
export interface TaskText {
  /** What comes before the first task's part (a header, `[`). */
  head: string;
  /** One part per task, in order. */
  parts: string[];
  /** What comes after the last (`]`). */
  tail: string;
}

/** What {@linkcode writeTasks} managed. */
export interface TasksWritten {
  /** How many parts, from the first, reached stdout whole. */
  whole: number;
  /** Why the rest did not (an {@linkcode OutputClosed}, a full disk's error), if so. */
  failure?: unknown;
}

/**
 * The most a write to a pipe takes whole or not at all (POSIX's PIPE_BUF:
 * 4 KiB on Linux, 512 bytes on macOS and the BSDs, POSIX's least).
 */
const PIPE_BUF = Deno.build.os === "linux" ? 4096 : 512;

/**
 * Writes `text` to stdout, and says how many of its tasks' parts reached it
 * whole: when the reader closes the pipe part-way (`| head`, a table larger
 * than the pipe's buffer), those the pipe took whole may have been read; the
 * one it took in part was not read whole. Never throws for a failed write:
 * it returns the failure.
 *
 * A write the closing cuts does not say how much of it was taken (the
 * runtime's stdout keeps the end of a write cut after a newline and fails
 * flushing it, the count lost: a table of 80 KB through `| head -3` read as
 * 0 bytes written). So the parts go in writes of whole parts of at most
 * `PIPE_BUF` bytes, which a pipe takes whole or not at all, and
 * a longer part alone: a failed write's parts were not taken whole.
 *
 * @example
 * ```ts
 * import { writeTasks } from "./output.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(await writeTasks({ head: "ID\n", parts: ["b1\n"], tail: "" }), { whole: 1 });
 * ```
 */
export async function writeTasks(text: TaskText): Promise<TasksWritten> {
  const pieces = [text.head, ...text.parts, text.tail].map((p) => encoder.encode(p));
  let whole = 0;
  let chunk: Uint8Array[] = [];
  let size = 0;
  let parts = 0; // of the tasks', in `chunk`
  const write = async () => {
    await writeOut(concat(chunk));
    whole += parts;
    [chunk, size, parts] = [[], 0, 0];
  };
  try {
    for (const [i, p] of pieces.entries()) {
      if (size > 0 && size + p.length > PIPE_BUF) await write();
      chunk.push(p);
      size += p.length;
      if (i > 0 && i < pieces.length - 1) parts++;
    }
    if (size > 0) await write();
  } catch (e) {
    return { whole, failure: e };
  }
  // (An empty part, or none: nothing was written for it.)
  return { whole: whole + parts };
}

/**
 * `tasks` as the `--json` output ({@linkcode printJson}'s bytes), one part
 * per element (see {@linkcode TaskText}).
 *
 * @example
 * ```ts
 * import { jsonTaskText } from "./output.ts";
 * import { equal } from "node:assert/strict";
 * const tasks = [{ id: "b1" }, { id: "b2" }];
 * const text = jsonTaskText(tasks);
 * equal(text.head + text.parts.join("") + text.tail, JSON.stringify(tasks, null, 2) + "\n");
 * ```
 */
export function jsonTaskText(tasks: readonly unknown[]): TaskText {
  if (tasks.length === 0) return { head: "[]\n", parts: [], tail: "" };
  // An element inside the array is indented one level more, as JSON.stringify does.
  const element = (t: unknown) => "  " + JSON.stringify(t, null, 2).replaceAll("\n", "\n  ");
  return {
    head: "[\n",
    parts: tasks.map((t, i) => element(t) + (i < tasks.length - 1 ? ",\n" : "\n")),
    tail: "]\n",
  };
}

/**
 * Writes text to stdout.
 *
 * @example
 * ```ts
 * import { printOut } from "./output.ts";
 * await printOut("b1\n");
 * ```
 */
export function printOut(text: string): Promise<void> {
  return writeOut(encoder.encode(text));
}

/**
 * Awaits a write to stdout, and lets a closed stdout pass: for the verbs whose
 * exit code says something besides their output (`wait`, `run --wait`), a
 * reader that stopped reading must not change it.
 *
 * @example
 * ```ts
 * import { printOut, unlessClosed } from "./output.ts";
 * await unlessClosed(printOut("b1\n"));
 * ```
 */
export async function unlessClosed(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  }
}

/**
 * Prints what a verb that holds signals did (`print`), when a Ctrl-C may
 * have stopped it: at a terminal, the pipe's reader gets the same Ctrl-C
 * (`bgtask clean | tail`), and a print that finds it gone must not end the
 * verb before it says it was interrupted and what was not done, nor turn
 * that into exit 0. Then only a failed print that says something (a
 * {@linkcode sayMade} naming new tasks, a full disk) is said, on stderr.
 * Unheld, a failed print throws, as any.
 *
 * @example
 * ```ts
 * import { printDone } from "./output.ts";
 * import { holdSignals } from "./signals.ts";
 * const hold = holdSignals();
 * hold.release();
 * await printDone(hold, () => Promise.resolve());
 * ```
 */
export async function printDone(hold: SignalHold, print: () => Promise<void>): Promise<void> {
  try {
    await print();
  } catch (e) {
    if (hold.heard === undefined) throw e;
    if (!(e instanceof OutputClosed)) printErr(describeError(e).line);
  }
}

/**
 * Prints what `write` does for `made`, tasks made already (`run`,
 * `restart`; `what` names one of them: "task"): their ids are the only handle
 * on them, so a stdout that cannot take them is an error that names them
 * and how to end them, else a script that tries again makes them twice. A
 * full disk (`> /dev/full`) is; so is a reader that has gone (`| true`,
 * `| head -c 0`): where `ls | true` may end silently by SIGPIPE, the ids
 * would be lost. (A `write` that lets a closed stdout pass, for a verb whose
 * exit code is the answer, `run --wait`, keeps that.)
 *
 * @example
 * ```ts
 * import { printOut, sayMade } from "./output.ts";
 * import type { TaskInfo } from "../types.ts";
 * const task = { id: "b1", status: "running" } as TaskInfo;
 * await sayMade([task], "task", () => printOut("b1\n"));
 * ```
 */
export async function sayMade(
  made: TaskInfo[],
  what: string,
  write: () => Promise<void>,
): Promise<void> {
  try {
    await write();
  } catch (e) {
    const why = e instanceof OutputClosed
      ? "cannot write to stdout: its reader has closed it"
      : describeError(e).line.replace(/^bgtask: /, "");
    const ids = made.map((t) => t.id).join(" ");
    const one = made.length === 1;
    const verb = made.every((t) => t.status === "queued") ? "queued" : "started";
    throw new Error(
      `${why}; the ${what}${one ? " was" : "s were"} ${verb} all the same: ${ids} ` +
        `(bgtask kill ${ids} ends ${one ? "it" : "them"})`,
      { cause: e },
    );
  }
}

/**
 * Writes a value as indented JSON and a newline: the `--json` output.
 *
 * @example
 * ```ts
 * import { printJson } from "./output.ts";
 * await printJson([{ id: "b1" }]);
 * ```
 */
export function printJson(value: unknown): Promise<void> {
  return printOut(JSON.stringify(value, null, 2) + "\n");
}

/**
 * Writes one line to stderr, synchronously (used for errors, just before exiting).
 *
 * @example
 * ```ts
 * import { printErr } from "./output.ts";
 * printErr("bgtask: a warning");
 * ```
 */
export function printErr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  try {
    let done = 0;
    while (done < bytes.length) done += Deno.stderr.writeSync(bytes.subarray(done));
  } catch {
    // Nowhere left to report to.
  }
}
