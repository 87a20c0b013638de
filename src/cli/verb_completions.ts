/**
 * `bgtask completions [--consumer NAME] [--peek | --wait [--timeout DUR] |
 * --follow] [--json]`: the finished tasks not reported to a consumer before,
 * each once; with `--wait`, the next ones to finish; with `--follow`, each as
 * it finishes, until interrupted. `--forget`: the consumer is forgotten (its
 * unread tasks no longer keep `clean` off them).
 *
 * @module
 */

import {
  type DrainOptions,
  InterruptedError,
  StoreError,
  type TaskInfo,
  type TaskManager,
} from "../../mod.ts";
import { foreignEntries } from "../store/fs_store.ts";
import { later, sleep } from "../timers.ts";
import { type Parsed, parseName } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { noStoreAt } from "./targets.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { UsageError } from "./errors.ts";
import { escapeControl, shortList } from "./escape.ts";
import { EXIT_TIMEOUT } from "./exit_codes.ts";
import { printErr, printOut, type TaskText, writeTasks } from "./output.ts";
import { holdSignals, SIGNAL_TURN_MS, stoppedBy } from "./signals.ts";
import { taskLine } from "./task_view.ts";

/** The `completions` verb. */
export const completionsVerb: Verb = {
  name: "completions",
  // (It marks what it reports; --peek only looks.)
  writes: ({ values }) => values.peek !== true,
  options: {
    consumer: { type: "string" },
    peek: { type: "boolean" },
    forget: { type: "boolean" },
    wait: { type: "boolean" },
    follow: { type: "boolean" },
    timeout: { type: "string" },
    ...JSON_OPTION,
  },
  positionals: "none",
  async run(ctx: Context, { values }: Parsed): Promise<number> {
    const consumer = values.consumer === undefined
      ? undefined
      : parseName(values.consumer as string, "--consumer");
    const tasks = ctx.tasks();
    const json = values.json === true;
    const modes = (["peek", "wait", "follow", "forget"] as const).filter((m) => values[m]);
    if (modes.length > 1) {
      // What each of the two given does (not those left out: --forget lists nothing).
      const does = {
        peek: "--peek shows what is there and takes nothing",
        wait: "--wait takes the next to finish",
        follow: "--follow takes each as it finishes",
        forget: "--forget drops the consumer (--consumer NAME) and lists nothing",
      };
      throw new UsageError(
        `--${modes[0]} and --${modes[1]} do not go together: ${does[modes[0]]}, ` +
          `${does[modes[1]]}${
            modes.includes("forget") ? " (to list, then forget: run them one after the other)" : ""
          }`,
      );
    }
    if (values.timeout !== undefined && !values.wait) {
      throw new UsageError(
        "--timeout goes with --wait (how long to wait for a task to finish); --follow runs " +
          "until interrupted (e.g. timeout 10m bgtask completions --follow)",
      );
    }
    if (values.forget) {
      if (consumer === undefined || json) {
        throw new UsageError("--forget takes --consumer NAME alone: the consumer to forget");
      }
      const known = await tasks.forgetConsumer(consumer);
      printErr(
        known
          ? `bgtask: forgot consumer ${consumer}: its unread tasks no longer keep clean off them`
          : `bgtask: no consumer ${consumer} in the store (nothing to forget)`,
      );
      return known ? 0 : 1;
    }
    const timeoutMs = values.timeout === undefined
      ? undefined
      : parseDuration(values.timeout as string, "--timeout", "a look without waiting");
    // Not a silent one: a mistyped --dir or another BGTASK_DIR would wait
    // there for good (or report nothing) without a word.
    const missing = await ctx.missingStore();
    const waits = values.wait === true || values.follow === true;
    const others = missing === undefined || !waits ? [] : foreignEntries(missing);
    if (missing !== undefined && others.length > 0) {
      // (Waiting registers the consumer: it would make someone's folder a store.)
      throw new StoreError(
        `no store at "${escapeControl(missing)}", a folder holding other files (${
          shortList(others.map(escapeControl), ", ")
        }): waiting there would make it a store; check --dir or BGTASK_DIR`,
      );
    }
    if (missing !== undefined) {
      printErr(
        values.wait || values.follow
          ? `bgtask: note: no store at "${escapeControl(missing)}" yet: waiting for tasks to ` +
            "finish there (check --dir or BGTASK_DIR)"
          // A named consumer is registered at its first use, a peek too: the store is made.
          : consumer !== undefined && !values.forget
          ? `bgtask: note: no store at "${escapeControl(missing)}" yet: made now, and consumer ` +
            `${consumer} is told of the tasks that finish there from now on (check --dir or ` +
            "BGTASK_DIR)"
          : `bgtask: note: ${noStoreAt(missing)}`,
      );
    }
    if (values.peek) {
      await ctx.printTasks(await tasks.peekCompletions({ consumer }), json);
      return 0;
    }
    // Delivered as far as printed (see drainPrinted).
    const print = (done: TaskInfo[]) => ctx.taskText(done, json);
    if (values.follow) {
      const line = (t: TaskInfo) =>
        json ? JSON.stringify(t) : taskLine(t, { style: ctx.style, now: Date.now() });
      const stream = (done: TaskInfo[]) => ({
        head: "",
        parts: done.map((t) => line(t) + "\n"),
        tail: "",
      });
      return await untilStopped(async (signal) => {
        for (;;) await drainPrinted(tasks, { consumer, wait: true, signal }, stream);
      });
    }
    if (values.wait) {
      const none = async () => {
        if (json) await printOut("[]\n");
        printErr(
          timeoutMs === 0
            ? "bgtask: no finished task to report (--timeout 0 looks once, without waiting)"
            : `bgtask: no task finished within ${formatDuration(timeoutMs!)}`,
        );
        return EXIT_TIMEOUT;
      };
      if (timeoutMs === 0) {
        const nothing = { head: "", parts: [], tail: "" };
        const got = await drainPrinted(
          tasks,
          { consumer },
          (done) => done.length > 0 ? print(done) : nothing,
        );
        return got.length > 0 ? 0 : await none();
      }
      return await untilStopped(async (signal) => {
        // (Not AbortSignal.timeout: past 2^31 ms, about 25 days, it fires at once.)
        const timer = new AbortController();
        const cancel = timeoutMs === undefined
          ? () => {}
          : later(timeoutMs, () => timer.abort(new DOMException("timed out", "TimeoutError")));
        const deadline = AbortSignal.any([signal, timer.signal]);
        try {
          await drainPrinted(tasks, { consumer, wait: true, signal: deadline }, print);
        } catch (e) {
          if (signal.aborted || !deadline.aborted) throw e;
          return await none();
        } finally {
          cancel();
        }
        return 0;
      });
    }
    await drainPrinted(tasks, { consumer }, print);
    return 0;
  },
};

