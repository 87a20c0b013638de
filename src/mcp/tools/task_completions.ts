/**
 * `task_completions`: the tasks that finished and were not yet reported to
 * this MCP session, as the session's own completion consumer; with
 * `wait_s`, waits that long for one to finish when none has.
 *
 * @module
 */

import type { TaskInfo } from "../../../mod.ts";
import { formatDuration } from "../../cli/duration.ts";
import { statusLine, textResult } from "../format.ts";
import { defineTool } from "../tool.ts";
import { MAX_WAIT_S, waitLimit } from "../wait.ts";

interface Args {
  wait_s: number;
}

/** The `task_completions` tool. */
export const taskCompletions = defineTool<Args>({
  name: "task_completions",
  title: "Tasks finished since last asked",
  description:
    "The background tasks that have finished (completed, failed or killed) since this session " +
    "last called task_completions (or since the session began), each reported once to this " +
    "session — tasks of any session or of the command line; not those whose end another call " +
    "of this session already showed you (task_start, task_wait, task_kill, task_status, " +
    "task_read). Call it at the start of a turn to " +
    "catch up on what finished while you were busy. A new session (after a restart or a lost " +
    "context) starts empty: task_list shows what ended before it. With wait_s, when nothing " +
    "has finished it waits up to that long and returns the moment a task finishes — whichever " +
    "of them ends first, without naming ids (task_wait waits for the ids you give).",
  fields: {
    wait_s: {
      type: "number",
      minimum: 0,
      default: 0,
      unit: "seconds",
      description: `when nothing has finished, wait up to this long for a task to finish ` +
        `(default 0: do not wait; at most ${MAX_WAIT_S}: a larger value counts as ${MAX_WAIT_S})`,
    },
  },
  annotations: { readOnlyHint: false, openWorldHint: false },
  async run({ tasks, consumer, registered }, args, { signal, ending }) {
    await registered;
    const { ms: waitMs, note: capped } = waitLimit("wait_s", args.wait_s, "no wait");
    let done: TaskInfo[];
    if (waitMs > 0 && ending?.aborted) {
      // The client has gone: no wait, as at the deadline (a look only).
      done = await tasks.drainCompletions({ consumer });
    } else if (waitMs > 0) {
      // (The client gone, the deadline is now.)
      const deadline = AbortSignal.any([
        signal,
        AbortSignal.timeout(waitMs),
        ...(ending ? [ending] : []),
      ]);
      try {
        done = await tasks.drainCompletions({ consumer, wait: true, signal: deadline });
      } catch (e) {
        if (signal.aborted || !deadline.aborted) throw e;
        done = []; // the deadline passed: nothing was taken
      }
    } else {
      done = await tasks.drainCompletions({ consumer });
    }
    // (A wait_s over the most: said after the answer.)
    const note = capped ? ` (${capped})` : "";
    if (done.length === 0) {
      return textResult(
        (waitMs > 0 && ending?.aborted
          ? "No task finished (the wait ended early: the client closed the connection) nor " +
            "since the last task_completions."
          : waitMs > 0
          ? `No task finished within ${formatDuration(waitMs)} (nor since the last ` +
            "task_completions). task_list shows what runs."
          : "No task has finished since the last task_completions.") + note,
      );
    }
    const now = Date.now();
    return textResult(
      [
        `${done.length} finished since the last task_completions${note}:`,
        ...done.map((t) => statusLine(t, now)),
      ]
        .join("\n"),
    );
  },
});
