/**
 * Regular expressions from outside (a model's `grep` or `pattern`, the
 * CLI's `--match`) that cannot stall the process. bgtask's documented
 * launch passes V8 `--enable-experimental-regexp-engine-on-excessive-backtracks`:
 * a pattern that backtracks too much then goes on in V8's linear-time engine
 * — but only a pattern that engine can run. It cannot run the flags `i`, `u`
 * and `v`, inline modifiers (`(?i:…)`), backreferences, lookarounds, or a
 * counted repetition that repeats its body more than 16 times (nested ones
 * multiplied: `(a{1,4}){5}` is 20). Such a pattern would stay in the
 * backtracking engine, where `^(a+)+$` on one long line takes hours.
 *
 * So: `i` is rewritten away (each letter becomes every character `i`
 * matches it to, `a` → `[aA]`, `σ` → `[σΣς]`, and a class gains them for
 * its letters and ranges, `[а-я]` → `[А-Я…а-я]`, as `i` without `u` does),
 * and what remains that the engine cannot run is refused, saying
 * what and how to write it instead. So is a pattern too large to compile
 * (longer than {@linkcode MAX_PATTERN_CHARS}, or more than V8 compiles),
 * which would otherwise fail at its first match. `tests/linear_regexp_test.ts` holds the
 * rules to V8's own (its `l` flag, which compiles a pattern for the linear
 * engine or refuses it).
 *
 * @module
 */

/** The most times the linear engine repeats a quantifier's body (V8's kMaxReplicationFactor). */
const MAX_REPLICATION = 16;
/**
 * The largest count on one character, escape or class that is split up (see
 * `splitCounts`): a pattern of a few KB, where `x{1000000000}` would be
 * gigabytes.
 */
const MAX_SPLIT = 1024;

/**
 * The longest pattern taken, in characters (UTF-16 code units). A line's
 * distinctive words take far fewer; V8 refuses much larger ones only at
 * their first match ("Regular expression too large" for 1 MiB, "Stack
 * overflow" for 30,000 groups), and its error quotes them whole.
 */
export const MAX_PATTERN_CHARS = 4096;
/** The most characters of a pattern's part an error quotes. */
const QUOTED_CHARS = 40;

/** `text` for an error: cut past {@linkcode QUOTED_CHARS} characters, saying so with "…". */
function quoted(text: string): string {
  return text.length <= QUOTED_CHARS ? text : text.slice(0, QUOTED_CHARS) + "…";
}

/**
 * A whole pattern quoted for an error (the MCP tools', `--match`'s): as
 * JSON, its first 60 characters, then "…" (a long one would go whole into
 * a model's context, or fill a terminal).
 *
 * @example
 * ```ts
 * import { quotedPattern } from "./linear_regexp.ts";
 * import { equal } from "node:assert/strict";
 * equal(quotedPattern("a\\d"), '"a\\\\d"');
 * equal(quotedPattern("x".repeat(61)), `"${"x".repeat(60)}…"`);
 * ```
 */
export function quotedPattern(source: string): string {
  return JSON.stringify(source.length <= 60 ? source : source.slice(0, 60) + "…");
}

/**
 * A pattern too large to use: longer than {@linkcode MAX_PATTERN_CHARS}, or
 * more than V8 can compile (its counts split up, see `splitCounts`). Its
 * message never quotes the pattern.
 */
export class PatternTooLarge extends Error {
  /** How to write the pattern instead. */
  readonly fix: string =
    "match a shorter part of the line (a distinctive word or two is enough) and use + or * " +
    "rather than large counts; filter further in a second step if need be";
  /**
   * Creates the problem.
   *
   * @param problem Why it is too large, e.g. "is 5,000 characters long, over the limit of 4,096".
   */
  constructor(problem: string) {
    super(problem);
    this.name = "PatternTooLarge";
  }
}

/**
 * V8's reason a pattern cannot be compiled (`Unterminated group`), without
 * the pattern its message quotes whole (`Invalid regular expression: /…/: `).
 */
function reason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const at = message.lastIndexOf(": ");
  return at < 0 ? message : message.slice(at + 2);
}

