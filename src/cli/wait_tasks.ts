/**
 * Waiting for tasks from the command line, shared by `wait` and `run --wait`:
 * a deadline, a spinner on a terminal, Ctrl-C that leaves a clean line, and
 * the exit code.
 *
 * @module
 */

import { InterruptedError, type TaskInfo, type TaskManager } from "../../mod.ts";
import { later, sleep } from "../timers.ts";
import { escapeControl } from "./escape.ts";
import { EXIT_TIMEOUT, exitCodeFor } from "./exit_codes.ts";
import { printErr } from "./output.ts";
import { dependenciesNotEnded, pausedQueuesOf, pausedQueuesText } from "./paused_queues.ts";
import { endBy, onStopSignals, SIGNAL_TURN_MS } from "./signals.ts";
import { canRedraw, Spinner } from "./spinner.ts";
import { isFinished, taskLabel } from "./task_view.ts";

/** What {@linkcode waitForTasks} found. */
export interface WaitOutcome {
  /** Each task, in the order asked: final, or its last snapshot if the wait timed out. */
  tasks: TaskInfo[];
  /** Whether the deadline passed with a task not ended (running, queued or paused). */
  timedOut: boolean;
}

/**
 * Waits until every task has finished (with `mode` `"any"`, the first), or
 * `timeoutMs` passes. On a terminal,
 * shows a spinner on stderr meanwhile; a Ctrl-C (SIGTERM, SIGHUP) erases it,
 * names the tasks that run on, and exits 128 + the signal's number.
 *
 * @param tasks The manager.
 * @param known The tasks to wait for (snapshots; for ids and labels).
 * @param timeoutMs Give up after this long; undefined: never.
 * @param until `"input"`: until each task has ended or waits for input.
 * @param heed `"always"`: heed those signals off a terminal too (`run
 *   --wait`, whose task's id the caller may know from nothing else; `wait`,
 *   whose line in a script's log says the tasks run on); `"terminal"`:
 *   there only (off it, they end the process as usual).
 * @param mode `"any"`: until one task has {@linkcode reached} the point
 *   (the others' waits end then; they are reported as they are).
 *
 * @example
 * ```ts
 * import { TaskManager } from "../../mod.ts";
 * import { waitForTasks } from "./wait_tasks.ts";
 * import { equal } from "node:assert/strict";
 * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
 * const t = await tasks.spawnShell("exit 3");
 * const outcome = await waitForTasks(tasks, [t], 10_000);
 * equal(outcome.tasks[0].exitCode, 3);
 * equal(outcome.timedOut, false);
 * ```
 */
export async function waitForTasks(
  tasks: TaskManager,
  known: TaskInfo[],
  timeoutMs?: number,
  until: "exit" | "input" = "exit",
  heed: "terminal" | "always" = "terminal",
  mode: "all" | "any" = "all",
): Promise<WaitOutcome> {
  const stop = new AbortController();
  const done = new Set<number>();
  const label = known.length === 1
    ? `waiting for ${known[0].id} (${taskLabel(known[0])})`
    : undefined;
  // What cannot go on until someone resumes it is said at once (a wait
  // without --timeout sat there for good without a word): in the spinner,
  // or off a terminal as a note; and again by a Ctrl-C's note.
  let paused: string[] = [];
  let upstream: TaskInfo[] = [];
  let held = "";
  const cancel = timeoutMs === undefined ? () => {} : later(timeoutMs, () => stop.abort());
  // Waiting for an end: a task that sits at a prompt would keep a person
  // (or an agent's shell tool) waiting for good without a word; it is said
  // (a look at its processes a second, for tasks that can ask at all): on a
  // terminal in the spinner, off one as a note on stderr each time a task
  // starts to wait for input.
  const asking = new Set<string>();
  const pending = () => known.filter((_, i) => !done.has(i));
  // (A dumb terminal shows no spinner: the notes are printed, as off one.)
  const onTerminal = canRedraw();
  const stopLooking = until === "exit" && known.some((t) => t.stdin !== "null")
    ? lookForPrompts(
      tasks,
      () => pending().filter((t) => t.stdin !== "null"),
      asking,
      onTerminal ? undefined : (ids) => {
        printErr(`bgtask: note: ${promptNote(ids)} (the wait goes on)`);
      },
    )
    : () => {};
  const prompt = () => {
    const ids = pending().map((t) => t.id).filter((id) => asking.has(id));
    return ids.length === 0 ? "" : `; ${promptNote(ids)}`;
  };
  try {
    return await withSpinner(
      () =>
        (label ??
          (mode === "any"
            ? `waiting for the first of ${known.length} tasks`
            : `waiting for ${known.length - done.size} of ${known.length} tasks`)) +
        prompt() + (held ? `; ${held}` : ""),
      () => leftOn(pending(), paused, upstream) + prompt(),
      // (Looked up once the signals are heard: `run --wait` heeds them from the call on.)
      async () => {
        upstream = await dependenciesNotEnded(tasks, known);
        paused = await pausedQueuesOf(tasks, [...known, ...upstream]);
        held = heldNote(known, paused, upstream);
        if (held && !onTerminal && timeoutMs !== 0) {
          printErr(`bgtask: note: ${held} (the wait goes on)`);
        }
        return await settleWait(tasks, known, stop, done, until, mode);
      },
      heed,
    );
  } finally {
    stopLooking();
    cancel();
  }
}

