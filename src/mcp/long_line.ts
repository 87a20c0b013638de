/**
 * One line of output, kept in bounded memory for a pattern to judge, as a
 * terminal shows it: a line redrawn with carriage returns (a progress bar)
 * is its last drawing, whatever its length; a line still longer than
 * {@linkcode MAX_LINE_BYTES} is judged on its first and last
 * {@linkcode LINE_PART_BYTES}, and says so ({@linkcode LongLine.inPart}).
 *
 * @module
 */

import { concat } from "../bytes.ts";
import { incompleteTail } from "../ops/read.ts";
import { cleanOutput, decodeOutput } from "./format.ts";

/**
 * The longest line judged whole (after its last carriage-return redraw);
 * a longer one is judged on its first and last {@linkcode LINE_PART_BYTES}.
 */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Of a line over {@linkcode MAX_LINE_BYTES}, the bytes judged at its start, and at its end. */
export const LINE_PART_BYTES = MAX_LINE_BYTES / 2;
const CR = 0x0d;

/** Continuation bytes at the start of `b` (the end of a character cut off before it). */
export function leadingContinuation(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && i < 3 && (b[i] & 0xc0) === 0x80) i++;
  return i;
}

/**
 * Where in `b` the line's last drawing with text starts: just past the last
 * carriage return followed by something else (`afterCr`: the bytes before
 * `b` ended in one), or -1 when `b` has none. (A line end `\r\n` or a last
 * `\r` starts no drawing: the one before it is what shows.)
 */
function redrawIn(b: Uint8Array, afterCr: boolean): number {
  for (let i = b.lastIndexOf(CR); i >= 0; i = i > 0 ? b.lastIndexOf(CR, i - 1) : -1) {
    if (i + 1 < b.length && b[i + 1] !== CR) return i + 1;
  }
  return afterCr && b.length > 0 && b[0] !== CR ? 0 : -1;
}

/** What {@linkcode LongLine.judge} found: the text that matched. */
export interface Judged {
  /** The text matched (cleaned as `cleanOutput` cleans it): the line, or the part of it judged. */
  text: string;
  /** `whole`: the line (its last drawing); else the part of a long line that matched. */
  part: "whole" | "first" | "last";
  /** For a line not ended: the bytes at its end left out, a character not whole yet. */
  cut: number;
}

/**
 * The bytes of one output line as they come, kept bounded: up to
 * {@linkcode MAX_LINE_BYTES} all of them (so a line of that size is judged
 * exactly as `cleanOutput` shows it); past that, only what follows its last
 * redraw (a `\r` and more text: what a terminal shows), and when that is
 * still too long, its first and last {@linkcode LINE_PART_BYTES}.
 *
 * @example
 * ```ts
 * import { LongLine } from "./long_line.ts";
 * import { equal } from "node:assert/strict";
 * const bar = new LongLine();
 * const enc = new TextEncoder();
 * for (let i = 0; i < 200_000; i++) bar.push(enc.encode(`\r${i % 100}%  `));
 * bar.push(enc.encode("\rALL DONE"));
 * equal(bar.judge((t) => /ALL DONE/.test(t))?.text, "ALL DONE");
 * equal(bar.inPart, false);
 * const long = new LongLine();
 * long.push(new Uint8Array(3_000_000).fill(0x2e));
 * long.push(enc.encode("MARK-END"));
 * equal(long.judge((t) => t.endsWith("MARK-END"))?.part, "last");
 * equal(long.inPart, true);
 * ```
 */
export class LongLine {
  /** All the bytes kept, or (in part) the first LINE_PART_BYTES of them. */
  #head: Uint8Array[] = [];
  #headBytes = 0;
  /** In part: the last bytes, at most LINE_PART_BYTES. */
  #tail: Uint8Array[] = [];
  #tailBytes = 0;
  /** The bytes from the start kept (the line's, or its last redraw's) on. */
  #drawn = 0;
  /** Where in what is kept the last redraw starts (-1: none past the start). */
  #redraw = -1;
  #bytes = 0;
  #afterCr = false;

