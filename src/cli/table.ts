/**
 * Aligned text tables, as `docker ps` and `pueue status` print them.
 *
 * @module
 */

import { cutMiddle, cutToWidth, displayWidth } from "./escape.ts";
import type { Paint } from "./style.ts";

/** One cell: its plain text (already escaped) and an optional style. */
export interface Cell {
  /** Printable text, without control characters. */
  text: string;
  /** Applied after alignment, so colour codes never skew the columns. */
  paint?: Paint;
  /**
   * How many characters at the end of `text` stay whole when the cell is cut
   * (a queue cell's ` #3` or ` after b7`): the text before them is cut in its
   * middle instead (see {@linkcode cutMiddle}).
   */
  keep?: number;
}

/** A column: its header and which side it aligns to. */
export interface Column {
  /** The header, printed as is. */
  header: string;
  /** `"right"` for numbers; default left. */
  align?: "left" | "right";
  /**
   * A text column that may be cut (in its middle), down to this width, when
   * the table would not fit its `width` otherwise (as the last column is,
   * down to 10, at its end).
   */
  cut?: number;
  /**
   * With a `width` (a terminal), the most this column takes: a longer text
   * is cut in its middle, once, to the narrower of this and what `cut` leaves
   * it. Without a `width`, nothing is cut.
   */
  max?: number;
  /**
   * With a `width`, a column that is left out (header and cells) when the
   * table would not fit otherwise, even with the columns that may be cut at
   * their least: the highest `drop` goes first.
   */
  drop?: number;
}

/** How to print a table. */
export interface TableOptions {
  /**
   * Cut the last column and the columns that may be cut (and, where that is
   * not enough, leave out those that may be dropped) so that no line is
   * wider than this, down to the least they take; no cut when undefined.
   */
  width?: number;
  /** The header's style. */
  headerPaint?: Paint;
}

const GAP = "  ";
/** The least the last column is cut to. */
const MIN_LAST = 10;

/**
 * Renders rows under headers, columns separated by two spaces, each line
 * ending in `\n`. With a `width`, no line is wider: the last column (the
 * free text one) and those marked `cut` are cut to one common width, the
 * widest that fits (the widest text gives up room first; none below its
 * least: 10 for the last), and where that is not enough, the columns marked
 * `drop` are left out. The last column is not padded; unless it aligns right
 * (a number): then it is padded and never cut.
 *
 * @example
 * ```ts
 * import { renderTable } from "./table.ts";
 * import { equal } from "node:assert/strict";
 * const text = renderTable(
 *   [{ header: "ID" }, { header: "WHAT" }],
 *   [[{ text: "b1" }, { text: "build" }], [{ text: "b10" }, { text: "test" }]],
 * );
 * equal(text, "ID   WHAT\nb1   build\nb10  test\n");
 * const narrow = renderTable(
 *   [{ header: "ID" }, { header: "QUEUE", cut: 6 }, { header: "WHAT" }],
 *   [[{ text: "b1" }, { text: "a-queue-named-at-length" }, { text: "build the thing" }]],
 *   { width: 30 },
 * );
 * equal(narrow, "ID  QUEUE         WHAT\nb1  a-queu…ength  build the t…\n");
 * ```
 */
export function renderTable(columns: Column[], rows: Cell[][], options: TableOptions = {}): string {
  return tableLines(columns, rows, options).join("");
}

/**
 * {@linkcode renderTable}'s lines, each with its newline: the header, then
 * one for each row, in order (a writer that must know which rows were
 * written whole counts them).
 *
 * @example
 * ```ts
 * import { tableLines } from "./table.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(
 *   tableLines([{ header: "ID" }, { header: "WHAT" }], [[{ text: "b1" }, { text: "build" }]]),
 *   ["ID  WHAT\n", "b1  build\n"],
 * );
 * ```
 */
