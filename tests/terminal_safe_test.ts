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
    ["\x1b(B\x1b)B\x1b7\x1b8\x1bM", "\x1b(B\x1b)B\x1b7\x1b8\x1bM"],
    ["\x1b(0lqk\x1b(B", "lqk\x1b(B"], // line drawing: a mode that would stay
    ["\u00a0é\n", "\u00a0é\n"], // (C2 A0 is no C1 control)
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
    // Parsed as a terminal parses: no way around (each of these made tmux answer).
    ["A\x1b\x1b[6nB", "AB"], // an ESC ends the sequence under way
    ["E\x1b[\x1b[6nF", "EF"],
    ["K\x1b\r[6nL", "K\rL"], // a C0 control inside a sequence is acted on, not an end
    [`\x1b]\x1b[6n${"A".repeat(5000)}\x07`, `${"A".repeat(5000)}\x07`], // ESC ends a string
    ["\x1b[1\x1b[?1049h", ""],
    ["\x1b[\x1b]52;c;?\x07", ""],
    ["a\x1b[6\x18n", "an"], // CAN cancels
    // What else asks or sets: ENQ, DECID, DECREQTPARM, XTREPORTSGR, DECRQTSR,
    // DECRQPSR, KAM, IRM, DECSCUSR, a C1 CSI (U+009B).
    ["a\x05b\x1bZc\x1b[xd\x1b[1#|e\x1b[1$uf\x1b[1$wg", "abcdefg"],
    ["\x1b[2h\x1b[4h\x1b[2 qh\u009b6ni", "h6ni"],
    // From a second review: SO (line drawing for good), ED 3 (the scrollback erased).
    ["ok\x0eabc\x0f", "okabc\x0f"],
    ["\x1b[H\x1b[2J\x1b[3Jclear", "\x1b[H\x1b[2Jclear"],
  ];
  for (const [input, want] of cases) {
    for (const size of [Infinity, 1, 2, 3]) {
      assert.equal(shown(input, size), want, `${JSON.stringify(input)} in pieces of ${size}`);
    }
  }
});

Deno.test("terminal-safe: no C1 control is made of what is left (C2, then a byte that goes, then 80–9F)", () => {
  const bytes = (...b: number[]) => Uint8Array.of(...b);
  for (
    const input of [
      bytes(0xc2, 0x18, 0x9b, 0x36, 0x6e),
      bytes(0xc2, 0x05, 0x9b, 0x36, 0x6e),
      bytes(0xc2, 0x1b, 0x5b, 0x36, 0x6e, 0x9b, 0x36, 0x6e),
    ]
  ) {
    for (const size of [1, 2, input.length]) {
      const safe = new TerminalSafe();
      const out: number[] = [];
      for (let i = 0; i < input.length; i += size) {
        out.push(...safe.push(input.subarray(i, i + size)));
      }
      out.push(...safe.end());
      assert.equal(out.indexOf(0xc2), -1, `${[...input]} in pieces of ${size}: ${out}`);
    }
  }
});

