/**
 * Argument parsing on the tokens of `tokens.ts` (`node:util` `parseArgs`'
 * rules): a verb's options and positionals, checked as strictly as
 * parseArgs' strict mode but reported as one clear line naming the option as
 * typed; the "options stop at the first word of the command" rule of `run`;
 * task ids.
 *
 * @module
 */

import { SHELLS as SCRIPTED_SHELLS } from "./shell_completion.ts";
import { isValidId, TASK_STATUSES, type TaskStatus } from "../../mod.ts";
import { UsageError } from "./errors.ts";
import { quote } from "./escape.ts";
import { type Token, tokenize } from "./tokens.ts";
import { tspActionHint } from "./tsp_habits.ts";
import { likeliest } from "../options.ts";

/**
 * Options of other tools (pueue, task-spooler) and the one that does their
 * work here, when the verb takes it (`run --label`: --description).
 */
const OTHER_OPTIONS: ReadonlyMap<string, string> = new Map([
  ["label", "description"],
  ["group", "queue"],
  ["working-directory", "cwd"],
  ["lines", "tail"], // pueue log --lines N
]);

/** Another tool's one-letter option: what does its work here, and the long option that needs. */
interface OtherLetter {
  say: string;
  needs: string;
  from: string;
}

/**
 * One-letter options of pueue and task-spooler, when the verb has no such
 * letter: the option (and value) that does their work here, and the long
 * option it needs; of several, the first the verb has (`-a`: pueue add's
 * --after for run, pueue kill's and wait's --all for kill and wait).
 */
const OTHER_LETTERS: ReadonlyMap<string, readonly OtherLetter[]> = new Map([
  ["g", [{ say: "--queue", needs: "queue", from: "pueue" }]], // -g GROUP
  ["l", [
    { say: "--description", needs: "description", from: "pueue" }, // add -l LABEL
    { say: "--tail", needs: "tail", from: "pueue" }, // log -l N
  ]],
  ["L", [{ say: "--description", needs: "description", from: "task-spooler" }]], // -L LABEL
  ["w", [{ say: "--cwd", needs: "cwd", from: "pueue" }]], // add -w DIR
  ["a", [
    { say: "--after", needs: "after", from: "pueue" }, // add -a ID
    { say: "--all", needs: "all", from: "pueue" }, // kill -a, wait -a
  ]],
  ["D", [{ say: "--after", needs: "after", from: "task-spooler" }]], // -D ID
  ["W", [{ say: "--after", needs: "after", from: "task-spooler" }]], // -W ID
  ["d", [{ say: "--after last", needs: "after", from: "task-spooler" }]], // -d: after the last job
  ["f", [{ say: "--wait", needs: "wait", from: "task-spooler" }]], // -f: not into the background
  ["j", [{ say: "--json", needs: "json", from: "pueue" }]], // status -j
]);

/**
 * Whether an option as typed (`typed`, named `name`) is one of Deno's
 * permission flags: `--allow-read=DIR`, `--deny-run`, `--allow-all`, `-A`.
 */
function isDenoPermissionFlag(typed: string, name: string): boolean {
  // (-R, -W, -E, -N, -S, -P: the short forms of read, write, env, net, sys, a permission set.)
  return /^-[ARWENSP]$/.test(typed) ||
    /^--(allow|deny)-[a-z]/.test(typed) && /^(allow|deny)-/.test(name);
}

/**
 * What does the work, here, of an option that pueue, task-spooler or kill(1)
 * users type out of habit, by verb (`where`) and the option as typed
 * (`-9`, `--delay`): a sentence, as the rest of the error's hint. `value`
 * is the value the option took, if any (`--delay 5s`); `options` are the
 * verb's.
 */
