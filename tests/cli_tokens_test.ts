// src/cli/tokens.ts against node:util parseArgs (the oracle): the same tokens
// and, through parseVerb, the same values and positionals, on every command
// line of up to four arguments drawn from a set that covers each rule.
import { deepEqual } from "node:assert/strict";
import { parseArgs } from "node:util";
import { type OptionSpecs, parseVerb } from "../src/cli/args.ts";
import { tokenize } from "../src/cli/tokens.ts";

const OPTIONS: OptionSpecs = {
  wait: { type: "boolean", short: "w" },
  json: { type: "boolean", short: "j" },
  tail: { type: "string", short: "n" },
  after: { type: "string", multiple: true },
  env: { type: "string", short: "e", multiple: true },
  all: { type: "boolean", short: "a", multiple: true },
};

const ARGS = [
  "b1",
  "-",
  "--",
  "-w",
  "-n",
  "-n5",
  "-wn",
  "-nw",
  "-wj",
  "-wn5",
  "-x",
  "-xw",
  "-w=1",
  "-n=2",
  "--wait",
  "--wait=yes",
  "--tail",
  "--tail=3",
  "--tail=",
  "--after",
  "--after=b2",
  "--env",
  "-e",
  "-eA=1",
  "--nope",
  "--nope=1",
  "---",
  "--=x",
  "-a",
  "-aa",
  "--__proto__",
  "-1",
  "-w-",
  "",
];

function* lines(max: number): Generator<string[]> {
  let level: string[][] = [[]];
  yield [];
  for (let n = 1; n <= max; n++) {
    level = level.flatMap((l) => ARGS.map((a) => [...l, a]));
    yield* level;
  }
}

Deno.test("tokens: the same as parseArgs' for every command line of up to 3 arguments, and 4 sampled", () => {
  let checked = 0;
  for (const args of lines(4)) {
    // All of 3 (about 36,000); a deterministic fortieth of 4 (about 30,000).
    if (args.length === 4 && (checked++ % 40) !== 0) continue;
    const oracle = parseArgs({
      args,
      options: OPTIONS,
      strict: false,
      allowPositionals: true,
      tokens: true,
    });
    const ours = tokenize(args, OPTIONS);
    deepEqual(ours, oracle.tokens, JSON.stringify(args));
    let parsed;
    try {
      parsed = parseVerb("t", args, OPTIONS, true);
    } catch {
      continue; // a usage error: tests/cli_parse_test.ts checks those
    }
    deepEqual(parsed.positionals, oracle.positionals, JSON.stringify(args));
    deepEqual(parsed.values, { ...oracle.values }, JSON.stringify(args));
  }
});
