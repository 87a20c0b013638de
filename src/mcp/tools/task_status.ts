/**
 * `task_status`: one task in full.
 *
 * @module
 */

import { statusBlock, textResult } from "../format.ts";
import { outputSize } from "../read.ts";
import { defineTool, noteTold, startedHere } from "../tool.ts";
import { standingOf } from "../queued.ts";

interface Args {
  id: string;
}

/** The `task_status` tool. */
export const taskStatus = defineTool<Args>({
  name: "task_status",
  title: "A task's status",
  description:
    "The status of one background task: running, completed, failed or killed, its exit code " +
    "or why it failed, its command, directory, pid, times and output size; a queued one's " +
    "place in line (or that its queue is paused, or the tasks it waits for). It does not wait: " +
    "to wait for a task, use task_wait; for its output, task_read.",
  fields: { id: { type: "id", required: true, description: 'the task id, e.g. "b3"' } },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(session, args, call) {
    const info = await session.tasks.getStatusOrThrow(args.id);
    noteTold(session, [info], call);
    const where = await standingOf(session.tasks, [info]);
    return textResult(
      statusBlock(info, await outputSize(info), Date.now(), where, startedHere(session, info.id)),
    );
  },
});
