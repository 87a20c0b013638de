/**
 * `bgtask status ID [--json]`: one task in full.
 *
 * @module
 */

import type { TaskStatus } from "../../mod.ts";
import { type Parsed, parseIds } from "./args.ts";
import { type Context, findTasks, JSON_OPTION, type Verb } from "./context.ts";
import { printJson, printOut } from "./output.ts";
import { statusBlock, type StatusContext } from "./task_view.ts";

/** The `status` verb. */
export const statusVerb: Verb = {
  name: "status",
  options: { ...JSON_OPTION },
  positionals: "some",
  ids: "every",
  async run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    const [id] = parseIds("bgtask status", positionals, true);
    const tasks = ctx.tasks();
    const [task] = await findTasks(tasks, [id]);
    if (values.json) {
      await printJson(task);
      return 0;
    }
    // Only a task in a queue or after others costs more reads: its place, their status.
    const where: StatusContext = {};
    if (task.status === "queued" && task.queue !== null) {
      const { standing } = await import("./queue_view.ts");
      const stands = await standing(tasks, [task], false);
      where.place = stands.place.get(task.id);
      where.queuePaused = stands.paused?.has(task.queue) ?? false;
    }
    if (task.after.length > 0) {
      const deps = await Promise.all(task.after.map((dep) => tasks.getStatus(dep)));
      where.after = new Map<string, TaskStatus | undefined>(
        task.after.map((dep, i) => [dep, deps[i]?.status]),
      );
    }
    await printOut(statusBlock(task, { style: ctx.style, now: Date.now(), where }));
    return 0;
  },
};