function habitHint(
  where: string,
  typed: string,
  name: string,
  value: string | undefined,
  options: OptionSpecs,
): string | undefined {
  // Another tool's meaning first: a tsp user's `run -E` keeps stderr apart,
  // `run -N 2` asks for slots, `run -W b3` waits for b3 (letterHint), none
  // of them the Deno permission flag of the same letter.
  const other = verbHabit(where, typed, name, value);
  if (other !== undefined) return other;
  const letter = /^-[^-]$/.test(typed) && letterHint(name, options) !== undefined;
  // Deno's permission flags, from a permission error's "run again with
  // --allow-read=…" followed to the letter: they are the runtime's, given
  // before the script (or built into an installed bgtask).
  if (!letter && isDenoPermissionFlag(typed, name)) {
    return "that is a permission flag of Deno's, not an option of bgtask: give it to deno, " +
      `before the script (deno run ${typed} … cli.ts …), or, for an installed bgtask, install ` +
      `it again with it (deno install -g -f ${typed} …, see Install in the README)`;
  }
  // Other tools' ways to turn colour off or on (every verb has --color).
  if (name === "no-color" || name === "no-colour") return "did you mean --color never?";
  if (name === "colour") return "did you mean --color?";
  return undefined;
}

/** {@linkcode habitHint}'s answers that depend on the verb. */
function verbHabit(where: string, typed: string, name: string, value?: string): string | undefined {
  switch (where) {
    case "bgtask":
      if (typed === "-V" || typed === "-v") return "did you mean --version?";
      return tspActionHint(typed);
    case "bgtask run":
      return runHabit(typed, name, value);
    case "bgtask logs":
      return logsHabit(typed, name);
    case "bgtask restart":
      return restartHabit(typed, name);
    case "bgtask wait":
      if (name === "quiet" || typed === "-q") {
        return "bgtask wait prints the tasks once, when the wait ends (pueue's --quiet hides " +
          "what it prints meanwhile): to print nothing, bgtask wait … >/dev/null (its exit " +
          "code says how they ended)";
      }
      return undefined;
    case "bgtask kill":
      // kill(1)'s -9, -INT, -SIGKILL (a group of letters to the parser).
      if (/^-(\d+|(SIG)?[A-Z]{2,}\d*)$/.test(typed)) {
        return `did you mean --signal ${typed.slice(1)}? (kill(1)'s ${typed}: the first ` +
          "signal, TERM unless given; SIGKILL follows after --grace)";
      }
      return undefined;
    case "bgtask list":
      if (name === "tail" || name === "n") return "did you mean --last N (the newest N tasks)?";
      return undefined;
  }
  return undefined;
}

/** `bgtask run` given an option of `tsp CMD` or `pueue add`. */
function runHabit(typed: string, name: string, value?: string): string | undefined {
  if (name === "delay") {
    const wait = value !== undefined && /^\d+(\.\d+)?[smhd]?$/.test(value) ? value : "N";
    return `bgtask has no delayed start: run 'sleep ${wait}; CMD' (the task's shell waits)`;
  }
  if (name === "immediate" || typed === "-i") {
    return "a task with no --queue starts at once (pueue's --immediate is how run always " +
      "starts); with --queue it waits for a slot";
  }
  switch (typed) {
    case "-E":
      return "task-spooler's -E keeps stderr apart, bgtask does not: a task's stderr is " +
        "interleaved with its stdout in its one output (bgtask logs ID); to keep it apart, " +
        "redirect it in the command ('make 2>make.err')";
    case "-N":
      return "bgtask has no slots per task (task-spooler's -N N): each task takes one slot " +
        "of its queue; to run N at a time, bgtask queue set Q --parallel N, then " +
        "bgtask run --queue Q CMD";
    case "-n":
      return "bgtask always keeps the output (task-spooler's -n does not): to drop it, " +
        "redirect it in the command ('CMD >/dev/null 2>&1')";
    case "-m":
      return "bgtask sends no mail (task-spooler's -m): mail the output once the task ends " +
        "(bgtask wait ID; bgtask logs ID | mail -s done $USER)";
  }
  if (name === "stashed" || typed === "-s") {
    return "bgtask has no stash (pueue's --stashed): queue pause Q, then run --queue Q " +
      "(queued, not started, until queue resume Q)";
  }
  if (name === "print-task-id" || typed === "-p") {
    return "bgtask run prints only the new task's id already (pueue's --print-task-id)";
  }
  if (name === "priority" || typed === "-o") {
    return "bgtask has no priorities (pueue's --priority): a queue's tasks start in the " +
      "order they were run";
  }
  return undefined;
}

