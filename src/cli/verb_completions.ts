/**
 * `bgtask completions [--json]`: the finished tasks not reported before, each once.
 *
 * @module
 */

import type { Parsed } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";

/** The `completions` verb. */
export const completionsVerb: Verb = {
  name: "completions",
  options: { ...JSON_OPTION },
  positionals: "none",
  async run(ctx: Context, { values }: Parsed): Promise<number> {
    const done = await ctx.tasks(values).drainCompletions();
    await ctx.printTasks(done, values.json === true);
    return 0;
  },
};
