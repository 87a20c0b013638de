/**
 * How tasks look in human output: the table of `list` (also printed by
 * `kill`, `wait`, `rm`, `clean` and `completions`) and the block of `status`.
 * Task-supplied text is always passed through {@linkcode escapeControl}.
 *
 * @module
 */

import type { TaskInfo, TaskStatus } from "../../mod.ts";
import { formatAgo, formatDuration, formatLocalTime } from "./duration.ts";
import { escapeControl } from "./escape.ts";
import { formatSize } from "./size.ts";
import type { Style } from "./style.ts";
import { type Cell, type Column, tableLines } from "./table.ts";

/** True for the statuses a task never leaves: completed, failed, killed. */
export function isFinished(status: TaskStatus): boolean {
  return status === "completed" || status === "failed" || status === "killed";
}

/**
 * What the EXIT column shows: the code, the signal, why there is none
 * (`timeout`, `max-output`, `lost`, `dependency`, `start`: the task's
 * `reason`), or blank until it ends.
 */
export function exitText(t: TaskInfo): string {
  if (t.finishedAt === null) return "";
  if (t.exitCode !== null) return String(t.exitCode);
  if (t.signal !== null) return t.signal;
  // The other reasons, as TaskInfo.reason names them; a kill shows "-".
  return t.reason === null || t.reason === "killed" || t.reason === "exit" ? "-" : t.reason;
}

/** How long the task ran (or has been running, at `now`); null if it never started. */
export function taskDuration(t: TaskInfo, now: number): number | null {
  if (t.startedAt === null) return null;
  const end = t.finishedAt === null ? now : Date.parse(t.finishedAt);
  return end - Date.parse(t.startedAt);
}

function durationText(t: TaskInfo, now: number): string {
  const d = taskDuration(t, now);
  return d === null ? "-" : formatDuration(d);
}

function agoText(iso: string | null, now: number): string {
  return iso === null ? "-" : formatAgo(now - Date.parse(iso));
}

/** The task's description, or its command when it has none, escaped. */
export function taskLabel(t: TaskInfo): string {
  return escapeControl(t.description !== "" ? t.description : t.command);
}

const COLUMNS: Column[] = [
  { header: "ID" },
  { header: "STATUS" },
  { header: "EXIT", align: "right" },
  // (On a narrow terminal, left out, STARTED first, rather than cut TASK below 10.)
  { header: "STARTED", drop: 2 },
  { header: "DURATION", align: "right", drop: 1 },
  { header: "TASK" },
];

const WITH_QUEUE: Column[] = [
  ...COLUMNS.slice(0, 2),
  // (On a terminal, a long queue name would widen the column on every row and
  // leave TASK no room: cut to 28 there, and narrower with TASK, in its
  // middle, so that a task's " #3 paused" or " after b7" stays.)
  { header: "QUEUE", cut: 8, max: 28 },
  ...COLUMNS.slice(2),
];

/**
 * A QUEUE cell: what follows the queue's name (` #3 paused`, ` after b7`)
 * stays whole when the cell is cut, and the name is cut instead.
 */
function queueColumnCell(t: TaskInfo, text: string): Cell {
  const name = t.queue === null ? undefined : escapeControl(t.queue);
  const keep = name !== undefined && text.startsWith(name)
    ? [...text].length - [...name].length
    : 0;
  return { text, keep };
}

/**
 * The task table: ID, STATUS, EXIT, STARTED (relative), DURATION, TASK (the
 * description, or the command when there is none). With `queue`, a QUEUE
 * column follows STATUS, holding what `queue` returns for each task (see
 * `queue_view.ts`). With a `width`, each row fits it: TASK and QUEUE are cut
 * (the wider first, to 10 and 8 at least), then STARTED and DURATION are
 * left out; narrower still, rows wrap.
 *
 * @example
 * ```ts
 * import { taskTable } from "./task_view.ts";
 * import { makeStyle } from "./style.ts";
 * import { equal } from "node:assert/strict";
 * equal(
 *   taskTable([], { style: makeStyle(false), now: Date.now() }),
 *   "ID  STATUS  EXIT  STARTED  DURATION  TASK\n",
 * );
 * ```
 */
export function taskTable(
  tasks: TaskInfo[],
  options: { style: Style; now: number; width?: number; queue?: (t: TaskInfo) => string },
): string {
  return taskTableLines(tasks, options).join("");
}

