/**
 * The rules of `src/linear_regexp.ts` held to V8's own: every pattern it
 * accepts must compile for V8's linear-time engine (the `l` flag, which
 * exists only under `--enable-experimental-regexp-engine`, so in a child
 * process), and its rewrite of the flag `i` must match what `i` matches.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { runDeno } from "./_helpers/common.ts";
import {
  FALLBACK_FLAG,
  linearRegExp,
  PatternProblem,
  PatternTooLarge,
} from "../src/linear_regexp.ts";

/** A small seeded generator (mulberry32): the same patterns at every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random patterns: letters of both cases, classes, escapes, groups, every kind of quantifier. */
function patterns(count: number, seed: number): string[] {
  const r = random(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const atoms = [
    "a",
    "B",
    "c",
    "x",
    "Z",
    "é",
    "0",
    ".",
    "\\d",
    "\\w",
    "\\s",
    "[a-c]",
    "[^x]",
    "[A-Fa-f0-9]",
    "[k-m]",
    "[A-z]",
    "[_a]",
    "\\x41",
    "\\-",
    "\\A",
  ];
  const quantifiers = [
    "",
    "",
    "*",
    "+",
    "?",
    "*?",
    "{2}",
    "{0,3}",
    "{4,}",
    "{1,8}",
    "{16}",
    "{17}",
    "{3,5}?",
  ];
  const gen = (depth: number): string => {
    let out = "";
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) {
      const atom = depth < 3 && r() < 0.35
        ? `${pick(["(", "(?:", "(?<g" + depth + i + ">"])}${gen(depth + 1)}${
          r() < 0.3 ? "|" + gen(depth + 1) : ""
        })`
        : pick(atoms);
      out += atom + pick(quantifiers);
    }
    return out;
  };
  const out = new Set<string>();
  while (out.size < count) {
    const p = gen(0);
    try {
      new RegExp(p);
      out.add(p);
    } catch { /* not a pattern (a duplicate group name): another */ }
  }
  return [...out];
}

const HAND = [
  "^(a+)+$",
  "error|warn",
  "listening on :\\d+",
  "(x{1,4}){4}",
  "(x{1,4}){5}",
  "(?:a{8}){2,}",
  "(?:a+){16}",
  "(?:a+){17}",
  "(?:a*){17}",
  "a{16,}",
  "a{17,}",
  "[A-Z][a-z]+ \\w+",
  "\\bFAIL(ED)?\\b",
  "^\\s*at .+:\\d+$",
  "(?<port>\\d{2,5})",
  "[^\\]]+",
  "\\u0041\\x42\\cJ",
  "{not a count}",
  "a{,5}",
];

Deno.test("every pattern accepted compiles for V8's linear-time engine, with and without i", async () => {
  const corpus = [...HAND, ...patterns(400, 37)];
  const accepted: { source: string; flags: string; from: string }[] = [];
  let refused = 0;
  for (const p of corpus) {
    for (const flags of ["", "i", "ms", "is"]) {
      try {
        const re = linearRegExp(p, flags);
        accepted.push({ source: re.source, flags: re.flags, from: `/${p}/${flags}` });
      } catch (e) {
        assert(e instanceof PatternProblem, `/${p}/${flags}: ${e}`);
        refused++;
      }
    }
  }
  // Most patterns are fine: the rules refuse only what they must.
  assert(accepted.length > refused, `${accepted.length} accepted, ${refused} refused`);
  const r = await runDeno(
    ["--v8-flags=--enable-experimental-regexp-engine"],
    `const all = ${JSON.stringify(accepted)};
     const bad = [];
     for (const { source, flags, from } of all) {
       try { new RegExp(source, flags + "l"); } catch (e) { bad.push(from + " → /" + source + "/: " + e.message); }
     }
     console.log(JSON.stringify(bad));`,
  );
  assertEquals(r.code, 0, r.stderr);
  assertEquals(JSON.parse(r.stdout), []);
});

