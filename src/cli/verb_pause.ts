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

/** The `pause` verb. */
export const pauseVerb: Verb = eachTaskVerb("pause", (tasks, id) => tasks.pause(id), "running");

/** The `resume` verb. */
export const resumeVerb: Verb = eachTaskVerb("resume", (tasks, id) => tasks.resume(id), "paused");
