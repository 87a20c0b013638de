/**
 * `bgtask completions [--consumer NAME] [--peek] [--json]`: the finished
 * tasks not reported to a consumer before, each once.
 *
 * @module
 */

import { type Parsed, parseName } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";

/** The `completions` verb. */
export const completionsVerb: Verb = {
  name: "completions",
  options: { consumer: { type: "string" }, peek: { type: "boolean" }, ...JSON_OPTION },
  positionals: "none",
  async run(ctx: Context, { values }: Parsed): Promise<number> {
    const consumer = values.consumer === undefined
      ? undefined
      : parseName(values.consumer as string, "--consumer");
    const tasks = ctx.tasks(values);
    const json = values.json === true;
    if (values.peek) await ctx.printTasks(await tasks.peekCompletions({ consumer }), json);
    // Delivered once printed: a reader gone (| head) or a full disk gives them back.
    else await tasks.drainCompletions({ consumer, handle: (done) => ctx.printTasks(done, json) });
    return 0;
  },
};
