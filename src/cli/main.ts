/**
 * The command line's code: the verbs' dispatch, help and errors. `cli.ts`
 * runs it from the generated bundle in `dist/cli/` (built by `deno task gen`
 * from this module and everything it imports), because Deno loads one
 * bundle's few files faster than the ~90 modules they come from (about 9 ms
 * of every call; BENCHMARKS.md, "The CLI from a bundle").
 *
 * @module
 */

import { parseVerb, refuseNotUtf8, splitAtCommand } from "./args.ts";
import { Context, newestId, type Verb } from "./context.ts";
import { describeError, EXIT_USAGE, OutputClosed, UsageError } from "./errors.ts";
import { printErr, printOut } from "./output.ts";
import { GLOBAL_OPTIONS, isVerb, loadVerb, parseVerbArgs, unknownVerb } from "./verbs.ts";
import { VERSION } from "./version.ts";
import { quote } from "./escape.ts";
import { exitAs } from "./signals.ts";
import { permissionAdvice } from "../permissions.ts";

/** Prints the main help, or a verb's (help texts are loaded only when asked for). */
async function printHelp(verb?: string): Promise<void> {
  const { helpText } = await import("./help.ts");
  await printOut(helpText(verb));
}

/** The options given before the verb that may follow it instead: `--dir`, `--color`. */
type Globals = { dir?: string; color?: string };

async function runVerbArgs(verb: Verb, args: string[], globals: Globals): Promise<number> {
  const parsed = parseVerbArgs(verb, args);
  // `--dir A list --dir B` names two stores as `--dir A --dir B list` does,
  // which the parser refuses: refused alike (the later one won, silently).
  for (const name of ["dir", "color"] as const) {
    if (globals[name] !== undefined && parsed.values[name] !== undefined) {
      throw new UsageError(
        `option --${name} was given twice (before and after the verb); it takes one value ` +
          `(see bgtask ${verb.name} --help)`,
      );
    }
  }
  if (parsed.values.help) {
    await printHelp(verb.name);
    return 0;
  }
  const dir = (parsed.values.dir as string | undefined) ?? globals.dir;
  const ctx = new Context(dir, (parsed.values.color as string | undefined) ?? globals.color);
  try {
    return await verb.run(ctx, {
      ...parsed,
      positionals: await lastIs(ctx, verb, parsed.positionals),
    });
  } catch (e) {
    const writes = typeof verb.writes === "function" ? verb.writes(parsed) : verb.writes === true;
    throw everyFlag(e, ctx, writes);
  }
}

/**
 * A refusal to run bash (a look at whether a task is alive, made first by
 * most verbs), naming the store's flags the verb needs too when they are
 * missing: `--allow-read`, and for a verb that writes `--allow-write`. Said
 * one at a time, a verb given only `--allow-read` took two runs again. For
 * a verb that only reads, the store's own refusals leave `--allow-write` out.
 */
