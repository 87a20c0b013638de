/**
 * `task_kill`: ends a task's whole process tree and answers with its real
 * end state, once nothing of the tree is left.
 *
 * @module
 */

import { isFinal } from "../../lifecycle.ts";
import { statusLine, textResult } from "../format.ts";
import { readTailLines, showPiece, tailHeading } from "../read.ts";
import { defineTool, noteTold, startedHere } from "../tool.ts";
import { wholeMs } from "../args.ts";
import { KILL_SIGNALS } from "../../kill_signal.ts";
import type { KillSignal } from "../../types.ts";

interface Args {
  id: string;
  grace_s: number;
  signal?: KillSignal;
}

/** The `task_kill` tool. */
export const taskKill = defineTool<Args>({
  name: "task_kill",
  title: "Kill a task",
  description:
    "Stop a background task and every process it started (its whole process group): SIGTERM " +
    "(or signal), then SIGKILL to whatever is left after grace_s seconds (default 2). Returns " +
    "once nothing of it is left, with its final status and the end of its output. A queued " +
    "task (in a queue, or waiting for the tasks it runs after) is ended before it starts; a " +
    "paused one is killed too (continued after the signal, so that it can act on it). A task " +
    "that has already ended is left as it is.",
  fields: {
    id: { type: "id", required: true, description: 'the task id, e.g. "b3"' },
    grace_s: {
      type: "number",
      minimum: 0,
      // The kill returns after the grace and the SIGKILL: within a client's 60 s cut.
      maximum: 45,
      default: 2,
      unit: "seconds",
      description: "seconds between the first signal and SIGKILL (default 2; 0: SIGKILL at once)",
    },
    signal: {
      type: "string",
      enum: KILL_SIGNALS,
      description: 'the first signal (default "SIGTERM"): "SIGINT" stops a dev server or a ' +
        "watcher as a Ctrl-C would (a shell script's background jobs, cmd &, ignore it and " +
        'end at the SIGKILL); "SIGKILL" ends it at once, with no grace',
    },
  },
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  async run(session, args, call) {
    const tasks = session.tasks;
    const graceMs = wholeMs("grace_s", args.grace_s, "SIGKILL at once");
    const before = await tasks.getStatusOrThrow(args.id);
    const ended = isFinal(before.status);
    const info = ended ? before : await tasks.kill(args.id, { graceMs, signal: args.signal });
    noteTold(session, [info], call);
    const id = info.id;
    const note = ended
      ? `${id} had already ended; nothing was killed.`
      : info.status !== "killed"
      ? `${id} ended by itself before the kill took effect.`
      : before.status === "queued"
      ? `${id} was killed before it started: it will never run.`
      : `${id} was killed: nothing of its process group is left (a process that left the ` +
        "group with setsid is not followed).";
    const tail = await readTailLines(tasks, info, 0, 10, 4096);
    return textResult(
      [
        note,
        statusLine(info, Date.now(), undefined, startedHere(session, id)),
        `${tailHeading(tail)}:`,
        showPiece(id, tail),
      ].join("\n"),
    );
  },
});