Deno.test("the rewrite of i matches what i matches, where it matches", () => {
  const r = random(11);
  const alphabet = "aAbBcCxXzZéÉ0_-] \u212a";
  const texts = Array.from({ length: 60 }, () => {
    let s = "";
    const n = Math.floor(r() * 12);
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
    return s;
  });
  const corpus = [
    ...patterns(300, 33),
    "[^a-c]+",
    "[a-]",
    "[-a]",
    "[-\\x41]",
    "[A-z]+",
    "\\A",
    "[\\A-]",
  ];
  let compared = 0;
  for (const p of corpus) {
    let mine: RegExp;
    try {
      mine = linearRegExp(p, "i");
    } catch {
      continue; // refused: nothing to compare
    }
    const theirs = new RegExp(p, "i");
    for (const t of texts) {
      const a = mine.exec(t);
      const b = theirs.exec(t);
      assertEquals(a?.index, b?.index, `/${p}/i on ${JSON.stringify(t)}`);
      assertEquals(a?.[0], b?.[0], `/${p}/i on ${JSON.stringify(t)}`);
      compared++;
    }
  }
  assert(compared > 5000, `${compared} comparisons`);
});

Deno.test("the rewrite of i extends a range ended by an escape (a punctuation mark, a control) as i does: it skipped the range", () => {
  const cases: [string, string][] = [
    ["[A-\\[]", "a"],
    ["[@-\\[]+", "azk"],
    ["[\\]-z]+", "AZK"],
    ["[\\t-Z]", "q"],
    ["x[\\--Z]", "xq"],
    ["[\\cA-Z]", "m"],
  ];
  for (const [source, text] of cases) {
    assertEquals(new RegExp(source, "i").test(text), true, `${source} (native)`);
    assertEquals(linearRegExp(source, "i").test(text), true, `${source} on ${text}`);
  }
});

Deno.test("the rewrite of i matches non-ASCII letters as i does: every partner of a letter (Σ σ ς), and ranges of other scripts", () => {
  const cases: [string, string][] = [
    ["ΟΔΟΣ", "οδος"],
    ["ΟΔΟΣ", "οδοσ"],
    ["οδος", "ΟΔΟΣ"],
    ["[а-я]+ мир", "ПРИВЕТ МИР"],
    ["[А-Я]+", "привет"],
    ["[α-ω]+", "ΑΒΓ"],
    ["[^α-ω]", "Σ"],
    ["µ", "Μ"],
    ["\\u03c3", "ς"],
    ["[ё]", "Ё"],
    ["straße", "STRAßE"],
    ["k", "\u212a"],
    ["s", "\u017f"],
    ["[\\u0000-\\uffff]", "x"],
  ];
  for (const [p, text] of cases) {
    const native = new RegExp(p, "i");
    assertEquals(
      linearRegExp(p, "i").exec(text)?.[0],
      native.exec(text)?.[0],
      `/${p}/i on ${text}`,
    );
  }
  // And over every code unit of a few scripts, a class and a letter of each.
  const units = Array.from({ length: 0x530 }, (_, i) => String.fromCharCode(i));
  for (const p of ["[а-я]", "[α-ω]", "[^a-zα-ω]", "[À-ÿ]", "σ", "й", "ǅ", "ι", "[ǆ-ǌ]"]) {
    const mine = linearRegExp(p, "i");
    const native = new RegExp(p, "i");
    for (const u of units) {
      assertEquals(mine.test(u), native.test(u), `/${p}/i on U+${u.charCodeAt(0).toString(16)}`);
    }
  }
});

