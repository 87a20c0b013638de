/**
 * How queues look in human output: the table of `bgtask queue`, and where a
 * task stands in its queue (the QUEUE column of task tables, the `queue` and
 * `after` lines of `status`).
 *
 * A queued task's place is its rank, by id, among the tasks of its queue that
 * wait only for a slot (`ci #1` starts next): from the tasks shown when they
 * are all the store's, else from the queue's line. One that still waits for
 * the tasks it runs after shows them instead (`ci after b3,b4`).
 *
 * @module
 */

import type { QueueInfo, TaskInfo, TaskManager, TaskStatus } from "../../mod.ts";
import { idNumber } from "../ids.ts";
import { escapeControl } from "./escape.ts";
import type { Style } from "./style.ts";
import { type Cell, type Column, renderTable } from "./table.ts";
import { isFinished } from "./task_view.ts";

/** What is known about where tasks stand: each one's unmet dependencies and queue place. */
export interface Standing {
  /** The `after` tasks that have not ended yet, by task id (queued tasks only). */
  unmet: Map<string, string[]>;
  /** The 1-based place of a queued task that waits only for a slot, by task id. */
  place: Map<string, number>;
  /** The queues of those tasks that are paused (none of their tasks starts). */
  paused?: Set<string>;
}

/**
 * Works out where the queued tasks among `shown` stand. Statuses come from
 * `shown` when it holds every task that matters (`complete`: an unfiltered
 * list); otherwise what is missing is read from the store: a dependency's
 * status, and each queue's line (not its tasks: a place costs the same in
 * a line of thousands).
 *
 * @param tasks The manager, for what `shown` lacks.
 * @param shown The tasks to be printed.
 * @param complete `shown` is every task in the store.
 *
 * @example
 * ```ts
 * import { TaskManager } from "../../mod.ts";
 * import { standing } from "./queue_view.ts";
 * import { equal } from "node:assert/strict";
 * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
 * const { place } = await standing(tasks, [], true);
 * equal(place.size, 0);
 * ```
 */
export async function standing(
  tasks: TaskManager,
  shown: TaskInfo[],
  complete: boolean,
): Promise<Standing> {
  const waiting = shown.filter((t) => t.status === "queued");
  if (waiting.length === 0) return { unmet: new Map(), place: new Map() };
  const queues = [...new Set(waiting.map((t) => t.queue).filter((q): q is string => q !== null))];
  return complete
    ? await standingInAll(tasks, shown, waiting, queues)
    : await standingInLines(tasks, shown, waiting, queues);
}

/**
 * {@linkcode standing} when `shown` is not every task: the dependencies not
 * shown are looked up, and the places come from each queue's line (a task
 * that waits only for a slot has as many ahead of it as wait in line with a
 * smaller id; it need not be in line yet, as when its dependencies have
 * just ended). No other task of the queue is read.
 */
async function standingInLines(
  tasks: TaskManager,
  shown: TaskInfo[],
  waiting: TaskInfo[],
  queues: string[],
): Promise<Standing> {
  const known = new Map(shown.map((t) => [t.id, t.status]));
  const unmet = await unmetOf(tasks, waiting, known, true);
  const place = new Map<string, number>();
  const paused = new Set<string>();
  for (const q of queues) {
    const line = await tasks.getQueueLine(q);
    if (line.paused) paused.add(q);
    // The line is read after the tasks were: those shown queued that have
    // left it since (started, or killed) still count ahead, as when they
    // were read, or the ones behind them would share a place.
    const ahead = new Set(line.waiting.map(idNumber));
    for (const t of waiting) {
      if (t.queue === q && !unmet.has(t.id)) ahead.add(idNumber(t.id));
    }
    const sorted = [...ahead].sort((a, b) => a - b);
    for (const t of waiting) {
      if (t.queue !== q || unmet.has(t.id)) continue;
      place.set(t.id, 1 + countBelow(sorted, idNumber(t.id)));
    }
  }
  return { unmet, place, paused };
}

/** How many numbers of `sorted` (ascending) are below `n`. */
function countBelow(sorted: number[], n: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < n) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * {@linkcode standing} when `shown` is every task in the store: the places
 * are ranks by id among the queued tasks of each queue that wait only for
 * a slot, and no task is read again.
 */
async function standingInAll(
  tasks: TaskManager,
  shown: TaskInfo[],
  waiting: TaskInfo[],
  queues: string[],
): Promise<Standing> {
  const members = new Map<string, TaskInfo[]>();
  for (const q of queues) {
    members.set(q, shown.filter((t) => t.queue === q && t.status === "queued"));
  }
  const candidates = [...waiting, ...[...members.values()].flat()];
  const known = new Map(shown.map((t) => [t.id, t.status]));
  const unmet = await unmetOf(tasks, candidates, known, false);
  const place = new Map<string, number>();
  for (const list of members.values()) {
    const ready = list.filter((t) => !unmet.has(t.id)).sort((a, b) =>
      idNumber(a.id) - idNumber(b.id)
    );
    ready.forEach((t, i) => place.set(t.id, i + 1));
  }
  const paused = new Set(
    queues.length === 0 ? [] : (await tasks.getQueues())
      .filter((q) => q.paused && queues.includes(q.name))
      .map((q) => q.name),
  );
  return { unmet, place, paused };
}