function everyFlag(e: unknown, ctx: Context, writes: boolean): unknown {
  if (!(e instanceof Deno.errors.NotCapable)) return e;
  // The store not found, for want of the environment: what a look needs then.
  const then = "--allow-read and --allow-write on the store, if not given";
  if (!writes && e.message.includes(then)) {
    return new Deno.errors.NotCapable(
      e.message.replace(then, "--allow-read on the store, if not given"),
      { cause: e.cause ?? e },
    );
  }
  let store: string;
  try {
    store = ctx.tasks().dir;
  } catch {
    return e;
  }
  const bash =
    /^(.*?: missing permission, )(run again (?:with --allow-run=bash|without (?:the|any) --deny-run flag that covers bash))((?: \(.*)?)$/s
      .exec(e.message);
  if (bash === null) return readOnly(e, store, ctx.dir === undefined, writes);
  const advice = permissionAdvice(store, ctx.dir === undefined, undefined, writes);
  if (advice === bash[2]) return e;
  return new Deno.errors.NotCapable(bash[1] + advice + bash[3], { cause: e.cause ?? e });
}

/**
 * A store's refusal, for a verb that only reads (`list`, `status`, `logs`),
 * without the `--allow-write` the store's advice names for every verb: a
 * read needs none. (A write refused all the same is said as it was.)
 */
function readOnly(
  e: Deno.errors.NotCapable,
  store: string,
  fromEnv: boolean,
  writes: boolean,
): unknown {
  if (writes || /requires write access/i.test(String((e.cause as Error | undefined)?.message))) {
    return e;
  }
  const full = permissionAdvice(store, fromEnv, e.cause, true);
  const read = permissionAdvice(store, fromEnv, e.cause, false);
  if (full === read || !e.message.includes(full)) return e;
  return new Deno.errors.NotCapable(e.message.replace(full, read), { cause: e.cause ?? e });
}

/**
 * The positionals with `last`, where a task id goes (alone, or in a comma
 * list: `b3,last`), replaced by the newest task's id (as task-spooler's
 * commands default to the last job).
 *
 * @throws {TaskNotFoundError} For `last` in a store with no task (see newestId).
 */
async function lastIs(ctx: Context, verb: Verb, positionals: string[]): Promise<string[]> {
  const upTo = verb.ids === "every" ? positionals.length : verb.ids === "first" ? 1 : 0;
  // (A verb of one id takes no list: a list keeps its words, for the error to quote.)
  const hasLast = (p: string) =>
    verb.ids === "first" ? p === "last" : p.split(",").includes("last");
  if (!positionals.slice(0, upTo).some(hasLast)) return positionals;
  const newest = await newestId(ctx);
  return positionals.map((p, i) =>
    i < upTo && hasLast(p) ? p.split(",").map((q) => q === "last" ? newest : q).join(",") : p
  );
}

/** The words after `help` that name a topic: not -h/--help, nor --dir or --color and their values. */
function helpWords(rest: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    if (w === "-h" || w === "--help" || /^--(dir|color)=/.test(w)) continue;
    if (w === "--dir" || w === "--color") {
      i++;
      continue;
    }
    out.push(w);
  }
  return out;
}

async function dispatch(args: string[]): Promise<number> {
  const split = splitAtCommand(args, GLOBAL_OPTIONS);
  const { values } = parseVerb("bgtask", split.options, GLOBAL_OPTIONS, false);
  refuseNotUtf8("bgtask", { values, positionals: [] });
  const [name, ...rest] = split.command;
  if (values.version) {
    await printOut(`bgtask ${VERSION}\n`);
    return 0;
  }
  if (name === "help" || values.help || name === undefined) {
    // `bgtask help help` and `bgtask help --help` are the main help, like `bgtask help`;
    // the options that may follow a verb may follow help too (`help --color never run`);
    // `bgtask -h run` is run's, as `bgtask run -h` (git's and cargo's habit).
    const words = name === "help" ? helpWords(rest) : name === undefined ? [] : [name];
    const topic = words[0] !== "help" ? words[0] : undefined;
    if (topic !== undefined && !isVerb(topic)) throw unknownVerb(topic);
    if (words.length > 1) {
      throw new UsageError(
        `unexpected argument ${quote(words[1])} for bgtask help (see bgtask --help)`,
      );
    }
    await printHelp(topic);
    return 0;
  }
  const verb = await loadVerb(name);
  if (!verb) throw unknownVerb(name);
  return await runVerbArgs(verb, rest, {
    dir: values.dir as string | undefined,
    color: values.color as string | undefined,
  });
}

/**
 * Runs the bgtask CLI on `args` and returns the exit code; `main` of
 * `cli.ts`, which documents it, runs this one from the bundle.
 *
 * @param args The command line, without the program name.
 * @returns The exit code: it never throws.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * import { equal } from "node:assert/strict";
 * equal(await main(["--version"]), 0); // prints "bgtask 0.2.0-dev"
 * ```
 */
export async function main(args: string[]): Promise<number> {
  try {
    return await dispatch(args);
  } catch (e) {
    if (e instanceof OutputClosed) return 0;
    const { line, code } = describeError(e);
    printErr(line);
    return e instanceof UsageError ? EXIT_USAGE : code;
  }
}

/** The exit for a code `main` returned (see `signals.ts`), for `cli.ts` run as a script. */
export { exitAs };
