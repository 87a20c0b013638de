/**
 * Every verb of the CLI by name, and the options taken before a verb.
 *
 * @module
 */

import { type OptionSpecs, type Parsed, parseVerb, splitAtCommand } from "./args.ts";
import { COMMON_OPTIONS, type Verb } from "./context.ts";
import { attachVerb } from "./verb_attach.ts";
import { cleanVerb } from "./verb_clean.ts";
import { completionsVerb } from "./verb_completions.ts";
import { killVerb } from "./verb_kill.ts";
import { listVerb } from "./verb_list.ts";
import { logsVerb } from "./verb_logs.ts";
import { mcpVerb } from "./verb_mcp.ts";
import { rmVerb } from "./verb_rm.ts";
import { runVerb } from "./verb_run.ts";
import { sendVerb } from "./verb_send.ts";
import { statusVerb } from "./verb_status.ts";
import { waitVerb } from "./verb_wait.ts";

/** The verbs, in the order the help lists them. */
export const VERBS: readonly Verb[] = [
  runVerb,
  listVerb,
  statusVerb,
  logsVerb,
  killVerb,
  waitVerb,
  sendVerb,
  attachVerb,
  completionsVerb,
  rmVerb,
  cleanVerb,
  mcpVerb,
];

const BY_NAME = new Map(VERBS.map((v) => [v.name, v]));

/**
 * The verb called `name`, or undefined (also for names such as `toString`
 * that every object has).
 *
 * @example
 * ```ts
 * import { findVerb } from "./verbs.ts";
 * console.log(findVerb("list")?.name, findVerb("constructor")); // "list" undefined
 * ```
 */
export function findVerb(name: string): Verb | undefined {
  return BY_NAME.get(name);
}

/** The options before the verb: the common ones and `--version`. */
export const GLOBAL_OPTIONS: OptionSpecs = { ...COMMON_OPTIONS, version: { type: "boolean" } };

/**
 * Parses the arguments after a verb's name as the CLI does: the common
 * options and the verb's; for `run`, options only up to the command.
 *
 * @throws {UsageError} For an unknown option, a missing value, …
 *
 * @example
 * ```ts
 * import { findVerb, parseVerbArgs } from "./verbs.ts";
 * const { values, positionals } = parseVerbArgs(findVerb("run")!, ["--wait", "ls", "-la"]);
 * console.log(values.wait, positionals); // true ["ls", "-la"]
 * ```
 */
export function parseVerbArgs(verb: Verb, args: string[]): Parsed {
  const where = `bgtask ${verb.name}`;
  const options = { ...COMMON_OPTIONS, ...verb.options };
  if (verb.positionals !== "command") {
    return parseVerb(where, args, options, verb.positionals === "some");
  }
  const split = splitAtCommand(args, options);
  return { ...parseVerb(where, split.options, options, false), positionals: split.command };
}
