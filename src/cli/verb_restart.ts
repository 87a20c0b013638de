/**
 * `bgtask restart ID… [--json]`: starts ended tasks again, each as a new
 * task (same command, description, cwd, env, limits, queue and
 * dependencies), and prints the new tasks; a task that has not ended is
 * refused. The ids are restarted oldest first: a task's dependencies are
 * older than it, so a dependency named too is restarted before the task
 * that runs after it, which then runs after its new task.
 *
 * @module
 */

import { idNumber } from "../ids.ts";
import { parseIds } from "./args.ts";
import type { Verb } from "./context.ts";
import { eachTask, eachTaskVerb } from "./each_task.ts";
import { printErr } from "./output.ts";
import type { TaskInfo, TaskManager } from "../../mod.ts";

const act = (tasks: TaskManager, id: string): Promise<TaskInfo> => tasks.restart(id);

/** The `restart` verb. */
export const restartVerb: Verb = {
  ...eachTaskVerb("restart", act),
  run: async (ctx, { values, positionals }) => {
    const ids = parseIds("bgtask restart", positionals).sort((a, b) => idNumber(a) - idNumber(b));
    // A task of a queue removed since makes it again, at one at a time: said
    // (its setting was lost without a word: a terminal-user walk).
    const before = new Set(await ctx.queueNames().catch(() => []));
    const code = await eachTask(ctx, values, positionals, "bgtask restart", act, ids, "new task");
    const made = (await ctx.queueNames().catch(() => [])).filter((q) => !before.has(q));
    for (const q of made) {
      printErr(
        `bgtask: note: queue ${q} was made again (it had been removed): it runs one task at a ` +
          `time (bgtask queue set ${q} --parallel N changes that)`,
      );
    }
    return code;
  },
};
