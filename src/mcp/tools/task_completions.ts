/**
 * `task_completions`: the tasks that finished and were not yet reported to
 * this MCP session, as the session's own completion consumer.
 *
 * @module
 */

import { statusLine, textResult } from "../format.ts";
import { defineTool } from "../tool.ts";

/** The `task_completions` tool. */
export const taskCompletions = defineTool<Record<string, never>>({
  name: "task_completions",
  title: "Tasks finished since last asked",
  description:
    "The background tasks that have finished (completed, failed or killed) since this session " +
    "last called task_completions (or since the session began), each reported once to this " +
    "session — tasks of any session or of the command line. Call it at the start of a turn to " +
    "catch up on what finished while you were busy. A new session (after a restart or a lost " +
    "context) starts empty: task_list shows what ended before it. It does not wait; task_wait does.",
  fields: {},
  annotations: { readOnlyHint: false, openWorldHint: false },
  async run({ tasks, consumer, registered }) {
    await registered;
    const done = await tasks.drainCompletions({ consumer });
    if (done.length === 0) {
      return textResult("No task has finished since the last task_completions.");
    }
    const now = Date.now();
    return textResult(
      [
        `${done.length} finished since the last task_completions:`,
        ...done.map((t) => statusLine(t, now)),
      ]
        .join("\n"),
    );
  },
});