Deno.test("a count past 16 on one character, escape or class is split into counts the engine runs, matching what it matches", () => {
  const cases: [string, string][] = [
    ["[0-9a-f]{40}", "[0-9a-f]{16}[0-9a-f]{16}[0-9a-f]{8}"],
    ["x{2,40}", "x{2}x{0,16}x{0,16}x{0,6}"],
    ["x{2,40}?", "x{2}x{0,16}?x{0,16}?x{0,6}?"],
    ["\\d{20,}", "\\d{16}\\d{4}\\d*"],
    ["a{16}", "a{16}"],
  ];
  for (const [pattern, split] of cases) assertEquals(linearRegExp(pattern, "").source, split);
  // Escapes whose meaning a split would change are not split (refused as before):
  // a lone \c is a backslash and a c, \0000 is \000 and a 0.
  for (const pattern of ["\\c{20}", "\\0000{20}"]) {
    let refused = false;
    try {
      linearRegExp(pattern, "");
    } catch (e) {
      refused = e instanceof PatternProblem;
    }
    assert(refused, pattern);
  }
  // A lone \u, \x or \k is its letter, in any case with i.
  assertEquals(linearRegExp("\\u{3}", "i").test("UUU"), true);
  const texts = [
    "",
    "ab",
    "0123456789abcdef0123456789abcdef01234567",
    "x".repeat(41),
    "x".repeat(2),
    "y" + "x".repeat(39),
    "1".repeat(19),
    "1".repeat(25),
    "a".repeat(15),
  ];
  for (
    const pattern of [
      "[0-9a-f]{40}",
      "^x{2,40}$",
      "^x{2,40}?$",
      "\\d{20,}",
      "^[a-f\\d]{17,33}$",
      "x{17}",
    ]
  ) {
    for (const flags of ["", "i"]) {
      const ours = linearRegExp(pattern, flags);
      const v8 = new RegExp(pattern, flags);
      for (const t of texts) assertEquals(ours.test(t), v8.test(t), `/${pattern}/${flags} on ${t}`);
    }
  }
});

Deno.test("a count on one character or class past what is split up is refused as too large, not as slow", () => {
  for (
    const [p, said] of [["a{1025}", "1025 times ({1025})"], ["[0-9]{2,1000000000}", "1000000000"]]
  ) {
    let e: unknown;
    try {
      linearRegExp(p, "");
    } catch (thrown) {
      e = thrown;
    }
    assert(e instanceof PatternTooLarge, `/${p}/: ${e}`);
    assertMatch(
      e.message,
      /^repeats one character or class \d+ times .*, more than the 1024 bgtask splits up/,
    );
    assert(e.message.includes(said), e.message);
  }
  // 1024 is split up, and runs.
  assert(linearRegExp("a{1024}", "").test("a".repeat(1024)));
});

Deno.test("what the linear engine cannot run is refused, naming it and how to write it instead", () => {
  const cases: [string, string, RegExp][] = [
    ["x", "u", /^uses the flag u, .*: leave it out/],
    ["x", "v", /^uses the flag v/],
    ["(?i:ready)", "", /^uses an inline modifier, \(\?i:…\): .*\/listening on\/i/],
    ["^(?-i:a+)+$", "", /^uses an inline modifier, \(\?-i:…\): /],
    ["(a+)\\1", "", /^uses a backreference \(\\1\): match the text itself/],
    ["(?<n>a)\\k<n>", "", /^uses a backreference \(\\k<n>\)/],
    ["(?<=x)y", "", /^uses a lookaround, \(\?<=…\): match the text itself/],
    ["x(?!y)", "", /^uses a lookaround, \(\?!…\): /],
    ["(?:ab){17}", "", /^repeats a part 17 times \(\{17\}\): count at most 16/],
    ["(?:a{20}){2}", "", /^repeats a part 40 times \(\{20\} within another count\)/],
    ["(?:ab{3}){6}", "i", /^repeats a part 18 times \(\{3\} within another count\)/],
  ];
  for (const [p, flags, said] of cases) {
    try {
      linearRegExp(p, flags);
      throw new Error(`/${p}/${flags} was accepted`);
    } catch (e) {
      assert(e instanceof PatternProblem, `/${p}/${flags}: ${e}`);
      assertMatch(`${e.message}: ${e.fix}`, said);
    }
  }
});

Deno.test("linearFallback tells a process started with V8's fallback from one started without", async () => {
  const code = `import { linearFallback } from ${
    JSON.stringify(new URL("../src/linear_regexp.ts", import.meta.url).href)
  };
     console.log(linearFallback());`;
  const on = await runDeno([FALLBACK_FLAG], code);
  const off = await runDeno([
    "--v8-flags=--no-enable-experimental-regexp-engine-on-excessive-backtracks",
  ], code);
  assertEquals([on.stdout.trim(), off.stdout.trim()], ["true", "false"], on.stderr + off.stderr);
});