/** `bgtask logs` given an option of `tsp -t`/`-c` or `pueue log`. */
function logsHabit(typed: string, name: string): string | undefined {
  if (typed === "-t") {
    return "did you mean --follow? (task-spooler's -t is bgtask logs -n 10 -f ID: the last " +
      "10 lines, then the new ones)";
  }
  if (typed === "-c") {
    return "did you mean --follow? (task-spooler's -c is bgtask logs -f ID: all the " +
      "output, then the new ones)";
  }
  if (name === "full") {
    return "bgtask logs writes the whole output already (pueue's --full); --tail N for its end";
  }
  if (name === "json" || typed === "-j") {
    return "bgtask logs writes the output as it is (pueue's log --json): bgtask status " +
      "--json ID gives the task, and outputFile the file its output is in";
  }
  return undefined;
}

/** `bgtask restart` given an option of `pueue restart`. */
function restartHabit(typed: string, name: string): string | undefined {
  const failed = (queue: string) =>
    `bgtask restart $(bgtask list${queue} --status failed,killed --json | jq -r '.[].id')`;
  if (name === "all-failed" || typed === "-a") {
    return `bgtask restart takes ids (pueue's --all-failed): ${failed("")}`;
  }
  if (name === "failed-in-group" || typed === "-g") {
    return `bgtask restart takes ids (pueue's --failed-in-group): ${failed(" --queue Q")}`;
  }
  if (
    ["in-place", "not-in-place", "start-immediately", "immediately"].includes(name) ||
    typed === "-i" || typed === "-k"
  ) {
    return "a restart is always a new task (a new id; status shows the old one as its " +
      "restartOf), in the old one's queue and after its --after tasks, started as run starts it";
  }
  if (name === "edit" || typed === "-e") {
    return "bgtask restart runs the same command again (pueue's --edit): to change it, " +
      "bgtask run the new command";
  }
  return undefined;
}

/**
 * The hint for a one-letter option the verb lacks that pueue or task-spooler
 * has: the verb's own options with that letter first (`run -w`: --wait, as
 * likely as pueue's working directory), then the other tool's, named.
 */
function letterHint(letter: string, options: OptionSpecs): string | undefined {
  const other = OTHER_LETTERS.get(letter)?.find((o) => Object.hasOwn(options, o.needs));
  if (other === undefined) return undefined;
  // (Not the other tool's option twice: list -j is --json, pueue's -j.)
  const own = Object.keys(options).filter((k) =>
    k.startsWith(letter.toLowerCase()) && `--${k}` !== other.say
  ).map((k) => `--${k}`);
  const theirs = `${other.say} (${other.from}'s -${letter})`;
  return own.length ? `${own.join(", ")}, or ${theirs}` : theirs;
}

/** The shells whose completion scripts other tools print (`pueue completions bash`). */
const SHELLS: ReadonlySet<string> = new Set(["bash", "zsh", "fish", "elvish", "powershell", "nu"]);

/**
 * What a word given to a verb that takes none most likely meant, when
 * another tool's habit explains it: `completions bash` (pueue's, rustup's
 * and gh's shell completion scripts) is no task notice.
 */
function positionalHint(where: string, word: string): string | undefined {
  if (where === "bgtask completions" && SHELLS.has(word.toLowerCase())) {
    return "completions lists the finished tasks not reported before (notices, once each); " +
      `the shell's completion script is bgtask completion ${
        (SCRIPTED_SHELLS as readonly string[]).includes(word.toLowerCase())
          ? word.toLowerCase()
          : "bash"
      }`;
  }
  return undefined;
}

