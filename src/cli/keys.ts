/**
 * Interactive tasks on the command line: `run --stdin`, and the keys `send
 * --key` types.
 *
 * @module
 */

import type { StdinMode } from "../../mod.ts";
import { UsageError } from "./errors.ts";
import { quote } from "./escape.ts";

/**
 * Parses `--stdin`: `null`, `pipe` or `pty`.
 *
 * @throws {UsageError} For anything else.
 *
 * @example
 * ```ts
 * import { parseStdinMode } from "./keys.ts";
 * import { equal } from "node:assert/strict";
 * equal(parseStdinMode("pty"), "pty");
 * ```
 */
export function parseStdinMode(text: string): StdinMode {
  if (text === "null" || text === "pipe" || text === "pty") return text;
  throw new UsageError(`invalid value ${quote(text)} for --stdin (expected pipe, pty or null)`);
}

const NAMED: Record<string, string> = {
  enter: "\r",
  return: "\r",
  tab: "\t",
  esc: "\x1b",
  escape: "\x1b",
  backspace: "\x7f",
  space: " ",
  up: "\x1b[A",
  down: "\x1b[B",
  right: "\x1b[C",
  left: "\x1b[D",
  home: "\x1b[H",
  end: "\x1b[F",
  insert: "\x1b[2~",
  delete: "\x1b[3~",
  pageup: "\x1b[5~",
  pagedown: "\x1b[6~",
  "shift-tab": "\x1b[Z",
  // xterm's function keys (TERM xterm-256color, a terminal task's default)
  f1: "\x1bOP",
  f2: "\x1bOQ",
  f3: "\x1bOR",
  f4: "\x1bOS",
  f5: "\x1b[15~",
  f6: "\x1b[17~",
  f7: "\x1b[18~",
  f8: "\x1b[19~",
  f9: "\x1b[20~",
  f10: "\x1b[21~",
  f11: "\x1b[23~",
  f12: "\x1b[24~",
};

/** The key names `send --key` knows, for help and errors. */
export const KEY_NAMES =
  "ctrl-a … ctrl-z, ctrl-@ ctrl-[ ctrl-\\ ctrl-] ctrl-^ ctrl-_, enter, tab, esc, " +
  "backspace, space, up, down, left, right, home, end, insert, delete, pageup, pagedown, " +
  "shift-tab, f1 … f12";

/**
 * The bytes a key sends on a terminal: `ctrl-c` (also `C-c`, `^C`), `enter`,
 * `up`, ….
 *
 * @throws {UsageError} For a key it does not know.
 *
 * @example
 * ```ts
 * import { keyBytes } from "./keys.ts";
 * import { equal } from "node:assert/strict";
 * equal(keyBytes("ctrl-c"), "\u0003");
 * equal(keyBytes("up"), "\u001b[A");
 * equal(keyBytes("F10"), "\u001b[21~");
 * ```
 */
export function keyBytes(name: string): string {
  const k = name.trim().toLowerCase();
  if (Object.hasOwn(NAMED, k)) return NAMED[k];
  const m = /^(?:ctrl-|ctrl\+|c-|\^)(.)$/.exec(k);
  if (m) {
    const c = m[1].toUpperCase().charCodeAt(0);
    if (c >= 0x40 && c <= 0x5f) return String.fromCharCode(c - 0x40);
    if (m[1] === " ") return "\0";
    if (m[1] === "?") return "\x7f";
  }
  throw new UsageError(`unknown key ${quote(name)} for --key (keys: ${KEY_NAMES})`);
}
