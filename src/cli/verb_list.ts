/**
 * `bgtask list [--status S] [--queue Q] [--json]`: the tasks in the store.
 *
 * @module
 */

import { type Parsed, parseName, parseStatuses } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { describeError } from "./errors.ts";
import { printErr } from "./output.ts";
import { requireQueue } from "./targets.ts";

/** The `list` verb. */
export const listVerb: Verb = {
  name: "list",
  options: {
    status: { type: "string", multiple: true },
    queue: { type: "string" },
    ...JSON_OPTION,
  },
  positionals: "none",
  async run(ctx: Context, { values }: Parsed): Promise<number> {
    const status = parseStatuses(values.status as string[] | undefined, false);
    const queue = values.queue === undefined
      ? undefined
      : parseName(values.queue as string, "--queue");
    const manager = ctx.tasks();
    const tasks = await manager.list({
      status,
      queue,
      // A damaged task is left out of the table, and said so on stderr.
      onDamaged: (_id, error) => printErr(describeError(error).line),
    });
    // No task of that queue: is it a queue at all (a mistyped name says so)?
    if (queue !== undefined && tasks.length === 0) await requireQueue(manager, queue);
    const complete = status === undefined && queue === undefined;
    await ctx.printTasks(tasks, values.json === true, { complete });
    return 0;
  },
};
