/**
 * `bgtask rm ID… [--json]`: deletes finished tasks and their output. A task
 * that has not ended is refused; the others are still removed.
 *
 * @module
 */

import type { Verb } from "./context.ts";
import { eachTaskVerb } from "./each_task.ts";

/** The `rm` verb. */
export const rmVerb: Verb = eachTaskVerb("rm", (tasks, id) => tasks.remove(id));
