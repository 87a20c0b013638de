/**
 * The task lifecycle: the states a task can be in, the named transitions
 * between them, and the one function that turns a task's records into the
 * {@linkcode TaskInfo} every verb returns. Adding a state is a change here.
 *
 * ```
 *              start                 finish (exit, signal, timeout, cap)
 *   queued ──────────▶ running ─────────────────────────────▶ completed | failed
 *     │                 │  ▲                                         ▲
 *     │           pause │  │ resume                                  │
 *     │                 ▼  │                     kill                │ lose
 *     │                paused ────────────────────────────▶ killed   │
 *     │                  └───────────────────────────────────────────┘
 *     └── kill ──▶ killed;  dependency failed ──▶ failed;  cannot start ──▶ failed
 * ```
 *
 * A task's state is never stored as such: it is derived from which records
 * exist (spawn, started, paused, final), so that no two writers can disagree
 * about it, and the first final record wins.
 *
 * @module
 */

import { TaskStateError } from "./errors.ts";
import type {
  FinalRecord,
  PausedRecord,
  PtyRecord,
  SpawnRecord,
  StartedRecord,
} from "./store/records.ts";
import type { TaskEndReason, TaskInfo, TaskStatus } from "./types.ts";

/** The states a task ends in. */
export type FinalStatus = "completed" | "failed" | "killed";

/**
 * Every status, in lifecycle order (useful for validation and `--status`
 * flags). Frozen: bgtask checks statuses against it, and a caller's change
 * (from plain JavaScript, where `readonly` binds nothing) would have made
 * `list({ status: "completed" })` refuse "completed".
 *
 * @example
 * ```ts
 * import { TASK_STATUSES } from "@bgtask/bgtask";
 * import { equal, throws } from "node:assert/strict";
 * equal(TASK_STATUSES.length, 6);
 * throws(() => (TASK_STATUSES as string[]).push("other"), TypeError);
 * ```
 */
export const TASK_STATUSES: readonly TaskStatus[] = Object.freeze(
  [
    "queued",
    "running",
    "paused",
    "completed",
    "failed",
    "killed",
  ] as const,
);

/** True for the states a task never leaves. */
export function isFinal(status: TaskStatus): status is FinalStatus {
  return status === "completed" || status === "failed" || status === "killed";
}

/** Everything the store holds about one task. */
export interface TaskRecords {
  spec: SpawnRecord;
  started?: StartedRecord;
  paused?: PausedRecord;
  final?: FinalRecord;
  /** When a waiting task was started by the scheduler (before its own record). */
  launchedAt?: number;
  /**
   * A task that runs after others, which have all ended: it is past its
   * dependencies (in its queue's line, or being started).
   */
  ready?: true;
  /** A task on a terminal: the terminal's session (recorded before `started`). */
  pty?: PtyRecord;
  /**
   * Not a record: whether a process of the running task was blocked reading
   * its input when its liveness was last checked (null: unknown).
   */
  waitingForInput?: boolean | null;
}

/** The transitions, by name, with the states each may start from. */
export const TRANSITIONS = {
  /** The supervisor runs the command (a queued task got a slot and its dependencies ended). */
  start: { from: ["queued"], to: "running" },
  /** SIGSTOP to the task's group. */
  pause: { from: ["running"], to: "paused" },
  /** SIGCONT to the task's group. */
  resume: { from: ["paused"], to: "running" },
  /** The command ended: its exit, a signal, its timeout or its output cap. */
  finish: { from: ["running", "paused"], to: "completed|failed" },
  /** Ended on request; a queued task then never runs. */
  kill: { from: ["queued", "running", "paused"], to: "killed" },
  /** Its processes vanished without a final record. */
  lose: { from: ["running", "paused"], to: "failed" },
  /** A dependency did not complete (policy "success"), or it could not start. */
  abandon: { from: ["queued"], to: "failed" },
} as const satisfies Record<string, { from: readonly TaskStatus[]; to: string }>;

/** A transition's name. */
export type Transition = keyof typeof TRANSITIONS;

