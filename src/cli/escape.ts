/**
 * Making task-supplied text safe to print, and measuring it in terminal
 * columns.
 *
 * A description or command comes from whoever started the task. Printed as
 * is, an escape sequence in it could clear the screen, move the cursor or
 * retitle the window; a newline would break a table row. {@linkcode escapeControl}
 * turns every such character into a visible escape, as `\x1b` or `\n`.
 *
 * @module
 */

const NAMED: Record<string, string> = {
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/**
 * What {@linkcode escapeControl} escapes: C0 and C1 controls and DEL
 * (`\p{Cc}`); every Unicode format character (`\p{Cf}`: bidirectional
 * overrides and isolates that reorder text, the zero-width space,
 * non-joiner, joiner and word joiner, the byte order mark, the soft hyphen,
 * invisible operators, interlinear annotation marks, and the tag characters
 * U+E0000–U+E007F, which spell out text a program or a model reads and a
 * person never sees); line and paragraph separators; and the characters
 * that show nothing though they are no format character (the combining
 * grapheme joiner U+034F, the Hangul fillers U+115F, U+1160, U+3164 and
 * U+FFA0). Invisible, any of them would make two different commands or
 * descriptions look the same, or hide part of one.
 *
 * Kept (see {@linkcode kept}): a zero-width joiner between two pictographs
 * (after an optional skin tone or VS16), as in 👨‍👩‍👧: the family emoji is a
 * single picture, and escaped it would read as three; a zero-width
 * non-joiner or joiner between two letters of a script that writes words
 * with one (Arabic and Persian, Syriac, the Indic scripts, Sinhala,
 * Mongolian: elsewhere it could only make two words look the same); a
 * flag's tag sequence (🏴 and
 * the tags of England, Scotland, Wales: those three exactly, as any other
 * run of tags can spell hidden text); a variation selector U+E0100–U+E01EF
 * after an ideograph (escaped elsewhere: 240 of them can spell any bytes).
 *
 * (No property of letters, scripts or pictographs in it: a pattern with
 * them cost every CLI call about a millisecond to build at its start. They
 * are looked at only around a joiner or a tag, which is rare.)
 */
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029\u034f\u115f\u1160\u3164\uffa0\u{e0100}-\u{e01ef}]/gu;

/**
 * Whether the invisible character `c` at `at` of `text` is part of
 * something visible (see UNSAFE); looks at its neighbours only.
 *
 * @example
 * ```ts
 * import { kept } from "./escape.ts";
 * import { equal } from "node:assert/strict";
 * equal(kept("👨\u200d👩", 2, "\u200d"), true);
 * equal(kept("a\u200db", 1, "\u200d"), false);
 * ```
 */
export function kept(text: string, at: number, c: string): boolean {
  if (c >= "\u{e0020}" && c <= "\u{e007f}") return inFlag(text, at);
  const variation = c >= "\u{e0100}" && c <= "\u{e01ef}";
  if (!variation && c !== "\u200c" && c !== "\u200d") return false;
  around ??= aroundPatterns();
  // The code points before it (up to two), and after.
  const before = [...text.slice(Math.max(0, at - 4), at)];
  // An ideograph's variation (an IVS: a name's own form of a kanji); after
  // anything else it shows nothing, and 240 of them can spell any bytes.
  if (variation) return around.ideograph.test(before.at(-1) ?? "");
  // (An emoji's skin tone or VS16 passed over.)
  let prev = before.at(-1) ?? "";
  if (/^[\u{1f3fb}-\u{1f3ff}\ufe0f]$/u.test(prev)) prev = before.at(-2) ?? "";
  const next = String.fromCodePoint(text.codePointAt(at + c.length) ?? 0);
  if (c === "\u200d" && around.pictograph.test(prev) && around.pictograph.test(next)) return true;
  return around.joined.test(before.at(-1) ?? "") && around.joined.test(next);
}

let around: ReturnType<typeof aroundPatterns> | undefined;

/** The patterns {@linkcode kept} looks around with: built at its first use (see UNSAFE). */
function aroundPatterns() {
  return {
    pictograph: /^\p{Extended_Pictographic}$/u,
    // The scripts whose words are written with a joiner or non-joiner.
    joined:
      /^[\p{sc=Arabic}\p{sc=Syriac}\p{sc=Devanagari}\p{sc=Bengali}\p{sc=Gurmukhi}\p{sc=Gujarati}\p{sc=Oriya}\p{sc=Tamil}\p{sc=Telugu}\p{sc=Kannada}\p{sc=Malayalam}\p{sc=Sinhala}\p{sc=Mongolian}]$/u,
    ideograph: /^\p{Ideographic}$/u,
  };
}