/** One option of a verb, in `node:util` `parseArgs` terms. */
export interface OptionSpec {
  /** `string` options take a value; `boolean` ones do not. */
  type: "string" | "boolean";
  /** A one-letter alias. */
  short?: string;
  /** May be given more than once (values collected in order). */
  multiple?: boolean;
}

/** A verb's options, by long name. */
export type OptionSpecs = Record<string, OptionSpec>;

/** Parsed option values, by long name. */
export type Values = Record<string, string | boolean | string[] | undefined>;

/** The result of {@linkcode parseVerb}. */
export interface Parsed {
  /** Option values by long name. */
  values: Values;
  /** The arguments that are not options. */
  positionals: string[];
}

/**
 * The first mistake among the tokens, as a usage error naming the
 * option exactly as it was typed (`-n` or `--tail`), or undefined when there
 * is none. These are strict mode's checks, made on the tokens rather than by
 * rewording parseArgs' messages.
 */
function mistake(
  args: string[],
  tokens: Token[],
  options: OptionSpecs,
  allowPositionals: boolean,
  where: string,
): UsageError | undefined {
  const see = `(see ${where} --help)`;
  const given = new Set<string>();
  for (const token of tokens) {
    if (token.kind === "positional" && !allowPositionals) {
      const hint = positionalHint(where, token.value);
      return new UsageError(
        `unexpected argument ${quote(token.value)} for ${where}${hint ? `: ${hint}` : ""} ${see}`,
      );
    }
    if (token.kind !== "option") continue;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (spec === undefined) {
      // A letter out of a group such as -fx or -f=1 is shown with its group.
      const typed = args[token.index];
      const group = /^-[^-]/.test(typed) && typed !== token.rawName ? ` in ${quote(typed)}` : "";
      // `--timout`: the long name it most likely meant; `--label`: the one
      // that does what another tool's does; a letter: only another tool's
      // (`-g`: pueue's group), see letterHint.
      const habit = habitHint(where, typed, token.name, token.value, options);
      if (habit !== undefined) {
        return new UsageError(
          `unknown option ${quote(token.rawName)}${group} for ${where}: ${habit} ${see}`,
        );
      }
      const other = OTHER_OPTIONS.get(token.name);
      const likely = likeliest(token.name, Object.keys(options));
      const like = !token.rawName.startsWith("--")
        ? letterHint(token.name, options)
        : other !== undefined && Object.hasOwn(options, other)
        ? `--${other}`
        : likely && `--${likely}`;
      const hint = like ? `: did you mean ${like}?` : "";
      return new UsageError(
        `unknown option ${quote(token.rawName)}${group} for ${where}${hint} ${see}`,
      );
    }
    const flag = token.rawName; // a known option: `-n` or `--tail`, nothing to escape
    if (spec.type === "boolean") {
      if (token.value !== undefined) return new UsageError(`option ${flag} takes no value ${see}`);
      continue;
    }
    if (token.value === undefined) return new UsageError(`option ${flag} needs a value ${see}`);
    // `--cwd --wait`: a value that looks like an option is more likely a forgotten value.
    // (A negative number is no option: it is the value, for its own check to refuse.)
    if (!token.inlineValue && /^-[^\d.]/.test(token.value)) {
      return new UsageError(
        `option ${flag} needs a value (${quote(token.value)} looks like an option; ` +
          `to pass it as the value, write ${quote(`--${token.name}=${token.value}`)})`,
      );
    }
    // `--queue a --queue b` kept b alone, silently: a wait then judged one queue.
    if (!spec.multiple && given.has(token.name)) {
      return new UsageError(`option --${token.name} was given twice; it takes one value ${see}`);
    }
    given.add(token.name);
  }
  return undefined;
}

/**
 * Parses a verb's arguments strictly: unknown options and (unless allowed)
 * positionals are usage errors naming the argument.
 *
 * @param where How the verb is named in errors (`bgtask list`).
 *
 * @example
 * ```ts
 * import { parseVerb } from "./args.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * const { values, positionals } = parseVerb("bgtask kill", ["b1", "--grace", "1s"], {
 *   grace: { type: "string" },
 * }, true);
 * equal(values.grace, "1s");
 * deepEqual(positionals, ["b1"]);
 * ```
 */
