/**
 * Output shown on a person's terminal without what would make that terminal
 * answer or change its modes. A task that ran on a terminal of its own
 * (`--stdin pty`) wrote what its programs sent to that terminal: queries
 * (the cursor's place, the terminal's kind and colours), whose answers the
 * viewing terminal would type into the shell's command line, and mode
 * switches (the alternate screen, mouse reporting, bracketed paste, the
 * keypad, line drawing), which nothing would switch back after `bgtask logs`
 * ends.
 *
 * What is kept is a short list; everything else that is a control sequence
 * goes. Kept: text; CSI sequences without a prefix or an intermediate byte,
 * with parameters made of digits, `;` and `:` only, ending in SGR (`m`:
 * colours and attributes), a cursor move (`A`–`H`, `f`, `d`, `` ` ``, `s`,
 * `u`), an erase or an insertion (`J`, `K`, `X`, `@`, `P`, `L`, `M`) or a
 * scroll (`S`, `T`); ESC `7`, `8`, `D`, `E`, `M`; ESC `(` `B` and ESC `)`
 * `B` (back to ASCII). Gone: every other CSI sequence (and ED 3, which
 * erases the viewer's scrollback), ESC sequence and string (OSC, DCS, SOS,
 * PM, APC), ENQ (a terminal answers it), SO (the G1 charset: line drawing,
 * once a curses program set it), the C1 controls written as UTF-8
 * (U+0080–U+009F: U+009B is a CSI to some terminals; a C2 byte alone goes
 * too), and a byte 0x80–0x9F that is no part of a UTF-8 character (to a
 * terminal that is not UTF-8, 0x9B is a CSI, 0x9D an OSC: `O\x9b6n` would
 * ask it for the cursor's place). Other bytes that are no UTF-8 (Latin-1
 * text) are shown. Attributes left on at the end are reset. Parsed as a
 * terminal parses (the VT500's transitions): an ESC ends whatever sequence
 * was under way and begins a new one, CAN and SUB cancel one, other C0
 * controls inside a sequence are acted on without ending it, a string ends
 * at BEL (an OSC), at ESC and any byte, and at U+009C (ST, as UTF-8: what
 * follows it is shown, as a terminal shows it). A sequence longer than
 * {@linkcode MAX_SEQUENCE} bytes goes to its end, and one unfinished at the
 * end of the output goes.
 *
 * @module
 */

const ESC = 0x1b;
const BEL = 0x07;
const ENQ = 0x05;
const SO = 0x0e;
const CAN = 0x18;
const SUB = 0x1a;
/** A sequence longer than this is no sequence a program meant: it goes. */
const MAX_SEQUENCE = 4096;

/** Bytes of text that go: ENQ (answered), SO (line drawing), CAN and SUB. */
const DROPPED = new Set([ENQ, SO, CAN, SUB]);

/** CSI final bytes kept (with plain parameters): SGR, moves, erases, insertions, scrolls. */
const CSI_KEPT = new Set([..."mABCDEFGHfd`suJKX@PLMST"].map((c) => c.charCodeAt(0)));
/** The second byte of a two-byte ESC sequence kept: save/restore cursor, index, next line, reverse index. */
const ESC_KEPT = new Set([..."78DEM"].map((c) => c.charCodeAt(0)));

/**
 * A private mode set that switches to the alternate screen (one of several
 * modes set at once too), after its ESC.
 */