/**
 * What a wait left behind says of its tasks: those running when it began
 * run on; those paused then stay so until resumed; those queued then run on
 * or start in their turn (one may have started since: a queued one was said
 * to "run on", and a started one to be queued, at first), or, in a queue
 * that was paused (`pausedQueues`), once it is resumed; those queued after
 * a task so held (among `upstream`: see {@linkcode heldNote}) say so.
 *
 * @example
 * ```ts
 * import { leftOn } from "./wait_tasks.ts";
 * import type { TaskInfo } from "../../mod.ts";
 * import { equal } from "node:assert/strict";
 * const t = (id: string, status: string, queue: string | null = null) =>
 *   ({ id, status, queue }) as TaskInfo;
 * equal(
 *   leftOn([t("b1", "running"), t("b2", "queued", "ci")]),
 *   "still running on: b1; not ended, running or to start in its turn: b2",
 * );
 * equal(
 *   leftOn([t("b3", "paused"), t("b4", "queued", "hold")], ["hold"]),
 *   "paused: b3 (bgtask resume b3 continues it); queued: b4, and queue hold is paused: " +
 *     "bgtask queue resume hold",
 * );
 * ```
 */
export function leftOn(
  tasks: TaskInfo[],
  pausedQueues: readonly string[] = [],
  upstream: readonly TaskInfo[] = [],
): string {
  const ids = (list: TaskInfo[]) => list.map((t) => escapeControl(t.id)).join(", ");
  const inPaused = (t: TaskInfo) =>
    t.status === "queued" && t.queue !== null && pausedQueues.includes(t.queue);
  const queued = tasks.filter((t) => t.status === "queued" && !inPaused(t));
  const running = tasks.filter((t) => t.status !== "queued" && t.status !== "paused");
  const held = heldNote(tasks, pausedQueues, upstream);
  return [
    ...(running.length > 0 ? [`still running on: ${ids(running)}`] : []),
    ...(held ? [held] : []),
    ...(queued.length > 0 ? [`not ended, running or to start in its turn: ${ids(queued)}`] : []),
  ].join("; ");
}

/**
 * What of `tasks` cannot go on until someone resumes it, and how: the
 * paused tasks, the queued ones of a paused queue (`pausedQueues`), and the
 * queued ones that run after a task so held (`upstream`: the tasks they
 * wait for, theirs too, not ended); empty when none.
 *
 * @example
 * ```ts
 * import { heldNote } from "./wait_tasks.ts";
 * import type { TaskInfo } from "../../mod.ts";
 * import { equal } from "node:assert/strict";
 * const paused = { id: "b3", status: "paused", queue: null } as TaskInfo;
 * equal(heldNote([paused], []), "paused: b3 (bgtask resume b3 continues it)");
 * const after = { id: "b4", status: "queued", queue: null, after: ["b3"] } as unknown as TaskInfo;
 * equal(
 *   heldNote([after], [], [paused]),
 *   "b4 runs after a task that is held: paused: b3 (bgtask resume b3 continues it)",
 * );
 * ```
 */
export function heldNote(
  tasks: readonly TaskInfo[],
  pausedQueues: readonly string[],
  upstream: readonly TaskInfo[] = [],
): string {
  const paused = tasks.filter((t) => t.status === "paused").map((t) => escapeControl(t.id));
  const waiting = tasks.filter((t) =>
    t.status === "queued" && t.queue !== null && pausedQueues.includes(t.queue)
  );
  const queues = pausedQueues.filter((q) => waiting.some((t) => t.queue === q));
  const parts: string[] = [];
  if (paused.length > 0) {
    parts.push(
      `paused: ${paused.join(", ")} (bgtask resume ${paused.join(" ")} continues ${
        paused.length === 1 ? "it" : "them"
      })`,
    );
  }
  if (waiting.length > 0) {
    parts.push(
      `queued: ${waiting.map((t) => escapeControl(t.id)).join(", ")}, and ${
        pausedQueuesText(queues)
      }`,
    );
  }
  const before = upstream.length === 0 ? "" : heldNote(upstream, pausedQueues);
  const after = before ? tasks.filter((t) => t.status === "queued" && t.after.length > 0) : [];
  if (after.length > 0) {
    parts.push(
      `${after.map((t) => escapeControl(t.id)).join(", ")} ${
        after.length === 1 ? "runs" : "run"
      } after a task that is held: ${before}`,
    );
  }
  return parts.join("; ");
}

