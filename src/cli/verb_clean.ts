/**
 * `bgtask clean [--older-than DUR] [--status S] [--json]`: deletes finished tasks in bulk.
 *
 * @module
 */

import { type Parsed, parseStatuses } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { parseDuration } from "./duration.ts";
import { describeError } from "./errors.ts";
import { printErr } from "./output.ts";

/** The `clean` verb. */
export const cleanVerb: Verb = {
  name: "clean",
  options: {
    "older-than": { type: "string" },
    status: { type: "string", multiple: true },
    ...JSON_OPTION,
  },
  positionals: "none",
  async run(ctx: Context, { values }: Parsed): Promise<number> {
    const olderThanMs = values["older-than"] === undefined
      ? undefined
      : parseDuration(values["older-than"] as string, "--older-than", "any age");
    const status = parseStatuses(values.status as string[] | undefined, true);
    // A damaged task is left: said so, with how to remove it by hand.
    const removed = await ctx.tasks(values).clean({
      olderThanMs,
      status,
      onDamaged: (_id, error) => printErr(`${describeError(error).line} (left in place)`),
    });
    await ctx.printTasks(removed, values.json === true);
    return 0;
  },
};
