/**
 * `bgtask rm ID… [--json]`: deletes finished tasks and their output.
 *
 * @module
 */

import type { TaskInfo } from "../../mod.ts";
import { type Parsed, parseIds } from "./args.ts";
import { type Context, findTasks, JSON_OPTION, type Verb } from "./context.ts";
import { describeError } from "./errors.ts";
import { printErr } from "./output.ts";

/** The `rm` verb. */
export const rmVerb: Verb = {
  name: "rm",
  options: { ...JSON_OPTION },
  positionals: "some",
  async run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    const ids = parseIds("bgtask rm", positionals);
    const tasks = ctx.tasks(values);
    await findTasks(tasks, ids);
    const removed: TaskInfo[] = [];
    let code = 0;
    for (const id of ids) {
      try {
        removed.push(await tasks.remove(id));
      } catch (e) {
        // One task that cannot go (still running) does not keep the others.
        const { line, code: failure } = describeError(e);
        printErr(line);
        code ||= failure;
      }
    }
    const json = values.json === true;
    if (json || removed.length > 0 || code === 0) await ctx.printTasks(removed, json);
    return code;
  },
};
