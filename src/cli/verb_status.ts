/**
 * `bgtask status ID [--json]`: one task in full.
 *
 * @module
 */

import { type Parsed, parseIds } from "./args.ts";
import { type Context, findTasks, JSON_OPTION, type Verb } from "./context.ts";
import { printJson, printOut } from "./output.ts";
import { statusBlock } from "./task_view.ts";

/** The output file's size, or undefined when it cannot be read. */
async function outputSize(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return undefined;
  }
}

/** The `status` verb. */
export const statusVerb: Verb = {
  name: "status",
  options: { ...JSON_OPTION },
  positionals: "some",
  async run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    const [id] = parseIds("bgtask status", positionals, true);
    const [task] = await findTasks(ctx.tasks(values), [id]);
    if (values.json) {
      await printJson(task);
    } else {
      const outputBytes = await outputSize(task.outputFile);
      await printOut(statusBlock(task, { style: ctx.style, now: Date.now(), outputBytes }));
    }
    return 0;
  },
};
