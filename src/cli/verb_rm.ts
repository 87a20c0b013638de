/**
 * `bgtask rm ID… [--json]`: deletes finished tasks and their output.
 *
 * @module
 */

import type { Parsed } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { eachTask } from "./each_task.ts";

/** The `rm` verb. */
export const rmVerb: Verb = {
  name: "rm",
  options: { ...JSON_OPTION },
  positionals: "some",
  run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    // A task that has not ended is refused; the others are still removed.
    return eachTask(ctx, values, positionals, "bgtask rm", (tasks, id) => tasks.remove(id));
  },
};