const ALT_SCREEN = /^\[\?(?:[\d;]*;)?(?:1049|1047|47)(?:;[\d;]*)?h$/;

/** What the filter is inside of. */
type State =
  | "text"
  | "escape" // after ESC (and any intermediates)
  | "csi" // after ESC [
  | "string" // an OSC, DCS, SOS, PM or APC string, until BEL (OSC) or ESC and a byte
  | "string-escape" // an ESC inside such a string
  | "string-c2" // a C2 inside such a string (C2 9C, U+009C, ends it)
  | "utf8"; // inside a UTF-8 character (after its lead byte; C2 and 80–9F is a C1 control)

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
 * equal(safe.fullScreen, true); // (its \x1b[?1049h: the alternate screen)
 * ```
 */
export class TerminalSafe {
  #state: State = "text";
  /** The sequence read so far (from its ESC), or the character's bytes (`utf8`), while in one. */
  #seq: number[] = [];
  /** In a UTF-8 character: the continuation bytes still to come, and the range of the next. */
  #need = 0;
  #lo = 0x80;
  #hi = 0xbf;
  /** The sequence under way grew past {@linkcode MAX_SEQUENCE}: it goes, to its end. */
  #overlong = false;
  /** An SGR sequence was shown: the end resets the attributes (the shell's prompt is next). */
  #styled = false;
  /**
   * The output switched to the alternate screen (`\e[?1049h`, `?1047h`,
   * `?47h`): a full-screen program (vim, top, less), whose screen, replayed
   * without that switch, is drawn over the viewer's. For a note.
   */
  fullScreen = false;

  /** The bytes of `bytes` to show. */
  push(bytes: Uint8Array): Uint8Array {
    // Most output has nothing to look at: as it is.
    if (this.#state === "text" && plain(bytes)) return bytes;
    // (At most what came in, with what was held: a sequence, or a character's start.)
    const out = new Uint8Array(bytes.length + this.#seq.length + 1);
    let at = 0;
    let i = 0;
    while (i < bytes.length) {
      if (this.#state === "text") {
        // A run of text (and of whole UTF-8 characters but C1 controls),
        // copied whole up to the next byte to look at.
        let end = i;
        while (end < bytes.length) {
          const b = bytes[end];
          if (b < 0x80) {
            if (special(b)) break;
            end++;
          } else {
            const len = wholeChar(bytes, end);
            if (len === 0) break;
            end += len;
          }
        }
        out.set(bytes.subarray(i, end), at);
        at += end - i;
        i = end;
        if (i === bytes.length) break;
      }
      at = this.#step(bytes[i++], out, at);
      if (this.#seq.length > MAX_SEQUENCE) {
        // (As a terminal ignores a sequence's excess: to its end, not shown.)
        this.#seq = [ESC];
        this.#overlong = true;
      }
    }
    return out.subarray(0, at);
  }

  /**
   * The end of the output: a sequence never finished goes (what follows
   * could finish it); colours and attributes left on are reset.
   */
  end(): Uint8Array {
    // (A character cut by the end: its bytes as a byte that is no UTF-8 shows them.)
    const held = this.#state === "utf8" ? this.#seq.filter((c) => c >= 0xa0 && c !== 0xc2) : [];
    this.#drop();
    return Uint8Array.of(...held, ...(this.#styled ? [ESC, 0x5b, 0x30, 0x6d] : []));
  }

  #drop(): void {
    this.#seq = [];
    this.#state = "text";
    this.#overlong = false;
  }

  /** One byte outside a run of text; returns where the output goes on. */
  #step(b: number, out: Uint8Array, at: number): number {
    const state = this.#state;
    if (state === "utf8") {
      if (b >= this.#lo && b <= this.#hi) {
        this.#seq.push(b);
        this.#lo = 0x80;
        this.#hi = 0xbf;
        if (--this.#need > 0) return at;
        // A whole character, shown; C2 and 80–9F is a C1 control: gone.
        const seq = this.#seq;
        if (!(seq[0] === 0xc2 && seq[1] <= 0x9f)) at = emit(seq, out, at);
        this.#drop();
        return at;
      }
      // No character (Latin-1 text, or a cut one): its bytes shown, but for
      // a C2 (before anything else it is no character: written before a
      // byte dropped next, it could pair with the byte after and make a C1
      // control) and 80–9F (C1 controls to a terminal that is not UTF-8).
      for (const c of this.#seq) if (c >= 0xa0 && c !== 0xc2) out[at++] = c;
      this.#drop();
      return this.#step(b, out, at);
    }
    if (state === "text") {
      if (b === ESC) {
        this.#begin();
      } else if (LEAD[b] !== 0) {
        this.#state = "utf8";
        this.#seq = [b];
        this.#need = LEAD[b];
        this.#lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80; // (not an overlong form)
        this.#hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf; // (no surrogate, nor past U+10FFFF)
      } else if (b >= 0x80 && b <= 0x9f) {
        // Alone, no part of a character: a C1 control to a terminal that is not UTF-8. Gone.
      } else if (!DROPPED.has(b)) {
        // (ENQ: a terminal answers it; SO switches to the G1 charset, line
        // drawing once a curses program set it, for good; CAN and SUB alone
        // do nothing)
        out[at++] = b;
      }
      return at;
    }
    if (state === "string-c2") {
      // U+009C, ST: the string ends here (as a UTF-8 terminal ends it).
      this.#state = "string";
      if (b === 0x9c) {
        this.#drop();
        return at;
      }
      return this.#step(b, out, at);
    }
    if (state === "string" || state === "string-escape") {
      if (state === "string-escape") {
        // ESC and any byte ends a string (ST is ESC \): another begins with it.
        this.#drop();
        if (b === 0x5c) return at;
        this.#begin();
        return this.#step(b, out, at);
      }
      // (A string's bytes are not kept: it goes whole, however long.)
      if (b === BEL || b === CAN || b === SUB) this.#drop();
      else if (b === ESC) this.#state = "string-escape";
      else if (b === 0xc2) this.#state = "string-c2";
      return at;
    }
    // An escape or a CSI under way: what a terminal does with each byte.
    if (b === ESC) {
      this.#begin();
      return at;
    }
    if (b === CAN || b === SUB) {
      this.#drop();
      return at;
    }
    if (b < 0x20) {
      // Acted on without ending the sequence (a \r inside one moves the cursor).
      if (!DROPPED.has(b)) out[at++] = b;
      return at;
    }
    this.#seq.push(b);
    if (state === "escape") return this.#afterEscape(b, out, at);
    // CSI: parameters and intermediates until a final byte.
    if (b >= 0x40 && b <= 0x7e) {
      if (!this.#overlong && csiKept(this.#seq)) {
        at = emit(this.#seq, out, at);
        // (m: attributes; left on unless this one is a reset, \e[m or \e[0m)
        if (b === 0x6d) {
          const seq = this.#seq;
          this.#styled = !(seq.length === 3 || (seq.length === 4 && seq[2] === 0x30));
        }
      } else if (b === 0x68 && !this.fullScreen) {
        this.fullScreen = ALT_SCREEN.test(String.fromCharCode(...this.#seq.slice(1)));
      }
      this.#drop();
    }
    return at;
  }

  #afterEscape(b: number, out: Uint8Array, at: number): number {
    const seq = this.#seq;
    if (seq.length === 2) {
      if (b === 0x5b) {
        this.#state = "csi";
        return at;
      }
      if (b === 0x5d || b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f) {
        this.#state = "string"; // ] P X ^ _
        return at;
      }
    }
    if (b >= 0x20 && b <= 0x2f) return at; // an intermediate: the sequence goes on
    // Its final byte.
    const kept = this.#overlong ? false : (seq.length === 2 && ESC_KEPT.has(b)) ||
      (seq.length === 3 && (seq[1] === 0x28 || seq[1] === 0x29) && b === 0x42); // ESC ( B, ESC ) B
    if (kept) at = emit(seq, out, at);
    this.#drop();
    return at;
  }

  #begin(): void {
    this.#state = "escape";
    this.#seq = [ESC];
    this.#overlong = false;
  }
}

/** Whether an ASCII byte must be looked at: ESC, ENQ, SO, CAN, SUB. */
function special(b: number): boolean {
  return SPECIAL[b] === 1;
}

/** The bytes looked at whatever follows: those {@linkcode special} is true of, and C2 (a C1 control's lead byte). */
const SPECIAL_BYTES = [ESC, 0xc2, ...DROPPED];
/** {@linkcode special} as a table, for the runs of text scanned byte by byte. */
const SPECIAL = new Uint8Array(256);
for (const b of SPECIAL_BYTES) if (b < 0x80) SPECIAL[b] = 1;

/** Of each byte, the continuation bytes after it when it is a UTF-8 lead byte (C2–F4), else 0. */
const LEAD = new Uint8Array(256);
for (let b = 0xc2; b <= 0xf4; b++) LEAD[b] = b < 0xe0 ? 1 : b < 0xf0 ? 2 : 3;

/**
 * The length of the whole, well-formed UTF-8 character at `b[i]` (not an
 * ASCII byte), 0 when there is none, it is cut by the end of `b`, or it is a
 * C1 control (C2 80–9F).
 */
function wholeChar(b: Uint8Array, i: number): number {
  const c = b[i];
  const more = LEAD[c];
  if (more === 0 || i + more >= b.length) return 0;
  const next = b[i + 1];
  const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : c === 0xc2 ? 0xa0 : 0x80;
  const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
  if (next < lo || next > hi) return 0;
  for (let k = 2; k <= more; k++) if ((b[i + k] & 0xc0) !== 0x80) return 0;
  return more + 1;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Whether `bytes` holds no byte to look at: no ESC, ENQ, SO, CAN, SUB nor C2, and only whole UTF-8 characters. */
function plain(bytes: Uint8Array): boolean {
  // (One search a byte: each is native, and faster than a look at every byte here.)
  for (const b of SPECIAL_BYTES) if (bytes.indexOf(b) >= 0) return false;
  try {
    // (Well-formed, and not cut at its end: no byte 80–9F alone. Native.)
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function emit(seq: number[], out: Uint8Array, at: number): number {
  for (const b of seq) out[at++] = b;
  return at;
}

/**
 * Whether a whole CSI sequence (`ESC [ params final`) is one kept: its
 * parameters digits, `;` and `:` only (no `?`, `>`, `=`, `<` prefix and no
 * intermediate byte), its final one of {@linkcode CSI_KEPT}.
 */
function csiKept(seq: number[]): boolean {
  for (let i = 2; i < seq.length - 1; i++) {
    const c = seq[i];
    if (!((c >= 0x30 && c <= 0x39) || c === 0x3b || c === 0x3a)) return false;
  }
  const final = seq[seq.length - 1];
  // ED 3 (clear's \e[3J) erases the viewer's scrollback: only 0, 1 and 2 are kept.
  if (final === 0x4a && seq.length > 3 && !(seq.length === 4 && seq[2] <= 0x32)) return false;
  return CSI_KEPT.has(final);
}