export function parseVerb(
  where: string,
  args: string[],
  options: OptionSpecs,
  allowPositionals: boolean,
): Parsed {
  const tokens = tokenize(args, options);
  const error = mistake(args, tokens, options, allowPositionals, where);
  if (error) throw error;
  // Values as parseArgs gives them: `true` for a flag, arrays for `multiple`.
  const values: Values = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option" || token.name === "__proto__") continue;
    const value = token.value ?? true;
    if (options[token.name]?.multiple) {
      const list = (values[token.name] ??= []) as (string | boolean)[];
      list.push(value);
    } else {
      values[token.name] = value;
    }
  }
  return { values, positionals };
}

/**
 * What a person can do instead of passing bytes that are not UTF-8 as this
 * argument (an option's long name, or `command`, `text`).
 */
const NOT_UTF8_FIX: Readonly<Record<string, string>> = {
  env: "the task inherits bgtask's own environment byte for byte: set the variable there " +
    "instead (X=$'caf\\xe9' bgtask run …)",
  dir: "name the store by a path that is UTF-8 (a symbolic link to the folder)",
  cwd: "give a path that is UTF-8 (a symbolic link to the folder)",
  description: "write the description in UTF-8",
  command: "let the task's bash make the bytes: write them escaped in the command " +
    "(printf 'caf\\xe9', $'caf\\xe9'), or run a script file that holds them",
  text: "bgtask send ID - sends its stdin byte for byte (printf 'caf\\xe9\\n' | bgtask send ID -)",
};

/**
 * Refuses an argument that held bytes that are not UTF-8: Deno reads the
 * command line as UTF-8 and makes each such byte U+FFFD, so `--env
 * X=caf\xe9` gave the task `caf\uFFFD` and `--dir` a folder of another name,
 * silently. (A U+FFFD typed on purpose cannot be told from one: refused too.)
 *
 * @param where How the verb is named in errors (`bgtask run`).
 * @throws {UsageError} Naming the argument, and what carries such bytes.
 *
 * @example
 * ```ts
 * import { refuseNotUtf8 } from "./args.ts";
 * import { throws } from "node:assert/strict";
 * refuseNotUtf8("bgtask run", { values: { env: ["X=café"] }, positionals: ["ls"] });
 * throws(
 *   () => refuseNotUtf8("bgtask run", { values: { env: ["X=caf\ufffd"] }, positionals: [] }),
 *   /--env "X=caf\ufffd" holds U\+FFFD/,
 * );
 * ```
 */
export function refuseNotUtf8(where: string, parsed: Parsed, command = false): void {
  // (Shown from a little before the first U+FFFD: a quote cut at its
  // length left it out of a long command.)
  const near = (v: string) => {
    const at = v.indexOf("\ufffd");
    return at > 40 ? `…${v.slice(at - 20)}` : v;
  };
  const refuse = (what: string, value: string, fix: string | undefined) =>
    new UsageError(
      `${what} ${quote(near(value))} holds U+FFFD (\ufffd), which is what a byte that is not ` +
        "UTF-8 becomes as Deno reads the command line (and one typed cannot be told from " +
        "it): such bytes cannot pass through the command line, and are refused rather than " +
        `changed${fix ? `; ${fix}` : ""}`,
    );
  for (const [name, value] of Object.entries(parsed.values)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === "string" && v.includes("\ufffd")) {
        throw refuse(`--${name}`, v, NOT_UTF8_FIX[name]);
      }
    }
  }
  parsed.positionals.forEach((v, i) => {
    if (!v.includes("\ufffd")) return;
    if (where === "bgtask send" && i > 0) throw refuse("the text", v, NOT_UTF8_FIX.text);
    if (command && where !== "bgtask send") {
      throw refuse("the command", v, NOT_UTF8_FIX.command);
    }
    throw refuse(`the argument of ${where}`, v, undefined);
  });
}

