/**
 * `bgtask pause ID… [--json]` and `bgtask resume ID… [--json]`: stop a
 * running task's whole process group (SIGSTOP) and continue it (SIGCONT).
 * A task that is not running (queued, paused, ended) is refused; the others
 * are still paused.
 *
 * @module
 */

import type { Verb } from "./context.ts";
import { eachTaskVerb } from "./each_task.ts";
import { queuedRefusal } from "./paused_queues.ts";

/** The `pause` verb (a queued task's refusal names bgtask queue pause). */
export const pauseVerb: Verb = eachTaskVerb(
  "pause",
  (tasks, id) =>
    tasks.pause(id).catch(async (e) => {
      throw await queuedRefusal(tasks, id, e, "pause");
    }),
  "running",
);

/** The `resume` verb (a queued task's refusal names its paused queue's resume). */
export const resumeVerb: Verb = eachTaskVerb(
  "resume",
  (tasks, id) =>
    tasks.resume(id).catch(async (e) => {
      throw await queuedRefusal(tasks, id, e, "resume");
    }),
  "paused",
);
