/**
 * What every operation works with: the store, the change hub, and the tasks
 * this manager started. The public class holds one and hands it to the free
 * functions of this folder.
 *
 * @module
 */

import { shownBytes } from "../output_cap.ts";
import { TaskNotFoundError } from "../errors.ts";
import { idTypeError, isValidId, showId } from "../ids.ts";
import { type TaskRecords, toTaskInfo } from "../lifecycle.ts";
import type { TaskStore } from "../store/contract.ts";
import type { ProcessId } from "../supervisor/run.ts";
import type { TaskInfo } from "../types.ts";
import type { ChangeHub } from "../watch.ts";
import type { SharedChecks } from "./shared_checks.ts";
import type { OwnTasks } from "./own_tasks.ts";

/** The state operations share. */
export interface Ctx {
  /** Where tasks are recorded. */
  readonly store: TaskStore;
  /** Wakes waiters when a task ends. */
  readonly hub: ChangeHub;
  /** The tasks this manager started (for `killOnDispose`), and its spawns under way. */
  readonly mine: OwnTasks;
  /** This process, as a completion claim names its owner (looked up once, lazily). */
  readonly self: () => Promise<ProcessId>;
  /** The liveness checks its waiters share. */
  readonly checks: SharedChecks;
  /**
   * With `killOnDispose`: this process, as its tasks record their spawner
   * (`"PID START"`), so that they end when it is gone; `undefined` otherwise.
   */
  readonly spawner: (() => Promise<string>) | undefined;
}

/** What errors say of a removed task: how it went, in the module's words and the CLI's. */
export const REMOVED = "was removed, with its records, by rm (remove) or clean";
/** What errors say of an id whose spawn failed after claiming it. */
export const REFUSED = "was never started: its spawn was refused (the spawner was told why), " +
  "and the id is not used again";

/**
 * The error for an id that names no task: a malformed one is said to be
 * one, and a removed one removed (an id from yesterday's notes is no typo);
 * one that is no string at all is a TypeError naming its kind.
 */
export async function notFound(ctx: Ctx, id: unknown): Promise<TaskNotFoundError | TypeError> {
  const wrongType = idTypeError(id);
  if (wrongType) return wrongType;
  if (!isValidId(id)) {
    return new TaskNotFoundError(
      String(id),
      `No task ${showId(id)}: not a task id (ids look like b1, b2, …)`,
    );
  }
  const gone = await ctx.store.removedAs(id);
  if (gone) {
    return new TaskNotFoundError(id, `Task ${id} ${gone === "refused" ? REFUSED : REMOVED}`);
  }
  // (A mistyped --dir or BGTASK_DIR, the likelier why when there is no store at all.)
  if (!(await ctx.store.open("read").catch(() => true))) {
    return new TaskNotFoundError(
      id,
      `No task ${JSON.stringify(id)}: there is no store at ${
        JSON.stringify(ctx.store.location)
      } (nothing has run there); check --dir or BGTASK_DIR (in a program: TaskManager's dir)`,
    );
  }
  return new TaskNotFoundError(id);
}

/**
 * The task's records, or a TaskNotFoundError naming the id (and saying if it
 * was removed). `read`: how they are read (the store's own read by default).
 */
export async function requireTask(
  ctx: Ctx,
  id: string,
  read: (id: string) => Promise<TaskRecords | undefined> = (id) => ctx.store.read(id),
): Promise<TaskRecords> {
  if (!isValidId(id)) throw await notFound(ctx, id);
  const r = await read(id);
  if (!r) throw await notFound(ctx, id);
  return r;
}

/** The size of a task's output as readers are shown it (see shownBytes). */
export async function shownOutputSize(
  ctx: Ctx,
  r: Pick<TaskRecords, "spec">,
): Promise<number> {
  return shownBytes(await ctx.store.outputSize(r.spec.id), r.spec.maxOutputBytes);
}

/** The public snapshot of a task's records. */
export async function infoOf(
  ctx: Ctx,
  r: TaskRecords,
  waitingForInput?: boolean | null,
): Promise<TaskInfo> {
  const id = r.spec.id;
  return toTaskInfo(r, {
    outputFile: ctx.store.outputPath(id),
    outputBytes: r.started ? await shownOutputSize(ctx, r) : 0,
    waitingForInput,
    // (A terminal is never closed: its end of input is a Ctrl-D typed, which
    // the program may take for something else. See closeStdin.)
    stdinClosed: r.spec.stdin === "pipe" && r.started !== undefined &&
      (await ctx.store.inputState(id)).closed,
  });
}

/**
 * A wrong value as an error shows it: a string quoted and called one (a
 * number given as text looks right otherwise), a whole number too large for
 * a double to hold exactly said so.
 */
export function showValue(v: unknown): string {
  if (typeof v === "string") return `${JSON.stringify(v)} (a string)`;
  if (typeof v === "bigint") return `${v}n (a bigint: give a number, Number(${v}n))`;
  if (typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v)) {
    return `${v}, beyond the largest exact whole number (2^53 - 1)`;
  }
  if (Array.isArray(v)) return "an array";
  if (typeof v === "function") return "a function";
  if (typeof v === "object" && v !== null) {
    return `an object (${Object.prototype.toString.call(v)})`;
  }
  return String(v);
}

/** Whole number ≥ 0, or a TypeError naming the option. */
export function nonNegativeInt(v: unknown, name: string, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new TypeError(`${what}: ${name} must be a whole number ≥ 0, got ${showValue(v)}`);
  }
  return v;
}
