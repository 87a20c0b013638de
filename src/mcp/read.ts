/**
 * Bounded reads of a task's output for the tools: a byte window cut to its
 * head and tail when it is too big (the end of a failed build is never
 * lost), the last lines, the lines matching a pattern, and the latest line
 * (for progress). Nothing here holds more than a bounded number of bytes,
 * whatever the size of the output.
 *
 * @module
 */

import { shownSize } from "../output_cap.ts";
import type { TaskInfo, TaskManager } from "../../mod.ts";
import { concat } from "../bytes.ts";
import { cleanOutput, cutText, decodeOutput, fenced, lastLines, n } from "./format.ts";
import { leadingContinuation, LongLine, MAX_LINE_BYTES } from "./long_line.ts";

/** Output bytes as a tool shows them: see `decodeOutput` and `cleanOutput`. */
const showText = (b: Uint8Array) => cleanOutput(decodeOutput(b));
const encoder = new TextEncoder();
const NL = 0x0a;
/** Of a cut window, the share kept from its start; the rest is its end. */
const HEAD_SHARE = 0.25;
/**
 * … when reading on from a cursor past 0 (paging through a large output):
 * mostly the text from the cursor on, and still the last bytes.
 */
const PAGE_HEAD_SHARE = 0.875;
/** Omitted regions up to this size get their lines counted. */
const COUNT_LINES_UP_TO = 8 * 1024 * 1024;
/** How much grep reads at a time. */
const SCAN_BLOCK = 1024 * 1024;
/**
 * How long one grep scans at most: a large output (1 GiB, the default cap,
 * takes about half a minute here) must not outlast the call (clients cut
 * one at about 60 s). It stops at a line's end and says where to go on.
 */
export const GREP_BUDGET_MS = 25_000;

/**
 * What a read of a task's output looks at: its info, or as much of it as a
 * task whose final record is damaged (ended, its output intact) can give.
 */
export type ReadTarget = Pick<
  TaskInfo,
  "id" | "status" | "outputFile" | "maxOutputBytes" | "waitingForInput"
>;

/** The size of the task's output file now, as readers see it (0 when it is missing). */
export const outputSize: (info: ReadTarget) => Promise<number> = shownSize;

