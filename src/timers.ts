/**
 * Timers that do not load Deno's Node timers.
 *
 * Deno 2.9's global `setTimeout` and `setInterval` load its implementation
 * of `node:timers` (with Node's async hooks and errors) on first use: 8–15
 * ms, a tenth of a `bgtask run`. These timers are built on
 * `AbortSignal.timeout`, which runs on Deno's own timers: its timer keeps
 * the process alive while the signal has an abort listener, and no longer
 * once the listener is removed. bgtask's code uses these, never the globals
 * (a test checks).
 *
 * @module
 */

/**
 * The longest step of a timer: a timer is a chain of signals of at most
 * this length, so that a cancelled one leaves an (unreferenced) signal
 * behind for at most this long, and any delay is possible (`setTimeout`
 * takes one past 2^31 ms for 0).
 */
const STEP_MS = 1_000;

/**
 * Calls `fn` once, `ms` milliseconds from now (not sooner), unless the
 * function it returns is called first. Until then it keeps the process
 * alive, as `setTimeout` does. An exception `fn` throws is uncaught, as
 * with `setTimeout`.
 *
 * @param ms The delay; 0, less, or NaN call `fn` on a later turn of the
 *   event loop (as `setTimeout` does).
 * @returns Cancels the call; harmless once called.
 * @throws {RangeError} For an infinite delay (`setTimeout` would take it for 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { later } from "./timers.ts";
 * const fired = await new Promise((resolve) => later(5, () => resolve(true)));
 * assert.equal(fired, true);
 * const cancel = later(5, () => assert.fail("cancelled: never called"));
 * cancel();
 * ```
 */
export function later(ms: number, fn: () => void): () => void {
  if (ms === Infinity) throw new RangeError(`later: the delay must be finite, got ${ms}`);
  const delay = ms > 0 ? ms : 0; // (NaN and -Infinity too)
  const at = performance.now() + delay;
  let signal: AbortSignal;
  let live = true;
  const step = () => {
    if (!live) return;
    const left = at - performance.now();
    if (left > 0) return arm(left);
    live = false;
    fn();
  };
  const arm = (left: number) => {
    signal = AbortSignal.timeout(Math.min(Math.ceil(left), STEP_MS));
    signal.addEventListener("abort", step, { once: true });
  };
  arm(delay);
  return () => {
    if (!live) return;
    live = false;
    signal.removeEventListener("abort", step);
  };
}

/**
 * Calls `fn` every `ms` milliseconds (each call `ms` after the last one
 * started) until the function it returns is called. Keeps the process
 * alive meanwhile, as `setInterval` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { every } from "./timers.ts";
 * let n = 0;
 * await new Promise<void>((resolve) => {
 *   const stop = every(2, () => {
 *     if (++n === 3) {
 *       stop();
 *       resolve();
 *     }
 *   });
 * });
 * assert.equal(n, 3);
 * ```
 */
export function every(ms: number, fn: () => void): () => void {
  let stopped = false;
  let cancel = later(ms, tick);
  function tick() {
    if (stopped) return;
    cancel = later(ms, tick);
    fn();
  }
  return () => {
    stopped = true;
    cancel();
  };
}

/**
 * Resolves after `ms` milliseconds, or at once when `signal` aborts (never
 * rejects; an infinite `ms` is refused at the call, as {@linkcode later}
 * does). Leaves no timer or listener behind.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sleep } from "./timers.ts";
 * const t0 = performance.now();
 * await sleep(5);
 * assert.ok(performance.now() - t0 >= 5);
 * await sleep(60_000, AbortSignal.abort()); // at once
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms === Infinity) throw new RangeError(`sleep: the delay must be finite, got ${ms}`);
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      cancel();
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const cancel = later(ms, done);
    signal?.addEventListener("abort", done, { once: true });
  });
}
