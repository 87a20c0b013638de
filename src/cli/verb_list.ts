/**
 * `bgtask list [--status S] [--json]`: the tasks in the store.
 *
 * @module
 */

import { type Parsed, parseStatuses } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";

/** The `list` verb. */
export const listVerb: Verb = {
  name: "list",
  options: { status: { type: "string", multiple: true }, ...JSON_OPTION },
  positionals: "none",
  async run(ctx: Context, { values }: Parsed): Promise<number> {
    const status = parseStatuses(values.status as string[] | undefined, false);
    const tasks = await ctx.tasks(values).list({ status });
    await ctx.printTasks(tasks, values.json === true);
    return 0;
  },
};
