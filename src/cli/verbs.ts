/**
 * Every verb of the CLI by name, and the options taken before a verb.
 *
 * A verb's module is loaded only when that verb runs (`bgtask status b1`
 * loads `verb_status.ts`, not the queue or logs code): start-up pays only for
 * what the command line asks for.
 *
 * @module
 */

import { type OptionSpecs, type Parsed, parseVerb, refuseNotUtf8, splitAtCommand } from "./args.ts";
import { COMMON_OPTIONS, type Verb } from "./context.ts";
import { UsageError } from "./errors.ts";
import { quote } from "./escape.ts";
import { likeliest } from "../options.ts";

/** Each verb's loader, in the order the help lists them. */
const LOADERS: Record<string, () => Promise<Verb>> = {
  run: async () => (await import("./verb_run.ts")).runVerb,
  list: async () => (await import("./verb_list.ts")).listVerb,
  status: async () => (await import("./verb_status.ts")).statusVerb,
  logs: async () => (await import("./verb_logs.ts")).logsVerb,
  kill: async () => (await import("./verb_kill.ts")).killVerb,
  wait: async () => (await import("./verb_wait.ts")).waitVerb,
  send: async () => (await import("./verb_send.ts")).sendVerb,
  attach: async () => (await import("./verb_attach.ts")).attachVerb,
  pause: async () => (await import("./verb_pause.ts")).pauseVerb,
  resume: async () => (await import("./verb_pause.ts")).resumeVerb,
  restart: async () => (await import("./verb_restart.ts")).restartVerb,
  queue: async () => (await import("./verb_queue.ts")).queueVerb,
  completions: async () => (await import("./verb_completions.ts")).completionsVerb,
  rm: async () => (await import("./verb_rm.ts")).rmVerb,
  clean: async () => (await import("./verb_clean.ts")).cleanVerb,
  mcp: async () => (await import("./verb_mcp.ts")).mcpVerb,
  completion: async () => (await import("./verb_completion.ts")).completionVerb,
};

/** The verbs' names, in the order the help lists them. */
export const VERB_NAMES: readonly string[] = Object.keys(LOADERS);

/**
 * True when `name` is a verb (not for names such as `toString` that every
 * object has).
 *
 * @example
 * ```ts
 * import { isVerb } from "./verbs.ts";
 * import { equal } from "node:assert/strict";
 * equal(isVerb("list"), true);
 * equal(isVerb("constructor"), false);
 * ```
 */
export function isVerb(name: string): boolean {
  return Object.hasOwn(LOADERS, name);
}

/**
 * The verbs of other tools (pueue, task-spooler, ps) that a newcomer types
 * first, and what does their work here: a look-alike verb would mislead
 * (`start` is not `restart`, `tail` not `wait`).
 */
const OTHER_TOOLS: Record<string, string> = {
  add: "run",
  submit: "run",
  ls: "list",
  ps: "list",
  log: "logs",
  cat: "logs",
  tail: "logs --tail N (and --follow to stream)",
  follow: "logs --follow",
  remove: "rm",
  delete: "rm",
  start: "resume (a paused task), or queue resume Q (a paused queue)",
  stop: "pause (to continue later) or kill",
  group: "queue",
  parallel: "queue set Q --parallel N",
  edit: "restart (a finished task runs again as a new task; a task is not edited)",
  reset: "kill --all, then clean",
  env: "run --env NAME=VALUE (a task's environment is set when it starts)",
  stash: "queue pause Q, then run --queue Q (queued, not started, until queue resume Q)",
  enqueue: "queue resume Q",
  cancel: "kill",
  version: "--version",
};

/**
 * The usage error for a word that is no verb, suggesting the verb it most
 * likely meant (`lsit`: list), or the one that does what another tool's
 * verb does (`add`: run).
 *
 * @example
 * ```ts
 * import { unknownVerb } from "./verbs.ts";
 * import { equal } from "node:assert/strict";
 * equal(unknownVerb("lsit").message, 'unknown verb "lsit": did you mean list? (see bgtask --help)');
 * equal(unknownVerb("add").message, 'unknown verb "add": bgtask calls it run (see bgtask --help)');
 * ```
 */
export function unknownVerb(name: string): UsageError {
  const other = Object.hasOwn(OTHER_TOOLS, name.toLowerCase())
    ? OTHER_TOOLS[name.toLowerCase()]
    : undefined;
  const like = other ? undefined : likeliest(name, VERB_NAMES);
  const hint = other ? `: bgtask calls it ${other}` : like ? `: did you mean ${like}?` : "";
  return new UsageError(`unknown verb ${quote(name)}${hint} (see bgtask --help)`);
}

/**
 * Loads the verb called `name`; undefined when there is none.
 *
 * @example
 * ```ts
 * import { loadVerb } from "./verbs.ts";
 * import { equal } from "node:assert/strict";
 * equal((await loadVerb("list"))?.name, "list");
 * equal(await loadVerb("constructor"), undefined);
 * ```
 */
export async function loadVerb(name: string): Promise<Verb | undefined> {
  return isVerb(name) ? await LOADERS[name]() : undefined;
}

/**
 * Loads every verb, in the order the help lists them (for tests and tools:
 * the CLI itself loads only the verb it runs).
 *
 * @example
 * ```ts
 * import { loadVerbs } from "./verbs.ts";
 * import { ok } from "node:assert/strict";
 * ok((await loadVerbs()).length > 0);
 * ```
 */
export function loadVerbs(): Promise<Verb[]> {
  return Promise.all(VERB_NAMES.map((name) => LOADERS[name]()));
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
 * import { loadVerb, parseVerbArgs } from "./verbs.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 * const { values, positionals } = parseVerbArgs((await loadVerb("run"))!, ["--wait", "ls", "-la"]);
 * equal(values.wait, true);
 * deepEqual(positionals, ["ls", "-la"]);
 * ```
 */
export function parseVerbArgs(verb: Verb, args: string[]): Parsed {
  const where = `bgtask ${verb.name}`;
  const options = { ...COMMON_OPTIONS, ...verb.options };
  let parsed: Parsed;
  if (verb.positionals !== "command") {
    parsed = parseVerb(where, args, options, verb.positionals === "some");
  } else {
    const split = splitAtCommand(args, options);
    parsed = { ...parseVerb(where, split.options, options, false), positionals: split.command };
  }
  refuseNotUtf8(where, parsed, verb.positionals === "command");
  return parsed;
}
