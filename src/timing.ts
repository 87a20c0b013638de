/**
 * Every timing constant of the library, named and explained in one place.
 * None of them is a promise about speed: they bound how long a missed
 * filesystem event, or a death nobody reported, can go unnoticed.
 *
 * @module
 */

/**
 * How often a waiter checks that the tasks it waits for are still alive, at
 * first. Each look costs a bash process (10–20 ms of CPU); a long wait spaces
 * them out, up to {@linkcode LIVENESS_CHECK_MAX_MS}. (A task whose supervisor
 * dies is recorded by its watchdog at once; these looks catch a task whose
 * supervisor and watchdog died together.)
 */
export const LIVENESS_CHECK_MS = 1000;

/** The longest a long wait goes between two liveness checks. */
export const LIVENESS_CHECK_MAX_MS = 5000;

/** How much longer each liveness check of a wait comes after the one before. */
export const LIVENESS_BACKOFF = 1.5;

/**
 * The interval after a liveness check that came `last` ms after the one
 * before: {@linkcode LIVENESS_BACKOFF} times longer, within
 * {@linkcode LIVENESS_CHECK_MS} and {@linkcode LIVENESS_CHECK_MAX_MS}.
 *
 * @example
 * ```ts
 * import { nextLivenessCheck } from "./timing.ts";
 * import { equal } from "node:assert/strict";
 * equal(nextLivenessCheck(1000), 1500);
 * equal(nextLivenessCheck(4000), 5000);
 * ```
 */
export function nextLivenessCheck(last: number): number {
  return Math.min(LIVENESS_CHECK_MAX_MS, Math.max(LIVENESS_CHECK_MS, last * LIVENESS_BACKOFF));
}

/** When a waiter first checks liveness (most tasks report their own end before). */
export const FIRST_LIVENESS_CHECK_MS = 200;

/** The longest `wait()` sleeps between looks if no change event arrives. */
export const WAIT_POLL_MS = 200;

/** The longest `completions()` sleeps between looks if no change event arrives. */
export const COMPLETIONS_POLL_MS = 250;

/**
 * A `completions()` loop sweeps the active set (for ends nobody announced)
 * every {@linkcode LIVENESS_CHECK_MS}, or, when a sweep takes long (thousands
 * of tasks queued), no sooner than this many times its duration after it:
 * an idle loop then spends at most about 1/20 of its time sweeping.
 */
export const SWEEP_SPACING = 20;

/** `follow()` polls output (a watch per write would flood): it backs off from … */
export const FOLLOW_POLL_MIN_MS = 10;
/** … to this, and any task end wakes it at once. */
export const FOLLOW_POLL_MAX_MS = 100;

/** How often `wait(id, { until: "input" })` looks whether the task waits for input. */
export const INPUT_POLL_MS = 100;
/**
 * How often a stdin write that finds another one in progress tries the
 * lock again: from 2 ms, doubling up to this.
 */
export const STDIN_LOCK_POLL_MAX_MS = 50;

/** A task that should have started and has no started record after this long is lost. */
export const START_DEADLINE_MS = 30_000;

/**
 * A task whose dependencies have all ended, and which nobody resolved
 * within this long, is resolved by whoever looks at it (the last of them to
 * end resolves it within milliseconds, unless it died first).
 */
export const HAND_ON_DEADLINE_MS = 5_000;

/** `kill()` of a task being launched at that instant waits this long for it to start. */
export const LAUNCHING_WAIT_MS = 2000;
/** … looking this often. */
export const LAUNCHING_POLL_MS = 20;

/** A waited-for task that vanished is looked for again after this long (a store being deleted). */
export const VANISHED_SETTLE_MS = 50;

/** After ending a task's tree, `kill()` looks this often for its supervisor's record. */
export const KILL_RECORD_POLL_MS = 20;
/**
 * A kill left to the task's watchdog (its start record is damaged): how long,
 * beyond the grace, to wait for the record before saying nobody acted on it
 * (the watchdog looks every 250 ms to 1 s).
 */
export const KILL_DELEGATED_WAIT_MS = 5000;

/**
 * A consumer that has not read completions for this long no longer keeps
 * `clean` from removing the tasks it has not been told about.
 */
export const CONSUMER_IDLE_MS = 24 * 60 * 60 * 1000;

/**
 * A named consumer that has not read completions for this long is forgotten
 * by `clean` (a session that ended without saying so: an MCP server killed,
 * an agent gone), as `forgetConsumer` would. `default` never is.
 */
export const CONSUMER_FORGET_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * A reader that waits for completions (`completions()`, a waiting drain)
 * marks its consumer as used when it was last used longer ago than this
 * (well inside {@linkcode CONSUMER_IDLE_MS}): one that waits for a month
 * without a task ending is not forgotten by `clean` under it (it would then
 * be registered again from then on, and not told of the task that ended in
 * between).
 */
export const CONSUMER_KEEP_MS = 60 * 60 * 1000;

/**
 * How old a removed task's record (its id's tombstone, with how it ended)
 * must be before `clean` merges it with the others (see
 * `TaskStore.mergeRemoved`): far longer than any spawn takes between
 * finding a task it runs after and writing its own record.
 */
export const REMOVED_MERGE_MS = 60 * 60 * 1000;

/**
 * How long `kill` waits for a task being launched to be started by its
 * supervisor; then it records the kill itself (a supervisor that comes later
 * finds it and does not start the task).
 */
export const LAUNCH_PATIENCE_MS = 5_000;

/**
 * How long a `bgtask mcp --http` session may go without a request before it
 * is closed (and its completion consumer forgotten), when it has no call in
 * progress and no notification stream open: a client that never ends its
 * sessions (a one-shot CLI call that sends no DELETE) leaves them behind.
 * An agent idle longer gets a 404 saying so, and initializes again.
 */
export const SESSION_IDLE_MS = 60 * 60 * 1000;

/**
 * How long a stopping `bgtask mcp --http` (SIGTERM) gives the calls in
 * progress to answer (a waiting one answers at once, with what it has)
 * before it closes their sessions.
 */
export const STOP_ANSWER_MS = 5_000;