/**
 * The `after` tasks of each of `candidates` that have not ended, for those
 * with any: statuses from `known`, and with `lookUp`, the others' read from
 * the store (without, `known` is every task there). A dependency that is
 * gone (removed) has ended.
 */
async function unmetOf(
  tasks: TaskManager,
  candidates: TaskInfo[],
  known: Map<string, TaskStatus>,
  lookUp: boolean,
): Promise<Map<string, string[]>> {
  for (const t of candidates) known.set(t.id, t.status);
  const missing = [...new Set(candidates.flatMap((t) => t.after))].filter((id) => !known.has(id));
  const found = lookUp ? await Promise.all(missing.map((id) => tasks.getStatus(id))) : [];
  for (const t of found) if (t) known.set(t.id, t.status);
  const unmet = new Map<string, string[]>();
  for (const t of candidates) {
    const left = t.after.filter((id) => known.has(id) && !isFinished(known.get(id)!));
    if (left.length > 0) unmet.set(t.id, left);
  }
  return unmet;
}

/**
 * The QUEUE cell of a task: `ci` (running, paused or ended in queue ci),
 * `ci #3` (the 3rd to start; `ci #3 paused` while its queue is paused),
 * `ci after b3,b4` (waiting for those to end), `after b3` (no queue,
 * waiting for b3), or `""`.
 *
 * @example
 * ```ts
 * import { queueCell } from "./queue_view.ts";
 * import { equal } from "node:assert/strict";
 * const t = { id: "b7", status: "queued", queue: "ci", after: [] };
 * equal(queueCell(t as never, { unmet: new Map(), place: new Map([["b7", 3]]) }), "ci #3");
 * ```
 */
export function queueCell(t: TaskInfo, where: Standing): string {
  const parts: string[] = [];
  // (Whole: the table cuts the column on a terminal, once, and off one not at
  // all, so that `list | grep NAME` finds a long name.)
  if (t.queue !== null) parts.push(escapeControl(t.queue));
  if (t.status === "queued") {
    const unmet = where.unmet.get(t.id);
    const place = where.place.get(t.id);
    if (unmet) parts.push(`after ${unmet.join(",")}`);
    else if (place !== undefined) parts.push(`#${place}`);
    if (!unmet && t.queue !== null && where.paused?.has(t.queue)) parts.push("paused");
  }
  return parts.join(" ");
}

/**
 * Whether task tables need the QUEUE column: some task has a queue, or waits
 * for the tasks it runs after.
 */
export function needsQueueColumn(shown: TaskInfo[], where: Standing): boolean {
  return shown.some((t) => t.queue !== null || where.unmet.has(t.id));
}

const QUEUE_COLUMNS: Column[] = [
  // (On a terminal, a long name is cut in its middle so that rows fit.)
  { header: "NAME", cut: 8 },
  { header: "PARALLEL", align: "right" },
  { header: "PAUSED" },
  { header: "RUNNING", align: "right" },
  { header: "QUEUED", align: "right" },
];

/**
 * The table of `bgtask queue`: NAME, PARALLEL (how many run at once), PAUSED
 * (`yes` while none of its tasks starts), RUNNING (running or paused tasks)
 * and QUEUED (tasks waiting for a slot or for the tasks they run after).
 * With a `width` (a terminal's), a NAME too long for it is cut in its
 * middle, down to 8 columns.
 *
 * @example
 * ```ts
 * import { queueTable } from "./queue_view.ts";
 * import { makeStyle } from "./style.ts";
 * import { equal } from "node:assert/strict";
 * const q = { name: "ci", parallel: 4, paused: false, running: 4, queued: 196 };
 * equal(
 *   queueTable([q], makeStyle(false)),
 *   "NAME  PARALLEL  PAUSED  RUNNING  QUEUED\nci           4  no            4     196\n",
 * );
 * const long = { ...q, name: "nightly-integration-shards" };
 * equal(
 *   queueTable([long], makeStyle(false), 50).split("\n")[1],
 *   "nightly…-shards         4  no            4     196",
 * );
 * ```
 */
export function queueTable(queues: QueueInfo[], style: Style, width?: number): string {
  const rows: Cell[][] = queues.map((q) => [
    { text: escapeControl(q.name) },
    { text: String(q.parallel) },
    q.paused ? { text: "yes", paint: style.status("paused") } : { text: "no" },
    { text: String(q.running) },
    { text: String(q.queued) },
  ]);
  return renderTable(QUEUE_COLUMNS, rows, { width, headerPaint: style.bold });
}
