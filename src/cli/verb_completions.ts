/**
 * `bgtask completions [--consumer NAME] [--peek] [--json]`: the finished
 * tasks not reported to a consumer before, each once. `--forget`: the
 * consumer is forgotten (its unread tasks no longer keep `clean` off them).
 *
 * @module
 */

import { type Parsed, parseName } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { UsageError } from "./errors.ts";
import { printErr } from "./output.ts";

/** The `completions` verb. */
export const completionsVerb: Verb = {
  name: "completions",
  options: {
    consumer: { type: "string" },
    peek: { type: "boolean" },
    forget: { type: "boolean" },
    ...JSON_OPTION,
  },
  positionals: "none",
  async run(ctx: Context, { values }: Parsed): Promise<number> {
    const consumer = values.consumer === undefined
      ? undefined
      : parseName(values.consumer as string, "--consumer");
    const tasks = ctx.tasks();
    const json = values.json === true;
    if (values.forget) {
      if (consumer === undefined || values.peek || json) {
        throw new UsageError("--forget takes --consumer NAME alone: the consumer to forget");
      }
      const known = await tasks.forgetConsumer(consumer);
      printErr(
        known
          ? `bgtask: forgot consumer ${consumer}: its unread tasks no longer keep clean off them`
          : `bgtask: no consumer ${consumer} in the store (nothing to forget)`,
      );
      return known ? 0 : 1;
    }
    if (values.peek) await ctx.printTasks(await tasks.peekCompletions({ consumer }), json);
    // Delivered once printed: a reader gone (| head) or a full disk gives them back.
    else await tasks.drainCompletions({ consumer, handle: (done) => ctx.printTasks(done, json) });
    return 0;
  },
};