/**
 * Splits arguments where a command begins: at `--` (dropped), or at the first
 * argument that is neither an option nor an option's value. Options that
 * take a value consume the next argument unless written `--name=value`.
 *
 * @example
 * ```ts
 * import { splitAtCommand } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 * const { options, command } = splitAtCommand(["--cwd", "/tmp", "ls", "-la"], {
 *   cwd: { type: "string" },
 * });
 * deepEqual(options, ["--cwd", "/tmp"]);
 * deepEqual(command, ["ls", "-la"]);
 * ```
 */
export function splitAtCommand(
  args: string[],
  specs: OptionSpecs,
): { options: string[]; command: string[] } {
  // The same rules as a verb's options (tokens.ts): the first positional
  // token is where the command begins.
  for (const token of tokenize(args, specs)) {
    if (token.kind === "option-terminator") {
      return { options: args.slice(0, token.index), command: args.slice(token.index + 1) };
    }
    if (token.kind === "positional") {
      return { options: args.slice(0, token.index), command: args.slice(token.index) };
    }
  }
  return { options: args, command: [] };
}

/**
 * What `--all` (or the verb that does its work) is for a verb, when `all` is
 * typed where an id goes (`kill all`).
 */
export const ALL_IS: Readonly<Record<string, readonly [string, string]>> = {
  "bgtask kill": ["bgtask kill --all", "every unfinished task"],
  "bgtask wait": ["bgtask wait --all", "every unfinished task"],
  "bgtask pause": ["bgtask pause --all", "every running task"],
  "bgtask resume": ["bgtask resume --all", "every paused task"],
  "bgtask rm": ["bgtask clean", "finished tasks in bulk"],
};

/** The ends of a range typed for ids (`b3..b5`, `3-5`), or undefined. */
function rangeOf(arg: string): [number, number] | undefined {
  const range = /^b?([1-9][0-9]{0,15})(?:\.\.\.?|-)b?([1-9][0-9]{0,15})$/.exec(arg);
  return range ? [Number(range[1]), Number(range[2])] : undefined;
}

/** The ids `from` to `to` as a hint says them: all of a few, else the ends. */
function spelled(from: number, to: number): string {
  const step = from <= to ? 1 : -1;
  const count = Math.abs(to - from) + 1;
  if (count <= 6) {
    return Array.from({ length: count }, (_, i) => `b${from + i * step}`).join(" ");
  }
  return `b${from} b${from + step} … b${to}`;
}

/** What parseId says of an argument that is no task id and hints at nothing else. */
export const NOT_AN_ID = "is not a task id (ids look like b1, b2, …)";

/**
 * Why `arg` is no task id, with what was most likely meant: a range
 * (`b3..b5`, `1-3`: the ids, listed), a misspelt `last`, `all` (`--all`);
 * undefined when it is none of those.
 */
function idHint(arg: string, where?: string): string | undefined {
  const range = rangeOf(arg);
  if (range) {
    const [from, to] = range;
    const seq = from <= to ? `${from} ${to}` : `${from} -1 ${to}`;
    return `is a range, which bgtask does not take: name each id (${spelled(from, to)}; ` +
      `in a shell, $(seq ${seq}))`;
  }
  const low = arg.toLowerCase();
  if (low === "all") {
    const all = where !== undefined && Object.hasOwn(ALL_IS, where) ? ALL_IS[where] : undefined;
    return `is not a task id${all ? ` (for ${all[1]}: ${all[0]})` : ""}`;
  }
  if (low === "latest" || low === "newest" || likeliest(low, ["last"]) !== undefined) {
    return "is not a task id: did you mean last (the newest task)?";
  }
  // (`b010`, `007`: a padded number names no task; the same number unpadded may.)
  const padded = /^b?0+([1-9][0-9]*)$/.exec(low);
  if (padded) return `is not a task id (ids have no leading zeros): did you mean b${padded[1]}?`;
  return undefined;
}

