/**
 * `bgtask run [options] COMMAND…`: starts a task and prints its id.
 *
 * @module
 */

import { type SpawnOptions, type TaskInfo, TaskNotFoundError } from "../../mod.ts";
import { parseCount, type Parsed, parseIdList, parseName } from "./args.ts";
import { type Context, findTasks, JSON_OPTION, newestId, type Verb } from "./context.ts";
import { parseDuration } from "./duration.ts";
import { describeError, UsageError } from "./errors.ts";
import { printErr, printJson, printOut, sayMade, unlessClosed } from "./output.ts";
import { parseSize } from "./size.ts";
import { parseStdinMode } from "./keys.ts";
import { waitExitCode, waitForTasks } from "./wait_tasks.ts";
import { pausedQueuesOf, pausedQueuesText } from "./paused_queues.ts";
import { escapeControl, quote, shortList } from "./escape.ts";
import { foreignEntries } from "../store/fs_store.ts";
import { join } from "../path.ts";
import { holdSignals, stoppedBy } from "./signals.ts";
import { REFUSED, REMOVED } from "../ops/context.ts";
import { selfAmong } from "./targets.ts";

/** What a terminal's columns and rows may be (the library checks the range). */
const TERMINAL_SIZE = "a whole number from 1 to 65535";

/**
 * `--columns` or `--rows`, 1 to 65535, refused naming the flag (the
 * library's own check names only its option: "columns must be …").
 */
function terminalSize(text: string, flag: string): number {
  const n = parseCount(text, flag, TERMINAL_SIZE);
  if (n < 1 || n > 65535) {
    throw new UsageError(`invalid number ${quote(text)} for ${flag} (${TERMINAL_SIZE})`);
  }
  return n;
}

/** The variables bgtask sets in every task's environment, whatever `--env` says. */
const OWN_VARIABLES: Readonly<Record<string, string>> = {
  BGTASK_TASK_ID: "every task's processes get their task's id in it",
  BGTASK_INVOCATION: "every task's processes get their task's token in it",
};

/** `NAME=VALUE` pairs into an object; the module checks the names. */
function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`invalid --env ${quote(pair)} (expected NAME=VALUE)`);
    }
    const name = pair.slice(0, eq);
    if (Object.hasOwn(env, name)) {
      throw new UsageError(`--env ${quote(name)} is given twice: give each name once`);
    }
    // (They were overridden silently: the task got its own id and token.)
    if (Object.hasOwn(OWN_VARIABLES, name)) {
      throw new UsageError(
        `--env ${quote(name)}: that variable is bgtask's own (${
          OWN_VARIABLES[name]
        }), so it cannot be set: give the value another name`,
      );
    }
    env[name] = pair.slice(eq + 1);
  }
  return env;
}

