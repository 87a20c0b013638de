/**
 * `bgtask kill ID… [--grace DUR] [--json]`: ends tasks and their whole process trees.
 *
 * @module
 */

import { type Parsed, parseIds } from "./args.ts";
import { type Context, findTasks, JSON_OPTION, type Verb } from "./context.ts";
import { parseDuration } from "./duration.ts";

/** The `kill` verb. */
export const killVerb: Verb = {
  name: "kill",
  options: { grace: { type: "string" }, ...JSON_OPTION },
  positionals: "some",
  async run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    const ids = parseIds("bgtask kill", positionals);
    const graceMs = values.grace === undefined
      ? undefined
      : parseDuration(values.grace as string, "--grace", "SIGKILL at once");
    const tasks = ctx.tasks(values);
    await findTasks(tasks, ids);
    const killed = await Promise.all(ids.map((id) => tasks.kill(id, { graceMs })));
    await ctx.printTasks(killed, values.json === true);
    return 0;
  },
};
