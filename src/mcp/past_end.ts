/**
 * What a tool says of a cursor past the end of a task's output: plainly
 * that, and where cursors come from; the output's truncation (a process of
 * the task reopened it with `>`) only when it is known (the session gave a
 * next_cursor past the output's end now) or still possible (the task runs).
 *
 * @module
 */

import type { TaskStatus } from "../../mod.ts";
import { n } from "./format.ts";

/** What is known of the output a cursor is past the end of. */
export interface PastEnd {
  /** The task's id. */
  id: string;
  /** The cursor given. */
  cursor: number;
  /** The output's size now. */
  size: number;
  /** The furthest next_cursor this session gave for the task, if any. */
  shownTo?: number;
  /** The task's status: running or paused, it may still write (a truncation may come). */
  status: TaskStatus;
  /** What else to pass, in this tool (`leave it out to read from the start`). */
  fix: string;
}

/**
 * The error message for a cursor past the end of a task's output.
 *
 * @example
 * ```ts
 * import { pastEndMessage } from "./past_end.ts";
 * import { doesNotMatch, match } from "node:assert/strict";
 * const fix = "or leave it out";
 * const plain = pastEndMessage({ id: "b6", cursor: 99, size: 20, status: "completed", fix });
 * match(plain, /^cursor 99 is past the end of b6's output \(20 bytes/);
 * match(plain, /next_cursor/);
 * doesNotMatch(plain, /truncat/);
 * // This session was given next_cursor 692 for b6: the output shrank since.
 * match(
 *   pastEndMessage({ id: "b6", cursor: 692, size: 20, shownTo: 692, status: "failed", fix }),
 *   /truncated since this session read it up to byte 692/,
 * );
 * // A running task may still truncate its output: said as a possibility.
 * match(
 *   pastEndMessage({ id: "b6", cursor: 99, size: 20, status: "running", fix }),
 *   /if a process of b6/,
 * );
 * ```
 */
export function pastEndMessage(p: PastEnd): string {
  const head = `cursor ${p.cursor} is past the end of ${p.id}'s output (${n(p.size)} bytes`;
  if (p.shownTo !== undefined && p.shownTo > p.size) {
    return `${head}): the output was truncated since this session read it up to byte ` +
      `${n(p.shownTo)} (a process of ${p.id} reopened it with '>'), and its new content ` +
      "starts at 0: pass cursor 0 for it";
  }
  const where = "a cursor is a byte offset into the output, passed back as it was given: " +
    `the next_cursor of an earlier result, or the cursor a "left out here" marker names; ${p.fix}`;
  if (p.status !== "running" && p.status !== "paused") {
    return `${head}, all of it: ${p.id} has ended): ${where}`;
  }
  return `${head} so far): ${where} (a cursor given earlier for ${p.id}, if a process of ` +
    `${p.id} reopened its output with '>' since: the new content starts at 0)`;
}
