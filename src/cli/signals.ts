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
 * console.log(signalExitCode("SIGINT")); // 130
 * ```
 */
export function signalExitCode(signal: Deno.Signal): number {
  return 128 + (signalNumber(signal) ?? 0);
}

/**
 * Calls `handler` with each of the {@linkcode STOP_ON} signals heard, until
 * the returned function is called (again is harmless).
 */
export function onStopSignals(handler: (signal: Deno.Signal) => void): () => void {
  const listening = STOP_ON.map((signal) => [signal, () => handler(signal)] as const);
  for (const [signal, listener] of listening) Deno.addSignalListener(signal, listener);
  let listens = true;
  return () => {
    if (!listens) return;
    listens = false;
    for (const [signal, listener] of listening) Deno.removeSignalListener(signal, listener);
  };
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
 * const hold = holdSignals();
 * try {
 *   // … work that a Ctrl-C must not cut short …
 * } finally {
 *   hold.release();
 * }
 * console.log(hold.heard); // undefined: no signal came
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