/** A pattern the linear engine cannot run: what is wrong, and how to write it instead. */
export class PatternProblem extends Error {
  /** How to write the pattern instead. */
  readonly fix: string;
  /**
   * Creates the problem.
   *
   * @param problem What the pattern has that cannot run in linear time.
   * @param fix How to write it instead.
   */
  constructor(problem: string, fix: string) {
    super(problem);
    this.name = "PatternProblem";
    this.fix = fix;
  }
}

/**
 * A pattern as models write one: a literal, with or without flags
 * (`/error/`, `/listening on/i`), is its body and flags (the slashes would
 * otherwise be looked for, and the pattern never match: models write
 * JavaScript's literals by habit; a path between slashes, `/api/`, still
 * matches every line that holds it); anything else is the pattern itself:
 * `/api/health` (letters no flag is made of). `badFlags` for a literal
 * whose flags are other than `i`, `m` and `s` (`u` passes, for
 * {@linkcode linearRegExp} to say why it cannot be used), or repeated.
 *
 * @example
 * ```ts
 * import { patternParts } from "./linear_regexp.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(patternParts("/Ready/i"), { body: "Ready", flags: "i", literal: true });
 * deepEqual(patternParts("/error/"), { body: "error", flags: "", literal: true });
 * deepEqual(patternParts("/api/health"), { body: "/api/health", flags: "", literal: false });
 * deepEqual(patternParts("/x/g"), { body: "x", flags: "g", literal: true, badFlags: true });
 * ```
 */
export function patternParts(
  source: string,
): { body: string; flags: string; literal: boolean; badFlags?: true } {
  const literal = /^\/(.+)\/([dgimsuvy]*)$/s.exec(source);
  if (!literal) return { body: source, flags: "", literal: false };
  const [, body, flags] = literal;
  const bad = /[^imsu]/.test(flags) || new Set(flags).size !== flags.length;
  return bad ? { body, flags, literal: true, badFlags: true } : { body, flags, literal: true };
}

/**
 * `body` with `flags` (any of `i`, `m`, `s`), compiled so that V8's
 * linear-time engine can run it: `i` rewritten away.
 *
 * @throws {SyntaxError} When it is not a regular expression (V8's reason,
 *   without the pattern).
 * @throws {PatternProblem} When it has what that engine cannot run.
 * @throws {PatternTooLarge} When it is longer than
 *   {@linkcode MAX_PATTERN_CHARS}, or too large for V8 to compile.
 *
 * @example
 * ```ts
 * import { linearRegExp } from "./linear_regexp.ts";
 * import { equal, throws } from "node:assert/strict";
 * const re = linearRegExp("listening on", "i");
 * equal(re.source, "[lL][iI][sS][tT][eE][nN][iI][nN][gG] [oO][nN]");
 * equal(re.test("Listening ON :3000"), true);
 * equal(linearRegExp("ΟΔΟΣ", "i").test("οδος"), true); // Σ is σ and ς
 * equal(linearRegExp("[а-я]+ мир", "i").test("ПРИВЕТ МИР"), true);
 * throws(() => linearRegExp("(a+)\\1", ""), /backreference/);
 * throws(() => linearRegExp("(x{1,4}){5}", ""), /repeats a part 20 times/);
 * // A count past the engine's on one character, escape or class is split up:
 * equal(linearRegExp("[0-9a-f]{40}", "").test("a".repeat(40)), true);
 * ```
 */
export function linearRegExp(body: string, flags: string): RegExp {
  const bad = /[^ims]/.exec(flags);
  if (bad) {
    throw new PatternProblem(
      `uses the flag ${bad[0]}, which V8's linear-time engine cannot run`,
      "leave it out (only i, m and s may be given)",
    );
  }
  if (body.length > MAX_PATTERN_CHARS) {
    throw new PatternTooLarge(
      `is ${body.length.toLocaleString("en-US")} characters long, over the limit of ` +
        MAX_PATTERN_CHARS.toLocaleString("en-US"),
    );
  }
  try {
    new RegExp(body, flags);
  } catch (e) {
    throw new SyntaxError(reason(e)); // (what is no regular expression; V8's message quotes it)
  }
  const tokens = splitCounts(tokenize(body));
  checkTokens(tokens);
  const source = flags.includes("i") ? caseless(tokens) : tokens.map((t) => t.s).join("");
  return compiled(new RegExp(source, flags.replace("i", "")));
}

