/**
 * `bgtask pause ID… [--json]` and `bgtask resume ID… [--json]`: stop a
 * running task's whole process group (SIGSTOP) and continue it (SIGCONT).
 *
 * @module
 */

import type { Parsed } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { eachTask } from "./each_task.ts";

/** The `pause` verb. */
export const pauseVerb: Verb = {
  name: "pause",
  options: { ...JSON_OPTION },
  positionals: "some",
  run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    // A task that is not running (queued, paused, ended) is refused; the others are paused.
    return eachTask(ctx, values, positionals, "bgtask pause", (tasks, id) => tasks.pause(id));
  },
};

/** The `resume` verb. */
export const resumeVerb: Verb = {
  name: "resume",
  options: { ...JSON_OPTION },
  positionals: "some",
  run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    return eachTask(ctx, values, positionals, "bgtask resume", (tasks, id) => tasks.resume(id));
  },
};