/** Bytes at the end of `b` that start a UTF-8 character not wholly in `b`. */
function incompleteTail(b: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const c = b[b.length - back];
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

async function readBytes(
  tasks: TaskManager,
  id: string,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  if (length <= 0) return new Uint8Array();
  return await tasks.readOutputBytes(id, { offset, maxBytes: length });
}

/**
 * How a block of a task's last lines is introduced (see `lastLines`), saying
 * so when they are cut: only the lines that fit, or only the end of the
 * first of them (the marker above them says which bytes were left out).
 */
export function tailHeading(t: { lines: number; cut: boolean; midLine: boolean }): string {
  const why = !t.cut
    ? ""
    : !t.midLine
    ? " (no more fit)"
    : t.lines === 1
    ? " (only the end of the last line fits)"
    : " (only the end of the first fits)";
  return `${lastLines(t.lines)}${why}`;
}

/**
 * The line ends from `from` to `to`, and whether the bytes end inside a
 * line (the text after them starts mid-line).
 */
async function countLines(
  tasks: TaskManager,
  id: string,
  from: number,
  to: number,
): Promise<{ lines: number; midLine: boolean }> {
  let lines = 0;
  let last = NL;
  for (let at = from; at < to; at += SCAN_BLOCK) {
    const b = await readBytes(tasks, id, at, Math.min(SCAN_BLOCK, to - at));
    if (b.length === 0) break;
    for (const c of b) if (c === NL) lines++;
    last = b[b.length - 1];
  }
  return { lines, midLine: last !== NL };
}

/** A piece of output read for a tool. */
export interface Piece {
  /** The text to show (cleaned: no ANSI escapes); for a cut window, head + marker + tail. */
  text: string;
  /** The byte offset the piece starts at. */
  start: number;
  /** Where the next read should start (`next_cursor`). */
  end: number;
  /** The size of the output when it was read. */
  size: number;
  /** What was left out of the middle, if anything. */
  omitted?: Omitted;
}

/** Bytes left out of a piece of output. */
export interface Omitted {
  from: number;
  to: number;
  /** The line ends among them (counted when they are few enough). */
  lines?: number;
  /** With `lines`: they end inside a line (the text after the marker starts mid-line). */
  midLine?: boolean;
}

/**
 * The marker line put where bytes were left out: with their lines counted,
 * whether the cut is inside one line, or ends inside one, whichever read
 * made it (a running task's window, a finished one's last lines).
 */
export function omittedMarker(id: string, o: Omitted): string {
  const lines = o.lines === undefined
    ? ""
    : o.lines === 0
    ? " (inside one line)"
    : ` (${n(o.lines)} line${o.lines === 1 ? "" : "s"}${
      o.midLine ? ", and the start of the line it stops in" : ""
    })`;
  return `[… ${n(o.to - o.from)} bytes${lines} left out here: bytes ${n(o.from)}–${n(o.to)}; ` +
    `task_read {"id": "${id}", "cursor": ${o.from}} reads on from there …]`;
}

/**
 * Reads output from `from` to the current end, at most `maxBytes` of it:
 * when there is more, keeps the start and (mostly) the end, cut at line
 * breaks where it can, and says exactly which bytes were left out. With
 * `paging` (a read on from a cursor), mostly the start: a page, and the
 * end still shown.
 *
 * @param finished Whether the task has ended (a running task's last,
 *   incomplete character is left for the next read).
 */
export async function readWindow(
  tasks: TaskManager,
  info: ReadTarget,
  from: number,
  maxBytes: number,
  paging = false,
): Promise<Piece> {
  const size = await outputSize(info);
  const finished = info.status !== "running";
  const to = size;
  if (to - from <= maxBytes) {
    const b = await readBytes(tasks, info.id, from, to - from);
    const keep = finished ? b.length : b.length - incompleteTail(b);
    return {
      text: showText(b.subarray(0, keep)),
      start: from,
      end: from + keep,
      size,
    };
  }
  const headBudget = Math.floor(maxBytes * (paging ? PAGE_HEAD_SHARE : HEAD_SHARE));
  const tailBudget = maxBytes - headBudget;
  let head = await readBytes(tasks, info.id, from, headBudget);
  const lastNl = head.lastIndexOf(NL);
  head = lastNl >= headBudget / 2
    ? head.subarray(0, lastNl + 1)
    : head.subarray(0, head.length - incompleteTail(head));
  const tailFrom = to - tailBudget;
  let tail = await readBytes(tasks, info.id, tailFrom, tailBudget);
  const firstNl = tail.indexOf(NL);
  const skip = firstNl >= 0 && firstNl < tailBudget / 2 ? firstNl + 1 : leadingContinuation(tail);
  tail = tail.subarray(skip);
  const keepTail = finished ? tail.length : tail.length - incompleteTail(tail);
  tail = tail.subarray(0, keepTail);
  const omitted: Piece["omitted"] = { from: from + head.length, to: tailFrom + skip };
  if (omitted.to - omitted.from <= COUNT_LINES_UP_TO) {
    Object.assign(omitted, await countLines(tasks, info.id, omitted.from, omitted.to));
  }
  const headText = showText(head);
  return {
    text: headText + (headText.endsWith("\n") || headText === "" ? "" : "\n") +
      omittedMarker(info.id, omitted) + "\n" + showText(tail),
    start: from,
    end: tailFrom + skip + keepTail,
    size,
    omitted,
  };
}

/**
 * The last `lines` lines of the output after `from`, at most `maxBytes` of
 * them. When they do not fit, the last `maxBytes` bytes: from a line start
 * if one comes in their first half (as `readWindow` cuts its tail), else
 * from inside a line (`midLine`), so that the end of a long line before
 * the last ones is shown rather than the budget thrown away. Either way
 * (`cut`), the text starts with {@linkcode omittedMarker}: the bytes left
 * out before it and the cursor that reads them.
 */
export async function readTailLines(
  tasks: TaskManager,
  info: ReadTarget,
  from: number,
  lines: number,
  maxBytes: number,
): Promise<Piece & { lines: number; cut: boolean; midLine: boolean }> {
  const size = await outputSize(info);
  const finished = info.status !== "running";
  // (One byte more than the budget: whether the first byte kept starts a line.)
  const readFrom = Math.max(from, size - maxBytes - 1);
  let b = await readBytes(tasks, info.id, readFrom, size - readFrom);
  b = b.subarray(0, finished ? b.length : b.length - incompleteTail(b));
  const end = readFrom + b.length;
  // Walk back over `lines` line breaks (a final line without one counts).
  let i = b.length;
  if (i > 0 && b[i - 1] === NL) i--;
  let found = 0;
  let start = -1;
  while (found < lines && i > 0) {
    const nl = b.lastIndexOf(NL, i - 1);
    if (nl < 0) break;
    found++;
    if (found === lines) start = nl + 1;
    i = nl;
  }
  let cut = false;
  if (start < 0 && size - from <= maxBytes) {
    start = 0; // the whole window has no more lines than asked
  } else if (start < 0) {
    // The lines asked for do not fit: the last maxBytes, from min. (readFrom
    // is size - maxBytes - 1 then: b[min - 1] says whether a line starts at min.)
    const min = size - maxBytes - readFrom;
    start = min;
    if (b[min - 1] !== NL) {
      const nl = b.indexOf(NL, min);
      start = nl >= 0 && nl - min < maxBytes / 2
        ? nl + 1
        : min + leadingContinuation(b.subarray(min));
    }
    cut = readFrom + start > from;
  }
  const text = showText(b.subarray(start));
  const shown = text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  const piece = { start: readFrom + start, end, size, lines: shown };
  if (!cut) return { ...piece, text, cut: false, midLine: false };
  const omitted: Piece["omitted"] = { from, to: readFrom + start };
  if (omitted.to - omitted.from <= COUNT_LINES_UP_TO) {
    Object.assign(omitted, await countLines(tasks, info.id, omitted.from, omitted.to));
  }
  return {
    ...piece,
    text: omittedMarker(info.id, omitted) + "\n" + text,
    omitted,
    cut: true,
    midLine: b[start - 1] !== NL,
  };
}

/** One matching line. */
interface Match {
  line: number;
  text: string;
  /** Shown cut (too long for a line, or for the budget). */
  cut: boolean;
  /** What it takes of the budget: its bytes as sent, and its number's. */
  cost: number;
  /** The byte offset just past the line (its newline). */
  end: number;
}

/** Lines that match a pattern, with their line numbers. */
export interface GrepResult {
  /** The matches kept (head and tail of them when there were too many). */
  head: Match[];
  tail: Match[];
  /** Every match, kept or not. */
  total: number;
  /** Lines scanned. */
  lines: number;
  /** Where the scan stopped (`next_cursor`): after the last whole line. */
  end: number;
  /**
   * When matches were left out (more than fit): the byte offset just past
   * the last of the first matches shown, where the same grep reads on to
   * the matches left out.
   */
  readOn?: number;
  size: number;
  /** The scan stopped at its time budget (or the call's end) before the output's end. */
  cut: boolean;
  /**
   * The number of the last line, shown though it has no line end yet: the
   * task waits for input at it (a prompt). `end` is its start, so that the
   * next call reads it whole.
   */
  promptLine?: number;
  /**
   * Matching lines shown cut: longer than {@linkcode GREP_LINE_CHARS}
   * characters, or than the bytes a call may return.
   */
  longCut: number;
  /**
   * Lines over {@linkcode MAX_LINE_BYTES} (after their last `\r` redraw)
   * judged on their first and last 512 KiB only (`LINE_PART_BYTES`): how
   * many, and the first of them (its number and size in bytes).
   */
  inPart?: { lines: number; line: number; bytes: number };
}

/** How much of a matching line `grepOutput` shows. */
export const GREP_LINE_CHARS = 2000;

/** The fewest bytes of a matching line shown, however small the call's budget. */
const LINE_BYTES_MIN = 64;

/**
 * Scans the output from `from` line by line (in 1 MiB blocks, so any size is
 * fine) and keeps the matching lines: the first ones and the last ones, up
 * to `maxBytes` in all. A running task's unfinished last line is left for
 * the next call, unless the task waits for input at it (a prompt, which
 * would never end while it waits: `promptLine`). Stops, at a line's end,
 * after `budgetMs` or when `signal` aborts, once it has scanned a block
 * (`cut`: `end` is where to search on from).
 */
export async function grepOutput(
  tasks: TaskManager,
  info: ReadTarget,
  from: number,
  pattern: RegExp,
  maxBytes: number,
  opts: { budgetMs?: number; signal?: AbortSignal } = {},
): Promise<GrepResult> {
  const deadline = performance.now() + (opts.budgetMs ?? GREP_BUDGET_MS);
  let cut = false;
  const size = await outputSize(info);
  const finished = info.status !== "running";
  const headBudget = Math.floor(maxBytes * HEAD_SHARE);
  const tailBudget = maxBytes - headBudget;
  const head: Match[] = [];
  const tail: Match[] = [];
  let headBytes = 0;
  let tailBytes = 0;
  let total = 0;
  let lineNo = 0;
  let carry = new Uint8Array();
  let at = from;
  let end = from;
  // One match is always shown: cut to fit the whole budget if it must be.
  const lineBytes = Math.max(LINE_BYTES_MIN, maxBytes - 16);
  /** A match as sent, cut to `bytes` (and GREP_LINE_CHARS), with what it costs. */
  const shownAs = (text: string, line: number, bytes: number, end: number): Match => {
    const kept = cutText(text, GREP_LINE_CHARS, bytes);
    const cut = kept.length < text.length;
    const shown = cut ? kept + "…" : text;
    // (Escapes and all, as sent; and the line's number.)
    const cost = encoder.encode(shown).length + String(line).length + 2;
    return { line, text: shown, cut, cost, end };
  };
  /** What a line costs beyond its text: its number, ": ", a newline, an ellipsis. */
  const overhead = (line: number) => String(line).length + 6;
  // The first match, as found (no longer than any match is shown): when no
  // match goes to the tail, the head has the whole budget, and it is shown again.
  let first: { text: string } | undefined;
  let inPart: GrepResult["inPart"];
  /**
   * Judges a line (its bytes, or a long one kept as a `LongLine`); the match
   * made of it, when it matches and is kept.
   */
  const take = (raw: Uint8Array | LongLine, lineEnd: number): Match | undefined => {
    lineNo++;
    let text: string;
    if (raw instanceof Uint8Array && raw.length <= MAX_LINE_BYTES) {
      text = showText(raw);
      if (!pattern.test(text)) return undefined;
    } else {
      // A long line: as a terminal shows it, and if still too long, in part.
      let long = raw as LongLine;
      if (raw instanceof Uint8Array) {
        long = new LongLine();
        long.push(raw);
      }
      const j = long.judge((t) => pattern.test(t));
      if (long.inPart) {
        inPart = inPart
          ? { ...inPart, lines: inPart.lines + 1 }
          : { lines: 1, line: lineNo, bytes: long.bytes };
      }
      if (!j) return undefined;
      text = j.text;
    }
    total++;
    if (head.length === 0) {
      // The first match always leads the head (the first error is the one to
      // read), cut to fit it: the matches left out come after it, and its end
      // is where the same grep reads on to them.
      first = { text: cutText(text, GREP_LINE_CHARS + 1, lineBytes + 4) };
      const bytes = Math.max(LINE_BYTES_MIN / 4, headBudget - overhead(lineNo));
      const m = shownAs(text, lineNo, bytes, lineEnd);
      head.push(m);
      headBytes += m.cost;
      return m;
    }
    if (tail.length === 0) {
      const m = shownAs(text, lineNo, lineBytes, lineEnd);
      if (headBytes + m.cost <= headBudget) {
        head.push(m);
        headBytes += m.cost;
        return m;
      }
    }
    const m = shownAs(
      text,
      lineNo,
      Math.max(LINE_BYTES_MIN, tailBudget - overhead(lineNo)),
      lineEnd,
    );
    tail.push(m);
    tailBytes += m.cost;
    while (tailBytes > tailBudget && tail.length > 1) tailBytes -= tail.shift()!.cost;
    return m;
  };
  // Inside a huge line (over SCAN_BLOCK without its end): its bytes go to
  // `huge`, which keeps what a terminal shows of it, bounded, until its end.
  let huge: LongLine | undefined;
  while (at < size) {
    // (After one block at least, so that every call gets on; not inside a
    // huge line being skipped: its end is where to go on from.)
    if (at > from && !huge && (performance.now() >= deadline || opts.signal?.aborted)) {
      cut = true;
      break;
    }
    const block = await readBytes(tasks, info.id, at, Math.min(SCAN_BLOCK, size - at));
    if (block.length === 0) break;
    at += block.length;
    let buf = carry.length ? concat([carry, block]) : block;
    if (huge) {
      // (carry is empty inside a huge line: buf is the block.)
      const nl = buf.indexOf(NL);
      huge.push(nl < 0 ? buf : buf.subarray(0, nl));
      if (nl < 0) {
        end = at;
        continue;
      }
      take(huge, at - buf.length + nl + 1);
      huge = undefined;
      buf = buf.subarray(nl + 1);
    }
    let s = 0;
    // (buf ends at `at`.)
    const bufStart = at - buf.length;
    for (let i = buf.indexOf(NL); i >= 0; i = buf.indexOf(NL, s)) {
      take(buf.subarray(s, i), bufStart + i + 1);
      s = i + 1;
    }
    end = at - (buf.length - s);
    carry = buf.slice(s);
    if (carry.length > SCAN_BLOCK) { // one huge line: kept bounded until its end
      huge = new LongLine();
      huge.push(carry);
      carry = new Uint8Array();
      end = at;
    }
  }
  let promptLine: number | undefined;
  if (huge) {
    // A huge last line without its newline (yet): judged as it is, as one
    // too long to wait for (a next call reads on from its end so far).
    take(huge, at);
    end = at;
  }
  if (carry.length && finished && !cut) {
    take(carry, at);
    end = at;
  } else if (carry.length && !cut && info.waitingForInput === true) {
    // (Its cursor stays at the line's start: what the task writes after the
    // answer ends the line, and the next call reads it whole.)
    // (Counted only when shown: the next call counts it from `end`.)
    const whole = carry.subarray(0, carry.length - incompleteTail(carry));
    const before = lineNo;
    if (take(whole, end)) promptLine = lineNo;
    else lineNo = before;
  }
  if (tail.length === 0 && first && head[0].cut) {
    // Every match is in the head: the first may use what the others leave.
    const rest = headBytes - head[0].cost;
    const bytes = Math.max(LINE_BYTES_MIN, maxBytes - 16 - rest - overhead(head[0].line));
    head[0] = shownAs(first.text, head[0].line, bytes, head[0].end);
  }
  const longCut = [...head, ...tail].filter((m) => m.cut).length;
  const left = total - head.length - tail.length;
  const readOn = left > 0 && head.length > 0 ? head[head.length - 1].end : undefined;
  return {
    head,
    tail,
    total,
    lines: lineNo,
    end,
    size,
    longCut,
    cut,
    readOn,
    promptLine,
    ...(inPart ? { inPart } : {}),
  };
}

/** The longest last line {@linkcode lastLineStart} takes for a prompt. */
const PROMPT_BYTES = 4096;

/**
 * Where the output's line that `end` is inside starts (a line without its
 * newline yet, as a prompt is), `from` at the earliest: `end` itself when
 * the byte before it ends a line, or when that line is longer than a
 * prompt would be.
 */
export async function lastLineStart(
  tasks: TaskManager,
  info: ReadTarget,
  from: number,
  end: number,
): Promise<number> {
  const start = Math.max(from, end - PROMPT_BYTES);
  const b = await readBytes(tasks, info.id, start, end - start);
  if (b.length === 0 || b[b.length - 1] === NL) return end;
  const nl = b.lastIndexOf(NL);
  if (nl >= 0) return start + nl + 1;
  return start === from ? from : end;
}

/**
 * The output's last line when it has no line end yet, as a prompt's (cut to
 * 80 characters, and trimmed); "" when the output ends a line, is empty, or
 * its last line is longer than a prompt would be.
 */
export async function openLine(tasks: TaskManager, info: ReadTarget): Promise<string> {
  const end = await outputSize(info);
  const start = await lastLineStart(tasks, info, 0, end);
  if (start >= end) return "";
  const line = showText(await readBytes(tasks, info.id, start, end - start)).trim();
  return line.length > 80 ? cutText(line, 79) + "…" : line;
}

/** The last non-empty line of the output (cut to 200 characters), or "" when there is none. */
export async function latestLine(tasks: TaskManager, info: ReadTarget): Promise<string> {
  const size = await outputSize(info);
  const b = await readBytes(tasks, info.id, Math.max(0, size - 4096), Math.min(size, 4096));
  const lines = showText(b).split("\n").map((l) => l.trim()).filter((l) => l);
  const last = lines.at(-1) ?? "";
  return last.length > 200 ? cutText(last, 199) + "…" : last;
}

/** A piece of output fenced for the model, with a heading that says which bytes it holds. */
export function showPiece(id: string, piece: Piece): string {
  if (piece.size === 0) return `(${id} has printed nothing)`;
  if (piece.end === piece.start && !piece.omitted) {
    return `(no new output from ${id} after byte ${n(piece.start)}; it has ${
      n(piece.size)
    } bytes in all)`;
  }
  // A window cut in its middle shows two ranges: name both (not the whole
  // span, whose middle the marker says was left out).
  const o = piece.omitted;
  const ranges = o && o.from >= piece.start && o.to <= piece.end
    ? [[piece.start, o.from], [o.to, piece.end]].filter(([a, b]) => b > a)
      .map(([a, b]) => `${n(a)}–${n(b)}`).join(" and ")
    : `${n(piece.start)}–${n(piece.end)}`;
  return fenced(`output of ${id}, bytes ${ranges} of ${n(piece.size)}`, piece.text, true);
}

/** The facts line under a status line: where to read on, and whether anything was cut. */
export function pieceFacts(piece: Piece): string {
  const cut = piece.omitted
    ? `yes (bytes ${n(piece.omitted.from)}–${n(piece.omitted.to)} left out)`
    : "no";
  return `next_cursor: ${piece.end} · truncated: ${cut}`;
}