Deno.test("terminal-safe: a string ends at U+009C (ST as UTF-8) and what follows is shown; a byte 80–9F that is no part of a character goes; Latin-1 and UTF-8 text stay, in any pieces", () => {
  const bytes = (...b: number[]) => Uint8Array.of(...b);
  const cases: [Uint8Array, Uint8Array][] = [
    // OSC and DCS strings ended by C2 9C, as a terminal ends them: the rest is output.
    [
      bytes(...enc.encode("a\x1b]0;title"), 0xc2, 0x9c, ...enc.encode("after\n")),
      enc.encode("aafter\n"),
    ],
    [bytes(...enc.encode("\x1bPq#0"), 0xc2, 0x9c, ...enc.encode("ok")), enc.encode("ok")],
    // (A C2 and a character inside the string: still the string.)
    [bytes(...enc.encode("\x1b]0;"), 0xc2, 0xa9, ...enc.encode("x\x07y")), enc.encode("y")],
    // Raw 8-bit C1: CSI 6n, OSC, DCS, ST, alone: gone (to a terminal that is not UTF-8 they are controls).
    [bytes(0x4f, 0x9b, 0x36, 0x6e, 0x50), enc.encode("O6nP")],
    [bytes(0x9d, 0x90, 0x9c, 0x80, 0x61), enc.encode("a")],
    // A cut character's 80–9F goes with it; UTF-8 with 80–9F continuation bytes stays.
    [bytes(0xe6, 0x9b, 0x41), bytes(0xe6, 0x41)],
    [enc.encode("日本 ™ é"), enc.encode("日本 ™ é")],
    // Latin-1 (bytes that are no UTF-8, at or over A0): shown.
    [bytes(0x63, 0x61, 0x66, 0xe9, 0x20, 0xa9), bytes(0x63, 0x61, 0x66, 0xe9, 0x20, 0xa9)],
    [bytes(0x61, 0xe9), bytes(0x61, 0xe9)],
  ];
  for (const [input, want] of cases) {
    for (const size of [1, 2, 3, input.length]) {
      const safe = new TerminalSafe();
      const out: number[] = [];
      for (let i = 0; i < input.length; i += size) {
        out.push(...safe.push(input.subarray(i, i + size)));
      }
      out.push(...safe.end());
      assert.deepEqual(out, [...want], `${[...input]} in pieces of ${size}`);
    }
  }
});

Deno.test("terminal-safe: attributes left on are reset at the end; an over-long sequence does not eat the next one", () => {
  assert.equal(shown("\x1b[8mhidden"), "\x1b[8mhidden\x1b[0m");
  assert.equal(shown("\x1b[31mred\x1b[0m"), "\x1b[31mred\x1b[0m");
  const long = "\x1b[" + "1;".repeat(3000);
  assert.equal(shown(`\x1b[31mred${long}\x1b[0m after`, 512), "\x1b[31mred\x1b[0m after");
});

Deno.test("terminal-safe: a sequence never ended goes (the shell's prompt could end it), and so does one too long", () => {
  assert.equal(shown("ok\x1b[6"), "ok");
  assert.equal(shown("a\x1b]11;?"), "a");
  // A UTF-8 lead byte C2 at the end of a piece waits for the next (a C1 control, or a character).
  const safe = new TerminalSafe();
  assert.deepEqual([...safe.push(Uint8Array.of(0x61, 0xc2))], [0x61]);
  assert.deepEqual([...safe.push(Uint8Array.of(0x9b, 0x62, 0xc2))], [0x62]);
  assert.deepEqual([...safe.push(Uint8Array.of(0xa0))], [0xc2, 0xa0]);
  assert.deepEqual([...safe.push(Uint8Array.of(0xc2)), ...safe.end()], []); // alone: goes
  const long = "\x1b[" + "1;".repeat(3000) + "m";
  assert.equal(shown(`a${long}b`, 100), "ab");
});

Deno.test("terminal-safe: output without an escape is passed as the same bytes", () => {
  const safe = new TerminalSafe();
  const bytes = enc.encode("no escape here\n");
  assert.equal(safe.push(bytes), bytes);
});

Deno.test("terminal-safe: a switch to the alternate screen (alone, or among modes set at once) marks the output full-screen; other modes and a switch back do not", () => {
  const seen = (text: string) => {
    const safe = new TerminalSafe();
    safe.push(new TextEncoder().encode(text));
    return safe.fullScreen;
  };
  for (const on of ["\x1b[?1049h", "\x1b[?47h", "\x1b[?1047h", "\x1b[?1;1049h", "\x1b[?1049;25h"]) {
    assert.equal(seen(`a${on}b`), true, JSON.stringify(on));
  }
  for (const off of ["\x1b[?1049l", "\x1b[?1000h", "\x1b[?10490h", "\x1b[1049h", "\x1b[2J\x1b[H"]) {
    assert.equal(seen(`a${off}b`), false, JSON.stringify(off));
  }
});
