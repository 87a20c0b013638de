/**
 * `task_kill`: ends a task's whole process tree and answers with its real
 * end state, once nothing of the tree is left.
 *
 * @module
 */

import { TaskNotFoundError } from "../../../mod.ts";
import { statusLine, textResult } from "../format.ts";
import { readTailLines, showPiece } from "../read.ts";
import { defineTool } from "../tool.ts";

interface Args {
  id: string;
  grace_s: number;
}

/** The `task_kill` tool. */
export const taskKill = defineTool<Args>({
  name: "task_kill",
  title: "Kill a task",
  description:
    "Stop a background task and every process it started (its whole process group): SIGTERM, " +
    "then SIGKILL to whatever is left after grace_s seconds (default 2). Returns once nothing " +
    "of it is left, with its final status and the end of its output. A task that has already " +
    "ended is left as it is.",
  fields: {
    id: { type: "id", required: true, description: 'the task id, e.g. "b3"' },
    grace_s: {
      type: "number",
      minimum: 0,
      maximum: 60,
      default: 2,
      unit: "seconds",
      description: "seconds between SIGTERM and SIGKILL (default 2)",
    },
  },
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  async run({ tasks }, args) {
    const before = await tasks.getStatus(args.id);
    if (!before) throw new TaskNotFoundError(args.id);
    const info = before.status === "running"
      ? await tasks.kill(args.id, { graceMs: Math.round(args.grace_s * 1000) })
      : before;
    const note = before.status === "running"
      ? (info.status === "killed"
        ? `${info.id} was killed: no process of its tree is left.`
        : `${info.id} ended by itself before the kill took effect.`)
      : `${info.id} had already ended; nothing was killed.`;
    const tail = await readTailLines(tasks, info, 0, 10, 4096);
    return textResult(
      [note, statusLine(info), `last ${tail.lines} lines:`, showPiece(info.id, tail)].join("\n"),
    );
  },
});
