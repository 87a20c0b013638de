/**
 * Why a queued task has not started, for a model: its place in its queue's
 * line, that the queue is paused (and what resumes it), or the tasks it
 * still waits for. Worked out as `bgtask status` and `bgtask list` work it
 * out (`standing` of the CLI's queue view), from the store.
 *
 * @module
 */

import type { TaskInfo, TaskManager } from "../../mod.ts";
import { type Standing, standing } from "../cli/queue_view.ts";
import { escapeControl } from "../cli/escape.ts";

export type { Standing };

/**
 * Where the queued tasks among `infos` stand; nothing is read when none is
 * queued. `complete`: `infos` is every task in the store (an unfiltered
 * list: no task is read again).
 */
export async function standingOf(
  tasks: TaskManager,
  infos: readonly TaskInfo[],
  complete = false,
): Promise<Standing | undefined> {
  if (!infos.some((t) => t.status === "queued")) return undefined;
  return await standing(tasks, [...infos], complete);
}

/**
 * What a queued task waits for, in a few words for its status line:
 * `queue ci, #2 in line`, `queue solo, #1 in line, the queue is paused`,
 * `after b3, b4` (those not ended yet, when known).
 *
 * @example
 * ```ts
 * import { queuedWhy } from "./queued.ts";
 * import { equal } from "node:assert/strict";
 * const t = { id: "b2", status: "queued", queue: "solo", after: [] } as never;
 * const where = { unmet: new Map(), place: new Map([["b2", 1]]), paused: new Set(["solo"]) };
 * equal(queuedWhy(t, where), "queue solo, #1 in line, the queue is paused");
 * ```
 */
export function queuedWhy(t: TaskInfo, where?: Standing): string {
  const unmet = where?.unmet.get(t.id);
  const place = where?.place.get(t.id);
  const queue = t.queue === null ? undefined : escapeControl(t.queue);
  return [
    queue !== undefined ? `queue ${queue}` : "",
    unmet
      ? `after ${unmet.join(", ")}`
      : !where && t.after.length
      ? `after ${t.after.join(", ")}`
      : "",
    !unmet && place !== undefined ? `#${place} in line` : "",
    !unmet && t.queue !== null && where?.paused?.has(t.queue) ? "the queue is paused" : "",
  ].filter((x) => x).join(", ");
}

/**
 * The next step for a queued task, one sentence: resume its paused queue
 * (no tool does: a person or the CLI), wait for a slot, or wait for the
 * tasks it runs after.
 *
 * @example
 * ```ts
 * import { queuedNext } from "./queued.ts";
 * import { equal } from "node:assert/strict";
 * const t = { id: "b2", status: "queued", queue: "solo", after: [] } as never;
 * const where = { unmet: new Map(), place: new Map([["b2", 1]]), paused: new Set(["solo"]) };
 * equal(
 *   queuedNext(t, where),
 *   "b2 is #1 in line in queue solo, which is paused: it starts only once someone runs " +
 *     "`bgtask queue resume solo` (no tool resumes a queue); task_kill drops it.",
 * );
 * ```
 */
export function queuedNext(t: TaskInfo, where?: Standing): string {
  const unmet = where?.unmet.get(t.id) ??
    (where ? undefined : t.after.length ? t.after : undefined);
  if (unmet) {
    return `${t.id} waits for ${unmet.join(", ")} to end before it ${
      t.queue === null ? "starts" : "joins its queue's line"
    }; task_wait waits for ${unmet.length === 1 ? "it" : "them"}.`;
  }
  if (t.queue === null) return `${t.id} is about to start; task_wait waits for it.`;
  const queue = escapeControl(t.queue);
  const place = where?.place.get(t.id);
  const at = place !== undefined ? `#${place} in line` : "in line";
  if (where?.paused?.has(t.queue)) {
    return `${t.id} is ${at} in queue ${queue}, which is paused: it starts only once someone ` +
      `runs \`bgtask queue resume ${queue}\` (no tool resumes a queue); task_kill drops it.`;
  }
  return `${t.id} is ${at} in queue ${queue}: it starts when a slot of the queue is free ` +
    "(task_list shows what runs there); task_wait waits for it.";
}