/** What each transition is called in error messages. */
const VERBS: Record<Transition, string> = {
  start: "start",
  pause: "pause",
  resume: "resume",
  finish: "finish",
  kill: "kill",
  lose: "record as lost",
  abandon: "abandon",
};

/** Each transition's participle, for "only a running task can be paused". */
const DONE: Record<Transition, string> = {
  start: "started",
  pause: "paused",
  resume: "resumed",
  finish: "finished",
  kill: "killed",
  lose: "recorded as lost",
  abandon: "abandoned",
};

/**
 * Throws a {@linkcode TaskStateError} naming the task, its state and what
 * would be needed, when `transition` cannot start from `status`.
 */
export function requireTransition(id: string, status: TaskStatus, transition: Transition): void {
  const from = TRANSITIONS[transition].from as readonly TaskStatus[];
  if (from.includes(status)) return;
  const allowed = from.join(" or ");
  const why = isFinal(status)
    ? `it has ended (${status}); only a ${allowed} task can be ${DONE[transition]}`
    : `it is ${status} (only a ${allowed} task can be ${DONE[transition]})`;
  // (Stopped from outside, kill -STOP or a Ctrl-Z of its own: no pause of bgtask's, so no resume.)
  const hint = transition === "resume" && status === "running"
    ? "; if something else stopped it (kill -STOP), pause it, then resume it"
    : "";
  throw new TaskStateError(id, `Cannot ${VERBS[transition]} task ${id}: ${why}${hint}`);
}

/** The state the records say the task is in. */
export function statusOf(r: TaskRecords): TaskStatus {
  if (r.final) return r.final.status;
  if (!r.started) return "queued";
  return r.paused && r.paused.since > 0 ? "paused" : "running";
}

/** True when the task was started right away (no queue, no dependencies). */
export function isImmediate(spec: SpawnRecord): boolean {
  return spec.queue === null && spec.after.length === 0;
}

/** The public keyword for who wrote the final record. */
export function endReason(by: string): TaskEndReason {
  switch (by) {
    case "cap":
      return "max-output";
    case "kill":
      return "killed";
    case "signal":
    case "timeout":
    case "lost":
    case "dependency":
      return by;
    case "start":
      return "start";
    default:
      return "exit";
  }
}

/** What {@linkcode toTaskInfo} needs besides the records. */
export interface InfoContext {
  /** The absolute path of the output file. */
  outputFile: string;
  /** The output's size in bytes (0 when it has none yet). */
  outputBytes: number;
  /** Whether a process of the task is blocked reading its input; null when unknown. */
  waitingForInput?: boolean | null;
  /** Whether its stdin (a pipe or a terminal) was closed. */
  stdinClosed?: boolean;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The one function that turns a task's records into its public snapshot. */
export function toTaskInfo(r: TaskRecords, ctx: InfoContext): TaskInfo {
  const { spec, started, final } = r;
  const status = statusOf(r);
  return {
    id: spec.id,
    command: spec.command,
    description: spec.description,
    cwd: started?.cwd ?? (spec.cwd || null),
    status,
    exitCode: final?.exitCode ?? null,
    signal: final?.signal ?? null,
    error: final?.error ?? null,
    reason: final ? endReason(final.by) : null,
    leftoversEnded: final?.leftovers === true,
    pid: started?.taskPid ?? null,
    outputFile: ctx.outputFile,
    outputBytes: ctx.outputBytes,
    createdAt: iso(spec.createdAt),
    startedAt: started ? iso(started.startedAt) : null,
    finishedAt: final ? iso(final.finishedAt) : null,
    timeoutMs: spec.timeoutMs || null,
    maxOutputBytes: spec.maxOutputBytes,
    queue: spec.queue,
    after: [...spec.after],
    afterPolicy: spec.afterPolicy,
    restartOf: spec.restartOf,
    stdin: spec.stdin,
    // A task whose stdin is /dev/null never waits for input.
    waitingForInput: (status === "running" || status === "paused") && spec.stdin !== "null"
      ? (ctx.waitingForInput ?? r.waitingForInput ?? null)
      : false,
    stdinClosed: spec.stdin !== "null" && (ctx.stdinClosed ?? false),
  };
}
