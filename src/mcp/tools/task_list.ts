/**
 * `task_list`: the tasks of the store, one line each.
 *
 * @module
 */

import { TASK_STATUSES, type TaskStatus } from "../../../mod.ts";
import { errorResult, n, statusLine, type TextResult, textResult } from "../format.ts";
import { defineTool, forAgents, startedHere } from "../tool.ts";
import { standingOf } from "../queued.ts";

interface Args {
  status?: TaskStatus[];
  queue?: string;
  limit: number;
}

/** The `task_list` tool. */
export const taskList = defineTool<Args>({
  name: "task_list",
  title: "List tasks",
  description:
    "List the background tasks in the store (also those started by other sessions or from the " +
    "command line), one line each: id, status, exit code, run time, description and command; " +
    '"(started by this session)" marks those you started. ' +
    "Use it to find task ids again, e.g. after losing track of them. Filter with status.",
  fields: {
    status: {
      type: "enumList",
      values: TASK_STATUSES,
      description: `only tasks with this status (or these): ${TASK_STATUSES.join(", ")}`,
    },
    queue: { type: "string", nonEmpty: true, description: "only the tasks of this queue" },
    limit: {
      type: "integer",
      minimum: 1,
      maximum: 500,
      default: 50,
      unit: "tasks",
      description: "show at most this many, the newest (default 50)",
    },
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(session, args) {
    const { tasks } = session;
    // A task whose records cannot be read is no line of the list, but is
    // said so (as the CLI's list says it on stderr): else it is just gone.
    const damaged: string[] = [];
    const all = await tasks.list({
      status: args.status,
      queue: args.queue,
      onDamaged: (id, error) => damaged.push(`${id}: ${forAgents(error.message)}`),
    });
    const note = damaged.length === 0 ? "" : `\n${damagedNote(damaged)}`;
    const counts = new Map<string, number>();
    for (const t of all) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
    const filter = (args.status ? ` with status ${args.status.join(" or ")}` : "") +
      (args.queue ? ` in queue ${args.queue}` : "");
    if (all.length === 0) {
      // A queue the store has never seen is no empty one (a mistyped name), as the CLI says.
      if (args.queue !== undefined) {
        const queues = (await tasks.getQueues()).map((q) => q.name);
        if (!queues.includes(args.queue)) return noSuchQueue(args.queue, queues);
      }
      return textResult(`No tasks${filter} in the store.${note}`);
    }
    const summary = [...counts].map(([s, c]) => `${n(c)} ${s}`).join(", ");
    const shown = all.slice(-args.limit);
    const lines = [
      `${n(all.length)} task${all.length === 1 ? "" : "s"}${filter} (${summary}), oldest first:`,
    ];
    if (shown.length < all.length) {
      lines.push(
        `(the ${
          n(all.length - shown.length)
        } oldest are not shown; raise limit, or filter by status)`,
      );
    }
    // Queued ones say what they wait for: their place in line, a paused queue, their dependencies.
    const where = await standingOf(tasks, all, !args.status && !args.queue);
    const now = Date.now();
    for (const t of shown) lines.push(statusLine(t, now, where, startedHere(session, t.id)));
    return textResult(lines.join("\n") + note);
  },
});

/** What is said of the tasks left out as damaged (at most 10 named). */
function damagedNote(damaged: string[]): string {
  const more = damaged.length > 10 ? [`… and ${n(damaged.length - 10)} more`] : [];
  return [
    `${n(damaged.length)} task${damaged.length === 1 ? "" : "s"} left out: ${
      damaged.length === 1 ? "its" : "their"
    } records cannot be read (damaged):`,
    ...damaged.slice(0, 10).map((d) => `  ${d}`),
    ...more,
  ].join("\n");
}

/** The error for a queue the store has never seen: the queues it has, and how one is made. */
function noSuchQueue(name: string, queues: string[]): TextResult {
  const known = queues.length === 0
    ? "The store has no queue yet"
    : `Its queues: ${queues.slice(0, 20).join(", ")}${queues.length > 20 ? ", …" : ""}`;
  return errorResult(
    `No queue ${JSON.stringify(name)} in the store. ${known}; task_start with queue (and ` +
      `parallel) makes one and runs its task there.`,
  );
}
