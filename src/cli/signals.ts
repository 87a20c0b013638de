/**
 * The signals that stop a verb partway (Ctrl-C's SIGINT, SIGTERM, SIGHUP),
 * its exit code then (128 + N), and holding them off while something must
 * not be cut short.
 *
 * @module
 */

import { signalNumber } from "./exit_codes.ts";

/**
 * How long a wait that lost a helper bash to a signal gives that signal's
 * handler to run: a Ctrl-C (SIGTERM, SIGHUP to the group) reaches the
 * helper too, and its end may be heard before the handler runs.
 */
export const SIGNAL_TURN_MS = 2000;

/** The signals that stop a verb partway, each with exit code 128 + its number. */
export const STOP_ON: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * The exit code of a verb stopped by `signal`: 128 + its number, as a shell
 * reports a command it ended (130 for SIGINT).
 *
 * @example
 * ```ts
 * import { signalExitCode } from "./signals.ts";
 * import { equal } from "node:assert/strict";
 * equal(signalExitCode("SIGINT"), 130);
 * ```
 */
export function signalExitCode(signal: Deno.Signal): number {
  return 128 + (signalNumber(signal) ?? 0);
}

/** Every signal listener of the CLI now added, for {@linkcode endBy} to take away. */
const listeners = new Set<readonly [Deno.Signal, () => void]>();

/**
 * Adds `listener` for `signal`, until the returned function is called (again
 * is harmless). Every listener of the CLI is added so: {@linkcode endBy}
 * must be able to take them all away.
 */
export function listen(signal: Deno.Signal, listener: () => void): () => void {
  const entry = [signal, listener] as const;
  listeners.add(entry);
  Deno.addSignalListener(signal, listener);
  return () => {
    if (!listeners.delete(entry)) return;
    Deno.removeSignalListener(signal, listener);
  };
}

/**
 * Calls `handler` with each of the {@linkcode STOP_ON} signals heard, until
 * the returned function is called (again is harmless).
 */
export function onStopSignals(handler: (signal: Deno.Signal) => void): () => void {
  const stops = STOP_ON.map((signal) => listen(signal, () => handler(signal)));
  return () => {
    for (const stop of stops) stop();
  };
}

/** How long {@linkcode endBy} gives the signal it sent itself to end the process. */
const DEATH_WAIT_MS = 2000;

/** The signal a verb stopped by (see {@linkcode stoppedBy}): the process ends by it. */
let stopped: Deno.Signal | undefined;

/**
 * Notes that the verb stops because `signal` came, and returns its exit
 * code (128 + N) for `main`; the script that runs the CLI then ends by that
 * signal (see {@linkcode exitAs}).
 */
export function stoppedBy(signal: Deno.Signal): number {
  stopped = signal;
  return signalExitCode(signal);
}

/**
 * Ends the process by `signal`, as if it had not been caught: the CLI's
 * listeners for it are taken away and the process sends it to itself. A
 * shell reports a command ended so as 128 + N, as an `exit(130)` would
 * look, but only a death by SIGINT makes bash stop a script's loop (its
 * wait-and-cooperative-exit: a child that exits, even 130, handled the
 * Ctrl-C). Should the process live on, it exits 128 + N.
 */
export function endBy(signal: Deno.Signal): never {
  // SIGQUIT's own end dumps core (586 MB of Deno, where cores are on): its
  // code, then. (No shell loop stops for it as for SIGINT.)
  if (signal === "SIGQUIT") Deno.exit(signalExitCode(signal));
  for (const entry of [...listeners]) {
    if (entry[0] !== signal) continue;
    listeners.delete(entry);
    Deno.removeSignalListener(signal, entry[1]);
  }
  try {
    Deno.kill(Deno.pid, signal);
    // The runtime's own handler hears it and does the default action from
    // another thread: an exit right away would come first (1 time in 4).
    // This thread stops meanwhile; the process ends under it.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, DEATH_WAIT_MS);
  } catch {
    // not allowed (no --allow-run at all): the exit code says it
  }
  Deno.exit(signalExitCode(signal));
}

/**
 * Ends the CLI's process with `code`, or by the signal a verb stopped for
 * ({@linkcode stoppedBy}).
 */
export function exitAs(code: number): never {
  if (stopped !== undefined) endBy(stopped);
  Deno.exit(code);
}

/** What {@linkcode holdSignals} returns. */
export interface SignalHold {
  /** The first of the {@linkcode STOP_ON} signals heard while held, if any. */
  readonly heard: Deno.Signal | undefined;
  /**
   * Aborts when the first of them is heard (an `AbortError` naming it), for
   * work that stops at its next step: a wait, a write, a bulk removal.
   */
  readonly signal: AbortSignal;
  /** Stops holding them: from then on they do what they would have (again is harmless). */
  release(): void;
}

/**
 * Holds the {@linkcode STOP_ON} signals off until released: the first one
 * heard is kept, for the verb to act on once what it was doing is done,
 * instead of ending the process in the middle of it.
 *
 * @example
 * ```ts
 * import { holdSignals } from "./signals.ts";
 * import { equal } from "node:assert/strict";
 * const hold = holdSignals();
 * try {
 *   // … work that a Ctrl-C must not cut short …
 * } finally {
 *   hold.release();
 * }
 * equal(hold.heard, undefined); // no signal came
 * ```
 */
export function holdSignals(): SignalHold {
  let heard: Deno.Signal | undefined;
  const stop = new AbortController();
  const release = onStopSignals((signal) => {
    if (heard) return;
    heard = signal;
    stop.abort(new DOMException(`stopped by ${signal}`, "AbortError"));
  });
  return {
    get heard() {
      return heard;
    },
    signal: stop.signal,
    release,
  };
}