/**
 * Drains completions (see `drainCompletions`), printing each batch as `text`
 * renders it, and delivers what stdout took (see `writeTasks`): the tasks
 * whose part (a table row, a `--follow` line, a `--json` element with the
 * `,` and newline after it) it took whole count as printed, whoever read
 * them (what a pipe took is printed: `| head -1` takes a table of up to
 * 4 KiB whole, one write). The one it took in part and those after are
 * given back, to be told again rather than lost (all of them, when the
 * reader had gone before the write). Then the write's failure is thrown: a
 * closed stdout ends the verb quietly.
 */
async function drainPrinted(
  tasks: TaskManager,
  options: Omit<DrainOptions, "handle">,
  text: (done: TaskInfo[]) => TaskText | Promise<TaskText>,
): Promise<TaskInfo[]> {
  let failure: unknown;
  const got = await tasks.drainCompletions({
    ...options,
    handle: async (done) => {
      const written = await writeTasks(await text(done));
      if (written.failure === undefined) return;
      failure = written.failure;
      return { passedOn: done.slice(0, written.whole).map((t) => t.id) };
    },
  });
  if (failure !== undefined) throw failure;
  return got;
}

/**
 * Runs `work` with a signal that aborts at the first Ctrl-C (SIGTERM,
 * SIGHUP): a wait for completions ends there, having taken nothing it did
 * not print, and the verb exits 128 + the signal's number, saying nothing
 * (the end of a `--follow` is a Ctrl-C). A delivery being printed is
 * finished first.
 */
async function untilStopped(work: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const hold = holdSignals();
  try {
    return await work(hold.signal);
  } catch (e) {
    // A Ctrl-C ends our helper bash too (a liveness look), and its end may
    // be heard before the signal's handler runs: give the handler its turn.
    if (e instanceof InterruptedError && !hold.heard) await sleep(SIGNAL_TURN_MS);
    if (hold.heard) return stoppedBy(hold.heard);
    throw e;
  } finally {
    hold.release();
  }
}