/**
 * `re`, compiled now: V8 compiles a pattern at its first match (once for
 * one-byte text, once for two-byte), and one too large for it fails there,
 * in the middle of a search. Both are done on tiny texts here instead.
 */
function compiled(re: RegExp): RegExp {
  try {
    re.test("");
    re.test("\u0100");
  } catch (e) {
    throw new PatternTooLarge(`is too large for V8 to compile (${reason(e)})`);
  }
  return re;
}

/**
 * A count past {@linkcode MAX_REPLICATION} on one character, escape or class
 * (`[0-9a-f]{40}`, a git hash; `\d{20}`) as several counts in a row that the
 * engine can run, matching the same: `x{40}` is `x{16}x{16}x{8}`, `x{2,40}`
 * is `x{2}x{0,16}x{0,16}x{0,6}`, `x{20,}` is `x{16}x{4}x*` (lazy ones stay
 * lazy). A group's count is left as written (checkTokens says what to do).
 */
function splitCounts(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (const tok of tokens) {
    const atom = out[out.length - 1];
    const single = atom !== undefined &&
      (atom.t === "class" ||
        (atom.t === "escape" && !atom.backreference && oneCharEscape(atom.s)) ||
        (atom.t === "char" && minLength(atom) > 0));
    if (
      tok.t !== "quantifier" || !single ||
      (tok.min <= MAX_REPLICATION && (tok.max === Infinity || tok.max <= MAX_REPLICATION))
    ) {
      out.push(tok);
      continue;
    }
    const count = tok.max === Infinity ? tok.min : tok.max;
    if (count > MAX_SPLIT) {
      // (Not slow, large: the pieces it would take. A group's count is refused later.)
      throw new PatternTooLarge(
        `repeats one character or class ${count} times (${tok.s.slice(0, 30)}), more than ` +
          `the ${MAX_SPLIT} bgtask splits up into counts V8's linear-time engine runs`,
      );
    }
    out.pop();
    const lazy = tok.s.endsWith("?") && tok.s.length > 1 ? "?" : "";
    const piece = (s: string, min: number, max: number) =>
      out.push(atom, { t: "quantifier", s, min, max, whole: tok });
    for (let left = tok.min; left > 0; left -= MAX_REPLICATION) {
      const n = Math.min(left, MAX_REPLICATION);
      piece(`{${n}}`, n, n);
    }
    if (tok.max === Infinity) piece(`*${lazy}`, 0, Infinity);
    else {
      for (let left = tok.max - tok.min; left > 0; left -= MAX_REPLICATION) {
        const n = Math.min(left, MAX_REPLICATION);
        piece(`{0,${n}}${lazy}`, 0, n);
      }
    }
  }
  return out;
}

type Token =
  /** One character that stands for itself, or `.`, `^`, `$`. */
  | { t: "char"; s: string }
  /** An escape, verbatim; `char` when it stands for one character (`\A`, `\x41` are "A"). */
  | { t: "escape"; s: string; char?: string; backreference?: boolean }
  /** A character class, verbatim. */
  | { t: "class"; s: string }
  /** A group's opening: `(`, `(?:`, `(?<name>`; or what the engine cannot run. */
  | { t: "open"; s: string; unsupported?: "lookaround" | "inline modifier" }
  | { t: "close"; s: ")" }
  | { t: "alt"; s: "|" }
  | {
    t: "quantifier";
    s: string;
    min: number;
    max: number;
    /** A piece of this count, split up (see splitCounts): said as written. */
    whole?: { s: string; min: number; max: number };
  };

/** Letters whose escape means something (a class, a control, a code); any other is the letter. */
const MEANINGFUL_ESCAPES = "bBdDsSwWfnrtvcxuk";