/**
 * {@linkcode taskTable}'s lines, each with its newline: the header, then one
 * for each task, in order (`completions` counts the tasks whose line a pipe
 * took whole as printed).
 *
 * @example
 * ```ts
 * import { taskTableLines } from "./task_view.ts";
 * import { makeStyle } from "./style.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(
 *   taskTableLines([], { style: makeStyle(false), now: Date.now() }),
 *   ["ID  STATUS  EXIT  STARTED  DURATION  TASK\n"],
 * );
 * ```
 */
export function taskTableLines(
  tasks: TaskInfo[],
  options: { style: Style; now: number; width?: number; queue?: (t: TaskInfo) => string },
): string[] {
  const { style, now, queue } = options;
  const rows: Cell[][] = tasks.map((t) => [
    { text: t.id },
    // A task waiting for input is marked: it may wait for an answer.
    { text: t.waitingForInput ? `${t.status} (input)` : t.status, paint: style.status(t.status) },
    ...(queue ? [queueColumnCell(t, queue(t))] : []),
    { text: exitText(t) },
    { text: agoText(t.startedAt, now) },
    { text: durationText(t, now) },
    { text: taskLabel(t) },
  ]);
  return tableLines(queue ? WITH_QUEUE : COLUMNS, rows, {
    width: options.width,
    headerPaint: style.bold,
  });
}

/**
 * One finished task on one line, for a stream (`completions --follow`): ID,
 * STATUS, EXIT, DURATION and TASK as the table shows them, two spaces apart,
 * with no header and no padding (TASK is never cut).
 *
 * @example
 * ```ts
 * import { taskLine } from "./task_view.ts";
 * import { makeStyle } from "./style.ts";
 * import type { TaskInfo } from "../../mod.ts";
 * import { equal } from "node:assert/strict";
 * const t = {
 *   id: "b2", status: "failed", exitCode: 3, signal: null, reason: "exit", description: "build",
 *   command: "make", startedAt: "2026-12-02T10:00:00.000Z", finishedAt: "2026-12-02T10:00:01.500Z",
 * } as TaskInfo;
 * equal(taskLine(t, { style: makeStyle(false), now: Date.now() }), "b2  failed  3  1.5s  build");
 * ```
 */
export function taskLine(t: TaskInfo, options: { style: Style; now: number }): string {
  return [
    t.id,
    options.style.status(t.status)(t.status),
    exitText(t),
    durationText(t, options.now),
    taskLabel(t),
  ].join("  ");
}

/** What the `leftovers` line of a task that left processes running says. */
const LEFTOVERS_TEXT = "ended: its shell left processes running (`cmd &`), which end with the " +
  "task (run a server as the task itself, or `setsid cmd &` to outlive it)";

/** Where a task stands, for the `status` block (see `queue_view.ts`). */
export interface StatusContext {
  /** Its 1-based place in its queue, while it waits only for a slot. */
  place?: number;
  /** Its queue is paused (it waits for a slot: none will come until it is resumed). */
  queuePaused?: boolean;
  /** The status of each task it runs after (undefined: removed since). */
  after?: Map<string, TaskStatus | undefined>;
}

/** The `after` line: each task with its status, and what they must do. */
function afterText(t: TaskInfo, statuses: Map<string, TaskStatus | undefined> | undefined): string {
  const each = t.after.map((id) => {
    if (!statuses?.has(id)) return id;
    return `${id} (${statuses.get(id) ?? "removed"})`;
  });
  const rule = t.afterPolicy === "any" ? "each must end (--after-any)" : "each must complete";
  return `${each.join(", ")}; ${rule}`;
}

/** An interactive task's stdin, and whether it waits for input now (none for /dev/null). */
function stdinFields(t: TaskInfo): [string, string][] {
  if (t.stdin === "null") return [];
  const what = (t.stdin === "pty" ? "a terminal (pty)" : "a pipe") +
    (t.stdinClosed ? ", closed (its end of input was sent)" : "");
  if (t.finishedAt !== null || t.startedAt === null) return [["stdin", what]];
  const input = t.waitingForInput === null
    ? "unknown"
    : t.waitingForInput
    ? "waiting (a process reads its stdin)"
    : "not waiting";
  return [["stdin", what], ["input", input]];
}

