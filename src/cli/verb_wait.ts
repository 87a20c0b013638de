/**
 * `bgtask wait ID… [--timeout DUR] [--json]`: waits for tasks; exits with their code.
 *
 * @module
 */

import { type Parsed, parseIds } from "./args.ts";
import { type Context, findTasks, JSON_OPTION, type Verb } from "./context.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { printErr } from "./output.ts";
import { stillRunning, waitExitCode, waitForTasks } from "./wait_tasks.ts";

/** The `wait` verb. */
export const waitVerb: Verb = {
  name: "wait",
  options: { timeout: { type: "string" }, ...JSON_OPTION },
  positionals: "some",
  async run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    const ids = parseIds("bgtask wait", positionals);
    const timeoutMs = values.timeout === undefined
      ? undefined
      : parseDuration(values.timeout as string, "--timeout", "a check without waiting");
    const tasks = ctx.tasks(values);
    const outcome = await waitForTasks(tasks, await findTasks(tasks, ids), timeoutMs);
    await ctx.printTasks(outcome.tasks, values.json === true);
    if (outcome.timedOut) {
      printErr(
        `bgtask: stopped waiting after ${formatDuration(timeoutMs!)}; still running: ${
          stillRunning(outcome)
        }`,
      );
    }
    return waitExitCode(outcome);
  },
};