/** The `run` verb. */
export const runVerb: Verb = {
  name: "run",
  writes: true,
  options: {
    description: { type: "string" },
    cwd: { type: "string" },
    env: { type: "string", multiple: true },
    timeout: { type: "string" },
    "max-output": { type: "string" },
    queue: { type: "string" },
    after: { type: "string", multiple: true },
    "after-any": { type: "boolean" },
    stdin: { type: "string" },
    columns: { type: "string" },
    rows: { type: "string" },
    wait: { type: "boolean" },
    ...JSON_OPTION,
  },
  positionals: "command",
  async run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    if (positionals.length === 0) {
      throw new UsageError("missing command for bgtask run (see bgtask run --help)");
    }
    const command = positionals.join(" ");
    const options: SpawnOptions = {
      description: values.description as string | undefined,
      cwd: values.cwd as string | undefined,
      env: parseEnv((values.env as string[] | undefined) ?? []),
    };
    if (values.timeout !== undefined) {
      options.timeoutMs = parseDuration(values.timeout as string, "--timeout", "no timeout");
    }
    if (values["max-output"] !== undefined) {
      options.maxOutputBytes = parseSize(values["max-output"] as string, "--max-output", "no cap");
    }
    if (values.queue !== undefined) options.queue = parseName(values.queue as string, "--queue");
    let afterArgs = (values.after as string[] | undefined) ?? [];
    // --after last: the newest task, as tsp -d runs after the last job.
    if (afterArgs.some((v) => v.split(",").some((p) => p.trim() === "last"))) {
      const newest = await newestId(ctx);
      afterArgs = afterArgs.map((v) =>
        v.split(",").map((p) => p.trim() === "last" ? newest : p).join(",")
      );
    }
    const after = parseIdList(afterArgs, "--after");
    if (values["after-any"] && after.length === 0) {
      throw new UsageError("--after-any needs --after ID (the tasks to run after)");
    }
    if (values.stdin !== undefined) options.stdin = parseStdinMode(values.stdin as string);
    if (values.columns !== undefined) {
      options.columns = terminalSize(values.columns as string, "--columns");
    }
    if (values.rows !== undefined) options.rows = terminalSize(values.rows as string, "--rows");
    if ((options.columns ?? options.rows) !== undefined && options.stdin !== "pty") {
      throw new UsageError("--columns and --rows are the size of a terminal: add --stdin pty");
    }
    const tasks = ctx.tasks();
    if (after.length > 0) {
      // An unknown id is the usual one-line "no task" failure (or "was
      // removed"), before anything starts.
      const named = await findTasks(tasks, after).catch((e) => {
        if (!(e instanceof TaskNotFoundError)) throw e;
        // (Said for the command line: the library's words name both its
        // calls and the verbs.)
        const why = e.message.endsWith(REMOVED)
          ? "that task was removed (by bgtask rm or clean)"
          : e.message.endsWith(REFUSED)
          ? "that id's spawn was refused: it never was a task"
          : "no such task in the store";
        throw new TaskNotFoundError(
          e.id,
          `--after ${e.id}: ${why}; give tasks still in the store (see bgtask list)`,
        );
      });
      // Run from a task, after that very task, and waited for: it would
      // start once the caller ends, which it cannot while it waits.
      const self = values.wait === true ? await selfAmong(named, tasks.dir) : undefined;
      if (self !== undefined) {
        throw new UsageError(
          `--after ${self} with --wait: ${self} is the task this bgtask run runs in, and the new ` +
            `task starts only once ${self} has ended, which it cannot while it waits (leave out ` +
            `--wait: the new task then runs when ${self} ends)`,
        );
      }
      options.after = after;
      options.afterPolicy = values["after-any"] ? "any" : "success";
    }
    // No store there yet: this run makes one (said when among other files).
    const fresh = await ctx.missingStore();
    // A queue this run makes (a typo, --queue cii for ci, makes one too):
    // said, with its limit and the queues there are (pueue refuses an
    // unknown group; bgtask makes it, as documented).
    // (The folder's names: getQueues would read every unfinished task.)
    const queues = options.queue === undefined || fresh !== undefined
      ? undefined
      : await ctx.queueNames();
    const newQueue = queues !== undefined && !queues.includes(options.queue!)
      ? `bgtask: note: queue ${options.queue} is new: it runs one task at a time (bgtask queue ` +
        `set ${options.queue} --parallel N changes that)${
          queues.length > 0 ? `; the queues there were: ${shortList(queues, ", ")}` : ""
        }`
      : undefined;
    // Once the spawn has begun, a Ctrl-C (SIGTERM, SIGHUP) must not end this
    // process before it says the id: the task's supervisor is in a session
    // of its own, so the task may start all the same, and nobody would know
    // its id (or the spawn would stop half-way, its records half-made). It
    // is held: the spawn finishes, the id is printed, and then `run` says
    // it was interrupted and stops, as the other verbs do (128 + N).
    const hold = holdSignals();
    try {
      const task = await tasks.spawnShell(command, options);
      if (fresh !== undefined) noteStoreAmongOthers(fresh);
      if (newQueue !== undefined) printErr(newQueue);
      if (!values.wait) {
        try {
          await sayMade(
            [task],
            "task",
            () => values.json ? printJson(task) : printOut(task.id + "\n"),
          );
        } catch (e) {
          // Interrupted, the note names the task: a print cut short (at a
          // terminal, the same Ctrl-C ends the pipe's reader) says no more.
          if (hold.heard === undefined) throw e;
        }
        // (A task put in a paused queue waits for someone to resume it: said.)
        const paused = await pausedQueuesOf(tasks, [task]);
        if (paused.length > 0) {
          printErr(`bgtask: note: ${task.id} is queued, and ${pausedQueuesText(paused)}`);
        }
        return hold.heard ? interrupted(task, hold.heard) : 0;
      }
      // The exit code is the task's, whether or not anyone still reads stdout.
      if (!values.json) {
        await sayMade([task], "task", () => unlessClosed(printOut(task.id + "\n")));
      }
      if (hold.heard) {
        // Stopped before the wait began: the task as it was made, and the note.
        if (values.json) await sayMade([task], "task", () => unlessClosed(printJson(task)));
        return interrupted(task, hold.heard);
      }
      // The wait heeds the signals from the call on, off a terminal too: with
      // --json, its message is the only place the id shows before the end.
      const waiting = waitForTasks(tasks, [task], undefined, "exit", "always");
      hold.release();
      const outcome = await waiting;
      if (values.json) {
        // The exit code is the task's, whether or not its record could be
        // printed (a full disk): said on stderr, naming the task.
        try {
          await unlessClosed(printJson(outcome.tasks[0]));
        } catch (e) {
          const why = describeError(e).line.replace(/^bgtask: /, "");
          const t = outcome.tasks[0];
          printErr(`bgtask: ${why}; task ${t.id} ended ${t.status} (bgtask status ${t.id} --json)`);
        }
      }
      return waitExitCode(outcome);
    } finally {
      hold.release();
    }
  },
};

/**
 * After a run that made the store `dir`: when the folder holds other files
 * (a project's), says so on stderr, with what was likely meant. The files
 * are left as they were (bgtask writes over none of them).
 */
function noteStoreAmongOthers(dir: string): void {
  const others = foreignEntries(dir);
  if (others.length === 0) return;
  printErr(
    `bgtask: note: made a new store in "${escapeControl(dir)}", among other files (${
      shortList(others.map(escapeControl), ", ")
    }); to run a command in a folder, that is --cwd DIR; a store of its own: --dir ` +
      `"${escapeControl(join(dir, ".bgtask"))}"`,
  );
}

/**
 * Says that `run` was stopped by `signal` once `task` was made (on stderr,
 * with how to end it), and returns the exit code for that signal.
 */
function interrupted(task: TaskInfo, signal: Deno.Signal): number {
  const made = task.status === "queued" ? "queued" : "started";
  printErr(
    `bgtask: interrupted (${signal}) while starting the task, which was ${made} all the same: ` +
      `${task.id} (bgtask kill ${task.id} ends it)`,
  );
  return stoppedBy(signal);
}
