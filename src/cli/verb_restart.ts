/**
 * `bgtask restart ID… [--json]`: starts ended tasks again, each as a new
 * task (same command, description, cwd, env, limits and queue).
 *
 * @module
 */

import type { Parsed } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { eachTask } from "./each_task.ts";

/** The `restart` verb. */
export const restartVerb: Verb = {
  name: "restart",
  options: { ...JSON_OPTION },
  positionals: "some",
  run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    // Prints the new tasks; a task that has not ended is refused.
    return eachTask(ctx, values, positionals, "bgtask restart", (tasks, id) => tasks.restart(id));
  },
};
