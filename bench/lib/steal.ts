/**
 * CPU time stolen by the hypervisor, from `/proc/stat`: on a shared VM the
 * speed of every case depends on it, so the report gives it for each case.
 *
 * @module
 */

/** The machine's CPU time counters (clock ticks since boot), or null without `/proc/stat`. */
export interface CpuTimes {
  steal: number;
  total: number;
}

/** Reads the machine-wide counters now. */
export function cpuTimes(): CpuTimes | null {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/stat");
  } catch {
    return null;
  }
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const fields = /^cpu\s+(.*)$/m.exec(text)?.[1].trim().split(/\s+/).map(Number);
  if (!fields || fields.length < 8 || fields.some((n) => !Number.isFinite(n))) return null;
  // guest time is already counted in user time: the total is the first eight.
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { steal: fields[7], total };
}

/**
 * The share of all CPU time between `before` and `after` that the hypervisor
 * took, as a sentence for a case's notes (empty without the counters).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { stealNote } from "./steal.ts";
 * equal(
 *   stealNote({ steal: 10, total: 1000 }, { steal: 60, total: 2000 }),
 *   "CPU steal (time the hypervisor gave to other machines) during this case: 5.0% of the CPU time.",
 * );
 * equal(stealNote(null, { steal: 0, total: 1 }), "");
 * ```
 */
export function stealNote(before: CpuTimes | null, after: CpuTimes | null): string {
  if (!before || !after || after.total <= before.total) return "";
  const share = (after.steal - before.steal) / (after.total - before.total);
  return "CPU steal (time the hypervisor gave to other machines) during this case: " +
    `${(share * 100).toFixed(1)}% of the CPU time.`;
}
