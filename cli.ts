/**
 * The bgtask command line: start shell commands in the background, and come
 * back later to their status and output — from the same store that programs
 * using the bgtask module see.
 *
 * ```sh
 * deno run --allow-run=bash --allow-read=$HOME/.cache/bgtask \
 *   --allow-write=$HOME/.cache/bgtask --allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR \
 *   jsr:@bgtask/bgtask/cli run 'make -j4'
 * ```
 *
 * Verbs: `run`, `list`, `status`, `logs`, `kill`, `wait`, `send`, `attach`,
 * `pause`, `resume`, `restart`, `queue`, `completions`, `rm`, `clean`, `mcp`
 * (an MCP server for agents); `bgtask --help` and `bgtask VERB --help`
 * describe them, their flags and the exit codes.
 *
 * Permissions: `--allow-run=bash --allow-read=<store> --allow-write=<store>
 * --allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR`. `--help` and `--version` need
 * none.
 *
 * @example Print the version
 * ```ts
 * import { main } from "@bgtask/bgtask/cli";
 * const code = await main(["--version"]); // prints "bgtask 0.1.0"
 * console.log(code); // 0
 * ```
 *
 * @module
 */

import { parseVerb, splitAtCommand } from "./src/cli/args.ts";
import { Context, newestId, type Verb } from "./src/cli/context.ts";
import { describeError, EXIT_USAGE, OutputClosed, UsageError } from "./src/cli/errors.ts";
import { printErr, printOut } from "./src/cli/output.ts";
import { GLOBAL_OPTIONS, isVerb, loadVerb, parseVerbArgs, unknownVerb } from "./src/cli/verbs.ts";
import { VERSION } from "./src/cli/version.ts";
import { quote } from "./src/cli/escape.ts";
import { exitAs } from "./src/cli/signals.ts";

/** Prints the main help, or a verb's (help texts are loaded only when asked for). */
async function printHelp(verb?: string): Promise<void> {
  const { helpText } = await import("./src/cli/help.ts");
  await printOut(helpText(verb));
}

async function runVerbArgs(verb: Verb, args: string[], globalDir?: string): Promise<number> {
  const parsed = parseVerbArgs(verb, args);
  // `--dir A list --dir B` names two stores as `--dir A --dir B list` does,
  // which the parser refuses: refused alike (the later one won, silently).
  if (globalDir !== undefined && parsed.values.dir !== undefined) {
    throw new UsageError(
      `option --dir was given twice (before and after the verb); it takes one value ` +
        `(see bgtask ${verb.name} --help)`,
    );
  }
  if (parsed.values.help) {
    await printHelp(verb.name);
    return 0;
  }
  const dir = (parsed.values.dir as string | undefined) ?? globalDir;
  const ctx = new Context(dir);
  return await verb.run(ctx, {
    ...parsed,
    positionals: await lastIs(ctx, verb, parsed.positionals),
  });
}

/**
 * The positionals with `last`, where a task id goes, replaced by the newest
 * task's id (as task-spooler's commands default to the last job).
 *
 * @throws {TaskNotFoundError} For `last` in a store with no task (see newestId).
 */
async function lastIs(ctx: Context, verb: Verb, positionals: string[]): Promise<string[]> {
  const upTo = verb.ids === "every" ? positionals.length : verb.ids === "first" ? 1 : 0;
  if (!positionals.slice(0, upTo).includes("last")) return positionals;
  const newest = await newestId(ctx.tasks());
  return positionals.map((p, i) => i < upTo && p === "last" ? newest : p);
}

async function dispatch(args: string[]): Promise<number> {
  const split = splitAtCommand(args, GLOBAL_OPTIONS);
  const { values } = parseVerb("bgtask", split.options, GLOBAL_OPTIONS, false);
  const [name, ...rest] = split.command;
  if (values.version) {
    await printOut(`bgtask ${VERSION}\n`);
    return 0;
  }
  if (name === "help" || values.help || name === undefined) {
    // `bgtask help help` and `bgtask help --help` are the main help, like `bgtask help`.
    const words = name === "help" ? rest.filter((w) => w !== "-h" && w !== "--help") : [];
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
  return await runVerbArgs(verb, rest, values.dir as string | undefined);
}

/**
 * Runs the bgtask CLI on `args` (the words after `bgtask`) and returns the
 * exit code; output goes to stdout, one-line errors to stderr. It never
 * throws and never exits the process: `cli.ts` run as a script passes the
 * code to `Deno.exit`.
 *
 * Exit codes: 0 success, 1 a failed request (no such task, …), 2 a usage
 * error; `wait` and `run --wait` exit with the task's code (see `bgtask wait
 * --help`).
 *
 * Requires `--allow-run=bash`, read/write access to the store, and
 * `--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR` (for the default store).
 *
 * @param args The command line, without the program name.
 * @returns The exit code.
 *
 * @example Start a task and list the store
 * ```ts
 * import { main } from "@bgtask/bgtask/cli";
 * const dir = await Deno.makeTempDir();
 * await main(["--dir", dir, "run", "--wait", "echo hi"]); // prints "b1"
 * await main(["--dir", dir, "list"]); // prints the table
 * console.log(await main(["--dir", dir, "status", "b9"])); // 1, after "bgtask: no task "b9" in the store"
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

if (import.meta.main) {
  // (By the signal a verb stopped for, if one did: a script's loop stops too.)
  exitAs(await main(Deno.args));
}
