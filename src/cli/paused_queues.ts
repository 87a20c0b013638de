/**
 * What a queued task waits for, said where the CLI refuses it or gives up
 * on it: its paused queue and the command that resumes it (a wait that
 * timed out on it said only "still queued"), else how to wait until it runs.
 *
 * @module
 */

import type { TaskInfo, TaskManager } from "../../mod.ts";
import { TaskStateError } from "../errors.ts";
import { isFinal } from "../lifecycle.ts";
import { escapeControl } from "./escape.ts";

/**
 * The paused queues of the queued tasks among `infos`, in the order first
 * met (none read when no task is queued in a queue).
 */
export async function pausedQueuesOf(
  tasks: TaskManager,
  infos: readonly TaskInfo[],
): Promise<string[]> {
  const names = [
    ...new Set(infos.filter((t) => t.status === "queued" && t.queue !== null).map((t) => t.queue!)),
  ];
  const paused: string[] = [];
  for (const name of names) {
    if ((await tasks.getQueueLine(name)).paused) paused.push(name);
  }
  return paused;
}

/** How many tasks {@linkcode dependenciesNotEnded} reads at most (a longer chain is not followed). */
const MOST_READ = 64;

/**
 * The tasks that the queued ones among `infos` wait for (their `after`, and
 * those tasks' own when queued, …) that have not ended: where one held
 * (paused, or queued in a paused queue) keeps them from starting. Reads at
 * most 64 tasks; none when no task of `infos` is queued after another.
 *
 * @example
 * ```ts
 * import { TaskManager } from "../../mod.ts";
 * import { dependenciesNotEnded } from "./paused_queues.ts";
 * import { deepEqual } from "node:assert/strict";
 * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
 * await tasks.setQueue("q", { parallel: 1 });
 * await tasks.pauseQueue("q");
 * const first = await tasks.spawnShell("true", { queue: "q" });
 * const second = await tasks.spawnShell("true", { after: [first.id] });
 * deepEqual((await dependenciesNotEnded(tasks, [second])).map((t) => t.id), [first.id]);
 * await tasks.kill(first.id);
 * await tasks.wait(second.id);
 * ```
 */
export async function dependenciesNotEnded(
  tasks: TaskManager,
  infos: readonly TaskInfo[],
): Promise<TaskInfo[]> {
  const seen = new Set(infos.map((t) => t.id));
  const next = infos.filter((t) => t.status === "queued").flatMap((t) => t.after);
  const found: TaskInfo[] = [];
  let read = 0;
  while (next.length > 0 && read < MOST_READ) {
    const id = next.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    read++;
    const t = await tasks.getStatus(id).catch(() => undefined);
    if (t === undefined || isFinal(t.status)) continue;
    found.push(t);
    if (t.status === "queued") next.push(...t.after);
  }
  return found;
}

/**
 * `queue pz is paused: bgtask queue resume pz` (as MCP's task_wait says it),
 * or `queues a, b are paused: bgtask queue resume a; bgtask queue resume b`.
 *
 * @example
 * ```ts
 * import { pausedQueuesText } from "./paused_queues.ts";
 * import { equal } from "node:assert/strict";
 * equal(pausedQueuesText(["pz"]), "queue pz is paused: bgtask queue resume pz");
 * ```
 */
export function pausedQueuesText(names: readonly string[]): string {
  const shown = names.map(escapeControl);
  const resume = shown.map((q) => `bgtask queue resume ${q}`).join("; ");
  return shown.length === 1
    ? `queue ${shown[0]} is paused: ${resume}`
    : `queues ${shown.join(", ")} are paused: ${resume}`;
}

/**
 * A refusal for a task that has not started (`send`, `pause`, `resume` of a
 * queued task), with what makes it start or what does the work meant: its
 * paused queue's resume, `wait --until input` (for `send`), `queue pause`
 * (for `pause`: a queued task is held by holding its queue). Any other
 * error is returned as it is.
 *
 * @param verb The verb refused.
 */
export async function queuedRefusal(
  tasks: TaskManager,
  id: string,
  e: unknown,
  verb: "send" | "pause" | "resume",
): Promise<unknown> {
  if (!(e instanceof TaskStateError)) return e;
  if (!/: it (has not started yet \(it is queued\)|is queued \()/.test(e.message)) return e;
  const t = await tasks.getStatus(id).catch(() => undefined);
  if (t === undefined || t.status !== "queued") return e;
  const paused = t.queue !== null && (await pausedQueuesOf(tasks, [t])).length > 0;
  const queue = t.queue === null ? "" : escapeControl(t.queue);
  const hints: string[] = [];
  if (paused && verb === "pause") {
    hints.push(
      `its queue ${queue} is paused already: it does not start until bgtask queue resume ${queue}`,
    );
  } else if (paused) {
    hints.push(`its ${pausedQueuesText([t.queue!])}`);
  }
  if (verb === "send") {
    hints.push(`bgtask wait ${id} --until input waits until it runs and asks, then send again`);
  } else if (verb === "pause" && t.queue !== null && !paused) {
    hints.push(`to hold it with the rest of its queue's line: bgtask queue pause ${queue}`);
  }
  return hints.length === 0 ? e : new TaskStateError(id, `${e.message}; ${hints.join("; ")}`);
}
