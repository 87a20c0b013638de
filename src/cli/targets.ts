/**
 * The tasks a verb such as `kill` or `wait` acts on: the ids given, and with
 * `--queue Q` every unfinished task of that queue.
 *
 * @module
 */

import type { TaskInfo, TaskManager } from "../../mod.ts";
import { ALL_IS, parseIds, parseName, type Values } from "./args.ts";
import { type Context, findTasks } from "./context.ts";
import { UsageError } from "./errors.ts";
import { escapeControl, quote } from "./escape.ts";
import { isFinished } from "./task_view.ts";
import { DamagedRecordError } from "../store/fs_store.ts";
import { type Caller, caller } from "../supervisor/run.ts";

/** `--queue Q` and `--all`, for the verbs that act on a queue's tasks or every unfinished one. */
export const QUEUE_OPTION = { queue: { type: "string" }, all: { type: "boolean" } } as const;

/** A queue named on the command line that the store has never seen: exit code 1. */
export class QueueNotFoundError extends Error {
  /**
   * @param name The queue, as given.
   * @param hint What to do instead, appended after a semicolon.
   */
  constructor(name: string, hint?: string) {
    super(`No queue ${quote(name)} in the store (see bgtask queue)${hint ? `; ${hint}` : ""}`);
    this.name = "QueueNotFoundError";
  }
}

/**
 * `--all` or `--queue` on a store folder that does not exist: exit code 1,
 * not an empty success (a CI step whose `BGTASK_DIR` differs from the one
 * that started the tasks would pass having waited for nothing).
 */
export class StoreNotFoundError extends Error {
  /**
   * @param dir The store's folder.
   * @param taskless A store is there, in which no task ever ran.
   */
  constructor(dir: string, taskless = false) {
    super(taskless ? noTaskAt(dir) : noStoreAt(dir));
    this.name = "StoreNotFoundError";
  }
}

/**
 * What is said of a store in which no task ever ran (by `list` as a note,
 * by `--all` and `--queue` as an error): one made by a `completions
 * --wait` at a mistyped `--dir` passed a later `wait --all` there.
 *
 * @example
 * ```ts
 * import { noTaskAt } from "./targets.ts";
 * import { equal } from "node:assert/strict";
 * equal(
 *   noTaskAt("/tmp/s"),
 *   'no task has ever run in the store at "/tmp/s"; check --dir or BGTASK_DIR',
 * );
 * ```
 */
export function noTaskAt(dir: string): string {
  return `no task has ever run in the store at "${escapeControl(dir)}"; check --dir or BGTASK_DIR`;
}

/**
 * What is said of a store folder where no store is: by `list`, `queue`,
 * `clean` and `completions` as a note, else as an error.
 */
export function noStoreAt(dir: string): string {
  return `no store at "${escapeControl(dir)}": nothing has run there; check --dir or BGTASK_DIR`;
}

/**
 * The unfinished tasks (queued, running, paused) of queue `name`, by id;
 * with `ended`, every task of the queue in the store.
 *
 * @throws {QueueNotFoundError} When the store has no such queue.
 *
 * @example
 * ```ts
 * import { TaskManager } from "../../mod.ts";
 * import { unfinishedOf } from "./targets.ts";
 * import { deepEqual } from "node:assert/strict";
 * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
 * await tasks.setQueue("ci", { parallel: 2 });
 * deepEqual(await unfinishedOf(tasks, "ci"), []);
 * ```
 */
export async function unfinishedOf(
  tasks: TaskManager,
  name: string,
  ended = false,
): Promise<TaskInfo[]> {
  const all = await tasks.list({ queue: name });
  if (all.length === 0) await requireQueue(tasks, name);
  return ended ? all : all.filter((t) => !isFinished(t.status));
}

/**
 * Throws a {@linkcode StoreNotFoundError} when the store's folder does not
 * exist, or (`everRan`) no task ever ran in it.
 *
 * @param everRan Refuse a store in which no task ever ran too (not where
 *   ids are given: each unknown one is named instead).
 */
export async function requireStore(ctx: Context, everRan = true): Promise<void> {
  // (One look where a task ran, the common case: no task ever ran where no store is either.)
  if (everRan && (await ctx.tasklessStore()) === undefined) return;
  const missing = await ctx.missingStore();
  if (missing !== undefined) throw new StoreNotFoundError(missing);
  if (everRan) throw new StoreNotFoundError(ctx.tasks().dir, true);
}

/**
 * Throws a {@linkcode QueueNotFoundError} unless the store knows queue
 * `name` (set, or used by a task): a mistyped name is said to be one rather
 * than acted on (a pause would make a queue of it).
 */
export async function requireQueue(
  tasks: TaskManager,
  name: string,
  hint?: string,
): Promise<void> {
  if (!(await tasks.getQueues()).some((q) => q.name === name)) {
    throw new QueueNotFoundError(name, hint);
  }
}

/** This process, as {@linkcode caller} says: asked of a bash once a CLI call (it does not change). */
let calling: Promise<Caller | undefined> | undefined;
function whoIsCalling(): Promise<Caller | undefined> {
  return calling ??= caller().catch(() => undefined);
}

