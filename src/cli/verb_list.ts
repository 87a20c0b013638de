/**
 * `bgtask list [--status S] [--json]`: the tasks in the store.
 *
 * @module
 */

import { type Parsed, parseStatuses } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { describeError } from "./errors.ts";
import { printErr } from "./output.ts";

/** The `list` verb. */
export const listVerb: Verb = {
  name: "list",
  options: { status: { type: "string", multiple: true }, ...JSON_OPTION },
  positionals: "none",
  async run(ctx: Context, { values }: Parsed): Promise<number> {
    const status = parseStatuses(values.status as string[] | undefined, false);
    const tasks = await ctx.tasks(values).list({
      status,
      // A damaged task is left out of the table, and said so on stderr.
      onDamaged: (_id, error) => printErr(describeError(error).line),
    });
    await ctx.printTasks(tasks, values.json === true);
    return 0;
  },
};
