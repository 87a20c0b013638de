/**
 * `task_read`: a task's output, bounded: from a cursor, its last lines, or
 * the lines matching a pattern.
 *
 * @module
 */

import { fenced, n, statusLine, type TextResult, textResult } from "../format.ts";
import {
  GREP_LINE_CHARS,
  grepOutput,
  outputSize,
  pieceFacts,
  readTailLines,
  type ReadTarget,
  readWindow,
  showPiece,
} from "../read.ts";
import { DamagedRecordError } from "../../store/fs_store.ts";
import { ArgumentError } from "../args.ts";
import { type Call, defineTool, noteTold, remember, type Session, startedHere } from "../tool.ts";
import type { TaskInfo } from "../../../mod.ts";
import { shownPattern, toolPattern } from "../pattern.ts";
import { pastEndMessage } from "../past_end.ts";
import { MAX_PATTERN_CHARS } from "../../linear_regexp.ts";
import { LINE_PART_BYTES, MAX_LINE_BYTES } from "../long_line.ts";

/** The default and the largest `max_bytes`. */
export const READ_DEFAULT_BYTES = 16 * 1024;
export const READ_MAX_BYTES = 1024 * 1024;

interface Args {
  id: string;
  cursor?: number;
  max_bytes: number;
  tail_lines?: number;
  grep?: string;
}