/** The tokens of a pattern already known to compile (without the `u` flag). */
function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === "\\") {
      const s = escapeAt(src, i);
      const next = src[i + 1] ?? "";
      const char = escapedChar(s);
      if (/[1-9]/.test(next) || (next === "k" && s.length > 2)) {
        out.push({ t: "escape", s, backreference: true });
      } else {
        out.push(char === undefined ? { t: "escape", s } : { t: "escape", s, char });
      }
      i += s.length;
    } else if (c === "[") {
      let j = i + 1;
      if (src[j] === "^") j++;
      while (j < src.length && src[j] !== "]") j += src[j] === "\\" ? 2 : 1;
      out.push({ t: "class", s: src.slice(i, j + 1) });
      i = j + 1;
    } else if (c === "(") {
      const rest = src.slice(i, i + 4);
      let s = "(";
      let unsupported: "lookaround" | "inline modifier" | undefined;
      if (/^\(\?<?[=!]/.test(rest)) {
        s = rest.startsWith("(?<") ? src.slice(i, i + 4) : src.slice(i, i + 3);
        unsupported = "lookaround";
      } else if (rest.startsWith("(?<")) {
        s = src.slice(i, src.indexOf(">", i) + 1); // a named group: (?<name>
      } else if (rest.startsWith("(?:")) {
        s = "(?:";
      } else if (rest.startsWith("(?")) {
        s = src.slice(i, src.indexOf(":", i) + 1); // (?i:  (?-i:  (?ms-i:
        unsupported = "inline modifier";
      }
      out.push(unsupported ? { t: "open", s, unsupported } : { t: "open", s });
      i += s.length;
    } else if (c === ")") {
      out.push({ t: "close", s: ")" });
      i++;
    } else if (c === "|") {
      out.push({ t: "alt", s: "|" });
      i++;
    } else {
      QUANTIFIER.lastIndex = i;
      const q = QUANTIFIER.exec(src);
      if (
        q && out.length > 0 && out[out.length - 1].t !== "open" && out[out.length - 1].t !== "alt"
      ) {
        const [all, lo, comma, hi] = q;
        const min = all[0] === "+" ? 1 : all[0] === "{" ? Number(lo) : 0;
        const max = all[0] === "?"
          ? 1
          : all[0] === "{" && !comma
          ? Number(lo)
          : all[0] === "{" && hi !== ""
          ? Number(hi)
          : Infinity;
        out.push({ t: "quantifier", s: all, min, max });
        i += all.length;
      } else {
        out.push({ t: "char", s: c });
        i++;
      }
    }
  }
  return out;
}

/** A quantifier at `lastIndex` (sticky: the scan stays linear in the pattern's length). */
const QUANTIFIER = /(?:[*+?]|\{(\d+)(,(\d*))?\})\??/y;
/** An escape of more than one character after its backslash, at `lastIndex`. */
const LONG_ESCAPE = /\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|c[A-Za-z]|k<[^>]*>|[1-9]\d*|0[0-7]*)/y;

/** The escape sequence at `i` (a backslash), whole: `\x41`, `\u0041`, `\cA`, `\k<n>`, `\12`. */
function escapeAt(src: string, i: number): string {
  LONG_ESCAPE.lastIndex = i;
  const m = LONG_ESCAPE.exec(src);
  return m ? m[0] : src.slice(i, i + 2);
}

/** Refuses what the linear engine cannot run (see the module's doc). */
function checkTokens(tokens: Token[]): void {
  for (const tok of tokens) {
    if (tok.t === "escape" && tok.backreference) {
      throw new PatternProblem(
        `uses a backreference (${quoted(tok.s)})`,
        "match the text itself, or filter in two steps",
      );
    }
    if (tok.t === "open" && tok.unsupported === "lookaround") {
      throw new PatternProblem(
        `uses a lookaround, ${quoted(tok.s)}…)`,
        "match the text itself, or filter in two steps",
      );
    }
    if (tok.t === "open" && tok.unsupported === "inline modifier") {
      throw new PatternProblem(
        `uses an inline modifier, ${quoted(tok.s)}…)`,
        "give the flag to the whole pattern instead, e.g. /listening on/i",
      );
    }
  }
  // How many times each quantifier's body is repeated in the linear
  // engine's code, times the repetitions around it, as V8 counts it
  // (experimental-compiler.cc, CanBeHandledVisitor::VisitQuantifier).
  const visit = (start: number, around: number): void => {
    let i = start;
    while (i < tokens.length && tokens[i].t !== "close") {
      const tok = tokens[i];
      const end = tok.t === "open" ? closeOf(tokens, i) + 1 : i + 1;
      const q = tokens[end];
      if (q?.t !== "quantifier") {
        if (tok.t === "open") visit(i + 1, around);
        i = end;
        continue;
      }
      let local = q.max;
      if (q.max === Infinity) {
        const empty = tok.t === "open" ? minMatch(tokens, i + 1) === 0 : minLength(tok) === 0;
        local = q.min > 0 && !empty ? q.min : q.min + 1;
      }
      const times = around * local;
      if (
        q.min > MAX_REPLICATION || (q.max !== Infinity && q.max > MAX_REPLICATION) ||
        times > MAX_REPLICATION
      ) {
        // (A piece of a count split up is said as the count written.)
        const as = q.whole ?? q;
        const whole = around * (as.max === Infinity ? as.min : as.max);
        const shown = Math.max(times, whole, as.min, as.max === Infinity ? 0 : as.max);
        throw new PatternProblem(
          `repeats a part ${shown} times (${quoted(as.s)}${
            around > 1 ? " within another count" : ""
          })`,
          `count at most ${MAX_REPLICATION} on a group (nested counts multiplied) and ` +
            `${MAX_SPLIT} on one character or class, or use + or * and check the count afterwards`,
        );
      }
      if (tok.t === "open") visit(i + 1, times);
      i = end + 1;
    }
  };
  visit(0, 1);
}

