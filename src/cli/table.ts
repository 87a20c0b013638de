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
}

/** A column: its header and which side it aligns to. */
export interface Column {
  /** The header, printed as is. */
  header: string;
  /** `"right"` for numbers; default left. */
  align?: "left" | "right";
  /**
   * A text column that may be cut (in its middle), down to this width, when
   * the table would not fit its `width` otherwise (the last column keeps 10).
   */
  cut?: number;
  /**
   * With a `width` (a terminal), the most this column takes: a longer text
   * is cut in its middle, once, to the narrower of this and what `cut` leaves
   * it. Without a `width`, nothing is cut.
   */
  max?: number;
}

/** How to print a table. */
export interface TableOptions {
  /**
   * Cut the last column (and, where that is not enough, the columns that may
   * be cut) so that no line is wider than this; no cut when undefined.
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
 * ending in `\n`. The last column is cut to fit `width` (it is the free text
 * one), and it is not padded; unless it aligns right (a number): then it is
 * padded and never cut. Where the other columns leave it less than 10, those
 * marked `cut` give up room first, widest first.
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
 * equal(narrow, "ID  QUEUE           WHAT\nb1  a-queue…length  build the…\n");
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
  const widths = columns.map((c, i) =>
    Math.max(displayWidth(c.header), ...rows.map((r) => displayWidth(r[i]?.text ?? "")))
  );
  const last = columns.length - 1;
  if (options.width !== undefined) {
    columns.forEach((c, i) => {
      if (c.max !== undefined && i < last) {
        widths[i] = Math.min(widths[i], Math.max(c.max, displayWidth(c.header)));
      }
    });
    let over = widths.slice(0, last).reduce((a, w) => a + w + GAP.length, 0) + MIN_LAST -
      options.width;
    const cuttable = columns.map((_c, i) => i).filter((i) =>
      i < last && columns[i].cut !== undefined
    )
      .sort((a, b) => widths[b] - widths[a]);
    for (const i of cuttable) {
      if (over <= 0) break;
      const least = Math.max(columns[i].cut!, displayWidth(columns[i].header));
      const give = Math.min(over, widths[i] - least);
      if (give > 0) {
        widths[i] -= give;
        over -= give;
      }
    }
  }
  const fixed = widths.slice(0, last).reduce((a, w) => a + w + GAP.length, 0);
  const room = options.width === undefined ? undefined : Math.max(MIN_LAST, options.width - fixed);
  const line = (cells: Cell[], paintAll?: Paint): string =>
    columns.map((col, i) => {
      let text = cells[i]?.text ?? "";
      let pad = "";
      if (i === last && col.align !== "right") {
        if (room !== undefined) text = cutToWidth(text, room);
      } else {
        if (col.cut !== undefined || col.max !== undefined) text = cutMiddle(text, widths[i]);
        pad = " ".repeat(widths[i] - displayWidth(text));
      }
      const paint = paintAll ?? cells[i]?.paint;
      const shown = paint && text ? paint(text) : text;
      return col.align === "right" ? pad + shown : shown + pad;
    }).join(GAP).trimEnd() + "\n";
  const header = line(columns.map((c) => ({ text: c.header })), options.headerPaint);
  return [header, ...rows.map((r) => line(r))];
}