/** The flags written with tags (🏴 and the tags of gbeng, gbsct, gbwls, then the cancel tag). */
const TAG_FLAGS = ["gbeng", "gbsct", "gbwls"].map((f) =>
  "\u{1f3f4}" + [...f].map((ch) => String.fromCodePoint(0xe0000 + ch.charCodeAt(0))).join("") +
  "\u{e007f}"
);

/** Whether the tag at `at` is part of one of {@linkcode TAG_FLAGS} (looked at nearby only). */
function inFlag(text: string, at: number): boolean {
  for (const flag of TAG_FLAGS) {
    // (🏴 is 2 code units, each tag 2: the flag starts 2 to 12 units before.)
    for (let from = at - flag.length + 2; from <= at - 2; from += 2) {
      if (from >= 0 && text.startsWith(flag, from)) return true;
    }
  }
  return false;
}

/**
 * Replaces control characters with a visible escape: `\n`, `\r`, `\t`,
 * `\xHH` for other bytes below 0xa0, `\u{HHHH}` for format (bidi,
 * zero-width, tag), separator and invisible characters (see UNSAFE above).
 * Everything else, backslashes included, is left as it is.
 *
 * @example
 * ```ts
 * import { escapeControl } from "./escape.ts";
 * import { equal } from "node:assert/strict";
 * equal(escapeControl("red\x1b[31m\nnext"), "red\\x1b[31m\\nnext"); // visible backslashes
 * equal(escapeControl("ok\u{e0041}\u{e0042}"), "ok\\u{e0041}\\u{e0042}"); // tag characters, hidden text
 * equal(escapeControl("👨\u200d👩\u200d👧"), "👨\u200d👩\u200d👧"); // one emoji
 * equal(escapeControl("می\u200cخواهم"), "می\u200cخواهم"); // one Persian word
 * equal(escapeControl("a\u200c"), "a\\u{200c}"); // at a word's end, it hides nothing but itself
 * ```
 */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (c, at: number) => {
    if (kept(text, at, c)) return c; // (an emoji's joiner, a word's, a flag's tags)
    const named = NAMED[c];
    if (named) return named;
    const code = c.codePointAt(0)!;
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u{${code.toString(16).padStart(4, "0")}}`;
  });
}

/** Columns taken by one code point: 0 for combining marks and joiners, 2 for wide characters. */
function charWidth(cp: number): number {
  if (
    (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xfe20 && cp <= 0xfe2f) ||
    cp === 0x200b || cp === 0x200c || cp === 0x200d
  ) {
    return 0;
  }
  if (cp < 0x1100) return 1;
  for (let i = 0; i < WIDE.length; i += 2) {
    if (cp < WIDE[i]) return 1;
    if (cp <= WIDE[i + 1]) return 2;
  }
  return 1;
}

/**
 * Code points a terminal shows two columns wide, as ranges (first, last) in
 * order: East Asian wide and full-width characters, and emoji shown as
 * pictures by default (Unicode's East_Asian_Width W: ✅ ⌛ ⭐ 🚀 🟢 🥳 🪄 …).
 */
const WIDE: readonly number[] = [
  0x1100,
  0x115f,
  0x231a,
  0x231b,
  0x2329,
  0x232a,
  0x23e9,
  0x23ec,
  0x23f0,
  0x23f0,
  0x23f3,
  0x23f3,
  0x25fd,
  0x25fe,
  0x2614,
  0x2615,
  0x2648,
  0x2653,
  0x267f,
  0x267f,
  0x2693,
  0x2693,
  0x26a1,
  0x26a1,
  0x26aa,
  0x26ab,
  0x26bd,
  0x26be,
  0x26c4,
  0x26c5,
  0x26ce,
  0x26ce,
  0x26d4,
  0x26d4,
  0x26ea,
  0x26ea,
  0x26f2,
  0x26f3,
  0x26f5,
  0x26f5,
  0x26fa,
  0x26fa,
  0x26fd,
  0x26fd,
  0x2705,
  0x2705,
  0x270a,
  0x270b,
  0x2728,
  0x2728,
  0x274c,
  0x274c,
  0x274e,
  0x274e,
  0x2753,
  0x2755,
  0x2757,
  0x2757,
  0x2795,
  0x2797,
  0x27b0,
  0x27b0,
  0x27bf,
  0x27bf,
  0x2b1b,
  0x2b1c,
  0x2b50,
  0x2b50,
  0x2b55,
  0x2b55,
  0x2e80,
  0x303e,
  0x3040,
  0xa4cf,
  0xac00,
  0xd7a3,
  0xf900,
  0xfaff,
  0xfe10,
  0xfe19,
  0xfe30,
  0xfe6f,
  0xff00,
  0xff60,
  0xffe0,
  0xffe6,
  0x16fe0,
  0x16fe4,
  0x17000,
  0x18cff,
  0x1b000,
  0x1b2ff,
  0x1f004,
  0x1f004,
  0x1f0cf,
  0x1f0cf,
  0x1f18e,
  0x1f18e,
  0x1f191,
  0x1f19a,
  0x1f200,
  0x1f265,
  0x1f300,
  0x1f64f,
  0x1f680,
  0x1f6ff,
  0x1f7e0,
  0x1f7f0,
  0x1f900,
  0x1f9ff,
  0x1fa70,
  0x1faff,
  0x20000,
  0x3fffd,
];

/**
 * The number of terminal columns `text` takes (an approximation that knows
 * wide East Asian characters, common emoji and combining marks). Meant for
 * text already passed through {@linkcode escapeControl}.
 *
 * @example
 * ```ts
 * import { displayWidth } from "./escape.ts";
 * import { equal } from "node:assert/strict";
 * equal(displayWidth("abc"), 3);
 * equal(displayWidth("日本"), 4);
 * ```
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch.codePointAt(0)!);
  return width;
}

/**
 * Cuts `text` to at most `width` columns, ending in `…` when something was
 * cut.
 *
 * @example
 * ```ts
 * import { cutToWidth } from "./escape.ts";
 * import { equal } from "node:assert/strict";
 * equal(cutToWidth("hello world", 6), "hello…");
 * ```
 */
export function cutToWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return "";
  let out = "";
  let used = 0;
  for (const ch of text) {
    const w = charWidth(ch.codePointAt(0)!);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return out + "…";
}

/**
 * Cuts `text` to at most `width` columns in its middle, keeping its start and
 * its end (where a queue's place is said: `#3 paused`), joined by `…`. With
 * `keep`, its last `keep` characters stay whole, and what is before them is
 * cut in its middle, when that leaves it a character and the `…`; else the
 * whole text is cut in its middle.
 *
 * @example
 * ```ts
 * import { cutMiddle } from "./escape.ts";
 * import { equal } from "node:assert/strict";
 * equal(cutMiddle("nightly-shards #3 paused", 16), "nightly-… paused");
 * equal(cutMiddle("short", 16), "short");
 * equal(cutMiddle("nightly-shards after b7", 14, 9), "ni…ds after b7");
 * ```
 */
export function cutMiddle(text: string, width: number, keep = 0): string {
  if (displayWidth(text) <= width) return text;
  const chars = [...text];
  if (keep > 0 && keep < chars.length) {
    const end = chars.slice(chars.length - keep).join("");
    const room = width - displayWidth(end);
    if (room >= 2) return cutMiddle(chars.slice(0, chars.length - keep).join(""), room) + end;
  }
  if (width <= 1) return cutToWidth(text, width);
  const take = (from: string[], room: number) => {
    const out: string[] = [];
    let used = 0;
    for (const ch of from) {
      const w = charWidth(ch.codePointAt(0)!);
      if (used + w > room) break;
      out.push(ch);
      used += w;
    }
    return out;
  };
  const headRoom = Math.ceil((width - 1) / 2);
  const head = take(chars, headRoom);
  const tail = take([...chars].reverse(), width - 1 - displayWidth(head.join(""))).reverse();
  return head.join("") + "…" + tail.join("");
}

/**
 * Quotes user input for an error message: `"…"`, control characters escaped,
 * cut after 60 characters.
 *
 * @example
 * ```ts
 * import { quote } from "./escape.ts";
 * import { equal } from "node:assert/strict";
 * equal(quote("5x"), '"5x"'); // with the quotes
 * ```
 */
export function quote(text: string): string {
  const cut = text.length > 60 ? text.slice(0, 60) + "…" : text;
  return `"${escapeControl(cut)}"`;
}

/**
 * Items for a message: the first ten, joined by `separator`, and how many
 * more.
 *
 * @example
 * ```ts
 * import { shortList } from "./escape.ts";
 * import { equal } from "node:assert/strict";
 * equal(shortList(["b1", "b2"]), "b1 b2");
 * equal(shortList(Array.from({ length: 12 }, (_, i) => `b${i + 1}`), ", "), "b1, b2, b3, b4, b5, b6, b7, b8, b9, b10 and 2 more");
 * ```
 */
export function shortList(items: string[], separator = " "): string {
  return items.length <= 10
    ? items.join(separator)
    : `${items.slice(0, 10).join(separator)} and ${items.length - 10} more`;
}