/** The fewest characters one token matches: 0 for an assertion (^ $ \b \B), else 1. */
function minLength(tok: Token): number {
  if (tok.t === "char") return tok.s === "^" || tok.s === "$" ? 0 : 1;
  if (tok.t === "escape") return tok.s === "\\b" || tok.s === "\\B" ? 0 : 1;
  return 1;
}

/** The fewest characters the tokens from `start` to the end of their group match. */
function minMatch(tokens: Token[], start: number): number {
  let best = Infinity;
  let sum = 0;
  let i = start;
  while (i < tokens.length && tokens[i].t !== "close") {
    const tok = tokens[i];
    if (tok.t === "alt") {
      best = Math.min(best, sum);
      sum = 0;
      i++;
      continue;
    }
    const end = tok.t === "open" ? closeOf(tokens, i) + 1 : i + 1;
    const one = tok.t === "open" ? minMatch(tokens, i + 1) : minLength(tok);
    const q = tokens[end];
    sum += q?.t === "quantifier" ? one * q.min : one;
    i = q?.t === "quantifier" ? end + 1 : end;
  }
  return Math.min(best, sum);
}

/** The index of the `close` token that ends the group opened at `open`. */
function closeOf(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i].t === "open") depth++;
    else if (tokens[i].t === "close" && --depth === 0) return i;
  }
  return tokens.length;
}

/**
 * Of every UTF-16 code unit, the one it stands for under the flag `i`
 * without `u` (the spec's Canonicalize: its upper case, when that is one code
 * unit and not an ASCII one for a character that is not: ſ is not s, K the
 * kelvin sign not k); and, by canonical unit, the units that share it when
 * there are several (σ ς Σ; µ μ Μ). Made at the first `i` pattern (a few
 * ms).
 */
let caseTable: CaseTable | undefined;

interface CaseTable {
  canon: Uint16Array;
  groups: Map<number, number[]>;
  /** 1 for a code unit in a group (that `i` matches to another). */
  cased: Uint8Array;
}

function cases(): CaseTable {
  if (caseTable) return caseTable;
  const canon = new Uint16Array(0x10000);
  for (let c = 0; c < 0x10000; c++) {
    canon[c] = c;
    if (c >= 0xd800 && c <= 0xdfff) continue; // (a lone surrogate has no case)
    const up = String.fromCharCode(c).toUpperCase();
    if (up.length !== 1) continue;
    const u = up.charCodeAt(0);
    if (c >= 128 && u < 128) continue;
    canon[c] = u;
  }
  const groups = new Map<number, number[]>();
  for (let c = 0; c < 0x10000; c++) {
    const k = canon[c];
    if (k === c) continue;
    let group = groups.get(k);
    if (!group) groups.set(k, group = canon[k] === k ? [k] : []);
    group.push(c);
  }
  const cased = new Uint8Array(0x10000);
  for (const group of groups.values()) for (const c of group) cased[c] = 1;
  return caseTable = { canon, groups, cased };
}