/**
 * Checks a task id argument: `b3`, or just `3`. Returns the id in `b3` form.
 *
 * @param where How the verb is named in errors (`bgtask send`), for a hint.
 * @throws {UsageError} When it cannot be a task id: the error says what was
 *   likely meant (`b3..b5`: a range, listed; `lats`: last; `all`: --all).
 *
 * @example
 * ```ts
 * import { parseId } from "./args.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(parseId("b12"), "b12");
 * equal(parseId("7"), "b7");
 * throws(() => parseId("b3..b5"), /is a range, which bgtask does not take: name each id \(b3 b4 b5;/);
 * throws(() => parseId("b010"), /\(ids have no leading zeros\): did you mean b10\?/);
 * ```
 */
export function parseId(arg: string, where?: string): string {
  const id = /^[1-9][0-9]*$/.test(arg) ? `b${arg}` : arg;
  if (!isValidId(id)) {
    // (b and digits, but past what an id can be: said so, not that it does not look like one.)
    const why = /^b[1-9][0-9]*$/.test(id)
      ? "is too long for a task id (ids are b1, b2, …, of at most 16 digits)"
      : arg.includes(",")
      ? `is not a task id (${where ?? "this"} takes one id, not a list)`
      : idHint(arg, where) ?? NOT_AN_ID;
    throw new UsageError(`${quote(arg)} ${why}`);
  }
  return id;
}

/**
 * Checks the id arguments of a verb: at least one (or exactly one with
 * `single`), each a task id or a comma-separated list of them (`b1,b2`, as
 * `run --after` takes). Duplicates are dropped, order kept.
 *
 * @param where How the verb is named in errors (`bgtask kill`).
 * @throws {UsageError} For no id, a bad one, an empty part of a list
 *   (`b1,,b2`), or more than one with `single`.
 *
 * @example
 * ```ts
 * import { parseIds } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(parseIds("bgtask wait", ["b1", "2", "b1"]), ["b1", "b2"]);
 * deepEqual(parseIds("bgtask kill", ["b1,b2", "3"]), ["b1", "b2", "b3"]);
 * ```
 */
export function parseIds(where: string, args: string[], single = false): string[] {
  if (args.length === 0) {
    throw new UsageError(
      `missing task id for ${where} (last is the newest task; bgtask list shows them; ` +
        `see ${where} --help)`,
    );
  }
  const ids: string[] = [];
  for (const arg of args) {
    const parts = arg.split(",");
    if (parts.length > 1 && parts.includes("")) {
      throw new UsageError(
        `${quote(arg)} has an empty id in its list (several ids: b1,b2 or b1 b2)`,
      );
    }
    for (const part of parts) ids.push(parseId(part, where));
  }
  if (single && ids.length > 1) {
    throw new UsageError(
      `too many task ids for ${where}: it takes one, got ${ids.length} (see ${where} --help)`,
    );
  }
  return [...new Set(ids)];
}

/** The statuses a task ends in (what `clean --status` may name). */
const FINISHED: readonly TaskStatus[] = ["completed", "failed", "killed"];

/**
 * Parses `--status` values: repeatable and comma-separated (`failed,killed`).
 *
 * @throws {UsageError} For an unknown status, or one a task has not ended in
 * (queued, running, paused) when `finishedOnly`.
 *
 * @example
 * ```ts
 * import { parseStatuses } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(parseStatuses(["failed,killed"], false), ["failed", "killed"]);
 * ```
 */
export function parseStatuses(
  values: string[] | undefined,
  finishedOnly: boolean,
): TaskStatus[] | undefined {
  if (!values || values.length === 0) return undefined;
  const allowed = finishedOnly ? TASK_STATUSES.filter((s) => FINISHED.includes(s)) : TASK_STATUSES;
  const out: TaskStatus[] = [];
  for (const v of values.flatMap((v) => v.split(","))) {
    const s = v.trim() as TaskStatus;
    if (!allowed.includes(s)) {
      throw new UsageError(
        `invalid status ${quote(v)} for --status (expected ${allowed.join(", ")})`,
      );
    }
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/**
 * Parses a whole number of at least 0 (`--tail`).
 *
 * @param range What the flag takes, as the error says it (the caller checks
 *   any narrower range).
 * @throws {UsageError} Otherwise.
 *
 * @example
 * ```ts
 * import { parseCount } from "./args.ts";
 * import { equal } from "node:assert/strict";
 * equal(parseCount("20", "--tail"), 20);
 * ```
 */
export function parseCount(text: string, flag: string, range = "a whole number ≥ 0"): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(invalidNumber(text, flag, range));
  }
  return n;
}

