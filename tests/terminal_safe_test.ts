import assert from "node:assert/strict";
import { TerminalSafe } from "../src/cli/terminal_safe.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** `text` through a fresh filter, in pieces of `size` bytes. */
function shown(text: string, size = Infinity): string {
  const safe = new TerminalSafe();
  const bytes = enc.encode(text);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    out.push(...safe.push(bytes.subarray(i, Math.min(bytes.length, i + size))));
  }
  out.push(...safe.end());
  return dec.decode(Uint8Array.from(out));
}

Deno.test("terminal-safe: queries, mode switches and strings go; text, colours, moves stay, in any pieces", () => {
  const cases: [string, string][] = [
    ["plain text\n", "plain text\n"],
    ["\x1b[31mred\x1b[0m \x1b[1;32mgreen\x1b[m\n", "\x1b[31mred\x1b[0m \x1b[1;32mgreen\x1b[m\n"],
    ["\x1b[2J\x1b[H\x1b[10;5Hat\x1b[K", "\x1b[2J\x1b[H\x1b[10;5Hat\x1b[K"],
    ["\x1b(B\x1b)0\x1b7\x1b8", "\x1b(B\x1b)0\x1b7\x1b8"],
    // What vim sent to its terminal (bgtask logs of a pty task), one by one:
    ["a\x1b[6nb", "ab"], // where is the cursor?
    ["a\x1b[>cb\x1b[cc\x1b[=cd", "abcd"], // what terminal are you?
    ["a\x1b]10;?\x07b\x1b]11;?\x1b\\c", "abc"], // your colours?
    ["\x1b[?1049hscreen\x1b[?1049l", "screen"], // the alternate screen
    ["\x1b[?1006;1000h\x1b[?2004h\x1b[?1004h\x1b[?25l", ""], // mouse, paste, focus, cursor
    ["\x1b=keypad\x1b>", "keypad"],
    ["\x1bcreset", "reset"],
    ["\x1b]0;a title\x07t", "t"],
    ["\x1b]52;c;c2VjcmV0\x07clip", "clip"], // the clipboard
    ["\x1bP+q544e\x1b\\x", "x"], // XTGETTCAP
    ["\x1b[>4;1m\x1b[?u\x1b[?1$p\x1b[18t!", "!"], // modifyOtherKeys, kitty, DECRQM, window
    ["é\x1b[6nü", "éü"],
  ];
  for (const [input, want] of cases) {
    for (const size of [Infinity, 1, 2, 3]) {
      assert.equal(shown(input, size), want, `${JSON.stringify(input)} in pieces of ${size}`);
    }
  }
});

Deno.test("terminal-safe: a sequence never ended is shown as it is, but a string (which may ask) is not", () => {
  assert.equal(shown("a\x1b[12"), "a\x1b[12");
  assert.equal(shown("a\x1b]11;?"), "a");
  // A run-away "sequence" is no sequence: past 4 KiB, shown.
  const long = "\x1b[" + "1;".repeat(3000) + "m";
  assert.equal(shown(long, 100), long);
});

Deno.test("terminal-safe: output without an escape is passed as the same bytes", () => {
  const safe = new TerminalSafe();
  const bytes = enc.encode("no escape here\n");
  assert.equal(safe.push(bytes), bytes);
});
