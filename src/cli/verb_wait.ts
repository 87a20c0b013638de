/**
 * `bgtask wait ID… [--queue Q] [--any] [--timeout DUR] [--json]`: waits for
 * tasks (with `--queue`, every task of a queue in the store; with `--any`,
 * the first of them); exits with their code. With `--match REGEX`, until a
 * line of each one's output matches.
 *
 * @module
 */

import { idNumber } from "../ids.ts";
import type { TaskInfo } from "../../mod.ts";
import { type Parsed, parseIds } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { UsageError } from "./errors.ts";
import { escapeControl, quote } from "./escape.ts";
import { printErr, unlessClosed } from "./output.ts";
import { isFinished } from "./task_view.ts";
import { QUEUE_OPTION, selfAmong, targets } from "./targets.ts";
import { reached, stillRunning, waitExitCode, waitForTasks } from "./wait_tasks.ts";
import { pausedQueuesOf, pausedQueuesText } from "./paused_queues.ts";
import { matchPattern, waitForMatch } from "./wait_match.ts";

/**
 * Whether a task could still wait for input: its stdin is a pipe not closed
 * yet, or a terminal.
 */
function canAsk(t: TaskInfo): boolean {
  return t.stdin !== "null" && !t.stdinClosed;
}

/** The `wait` verb. */
export const waitVerb: Verb = {
  name: "wait",
  options: {
    timeout: { type: "string" },
    until: { type: "string" },
    match: { type: "string" },
    "ignore-case": { type: "boolean", short: "i" },
    any: { type: "boolean" },
    ...QUEUE_OPTION,
    ...JSON_OPTION,
  },
  positionals: "some",
  ids: "every",
  async run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    const timeoutMs = values.timeout === undefined
      ? undefined
      : parseDuration(values.timeout as string, "--timeout", "a check without waiting");
    const until = values.until ?? "exit";
    if (until !== "exit" && until !== "input") {
      throw new UsageError(
        `--until must be exit or input, got ${quote(String(until))} (see bgtask wait --help)`,
      );
    }
    if (values["ignore-case"] && values.match === undefined) {
      throw new UsageError("--ignore-case is for --match: add --match REGEX");
    }
    const match = values.match === undefined
      ? undefined
      : matchPattern(values.match as string, values["ignore-case"] === true);
    if (match && values.until !== undefined) {
      throw new UsageError("--match waits for a line of output: leave out --until");
    }
    if (match && (values.queue !== undefined || values.all === true || positionals.length === 0)) {
      // One message for each of these: what is accepted (ids), and nothing else to try.
      throw new UsageError(
        `${
          positionals.length === 0 && values.queue === undefined && values.all !== true
            ? "missing task id for bgtask wait --match: "
            : ""
        }--match waits for a line of each task named: give their ids (--queue and --all do ` +
          `not go with --match)`,
      );
    }
    // A queue's tasks that ended before this wait count too: shards that
    // failed early must not make `wait --queue shards && deploy` pass.
    let known = await targets(ctx, values, positionals, "bgtask wait", undefined, true);
    // The ids given (as `last` or a number too), read once.
    const named = new Set(positionals.length > 0 ? parseIds("bgtask wait", positionals) : []);
    // The task this runs in cannot end while it waits for itself (`bgtask
    // wait $BGTASK_TASK_ID`, or its own queue, in its command): named, it is
    // refused; of a queue, left out (as --all leaves it out).
    // (--all has left it out already: no second look.)
    const self = values.all === true
      ? undefined
      : await selfAmong(known.filter((t) => !isFinished(t.status)), ctx.tasks().dir);
    if (self !== undefined) {
      if (named.has(self)) {
        throw new UsageError(
          `${self} is the task this bgtask wait runs in: it cannot end while it waits for ` +
            `itself (wait for the others, or for it from outside)`,
        );
      }
      known = known.filter((t) => t.id !== self);
    }
    const mode = values.any === true ? "any" : "all";
    if (match) {
      // (Said as it was given, not as it was rewritten for the linear engine.)
      const shown = `/${values.match}/${values["ignore-case"] === true ? "i" : ""}`;
      return await waitForMatch(
        ctx.tasks(),
        known,
        match,
        timeoutMs,
        values.json === true,
        shown,
        mode,
      );
    }
    // --any of a queue or the store: the next of their tasks to end (those
    // ended already would answer at once); the ids named count as they are.
    if (mode === "any" && (values.queue !== undefined || values.all === true)) {
      known = known.filter((t) => !isFinished(t.status) || named.has(t.id));
      if (known.length === 0) {
        printErr(
          `bgtask: note: no task ${
            values.all === true ? "of the store" : `of queue ${quote(String(values.queue))}`
          } is left to end: nothing to wait for`,
        );
      }
    }
    // As task_wait (MCP) says: waiting for a prompt that cannot come would
    // wait for the task's end unawares. Named, such a task is refused; of a
    // queue or --all, left out (a background server beside the prompts).
    const deaf = until === "input"
      ? known.filter((t) =>
        named.has(t.id) && (t.stdin === "null" || !canAsk(t) && !isFinished(t.status))
      )
      : [];
    const closed = deaf.filter((t) => t.stdin !== "null");
    if (closed.length > 0) {
      const ids = closed.map((t) => t.id).join(", ");
      throw new UsageError(
        `--until input: the stdin of ${ids} was closed (send --eof), so ` +
          `${closed.length === 1 ? "it" : "they"} can never wait for input again ` +
          `(bgtask wait without --until waits for its end)`,
      );
    }
    if (deaf.length > 0) {
      throw new UsageError(
        `--until input: the stdin of ${deaf.map((t) => t.id).join(", ")} is /dev/null, so ` +
          `${deaf.length === 1 ? "it" : "they"} can never wait for input (start a task with ` +
          `--stdin pipe or pty to answer its prompts; bgtask wait without --until waits for its end)`,
      );
    }
    if (until === "input") {
      const before = known.length;
      known = known.filter((t) => canAsk(t) || isFinished(t.status));
      // (A script that waits for a prompt to answer is told there is none to wait for.)
      if (known.length === 0 && before > 0) {
        printErr(
          `bgtask: note: none of the ${before} task${before === 1 ? "" : "s"} can wait for ` +
            "input (stdin /dev/null, or closed): nothing to wait for",
        );
      }
    }
    const tasks = ctx.tasks();
    const started = Date.now(); // (the wall clock: compared with tasks' records)
    const began = performance.now(); // (this process's: what of the timeout is left)
    const before = values.all === true ? await tasks.list() : [];
    // --all: the tasks made after this one count, finished or not (ids only grow).
    const newest = before.reduce((most, t) => Math.max(most, idNumber(t.id)), 0);
    // --all covers what has not ended yet: failures just before it are said
    // to be left out (a script's fast `exit 5` must not pass unseen).
    if (values.all === true) {
      const left = failedJustBefore(before, known, started);
      if (left.length > 0) {
        // The command is whole, to be pasted: the last ten ids (the newest
        // failure is likeliest the one the script is about), and how many
        // earlier outside it.
        const ids = left.map((t) => escapeControl(t.id));
        const named = ids.slice(-NAMED);
        const earlier = ids.length - named.length;
        const which = ids.length === 1 ? "it" : earlier === 0 ? "them" : `the last ${NAMED}`;
        const more = earlier > 0
          ? `; ${earlier} earlier failed then (bgtask list --status failed lists every ` +
            "failed task)"
          : "";
        printErr(
          `bgtask: not counted: ${earlier > 0 ? `${earlier} earlier and ` : ""}${
            named.join(", ")
          } failed before this wait began; bgtask wait ` +
            `${named.join(" ")} counts ${which}${more} ` +
            `(--all is the tasks not ended yet: wait on the ids run printed)`,
        );
      }
    }
    const left = () =>
      timeoutMs === undefined ? undefined : Math.max(0, timeoutMs - (performance.now() - began));
    // A Ctrl-C (SIGTERM, SIGHUP) is heeded off a terminal too, as for run
    // --wait: the exit codes' help says wait ends by it once it has said
    // what it leaves (which tasks run on), and a script's log is where that
    // line is read (off a terminal, the process died without a word).
    let outcome = await waitForTasks(tasks, known, timeoutMs, until, "always", mode);
    // A queue's (or the store's) tasks that joined while we waited count
    // too, as with pueue's `wait -g`: a producer loop still adding shards
    // must not let `wait --queue shards && deploy` pass early. Again until
    // a look finds none new.
    // The deadline holds here too: while a producer adds tasks, each look
    // finds new ones (and a look at a large store takes seconds).
    // (Of --any, the tasks there when it began: the first of them answers.)
    let arriving = false;
    if (mode === "all" && (values.queue !== undefined || values.all === true)) {
      const seen = new Set(known.map((t) => t.id));
      while (!outcome.timedOut) {
        // (A look begun past the deadline that finds nothing new is the end
        // all the same: `--timeout 0` on a finished queue passes.)
        const late = left() === 0;
        const now = values.all === true
          ? (await tasks.list()).filter((t) => idNumber(t.id) > newest)
          : await targets(ctx, values, positionals, "bgtask wait", undefined, true);
        const fresh = now.filter((t) =>
          !seen.has(t.id) && t.id !== self && (until === "exit" || canAsk(t))
        );
        if (fresh.length === 0) break;
        if (late) {
          outcome = { ...outcome, timedOut: true };
          arriving = true;
          break;
        }
        for (const t of fresh) seen.add(t.id);
        const more = await waitForTasks(tasks, fresh, left(), until, "always");
        outcome = { tasks: [...outcome.tasks, ...more.tasks], timedOut: more.timedOut };
      }
    }
    // --any: those that ended (or wait for input) are the answer, printed
    // and counted (`bgtask list` shows the rest); at the deadline, all.
    const answer = mode === "any" && !outcome.timedOut
      ? outcome.tasks.filter((t) => reached(t, until))
      : outcome.tasks;
    // The exit code is the tasks', whether or not anyone still reads stdout.
    await unlessClosed(ctx.printTasks(answer, values.json === true));
    const unsure = until === "input"
      ? answer.filter((t) => !isFinished(t.status) && t.waitingForInput === null).map((t) => t.id)
      : [];
    if (unsure.length > 0) {
      printErr(
        `bgtask: whether ${unsure.join(", ")} ${unsure.length === 1 ? "waits" : "wait"} for ` +
          `input cannot be told: a process of it may not be looked at (a setuid program such ` +
          `as sudo, su or passwd, and this user is not root); \`bgtask logs ID\` shows whether ` +
          `it ends in a prompt`,
      );
    }
    if (outcome.timedOut) {
      const running = stillRunning(outcome, until);
      // A queued task held by a paused queue waits for someone to resume it.
      const paused = await pausedQueuesOf(tasks, outcome.tasks);
      printErr(
        `bgtask: stopped waiting after ${formatDuration(timeoutMs!)}; ${
          [
            running,
            paused.length > 0 ? pausedQueuesText(paused) : "",
            arriving ? "new tasks were still being added" : "",
          ].filter(Boolean).join("; ")
        }`,
      );
    }
    if (until === "input" && !outcome.timedOut && positionals.length > 0) {
      // About input, as --match is about output: a task named that ended
      // first is not the prompt a script waits for (`wait --until input b7
      // && bgtask send b7 yes`), however it ended. (Of --all or --queue,
      // the tasks that end are the ones that asked nothing: their codes.)
      const ended = answer.filter((t) => isFinished(t.status) && named.has(t.id));
      // (Of --any, one that waits for input is the answer, whatever ended beside it.)
      if (ended.length > 0 && (mode === "all" || answer.every((t) => isFinished(t.status)))) {
        printErr(
          `bgtask: ${
            ended.map((t) => `${escapeControl(t.id)} ended (${t.status}) without waiting for input`)
              .join("; ")
          }`,
        );
        return 1;
      }
    }
    return waitExitCode({ ...outcome, tasks: answer });
  },
};

/** How many of the failures `wait --all` leaves out its note puts in the command it gives. */
const NAMED = 10;

/** How far back `wait --all` looks for failures it leaves out, at least. */
const RECENT_MS = 10 * 60_000;

/** How far back it looks at most: the window of the tasks it waits for, up to an hour. */
const WINDOW_MS = 60 * 60_000;

/**
 * The tasks of `all` that failed before a `wait --all` begun at `now` and
 * that it does not count (`known`): those ended in the last ten minutes,
 * or since the oldest task it waits for was made (the same script's, most
 * likely), if that was within the hour. A task it waits for that is older
 * (a dev server up for days) widens nothing: every failure since it began
 * was named on each wait --all.
 */
function failedJustBefore(all: TaskInfo[], known: TaskInfo[], now: number): TaskInfo[] {
  const waited = new Set(known.map((t) => t.id));
  const recent = known.map((t) => Date.parse(t.createdAt)).filter((at) => at >= now - WINDOW_MS);
  const since = Math.min(now - RECENT_MS, ...recent);
  return all.filter((t) =>
    t.status === "failed" && !waited.has(t.id) && t.finishedAt !== null &&
    Date.parse(t.finishedAt) >= since
  );
}
