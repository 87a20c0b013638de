/**
 * Output shown on a person's terminal without what would make that terminal
 * answer or change its modes. A task that ran on a terminal of its own
 * (`--stdin pty`) wrote what its programs sent to that terminal: queries
 * (the cursor's place, the terminal's kind and colours), whose answers the
 * viewing terminal would type into the shell's command line, and mode
 * switches (the alternate screen, mouse reporting, bracketed paste, the
 * keypad), which nothing would switch back after `bgtask logs` ends.
 *
 * Left out: CSI sequences that ask (final `n`, `c`, `t`, DECRQM `$p`) or set
 * private modes (`?…h`, `?…l`, and every one with a `>`, `=` or `<`
 * prefix); every OSC (titles, colours and their queries, the clipboard),
 * DCS, SOS, PM and APC string; and ESC `=`, ESC `>` and ESC `c` (a full
 * reset). Kept: text, colours and the other SGR attributes, cursor moves
 * and erasing, charset selections.
 *
 * @module
 */

const ESC = 0x1b;
const BEL = 0x07;
/** A sequence not ended within this many bytes is no sequence: passed on as it is. */
const MAX_SEQUENCE = 4096;

/** What the filter is inside of. */
type State =
  | "text"
  | "escape" // after ESC
  | "csi" // after ESC [
  | "string" // an OSC, DCS, SOS, PM or APC string, until BEL (OSC) or ESC \
  | "string-escape"; // an ESC inside such a string (ST is ESC \)

/**
 * A streaming filter: bytes in, the bytes to show out; a sequence cut
 * between two pieces is held until its end comes.
 *
 * @example
 * ```ts
 * import { TerminalSafe } from "./terminal_safe.ts";
 * import { equal } from "node:assert/strict";
 * const safe = new TerminalSafe();
 * const enc = new TextEncoder();
 * const dec = new TextDecoder();
 * const shown = safe.push(enc.encode("\x1b[?1049h\x1b[31mred\x1b[0m\x1b[6n ok\x1b]11;?\x07\n"));
 * equal(dec.decode(shown), "\x1b[31mred\x1b[0m ok\n");
 * ```
 */
export class TerminalSafe {
  #state: State = "text";
  /** The sequence read so far (from its ESC), while not in text. */
  #seq: number[] = [];

  /** The bytes of `bytes` to show, with what came before them and was held. */
  push(bytes: Uint8Array): Uint8Array {
    // Most output has no escape at all: as it is.
    if (this.#state === "text" && bytes.indexOf(ESC) < 0) return bytes;
    const parts: Uint8Array[] = [];
    let i = 0;
    while (i < bytes.length) {
      if (this.#state === "text") {
        // A run of text, copied whole up to the next escape.
        const next = bytes.indexOf(ESC, i);
        const end = next < 0 ? bytes.length : next;
        if (end > i) parts.push(bytes.subarray(i, end));
        i = end;
        if (i === bytes.length) break;
      }
      const out: number[] = [];
      this.#step(bytes[i++], out);
      if (out.length > 0) parts.push(Uint8Array.from(out));
      // A sequence this long is not one a program meant: shown as it is.
      if (this.#seq.length > MAX_SEQUENCE) {
        parts.push(Uint8Array.from(this.#seq));
        this.#seq = [];
        this.#state = "text";
      }
    }
    return concat(parts);
  }

  /** What is held at the end (a sequence never ended): shown as it is, unless it would ask. */
  end(): Uint8Array {
    const held = this.#state === "string" || this.#state === "string-escape" ? [] : this.#seq;
    this.#seq = [];
    this.#state = "text";
    return Uint8Array.from(held);
  }

  #step(b: number, out: number[]): void {
    switch (this.#state) {
      case "text":
        if (b === ESC) {
          this.#state = "escape";
          this.#seq = [b];
        } else {
          out.push(b);
        }
        return;
      case "escape":
        this.#seq.push(b);
        if (b === 0x5b) { // [
          this.#state = "csi";
        } else if (b === 0x5d || b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f) {
          this.#state = "string"; // ] P X ^ _
        } else if (b >= 0x20 && b <= 0x2f) {
          // An intermediate (ESC ( B, ESC # 8): the sequence goes on.
        } else {
          // ESC = and ESC > (the keypad), ESC c (a reset): left out.
          const drop = this.#seq.length === 2 && (b === 0x3d || b === 0x3e || b === 0x63);
          this.#finish(out, !drop);
        }
        return;
      case "csi":
        this.#seq.push(b);
        if (b >= 0x40 && b <= 0x7e) this.#finish(out, !csiAsks(this.#seq));
        return;
      case "string":
        this.#seq.push(b);
        if (b === BEL) this.#finish(out, false);
        else if (b === ESC) this.#state = "string-escape";
        return;
      case "string-escape":
        this.#seq.push(b);
        if (b === 0x5c) this.#finish(out, false); // ESC \ (ST)
        else this.#state = "string";
        return;
    }
  }

  #finish(out: number[], keep: boolean): void {
    if (keep) out.push(...this.#seq);
    this.#seq = [];
    this.#state = "text";
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Whether a whole CSI sequence (`ESC [ … final`) asks the terminal something
 * or sets one of its modes.
 */
function csiAsks(seq: number[]): boolean {
  const final = String.fromCharCode(seq[seq.length - 1]);
  const params = String.fromCharCode(...seq.slice(2, -1));
  if (/^[<=>]/.test(params)) return true; // xterm's private sets and queries
  if (final === "n" || final === "c" || final === "t") return true; // reports, window ops
  if (final === "p" && params.endsWith("$")) return true; // DECRQM
  if (params.startsWith("?") && (final === "h" || final === "l" || final === "u")) return true;
  return false;
}