/** How often a wait on a terminal looks whether its tasks wait for input. */
const PROMPT_LOOK_MS = 1000;

/**
 * Every {@linkcode PROMPT_LOOK_MS}, puts in `asking` the tasks of `tasks()`
 * that wait for input (one look for all of them), until the returned
 * function is called; `started` hears those that did not at the look
 * before.
 */
function lookForPrompts(
  manager: TaskManager,
  tasks: () => TaskInfo[],
  asking: Set<string>,
  started?: (ids: string[]) => void,
): () => void {
  const stop = new AbortController();
  (async () => {
    while (!stop.signal.aborted) {
      await sleep(PROMPT_LOOK_MS, stop.signal);
      const ids = tasks().map((t) => t.id);
      if (stop.signal.aborted || ids.length === 0) continue;
      try {
        const now = await manager.list({ ids });
        const before = new Set(asking);
        asking.clear();
        for (const t of now) if (t.waitingForInput === true) asking.add(t.id);
        const fresh = [...asking].filter((id) => !before.has(id));
        if (fresh.length > 0 && !stop.signal.aborted) started?.(fresh);
      } catch {
        // (A look that fails says nothing: the wait itself reports trouble.)
      }
    }
  })();
  return () => stop.abort();
}

/**
 * What a wait says of tasks that wait for input: how to answer them.
 *
 * @example
 * ```ts
 * import { promptNote } from "./wait_tasks.ts";
 * import { equal } from "node:assert/strict";
 * equal(promptNote(["b3"]), "b3 waits for input: bgtask send b3 TEXT answers it");
 * ```
 */
export function promptNote(ids: string[]): string {
  const list = ids.map((id) => escapeControl(id)).join(", ");
  return ids.length === 1
    ? `${list} waits for input: bgtask send ${list} TEXT answers it`
    : `${list} wait for input: bgtask send ID TEXT answers one`;
}

/**
 * While `work` runs, on a terminal, shows a spinner with `text` on stderr; a
 * Ctrl-C (or a SIGTERM, SIGHUP) erases it, says what is left (`left`) and
 * exits 128 + the signal's number: the wait stops, the tasks do not. (Heard
 * before the spinner shows; off a terminal only with `heed` `"always"`.)
 * Listening from the call on, before `work` is awaited. Resolves as `work`
 * does, spinner and listeners gone.
 */
export async function withSpinner<T>(
  text: () => string,
  left: () => string,
  work: () => Promise<T>,
  heed: "terminal" | "always" = "terminal",
): Promise<T> {
  const onTerminal = Deno.stderr.isTerminal();
  const heeds = onTerminal || heed === "always";
  // (Handlers run from the event loop: after `spinner` below is made.)
  const stopListening = heeds
    ? onStopSignals((signal) => {
      spinner.stop();
      printErr(`bgtask: stopped waiting (${signal}); ${left()}`);
      endBy(signal);
    })
    : () => {};
  // (Not on a dumb terminal, which shows the redraw as text; signals are heard there all the same.)
  const spinner = new Spinner(text, canRedraw());
  try {
    return await work();
  } catch (e) {
    // A Ctrl-C (SIGTERM, SIGHUP to the group) ends our helper bash too, and
    // its end may be heard before the signal's handler runs: give the
    // handler its turn (it exits) before the helper's end counts as a fault.
    if (e instanceof InterruptedError && heeds) await sleep(SIGNAL_TURN_MS);
    throw e;
  } finally {
    spinner.stop();
    stopListening();
  }
}

/**
 * Whether a wait is over for `t`: it has ended, or, with `until`
 * `"input"`, it waits for input (or whether it does cannot be told).
 *
 * @example
 * ```ts
 * import { reached } from "./wait_tasks.ts";
 * import type { TaskInfo } from "../../mod.ts";
 * import { equal } from "node:assert/strict";
 * const asking = { status: "running", waitingForInput: true } as TaskInfo;
 * equal(reached(asking, "exit"), false);
 * equal(reached(asking, "input"), true);
 * ```
 */
export function reached(t: TaskInfo, until: "exit" | "input"): boolean {
  return isFinished(t.status) || until === "input" && t.waitingForInput !== false;
}

/**
 * Waits for each task (until `stop` aborts at the deadline; with `mode`
 * `"any"`, until the first is waited out): what {@linkcode waitForTasks}
 * reports.
 */
