/**
 * The command line cut into tokens — options with their values, positionals,
 * the `--` terminator — by the rules of `node:util` `parseArgs` with
 * `tokens: true` and `strict: false`: `--name value`, `--name=value`, `-n
 * value`, `-nvalue`, groups such as `-abc`, and `--` ending the options.
 *
 * Why not `parseArgs` itself: importing any `node:` module starts Deno's Node
 * compatibility layer, 10–20 ms added to every CLI call (measured in
 * BENCHMARKS.md). `tests/cli_tokens_test.ts` checks these tokens against
 * `parseArgs`' on thousands of command lines.
 *
 * @module
 */

import type { OptionSpecs } from "./args.ts";

/** One argument (or one letter of a group such as `-abc`) as parsed. */
export type Token =
  | {
    kind: "option";
    /** The long name, or the letter when no option has it as its short name. */
    name: string;
    /** As typed: `--tail`, or `-n` (also for a letter taken out of a group). */
    rawName: string;
    /** Index in the arguments of the argument the option came from. */
    index: number;
    /** The value: the next argument, or the rest after `=` or the letter. */
    value: string | undefined;
    /** True when the value was part of the same argument (`--tail=5`, `-n5`). */
    inlineValue: boolean | undefined;
  }
  | { kind: "positional"; index: number; value: string }
  | { kind: "option-terminator"; index: number };

/**
 * Cuts `args` into tokens. An option of type `string` takes the next argument
 * as its value whatever it looks like (the caller decides whether a value
 * such as `--wait` is a mistake); unknown options are tokens too.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { tokenize } from "./tokens.ts";
 * const tokens = tokenize(["-wn", "5", "b1"], {
 *   wait: { type: "boolean", short: "w" },
 *   tail: { type: "string", short: "n" },
 * });
 * deepEqual(tokens.map((t) => t.kind === "option" ? [t.name, t.value] : [t.kind]), [
 *   ["wait", undefined],
 *   ["tail", "5"],
 *   ["positional"],
 * ]);
 * ```
 */
export function tokenize(args: readonly string[], options: OptionSpecs): Token[] {
  const longFor = (letter: string): string => {
    for (const [name, spec] of Object.entries(options)) if (spec.short === letter) return name;
    return letter;
  };
  const takesValue = (name: string) =>
    Object.hasOwn(options, name) && options[name].type === "string";
  const tokens: Token[] = [];
  const rest = [...args];
  let index = -1;
  let groupLeft = 0; // letters of an expanded group still in `rest`: they share its index
  // An option written alone (`-n`, `--tail`): its value, if it takes one, is the next argument.
  const alone = (name: string, rawName: string) => {
    const value = takesValue(name) && rest.length > 0 ? rest.shift() : undefined;
    const inlineValue = value === undefined ? undefined : false;
    tokens.push({ kind: "option", name, rawName, index, value, inlineValue });
    if (value !== undefined) index++;
  };
  // An option with its value in the same argument (`-n5`, `--tail=5`).
  const joined = (name: string, rawName: string, value: string) => {
    tokens.push({ kind: "option", name, rawName, index, value, inlineValue: true });
  };
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (groupLeft > 0) groupLeft--;
    else index++;
    if (arg === "--") {
      tokens.push({ kind: "option-terminator", index });
      for (const value of rest) tokens.push({ kind: "positional", index: ++index, value });
      break;
    }
    const short = arg.length >= 2 && arg[0] === "-" && arg[1] !== "-";
    if (short && arg.length === 2) { // -n [value]
      alone(longFor(arg[1]), arg);
    } else if (short && !takesValue(longFor(arg[1]))) { // -abc: -a -b -c, or -a -bVALUE
      const letters: string[] = [];
      for (let i = 1; i < arg.length; i++) {
        if (takesValue(longFor(arg[i])) && i < arg.length - 1) {
          letters.push(`-${arg.slice(i)}`);
          break;
        }
        letters.push(`-${arg[i]}`);
      }
      rest.unshift(...letters);
      groupLeft = letters.length;
    } else if (short) { // -nVALUE
      joined(longFor(arg[1]), `-${arg[1]}`, arg.slice(2));
    } else if (arg.length > 2 && arg.startsWith("--")) {
      const eq = arg.indexOf("=", 3);
      if (eq === -1) alone(arg.slice(2), arg); // --name [value]
      else joined(arg.slice(2, eq), `--${arg.slice(2, eq)}`, arg.slice(eq + 1)); // --name=value
    } else {
      tokens.push({ kind: "positional", index, value: arg });
    }
  }
  return tokens;
}