/**
 * A task's `error` as the command line says it: the limit a `--max-output`
 * task passed is named by that flag, not by the module's `maxOutputBytes`
 * (the record, and `--json`, keep the module's words).
 *
 * @example
 * ```ts
 * import { errorText } from "./task_view.ts";
 * import { equal } from "node:assert/strict";
 * equal(
 *   errorText("output passed the limit of 10 bytes (maxOutputBytes)"),
 *   "output passed the limit of 10 bytes (--max-output)",
 * );
 * ```
 */
export function errorText(error: string): string {
  return error.replace(
    /^(output passed the limit of \d+ bytes) \(maxOutputBytes\)/,
    "$1 (--max-output)",
  );
}

/**
 * The `status` block: one `label: value` line per field, task text escaped.
 * A task in a queue shows it (and its place while it waits for a slot); one
 * that runs after others lists them with their status; a restart names the
 * task it restarted.
 *
 * @param where Its place in its queue and its dependencies' status, when known.
 *
 * @example
 * ```ts
 * import { statusBlock } from "./task_view.ts";
 * import { makeStyle } from "./style.ts";
 * import { equal } from "node:assert/strict";
 * const text = statusBlock({
 *   id: "b1", command: "true", description: "", cwd: "/", status: "completed",
 *   exitCode: 0, signal: null, error: null, reason: "exit", leftoversEnded: false, pid: 10,
 *   outputFile: "/s/tasks/b1/output",
 *   outputBytes: 0, createdAt: "2025-01-01T00:00:00.000Z", startedAt: "2025-01-01T00:00:00.000Z",
 *   finishedAt: "2025-01-01T00:00:01.000Z", timeoutMs: null, maxOutputBytes: 0, queue: null,
 *   after: [], afterPolicy: "success", restartOf: null, stdin: "null", waitingForInput: false,
 *   stdinClosed: false,
 * }, { style: makeStyle(false), now: Date.now() });
 * equal(text.split("\n")[1], "status:      completed");
 * ```
 */
export function statusBlock(
  t: TaskInfo,
  options: { style: Style; now: number; where?: StatusContext },
): string {
  const { style, now, where = {} } = options;
  const fields: [string, string][] = [
    ["id", t.id],
    ["status", style.status(t.status)(t.status)],
  ];
  if (t.finishedAt !== null) fields.push(["exit", exitText(t)]);
  if (t.error !== null) fields.push(["error", escapeControl(errorText(t.error))]);
  if (t.leftoversEnded) fields.push(["leftovers", LEFTOVERS_TEXT]);
  if (t.description !== "") fields.push(["description", escapeControl(t.description)]);
  fields.push(
    ["command", escapeControl(t.command)],
    ["cwd", t.cwd === null ? "-" : escapeControl(t.cwd)],
    ["pid", t.pid === null ? "-" : String(t.pid)],
  );
  if (t.queue !== null) {
    const place = t.status === "queued" && where.place !== undefined
      ? where.queuePaused
        ? ` (#${where.place} in line; the queue is paused: bgtask queue resume ${
          escapeControl(t.queue)
        })`
        : ` (#${where.place} in line)`
      : "";
    fields.push(["queue", escapeControl(t.queue) + place]);
  }
  if (t.after.length > 0) fields.push(["after", afterText(t, where.after)]);
  if (t.restartOf !== null) fields.push(["restart of", t.restartOf]);
  const queued = t.status === "queued";
  fields.push(
    ...stdinFields(t),
    ["created", `${formatLocalTime(t.createdAt)} (${agoText(t.createdAt, now)})`],
    [
      "started",
      t.startedAt !== null
        ? `${formatLocalTime(t.startedAt)} (${agoText(t.startedAt, now)})`
        : t.finishedAt === null
        ? "not yet"
        : "never",
    ],
    ["finished", t.finishedAt === null ? "-" : formatLocalTime(t.finishedAt)],
    queued
      ? ["queued for", formatDuration(now - Date.parse(t.createdAt))]
      : [t.finishedAt === null ? "running for" : "duration", durationText(t, now)],
    ["timeout", t.timeoutMs === null ? "none" : formatDuration(t.timeoutMs)],
    ["max output", t.maxOutputBytes === 0 ? "none" : formatSize(t.maxOutputBytes)],
    ["output", `${escapeControl(t.outputFile)} (${formatSize(t.outputBytes)})`],
  );
  const width = Math.max(...fields.map(([k]) => k.length)) + 2;
  return fields.map(([k, v]) => style.dim(`${k}:`.padEnd(width)) + " " + v + "\n").join("");
}
