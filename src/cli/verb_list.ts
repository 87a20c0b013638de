/**
 * `bgtask list [--status S] [--queue Q] [--last N] [--json]`: the tasks in the store.
 *
 * @module
 */

import { parseCount, type Parsed, parseName, parseStatuses } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { describeError, UsageError } from "./errors.ts";
import { printErr } from "./output.ts";
import { noStoreAt, noTaskAt, requireQueue } from "./targets.ts";

/** The `list` verb. */
export const listVerb: Verb = {
  name: "list",
  options: {
    status: { type: "string", multiple: true },
    queue: { type: "string" },
    last: { type: "string" },
    ...JSON_OPTION,
  },
  positionals: "none",
  async run(ctx: Context, { values }: Parsed): Promise<number> {
    const status = parseStatuses(values.status as string[] | undefined, false);
    const queue = values.queue === undefined
      ? undefined
      : parseName(values.queue as string, "--queue");
    const last = values.last === undefined
      ? undefined
      : parseCount(values.last as string, "--last", "a whole number ≥ 1");
    if (last === 0) throw new UsageError('invalid number "0" for --last (a whole number ≥ 1)');
    const manager = ctx.tasks();
    // An empty list all the same (exit 0), but not a silent one: a mistyped
    // --dir or another BGTASK_DIR looks like a store with nothing in it.
    const missing = await ctx.missingStore();
    if (missing !== undefined) printErr(`bgtask: note: ${noStoreAt(missing)}`);
    const tasks = await manager.list({
      status,
      queue,
      last,
      // A damaged task is left out of the table, and said so on stderr.
      onDamaged: (_id, error) => printErr(describeError(error).line),
    });
    // No task of that queue: is it a queue at all (a mistyped name says so)?
    if (queue !== undefined && tasks.length === 0) await requireQueue(manager, queue);
    // Nor any at all, ever: a store made at a mistyped --dir (a completions --wait there).
    if (missing === undefined && tasks.length === 0 && status === undefined) {
      const taskless = await ctx.tasklessStore();
      if (taskless !== undefined) printErr(`bgtask: note: ${noTaskAt(taskless)}`);
    }
    const complete = status === undefined && queue === undefined && last === undefined;
    await ctx.printTasks(tasks, values.json === true, { complete });
    return 0;
  },
};
