/**
 * `bgtask restart ID… [--json]`: starts ended tasks again, each as a new
 * task (same command, description, cwd, env, limits and queue), and prints
 * the new tasks; a task that has not ended is refused.
 *
 * @module
 */

import type { Verb } from "./context.ts";
import { eachTaskVerb } from "./each_task.ts";

/** The `restart` verb. */
export const restartVerb: Verb = eachTaskVerb("restart", (tasks, id) => tasks.restart(id));