/**
 * Whether this process runs as one of the tasks (`bgtask wait --all` in a
 * task's command must not wait for itself): the task's shell is us or our
 * parent; or it leads our process group (every process a task's shell
 * starts is in its group, however deep: a script, `bash -c`, an npm
 * script); or its id is the task id in our environment (a command that
 * made a group or session of its own: job control, setsid, a terminal), of
 * this store (`dir`: ids repeat across stores; a task of an older bgtask
 * may have no `BGTASK_DIR` of its own, and then the id alone tells). The
 * last two as a bash we start sees them: neither needs a permission.
 */
async function selfTest(dir: string): Promise<(t: TaskInfo) => boolean> {
  const me = await whoIsCalling();
  const here = me !== undefined && me.taskId !== "" && (me.taskDir === "" || me.taskDir === dir);
  // (Only a task that has not ended runs us: a finished one's pid may be ours
  // by reuse, and taking it for us left a failed shard out of wait --queue.)
  return (t) =>
    !isFinished(t.status) && (
      (here && t.id === me!.taskId) ||
      (t.pid !== null && (t.pid === Deno.ppid || t.pid === Deno.pid || t.pid === me?.group))
    );
}

/**
 * The id of the task this process runs in, if it is one of `list` (see
 * {@linkcode selfTest}; a bash is started only for a list with a task that
 * has not ended).
 */
export async function selfAmong(list: TaskInfo[], dir: string): Promise<string | undefined> {
  if (!list.some((t) => !isFinished(t.status))) return undefined;
  const isSelf = await selfTest(dir);
  return list.find(isSelf)?.id;
}

/** A task whose start record cannot be read: its processes may run (a kill still ends them). */
function startUnreadable(e: unknown): boolean {
  return e instanceof DamagedRecordError && e.record === "start";
}

/** Task `id`; undefined, and its id in `damaged`, when its start record cannot be read. */
async function findOrDamaged(
  tasks: TaskManager,
  id: string,
  damaged: string[],
): Promise<TaskInfo | undefined> {
  try {
    return (await findTasks(tasks, [id]))[0];
  } catch (e) {
    if (!startUnreadable(e)) throw e;
    damaged.push(id);
    return undefined;
  }
}

/**
 * The tasks named by `ids` (each must exist), then the unfinished tasks of
 * `--queue` not named already (with `queueEnded`, its ended ones too: what a
 * wait's exit code must count), in id order. At least one of the two must be
 * given, or `--all` alone: every unfinished task of the store, by id, but
 * the one this process runs in.
 *
 * @param where How the verb is named in errors (`bgtask kill`).
 * @param damaged Given, the tasks (named, or with `--all`) whose start record
 *   cannot be read go there, for a verb that can still act on them (kill),
 *   instead of failing or being left out.
 * @throws {UsageError} For no ids and no `--queue`, a bad id or queue name.
 * @throws {TaskNotFoundError} For an id not in the store (before anything is done).
 * @throws {QueueNotFoundError} For a queue the store has never seen.
 * @throws {StoreNotFoundError} For `--all` or `--queue` where the store does not exist.
 */
export async function targets(
  ctx: Context,
  values: Values,
  positionals: string[],
  where: string,
  damaged?: string[],
  queueEnded = false,
): Promise<TaskInfo[]> {
  const queue = values.queue === undefined
    ? undefined
    : parseName(values.queue as string, "--queue");
  if (values.all === true && (positionals.length > 0 || queue !== undefined)) {
    // (What --all is for this verb: pause's running tasks, resume's paused ones.)
    const is = ALL_IS[where]?.[0] === `${where} --all` ? ALL_IS[where][1] : "every unfinished task";
    throw new UsageError(`--all is ${is}: give no ids or --queue with it`);
  }
  if (values.all === true || queue !== undefined) await requireStore(ctx, positionals.length === 0);
  if (values.all === true) {
    const all = await ctx.tasks().list({
      status: ["queued", "running", "paused"],
      onDamaged: (id, e) => {
        if (startUnreadable(e)) damaged?.push(id);
      },
    });
    const isSelf = await selfTest(ctx.tasks().dir);
    return all.filter((t) => !isSelf(t));
  }
  if (positionals.length === 0 && queue === undefined) {
    throw new UsageError(
      `missing task id for ${where} (give ids, last for the newest task, --queue Q or ` +
        `--all; see ${where} --help)`,
    );
  }
  const ids = positionals.length === 0 ? [] : parseIds(where, positionals);
  const tasks = ctx.tasks();
  const named = damaged
    ? (await Promise.all(ids.map((id) => findOrDamaged(tasks, id, damaged))))
      .filter((t) => t !== undefined)
    : await findTasks(tasks, ids);
  if (queue === undefined) return named;
  const more = await unfinishedOf(tasks, queue, queueEnded);
  // (Run from a task of the queue, as --all from any task: not that one. A
  // bash tells, when the queue has a task that has not ended.)
  const isSelf = more.some((t) => !isFinished(t.status)) ? await selfTest(tasks.dir) : () => false;
  return [...named, ...more.filter((t) => !ids.includes(t.id) && !isSelf(t))];
}