/** The code units that match `c` under the flag `i` (without `u`), `c` among them. */
function sameCase(c: number): readonly number[] {
  const { canon, groups } = cases();
  return groups.get(canon[c]) ?? [c];
}

/** A code unit as a class member: itself when a letter or mark, else `\uHHHH`. */
function member(c: number): string {
  const ch = String.fromCharCode(c);
  return /[\p{L}\p{M}]/u.test(ch) ? ch : `\\u${c.toString(16).padStart(4, "0")}`;
}

/** Code units as class members, runs of three or more as ranges. */
function members(units: number[]): string {
  units.sort((a, b) => a - b);
  let out = "";
  for (let i = 0; i < units.length;) {
    let j = i;
    while (j + 1 < units.length && units[j + 1] === units[j] + 1) j++;
    out += j - i >= 2
      ? `${member(units[i])}-${member(units[j])}`
      : units.slice(i, j + 1).map(member).join("");
    i = j + 1;
  }
  return out;
}

/** The pattern of `tokens` matching as with the flag `i`, without it. */
function caseless(tokens: Token[]): string {
  let out = "";
  // (A class written again is rewritten once: a range of many code units costs a look at each.)
  const classes = new Map<string, string>();
  for (const tok of tokens) {
    const letter = tok.t === "char" ? tok.s : tok.t === "escape" ? tok.char : undefined;
    const c = letter?.charCodeAt(0);
    const same = c === undefined ? [] : sameCase(c);
    // (The letter as written first: /ready/i is [rR][eE][aA][dD][yY].)
    if (same.length > 1) out += `[${member(c!)}${members(same.filter((d) => d !== c))}]`;
    else if (tok.t === "class") {
      let rewritten = classes.get(tok.s);
      if (rewritten === undefined) classes.set(tok.s, rewritten = caselessClass(tok.s));
      out += rewritten;
    } else out += tok.s;
  }
  return out;
}

/**
 * A character class with every case of each character and range in it (all
 * of them: σ, ς and Σ; а-я and А-Я, ё-џ and Ё-Џ), as `i` matches.
 */
function caselessClass(cls: string): string {
  const head = cls.startsWith("[^") ? 2 : 1;
  const body = cls.slice(head, -1);
  // Its members: single characters (or escapes) and ranges.
  const items: string[] = [];
  for (let i = 0; i < body.length;) {
    const s = body[i] === "\\" ? escapeAt(body, i) : body[i];
    items.push(s);
    i += s.length;
  }
  // The code units it names, as ranges: those a class escape (\d, \w)
  // names keep their case (as with `i` without `u`).
  const ranges: [number, number][] = [];
  for (let k = 0; k < items.length; k++) {
    const a = literal(items[k]);
    if (items[k + 1] === "-" && k + 2 < items.length) {
      const b = literal(items[k + 2]);
      if (a !== undefined && b !== undefined) ranges.push([a.charCodeAt(0), b.charCodeAt(0)]);
      k += 2;
      continue;
    }
    if (a !== undefined) ranges.push([a.charCodeAt(0), a.charCodeAt(0)]);
  }
  const named = (c: number) => ranges.some(([lo, hi]) => c >= lo && c <= hi);
  const added = new Set<number>();
  const { canon, groups, cased } = cases();
  for (const [lo, hi] of ranges) {
    for (let c = lo; c <= hi; c++) {
      if (cased[c] === 0) continue;
      const group = groups.get(canon[c]);
      if (group) { for (const d of group) if (!added.has(d) && !named(d)) added.add(d); }
    }
  }
  // First, so that no "-" at its end makes a range of them; a "-" that
  // opened it is escaped (after them, it would make one).
  return cls.slice(0, head) + members([...added]) + (body.startsWith("-") ? "\\" : "") + body +
    "]";
}

/**
 * The character a class member stands for, when it is one character: an
 * escaped punctuation mark (`\[`, `\]`, `\-`) and a control escape (`\t`,
 * `\cA`, `\b`: a backspace in a class) too, which may end a range whose
 * letters `i` extends (`[A-\[]` left out a–z).
 */