async function settleWait(
  tasks: TaskManager,
  known: TaskInfo[],
  stop: AbortController,
  done: Set<number>,
  until: "exit" | "input",
  mode: "all" | "any",
): Promise<WaitOutcome> {
  // any: the first task waited out (or a wait that fails) ends the others'.
  const first = new AbortController();
  const signal = mode === "any" ? AbortSignal.any([stop.signal, first.signal]) : stop.signal;
  let failure: { reason: unknown } | undefined;
  const settled = await Promise.allSettled(
    known.map(async (t, i) => {
      try {
        const info = await tasks.wait(t.id, { signal, until });
        done.add(i);
        return info;
      } catch (e) {
        if (!signal.aborted) failure ??= { reason: e };
        throw e;
      } finally {
        if (mode === "any") first.abort();
      }
    }),
  );
  if (mode === "any" && failure) throw failure.reason;
  const failed = settled.find((r) => r.status === "rejected");
  if (mode === "all" && failed && !stop.signal.aborted) throw failed.reason;
  // The deadline passed (or, any, one task was waited out): take the tasks
  // not waited out as they are now (one may have just finished), all in one
  // read: one look at their processes.
  const left = known.filter((_, i) => settled[i].status === "rejected").map((t) => t.id);
  const now = await snapshots(tasks, left);
  let timedOut = false;
  const out: TaskInfo[] = [];
  for (const [i, r] of settled.entries()) {
    if (r.status === "fulfilled") {
      out.push(r.value);
      continue;
    }
    // (Removed meanwhile, or damaged: said so, as a look at it alone says;
    // of any, one not waited out is reported as it was.)
    const info = now.get(known[i].id) ??
      (mode === "any" ? known[i] : await tasks.getStatusOrThrow(known[i].id));
    if (!isFinished(info.status) && !(until === "input" && info.waitingForInput)) timedOut = true;
    out.push(info);
  }
  // (Of none, as of all: nothing is left to wait for.)
  if (mode === "any") timedOut = out.length > 0 && !out.some((t) => reached(t, until));
  return { tasks: out, timedOut };
}

/**
 * The current snapshots of `ids`, by id, read together (`list({ ids })`:
 * one liveness look for all of them, where a look per task cost a bash
 * process each, 20 s for 300 tasks). A task missing from it is left out.
 */
async function snapshots(tasks: TaskManager, ids: string[]): Promise<Map<string, TaskInfo>> {
  if (ids.length === 0) return new Map();
  const found = await tasks.list({ ids });
  return new Map(found.map((t) => [t.id, t]));
}

/**
 * The exit code for a wait: 124 when it timed out, else the first non-zero
 * task code in the order asked, else 0.
 *
 * @example
 * ```ts
 * import { waitExitCode } from "./wait_tasks.ts";
 * import { equal } from "node:assert/strict";
 * equal(waitExitCode({ tasks: [], timedOut: true }), 124);
 * ```
 */
export function waitExitCode(outcome: WaitOutcome): number {
  if (outcome.timedOut) return EXIT_TIMEOUT;
  for (const t of outcome.tasks) {
    const code = exitCodeFor(t);
    if (code) return code;
  }
  return 0;
}

/**
 * What the timeout message says of the tasks that have not ended, by status:
 * `still running: b2, b3; queued: b4; paused: b5`. With `until` `"input"`,
 * a task that waits for input is left out (it is what was waited for).
 *
 * @example
 * ```ts
 * import { stillRunning } from "./wait_tasks.ts";
 * import type { TaskInfo } from "../../mod.ts";
 * import { equal } from "node:assert/strict";
 * const tasks = [{ id: "b2", status: "running" }, { id: "b4", status: "queued" }] as TaskInfo[];
 * equal(stillRunning({ tasks, timedOut: true }), "still running: b2; queued: b4");
 * ```
 */
export function stillRunning(outcome: WaitOutcome, until: "exit" | "input" = "exit"): string {
  const parts: string[] = [];
  const left = outcome.tasks.filter((t) => !(until === "input" && t.waitingForInput === true));
  for (const status of ["running", "queued", "paused"] as const) {
    const ids = left.filter((t) => t.status === status).map((t) => escapeControl(t.id));
    if (ids.length > 0) {
      parts.push(`${parts.length === 0 ? "still " : ""}${status}: ${ids.join(", ")}`);
    }
  }
  const list = parts.join("; ");
  if (until === "input") return `not waiting for input yet, ${list}`;
  const asking = left.filter((t) => t.waitingForInput === true).map((t) => t.id);
  return asking.length === 0 ? list : `${list}; ${promptNote(asking)}`;
}