export function tableLines(
  columns: Column[],
  rows: Cell[][],
  options: TableOptions = {},
): string[] {
  const natural = columns.map((c, i) =>
    Math.max(displayWidth(c.header), ...rows.map((r) => displayWidth(r[i]?.text ?? "")))
  );
  let shown = columns.map((_c, i) => i);
  let widths = natural;
  if (options.width !== undefined) {
    const capped = cappedWidths(columns, natural);
    const least = leastWidths(columns, rows, capped);
    let fit = fitWidths(columns, capped, least, shown, options.width);
    // Still too wide with the columns that may be cut at their least: leave
    // out those that may go (STARTED, then DURATION), one at a time. Below
    // what is left (ID, STATUS, EXIT, and QUEUE and TASK at their least),
    // rows are wider than `width` and the terminal wraps them: an id or a
    // status is never cut.
    while (fit === undefined) {
      const droppable = shown.filter((i) => columns[i].drop !== undefined);
      if (droppable.length === 0) break;
      const gone = droppable.reduce((a, b) => columns[b].drop! > columns[a].drop! ? b : a);
      shown = shown.filter((i) => i !== gone);
      fit = fitWidths(columns, capped, least, shown, options.width);
    }
    widths = fit ?? least;
  }
  const lastShown = shown[shown.length - 1];
  const fixed = shown.filter((i) => i !== lastShown)
    .reduce((a, i) => a + widths[i] + GAP.length, 0);
  const room = options.width === undefined
    ? undefined
    : Math.max(Math.min(MIN_LAST, natural[lastShown]), options.width - fixed);
  const line = (cells: Cell[], paintAll?: Paint): string =>
    shown.map((i) => {
      const col = columns[i];
      let text = cells[i]?.text ?? "";
      let pad = "";
      if (i === lastShown && col.align !== "right") {
        if (room !== undefined) text = cutToWidth(text, room);
      } else {
        if (options.width !== undefined) text = cutMiddle(text, widths[i], cells[i]?.keep);
        pad = " ".repeat(widths[i] - displayWidth(text));
      }
      const paint = paintAll ?? cells[i]?.paint;
      const painted = paint && text ? paint(text) : text;
      return col.align === "right" ? pad + painted : painted + pad;
    }).join(GAP).trimEnd() + "\n";
  const header = line(columns.map((c) => ({ text: c.header })), options.headerPaint);
  return [header, ...rows.map((r) => line(r))];
}

/** The widths with each column's `max` applied (never below its header; the last has none). */
function cappedWidths(columns: Column[], natural: number[]): number[] {
  const last = columns.length - 1;
  return natural.map((w, i) => {
    const max = columns[i].max;
    return max === undefined || i === last
      ? w
      : Math.min(w, Math.max(max, displayWidth(columns[i].header)));
  });
}

/** The most a kept end (a cell's `keep`) adds to its column's least width. */
const KEEP_MOST = 16;

/**
 * The least each column may be cut to: a `cut` column to its `cut` (or its
 * header, or what keeps its cells' kept ends visible behind three
 * characters and a `…`, up to {@linkcode KEEP_MOST}); the last, left-aligned, to 10;
 * the others not at all.
 */
function leastWidths(columns: Column[], rows: Cell[][], capped: number[]): number[] {
  const last = columns.length - 1;
  return columns.map((c, i) => {
    const header = displayWidth(c.header);
    if (i === last) {
      return c.align === "right" ? capped[i] : Math.min(capped[i], Math.max(MIN_LAST, header));
    }
    if (c.cut === undefined) return capped[i];
    const keep = Math.max(0, ...rows.map((r) => r[i]?.keep ?? 0));
    const kept = keep === 0 ? 0 : Math.min(KEEP_MOST, keep + 4);
    return Math.min(capped[i], Math.max(c.cut, header, kept));
  });
}

/**
 * The widths of the `shown` columns that fit `width`, or undefined when they
 * do not fit even at their least. The columns that may be cut (the `cut`
 * ones, and a left-aligned last one) are cut to one common width, the
 * widest that fits, none below its least: the widest text gives up room
 * first, and what is left over goes to the last column.
 */
function fitWidths(
  columns: Column[],
  capped: number[],
  least: number[],
  shown: number[],
  width: number,
): number[] | undefined {
  const lastShown = shown[shown.length - 1];
  const cut = shown.filter((i) =>
    i === lastShown ? columns[i].align !== "right" : columns[i].cut !== undefined
  );
  const fixed = shown.filter((i) => !cut.includes(i)).reduce((a, i) => a + capped[i], 0) +
    GAP.length * (shown.length - 1);
  const at = (cap: number, i: number) => Math.max(least[i], Math.min(capped[i], cap));
  const total = (cap: number) => fixed + cut.reduce((a, i) => a + at(cap, i), 0);
  if (total(0) > width) return undefined;
  let lo = 0;
  let hi = Math.max(0, ...capped);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (total(mid) <= width) lo = mid;
    else hi = mid - 1;
  }
  return capped.map((w, i) => cut.includes(i) ? at(lo, i) : w);
}