  /** The line's size so far, in bytes (all of it, redraws included). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether bytes of its last drawing were left out: it is judged on its first and last parts. */
  get inPart(): boolean {
    return this.#tailBytes > 0;
  }

  /** Adds the line's next bytes (never a newline). */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#bytes += bytes.length;
    const redraw = redrawIn(bytes, this.#afterCr);
    this.#afterCr = bytes[bytes.length - 1] === CR;
    if (this.inPart) {
      if (redraw < 0) {
        this.#drawn += bytes.length;
        this.#toTail(bytes);
        return;
      }
      // A new drawing: what came before it shows no more.
      this.#head = [];
      this.#headBytes = 0;
      this.#tail = [];
      this.#tailBytes = 0;
      this.#drawn = 0;
      this.#redraw = -1;
      bytes = bytes.subarray(redraw);
    } else if (redraw >= 0) {
      this.#redraw = this.#drawn + redraw;
    }
    this.#head.push(bytes.slice());
    this.#headBytes += bytes.length;
    this.#drawn += bytes.length;
    if (this.#drawn <= MAX_LINE_BYTES) return;
    // Too long: from its last redraw on, and if that is still too long, in part.
    let all = concat(this.#head);
    if (this.#redraw > 0) all = all.subarray(this.#redraw);
    this.#redraw = -1;
    this.#drawn = all.length;
    if (all.length <= MAX_LINE_BYTES) {
      this.#head = [all.slice()];
      this.#headBytes = all.length;
      return;
    }
    this.#head = [all.slice(0, LINE_PART_BYTES)];
    this.#headBytes = LINE_PART_BYTES;
    this.#tail = [all.slice(all.length - LINE_PART_BYTES)];
    this.#tailBytes = LINE_PART_BYTES;
  }

  /** Keeps `bytes` as the end of the tail, the tail at most LINE_PART_BYTES. */
  #toTail(bytes: Uint8Array): void {
    if (bytes.length >= LINE_PART_BYTES) {
      this.#tail = [bytes.slice(bytes.length - LINE_PART_BYTES)];
      this.#tailBytes = LINE_PART_BYTES;
      return;
    }
    this.#tail.push(bytes.slice());
    this.#tailBytes += bytes.length;
    let drop = 0;
    while (this.#tailBytes - this.#tail[drop].length >= LINE_PART_BYTES) {
      this.#tailBytes -= this.#tail[drop++].length;
    }
    if (drop > 0) this.#tail = this.#tail.slice(drop);
    if (this.#tail.length > 64) this.#tail = [concat(this.#tail)]; // (many small writes)
    const over = this.#tailBytes - LINE_PART_BYTES;
    if (over > 0) {
      this.#tail[0] = this.#tail[0].subarray(over);
      this.#tailBytes -= over;
    }
  }

  /**
   * The first text of the line that `test` accepts, cleaned as
   * `cleanOutput` cleans it and with bytes that are no UTF-8 written `\xNN`:
   * the whole line (as it was last drawn), or in part its first part, else
   * its last. With `open` (the line has not ended), a character not whole
   * yet at its end is left out (`cut`).
   */
  judge(test: (text: string) => boolean, open = false): Judged | undefined {
    if (!this.inPart) {
      const bytes = this.#head.length === 1 ? this.#head[0] : concat(this.#head);
      const cut = open ? incompleteTail(bytes) : 0;
      const text = cleanOutput(decodeOutput(bytes.subarray(0, bytes.length - cut)));
      return test(text) ? { text, part: "whole", cut } : undefined;
    }
    const head = concat(this.#head);
    const first = cleanOutput(decodeOutput(head.subarray(0, head.length - incompleteTail(head))));
    const tail = concat(this.#tail);
    const cut = open ? incompleteTail(tail) : 0;
    if (test(first)) return { text: first, part: "first", cut };
    const last = cleanOutput(
      decodeOutput(tail.subarray(leadingContinuation(tail), tail.length - cut)),
    );
    return test(last) ? { text: last, part: "last", cut } : undefined;
  }
}