/** The `task_read` tool. */
export const taskRead = defineTool<Args>({
  name: "task_read",
  title: "Read a task's output",
  description: "Read a background task's output (stdout and stderr interleaved) and its status. " +
    "Returns at most max_bytes (default 16 KiB) of output: when there is more, the start and " +
    "the end are kept (errors are usually at the end; reading on from a cursor, mostly the " +
    "start: a page) and the text says exactly which bytes were left out and the cursor to read " +
    "them. next_cursor is where to continue: pass it as cursor next time to get only " +
    "new output. tail_lines gives just the last lines; grep gives only the lines matching a " +
    "regular expression, with their line numbers (a running task's last line before its " +
    "newline only when the task waits for input at it, a prompt; else it is left for the next " +
    'call, and task_wait until "pattern" sees it).\n' +
    "To wait for a task to end or to print something, use task_wait — do not call task_read " +
    "repeatedly to poll.",
  fields: {
    id: { type: "id", required: true, description: 'the task id, e.g. "b3"' },
    cursor: {
      type: "integer",
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      unit: "bytes",
      description: "the byte offset to read from: next_cursor of an earlier result, or the " +
        "cursor a left-out marker names. Given (0 too), a cut window keeps mostly its start (a " +
        "page); left out, the whole output is read, its start and end kept when cut",
    },
    max_bytes: {
      type: "integer",
      minimum: 256,
      maximum: READ_MAX_BYTES,
      default: READ_DEFAULT_BYTES,
      unit: "bytes",
      description: "the most output to return (default 16384)",
    },
    tail_lines: {
      type: "integer",
      minimum: 1,
      maximum: 100_000,
      unit: "lines",
      description: "return only the last this many lines (of the output after cursor, when " +
        "given: the lines before it are not counted)",
    },
    grep: {
      type: "string",
      nonEmpty: true,
      description: "return only lines matching this JavaScript regular expression, e.g. " +
        '"error|FAIL", or /error/i for any case (flags i, m, s; g is accepted and means ' +
        "nothing: each line is matched on its own; no backreferences or lookarounds; at most " +
        `${n(MAX_PATTERN_CHARS)} characters)`,
    },
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(session, args, call) {
    if (args.tail_lines !== undefined && args.grep !== undefined) {
      throw new ArgumentError("give tail_lines or grep, not both");
    }
    const pattern = args.grep === undefined ? undefined : toolPattern(args.grep, "grep");
    let info: TaskInfo;
    try {
      info = await session.tasks.getStatusOrThrow(args.id);
    } catch (e) {
      // Its final record damaged: it has ended, and its output is read all
      // the same, the damage said in the status line's place.
      if (!(e instanceof DamagedRecordError) || e.id !== args.id || !e.ended) throw e;
      const target: ReadTarget = {
        id: args.id,
        status: "failed",
        outputFile: e.ended.outputFile,
        maxOutputBytes: e.ended.spec.maxOutputBytes,
        waitingForInput: null,
      };
      return await answer(session, args, pattern, call, target, e.message);
    }
    // (Its end, in the status line: not told again by task_completions once sent.)
    noteTold(session, [info], call);
    return await answer(
      session,
      args,
      pattern,
      call,
      info,
      statusLine(info, Date.now(), undefined, startedHere(session, info.id)),
    );
  },
});

/** What a grep says of the lines it searched in part (see `GrepResult.inPart`). */
function inPartNote(p: { lines: number; line: number; bytes: number }): string {
  const what = p.lines === 1
    ? `Line ${n(p.line)} (${n(p.bytes)} bytes) is`
    : `${n(p.lines)} lines (the first: line ${n(p.line)}, ${n(p.bytes)} bytes) are`;
  const its = p.lines === 1 ? "its" : "their";
  return `${what} longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB even after ${its} last ` +
    `\\r redraw: searched on ${its} first and last ${LINE_PART_BYTES / 1024} KiB only (a ` +
    "match in the middle is not seen).";
}

/**
 * What a `tail_lines` read with a cursor says it read: the last lines of the
 * output after the cursor (the lines before it are not counted, as `tail`
 * of the bytes from it on would not), and when the cursor left fewer lines
 * than asked, that it did. Nothing without a cursor.
 */
function tailScope(
  args: Args,
  from: number,
  t: { lines: number; cut: boolean; start: number },
): string {
  if (args.cursor === undefined || args.tail_lines === undefined) return "";
  const lines = (k: number) => `${n(k)} line${k === 1 ? "" : "s"}`;
  const rule = "with a cursor, tail_lines counts the lines after it (leave cursor out for the " +
    "output's last lines)";
  if (!t.cut && t.lines < args.tail_lines && t.start <= from) {
    return `Only ${lines(t.lines)} after cursor ${from}, fewer than tail_lines ` +
      `${n(args.tail_lines)}: ${rule}.`;
  }
  return `The last ${lines(args.tail_lines)} after cursor ${from}: ${rule}.`;
}

/**
 * The answer to a read of `info`'s output, as `args` ask (`pattern`: their
 * grep), below `head` (its status line).
 */
async function answer(
  { tasks, cursors }: Session,
  args: Args,
  pattern: RegExp | undefined,
  call: Call,
  info: ReadTarget,
  head: string,
): Promise<TextResult> {
  const size = await outputSize(info);
  // (Given, 0 too, it reads on as a page does; left out, the whole output.)
  const from = args.cursor ?? 0;
  if (from > size) {
    throw new ArgumentError(pastEndMessage({
      id: info.id,
      cursor: from,
      size,
      shownTo: cursors?.get(info.id),
      status: info.status,
      fix: "leave it out (or pass 0) to read from the start",
    }));
  }
  if (pattern) {
    const g = await grepOutput(tasks, info, from, pattern, args.max_bytes, {
      signal: call.signal,
    });
    remember(cursors, info.id, g.end);
    const shown = [...g.head, ...g.tail];
    const left = g.total - shown.length;
    // Where the same grep reads on to the matches left out (after the first ones shown).
    const readOn = g.readOn === undefined
      ? ""
      : `; task_read {"id": "${info.id}", "cursor": ${g.readOn}, "grep": ${
        JSON.stringify(args.grep)
      }} reads on to them`;
    const body = g.head.map((m) => `${m.line}: ${m.text}`).join("\n") +
      (left > 0
        ? `\n[… ${n(left)} more matching line${left === 1 ? "" : "s"} left out here${readOn} …]`
        : "") +
      (g.tail.length ? "\n" + g.tail.map((m) => `${m.line}: ${m.text}`).join("\n") : "");
    const where = from ? ` (line numbers count from byte ${n(from)})` : "";
    return textResult(
      [
        head,
        `next_cursor: ${g.end} · truncated: ${
          left > 0 || g.longCut > 0 || g.inPart
            ? `yes (${
              [
                left > 0 ? `${n(left)} match${left === 1 ? "" : "es"} left out` : "",
                g.longCut > 0
                  ? `${n(g.longCut)} shown cut to ${
                    n(GREP_LINE_CHARS)
                  } characters at most, and to max_bytes`
                  : "",
                g.inPart
                  ? `${n(g.inPart.lines)} line${g.inPart.lines === 1 ? "" : "s"} searched in part`
                  : "",
              ].filter(Boolean).join("; ")
            })`
            : "no"
        }`,
        // (Said as it was given, not as it was rewritten for the linear engine.)
        `${n(g.total)} of ${n(g.lines)} lines match ${shownPattern(args.grep!)}${where}`,
        g.readOn !== undefined
          ? `${n(left)} match${left === 1 ? "" : "es"} after line ${
            n(g.head[g.head.length - 1].line)
          } ${left === 1 ? "was" : "were"} left ` +
            `out: call task_read again with cursor ${g.readOn} (just past that line) and the ` +
            "same grep to read on to them."
          : "",
        g.inPart ? inPartNote(g.inPart) : "",
        g.promptLine !== undefined
          ? `Line ${n(g.promptLine)} has no line end yet: ${info.id} waits for input there (a ` +
            "prompt); next_cursor is its start, so a later call reads it whole."
          : "",
        g.cut
          ? `The search stopped at byte ${n(g.end)} of ${n(g.size)} to end this call in ` +
            `time: call task_read again with cursor ${g.end} and the same grep to search on.`
          : "",
        g.total ? fenced(`matching lines of ${info.id}'s output`, body) : "",
      ].filter((l) => l !== "").join("\n"),
    );
  }
  if (args.tail_lines !== undefined) {
    const t = await readTailLines(tasks, info, from, args.tail_lines, args.max_bytes);
    remember(cursors, info.id, t.end);
    const o = t.omitted;
    const fit = t.midLine && t.lines === 1
      ? "only the end of the last line fits"
      : `only the last ${n(t.lines)} line${t.lines === 1 ? "" : "s"} fit`;
    const note = o
      ? `truncated: yes (${fit} in max_bytes ${n(args.max_bytes)}${
        t.midLine && t.lines > 1 ? ", the first of them only its end" : ""
      }; bytes ${n(o.from)}–${n(o.to)} left out)`
      : "truncated: no";
    return textResult(
      [head, `next_cursor: ${t.end} · ${note}`, tailScope(args, from, t), showPiece(info.id, t)]
        .filter((l) => l !== "").join("\n"),
    );
  }
  const piece = await readWindow(tasks, info, from, args.max_bytes, args.cursor !== undefined);
  remember(cursors, info.id, piece.end);
  return textResult([head, pieceFacts(piece), showPiece(info.id, piece)].join("\n"));
}
