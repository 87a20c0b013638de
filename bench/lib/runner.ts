/**
 * Side-by-side measurement: untimed warm-up, then repetitions in which the
 * contenders take turns going first (the order rotates every repetition), so
 * that a drift of the machine (page cache, disk write-back, CPU frequency)
 * does not favour whoever always runs first or last.
 *
 * @module
 */

import type { Row } from "./report.ts";

/** Metric name → value (e.g. `{ ms: 12.3, rssMB: 41 }`) of one run. */
export type Metrics = Record<string, number>;

/** One contender: a name and a run that measures itself and returns its metrics. */
export interface Contender {
  name: string;
  run: () => Promise<Metrics>;
}

/** How many untimed and timed runs of each contender. */
export interface SideBySideOptions {
  warmup: number;
  reps: number;
  /** Called before each timed run (progress output). */
  onRun?: (name: string, rep: number) => void;
}

/** Each contender's metrics, one entry per timed repetition. */
export type SideBySideResult = Map<string, Metrics[]>;

/** The contenders rotated left by `k`. */
export function rotate<T>(items: readonly T[], k: number): T[] {
  const n = items.length;
  if (n === 0) return [];
  const s = ((k % n) + n) % n;
  return [...items.slice(s), ...items.slice(0, s)];
}

/** Runs every contender side by side; see the module doc. */
export async function sideBySide(
  contenders: readonly Contender[],
  options: SideBySideOptions,
): Promise<SideBySideResult> {
  for (let w = 0; w < options.warmup; w++) {
    for (const c of rotate(contenders, w)) await c.run();
  }
  const out: SideBySideResult = new Map(contenders.map((c) => [c.name, []]));
  for (let rep = 0; rep < options.reps; rep++) {
    for (const c of rotate(contenders, rep)) {
      options.onRun?.(c.name, rep);
      out.get(c.name)!.push(await c.run());
    }
  }
  return out;
}

/** One metric of one contender across the repetitions. */
export function column(result: SideBySideResult, name: string, metric: string): number[] {
  return (result.get(name) ?? []).map((m) => m[metric]);
}

/**
 * One report row per contender for one metric of a result; `ratioTo` names,
 * for each contender, the contenders to divide its median by (if any).
 */
export function rowsOf(
  result: SideBySideResult,
  measure: string,
  metric: string,
  unit: string,
  ratioTo: (name: string) => string[] | undefined,
): Row[] {
  return [...result.keys()].map((name) => ({
    measure,
    contender: name,
    unit,
    samples: column(result, name, metric),
    ratioTo: ratioTo(name),
  }));
}

/** Milliseconds taken by `fn`. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Now, as milliseconds since the epoch with sub-millisecond precision. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
