/**
 * Tasks that record when they really ran: each writes its own start and end
 * time ($EPOCHREALTIME, microseconds) into a folder, named by its task id.
 */

/** A command that records its start and end around `work` into `dir`. */
export function timed(dir: string, work = "true"): string {
  return `echo "$EPOCHREALTIME" > '${dir}'/"$BGTASK_TASK_ID".start; ${work}; ` +
    `echo "$EPOCHREALTIME" > '${dir}'/"$BGTASK_TASK_ID".end`;
}

/** When a task ran, in microseconds since the epoch. */
export interface Interval {
  id: string;
  start: number;
  end: number;
}

function micros(text: string): number {
  return Number(text.trim().replace(/[.,]/, ""));
}

/** The intervals the tasks recorded in `dir`, by start. */
export function intervals(dir: string): Interval[] {
  const out: Interval[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (!e.name.endsWith(".start")) continue;
    const id = e.name.slice(0, -".start".length);
    let end = Infinity;
    try {
      end = micros(Deno.readTextFileSync(`${dir}/${id}.end`));
    } catch {
      // still running
    }
    out.push({ id, start: micros(Deno.readTextFileSync(`${dir}/${e.name}`)), end });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The most intervals that overlap at any instant. */
export function maxOverlap(list: Interval[]): number {
  const events = list.flatMap((i) => [[i.start, 1], [i.end, -1]] as const);
  // At the same instant an end comes before a start: back-to-back is not overlap.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0, max = 0;
  for (const [, d] of events) max = Math.max(max, now += d);
  return max;
}

/** The number inside an id (`b12` → 12). */
export function idNumber(id: string): number {
  return Number(id.slice(1));
}