function literal(item: string): string | undefined {
  if (item.length === 1) return item;
  const control = /^\\(?:([nrtfvb0])|c([A-Za-z]))$/.exec(item);
  if (control) {
    return control[2] !== undefined
      ? String.fromCharCode(control[2].charCodeAt(0) % 32)
      : ({ n: "\n", r: "\r", t: "\t", f: "\f", v: "\v", b: "\b", "0": "\0" } as const)[
        control[1] as "n"
      ];
  }
  if (/^\\[^A-Za-z0-9]$/.test(item)) return item[1];
  return escapedChar(item);
}

/**
 * The letter or character an escape stands for, when that is one character
 * whose case may matter: a letter escaped for nothing (`\A`), `\xHH`, `\uHHHH`.
 */
function escapedChar(esc: string): string | undefined {
  const hex = /^\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4}))$/.exec(esc);
  if (hex) return String.fromCharCode(parseInt(hex[1] ?? hex[2], 16));
  if (esc.length === 2 && /[A-Za-z]/.test(esc[1]) && !MEANINGFUL_ESCAPES.includes(esc[1])) {
    return esc[1];
  }
  // `\u`, `\x`, `\k` not followed by what makes them a code or a name: the
  // letter itself (without the `u` flag). (`\c` alone is two characters.)
  if (esc.length === 2 && /[uxk]/.test(esc[1])) return esc[1];
  return undefined;
}

/**
 * An escape that stands for one character or one class of them, whatever
 * follows it: `\d`, `\n`, `\x41`, `\u0041`, `\cA`, `\.`, `\q`. Not `\c` alone
 * (a backslash and a c) nor an old octal escape (`\0000` is `\000` then
 * `0`), whose meaning a count split after it would change.
 */
function oneCharEscape(esc: string): boolean {
  return /^\\(?:[dDwWsSfnrtv0]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|c[A-Za-z]|[^A-Za-z0-9])$/.test(
    esc,
  ) ||
    escapedChar(esc) !== undefined;
}

/** The flag that makes V8 fall back to its linear-time engine (the documented launch passes it). */
export const FALLBACK_FLAG =
  "--v8-flags=--enable-experimental-regexp-engine-on-excessive-backtracks";

/** A pattern the backtracking engine takes about 2^N steps to fail on N a's and a "!". */
const PROBE = /^(a+)+$/;
/**
 * Shorter than this on 23 a's, once in two tries: the fallback (with it,
 * about 0.3 ms; without, 35–60 ms compiled, the first try far more,
 * interpreted).
 */
const PROBE_MS = 5;
let fallback: boolean | undefined;

/** How long the probe takes to fail on `n` a's, in ms. */
function probeMs(n: number): number {
  const text = "a".repeat(n) + "!";
  const t0 = performance.now();
  PROBE.test(text);
  return performance.now() - t0;
}

/**
 * Tries of the probe on 23 a's before growth decides (see
 * {@linkcode linearFallback}): with the fallback one try in a few runs
 * unpreempted even on a machine loaded 8 times over; without it, each
 * costs 35–60 ms.
 */
const PROBE_TRIES = 8;

/**
 * Whether V8 falls back to its linear-time engine in this process (started
 * with {@linkcode FALLBACK_FLAG}), found once by timing a pattern that
 * backtracks exponentially on a short text: with the fallback, a fraction of
 * a millisecond, which one try of up to {@linkcode PROBE_TRIES} shows
 * (without it, the CPU time alone is 35 ms or more, and no try is short).
 * When none does (a loaded machine makes any time long: three tries read
 * the fallback as missing once in three test runs under load, and then the
 * growth rule below alone once in a suite run at a load of 15 on 2 cores),
 * growth decides, which load does not fake as easily: the backtracking
 * engine takes 16 times longer on 23 a's than on 19, the linear one the
 * same (the least of three tries each).
 */
export function linearFallback(): boolean {
  if (fallback === undefined) {
    const long: number[] = [];
    while (long.length < PROBE_TRIES) {
      long.push(probeMs(23));
      if (long[long.length - 1] < PROBE_MS) break;
    }
    if (Math.min(...long) < PROBE_MS) {
      fallback = true;
    } else {
      const short = Math.min(probeMs(19), probeMs(19), probeMs(19));
      fallback = Math.min(...long) < short * 4;
    }
  }
  return fallback;
}
