/**
 * What every verb gets: the store, output styling, the terminal width; and
 * the shape of a verb.
 *
 * @module
 */

import { type TaskInfo, TaskManager, TaskNotFoundError } from "../../mod.ts";
import { FsStore } from "../store/fs_store.ts";
import { startsWithTilde } from "../store_path.ts";
import { UsageError } from "./errors.ts";
import type { OptionSpecs, Parsed } from "./args.ts";
import { jsonTaskText, printOut, type TaskText } from "./output.ts";
import { makeStyle, type Style, wantColor } from "./style.ts";
import { taskTableLines } from "./task_view.ts";

/** The options every verb takes. */
export const COMMON_OPTIONS: OptionSpecs = {
  dir: { type: "string" },
  color: { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** `--json`, for verbs that report tasks. */
export const JSON_OPTION: OptionSpecs = { json: { type: "boolean" } };

/** The environment a verb runs in. */
export class Context {
  /** `--dir`, given before or after the verb (not both: refused as given twice), if any. */
  readonly dir?: string;
  /** Colours: by `--color` (default auto: on a terminal, unless NO_COLOR is set). */
  readonly style: Style;
  /** The terminal's width when stdout is a terminal; undefined when piped (nothing is cut). */
  readonly width?: number;
  #tasks?: TaskManager;

  /**
   * @param dir `--dir`, wherever it was given.
   * @param color `--color`, wherever it was given: auto (the default), always or never.
   * @throws {UsageError} For a `color` that is none of those, an empty `dir`, or one that
   *   starts with `~` (which the shell did not expand).
   */
  constructor(dir?: string, color?: string) {
    if (dir === "") throw new UsageError(`--dir is empty: give the store's folder`);
    if (dir !== undefined && startsWithTilde(dir)) {
      // (Not expanded here: the user's shell decides what ~ is, as it does
      // for --dir ~/x; and the library refuses it as well.)
      throw new UsageError(
        `--dir ${JSON.stringify(dir)} starts with "~", which the shell expands only at a word's ` +
          `start and unquoted: write --dir ${dir} (after a space, not "=", and unquoted), or the ` +
          `full path`,
      );
    }
    this.dir = dir;
    this.style = makeStyle(wantColor(color));
    if (Deno.stdout.isTerminal()) {
      // A terminal that reports no size (0, as under `script` or `docker -t`
      // before anyone set one) counts as 80 columns, as one that cannot say.
      try {
        this.width = Deno.consoleSize().columns || 80;
      } catch {
        this.width = 80;
      }
    }
  }

  /**
   * The task manager over the store chosen by `--dir`, else `$BGTASK_DIR`,
   * else `<cache dir>/bgtask`.
   */
  tasks(): TaskManager {
    this.#tasks ??= new TaskManager(this.dir === undefined ? {} : { dir: this.dir });
    return this.#tasks;
  }

  /**
   * The store's folder when there is no store there (nothing has run there:
   * a mistyped `--dir`, another `BGTASK_DIR` or HOME; or a folder that is
   * no store), else undefined. Only looks: reading never creates the store.
   */
  async missingStore(): Promise<string | undefined> {
    const dir = this.tasks().dir;
    try {
      return await new FsStore(dir).open("read") ? undefined : dir;
    } catch {
      // (Any trouble, a permission: what the verb does next says it, as usual.)
      return undefined;
    }
  }

  /**
   * The store's folder when no task ever ran in it (no id was ever claimed:
   * a store made by a `queue set`, or by a `completions --wait` at a
   * mistyped `--dir`; or no store at all), else undefined. Only looks.
   */
  async tasklessStore(): Promise<string | undefined> {
    const dir = this.tasks().dir;
    try {
      return await new FsStore(dir).issuedAny() ? undefined : dir;
    } catch {
      return undefined; // (as missingStore)
    }
  }

  /**
   * The names of the store's queues, as its folder holds them: no task read
   * and no process looked at (`getQueues` counts each queue's tasks, and
   * looks at the running ones' processes).
   */
  async queueNames(): Promise<string[]> {
    return await new FsStore(this.tasks().dir).queueNames();
  }

  /**
   * Prints tasks as the table, or as a JSON array with `--json` (see
   * {@linkcode Context.taskText}).
   *
   * @throws {OutputClosed} When the reader has closed stdout (as `printOut` does).
   */
  async printTasks(
    tasks: TaskInfo[],
    json: boolean,
    options: { complete?: boolean } = {},
  ): Promise<void> {
    const { head, parts, tail } = await this.taskText(tasks, json, options);
    await printOut(head + parts.join("") + tail);
  }

  /**
   * Tasks as {@linkcode Context.printTasks} prints them, one part per task
   * (the table's header, or the JSON array's brackets, around them). The
   * table has a QUEUE column when a task is in a queue or waits for others
   * (see `queue_view.ts`); where a queued task stands is read from the store
   * unless `complete` says `tasks` is every task in it.
   */
  async taskText(
    tasks: TaskInfo[],
    json: boolean,
    options: { complete?: boolean } = {},
  ): Promise<TaskText> {
    if (json) return jsonTaskText(tasks);
    let queue: ((t: TaskInfo) => string) | undefined;
    if (tasks.some((t) => t.queue !== null || (t.status === "queued" && t.after.length > 0))) {
      // Loaded only when a queue is in sight.
      const { needsQueueColumn, queueCell, standing } = await import("./queue_view.ts");
      const where = this.#tasks
        ? await standing(this.#tasks, tasks, options.complete ?? false)
        : { unmet: new Map(), place: new Map() };
      if (needsQueueColumn(tasks, where)) queue = (t) => queueCell(t, where);
    }
    const [head, ...parts] = taskTableLines(tasks, {
      style: this.style,
      now: Date.now(),
      width: this.width,
      queue,
    });
    return { head, parts, tail: "" };
  }
}

/** One verb of the CLI. */
export interface Verb {
  /** The verb as typed. */
  name: string;
  /** Its options (besides {@linkcode COMMON_OPTIONS}). */
  options: OptionSpecs;
  /**
   * `"none"`: no positionals; `"some"`: positionals anywhere among the
   * options (ids, or `queue`'s action and name); `"command"`: options end
   * at the first word of a command, which takes the rest (`run`).
   */
  positionals: "none" | "some" | "command";
  /**
   * Which positionals are task ids, where `last` means the newest task
   * (tsp's habit): every one, or the first (`send ID TEXT…`).
   */
  ids?: "every" | "first";
  /**
   * Whether the verb (with these arguments) writes to the store: a
   * permission it is refused then names `--allow-write` too, when not given,
   * with `--allow-run=bash` (one run again is enough).
   */
  writes?: boolean | ((parsed: Parsed) => boolean);
  /** Runs the verb on its parsed arguments and returns the exit code. */
  run(ctx: Context, parsed: Parsed): Promise<number>;
}

/**
 * The newest task's id, which `last` names where the CLI takes an id (as
 * task-spooler's commands default to the last job).
 *
 * @throws {TaskNotFoundError} In a store with no task yet.
 */
export async function newestId(ctx: Context): Promise<string> {
  const [newest] = await ctx.tasks().list({ last: 1 });
  if (newest === undefined) {
    const missing = await ctx.missingStore();
    throw new TaskNotFoundError(
      "last",
      missing === undefined
        ? "No task in the store (last is the newest task: none was run there, or all were removed)"
        : `No task: last is the newest task, and there is no store at ${
          JSON.stringify(missing)
        } (nothing has run there); check --dir or BGTASK_DIR`,
    );
  }
  return newest.id;
}

/**
 * The current record of each id, in order; the first unknown id is an error
 * naming it (before anything is done to the others), the module's: it says
 * when the task was removed.
 *
 * @throws {TaskNotFoundError} For an id not in the store.
 */
export async function findTasks(tasks: TaskManager, ids: string[]): Promise<TaskInfo[]> {
  // Read together: one look at their processes for all (a look each took a
  // bash process each, and 330 ids at once ran out of open files).
  const found = new Map((await tasks.list({ ids })).map((t) => [t.id, t]));
  // One left out (missing, removed, damaged): its own read says why, the
  // first in the order given.
  const out: TaskInfo[] = [];
  for (const id of ids) out.push(found.get(id) ?? await tasks.getStatusOrThrow(id));
  return out;
}