/**
 * "invalid number … (RANGE)", or, for digits beyond what a number holds
 * exactly, "… is too large (RANGE, at most …)".
 */
function invalidNumber(text: string, flag: string, range: string): string {
  if (!/^\d+$/.test(text) || Number.isSafeInteger(Number(text))) {
    return `invalid number ${quote(text)} for ${flag} (${range})`;
  }
  const shown = text.length > 24 ? `${text.slice(0, 24)}…` : text;
  return `number ${quote(shown)} for ${flag} is too large (${range}, at most ` +
    `${Number.MAX_SAFE_INTEGER})`;
}

/**
 * Parses task ids given to a repeatable, comma-separated option (`--after
 * b3,b4 --after 7`): each `b3` or `3`; duplicates dropped, order kept.
 *
 * @throws {UsageError} For anything that is not a task id, naming the option.
 *
 * @example
 * ```ts
 * import { parseIdList } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(parseIdList(["b3,4", "b3"], "--after"), ["b3", "b4"]);
 * ```
 */
export function parseIdList(values: string[], flag: string): string[] {
  const ids: string[] = [];
  for (const piece of values.flatMap((v) => v.split(","))) {
    const arg = piece.trim();
    const id = /^[1-9][0-9]*$/.test(arg) ? `b${arg}` : arg;
    if (!isValidId(id)) {
      const range = rangeOf(arg);
      if (range) {
        const [from, to] = range;
        const seq = from <= to ? `${from} ${to}` : `${from} -1 ${to}`;
        throw new UsageError(
          `${quote(piece)} is a range, which ${flag} does not take: list the ids, ${flag} ` +
            `${spelled(from, to).replaceAll(" ", ",")}` +
            (Math.abs(to - from) >= 6 ? ` (in a shell, ${flag} "$(seq -s, -f b%.0f ${seq})")` : ""),
        );
      }
      throw new UsageError(
        `${quote(piece)} is not a task id for ${flag} (ids look like b1, b2, …; ` +
          `several: ${flag} b1,b2)`,
      );
    }
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/**
 * The rule for queue and consumer names, as the bgtask module checks them:
 * letters, digits, `_`, `.` and `-`, up to 64, starting with a letter or digit.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Checks a queue or consumer name (`--queue ci`, `--consumer my-agent`) before
 * anything is done, so that every verb reports a bad one the same way.
 *
 * @param what What the name is for, in the message: `--queue`, `queue name`.
 * @throws {UsageError} For a name the module would refuse.
 *
 * @example
 * ```ts
 * import { parseName } from "./args.ts";
 * import { equal } from "node:assert/strict";
 * equal(parseName("ci-linux.x64", "--queue"), "ci-linux.x64");
 * ```
 */
export function parseName(text: string, what: string): string {
  if (!NAME.test(text)) {
    throw new UsageError(
      `invalid name ${quote(text)} for ${what} (letters, digits, "_", "." and "-", ` +
        "up to 64, starting with a letter or digit)",
    );
  }
  return text;
}

/**
 * Parses a whole number of at least 1 (`--parallel`).
 *
 * @throws {UsageError} Otherwise.
 *
 * @example
 * ```ts
 * import { parsePositive } from "./args.ts";
 * import { equal } from "node:assert/strict";
 * equal(parsePositive("4", "--parallel"), 4);
 * ```
 */
export function parsePositive(text: string, flag: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(invalidNumber(text, flag, "a whole number ≥ 1"));
  }
  return n;
}
