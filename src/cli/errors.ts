/**
 * How the CLI reports a failure: one line on stderr, `bgtask: <what>`, and an
 * exit code — 2 when the command line is wrong, 1 when a well-formed request
 * failed. Never a stack trace.
 *
 * @module
 */

import { InterruptedError, StoreError, TaskNotFoundError, TaskStateError } from "../../mod.ts";
import { StdinTimeoutError } from "../errors.ts";
import { EXIT_TIMEOUT } from "./exit_codes.ts";
import { signalExitCode } from "./signals.ts";
import { escapeControl } from "./escape.ts";
import { bashGrantHint, bashPathFirst } from "../permissions.ts";

/** The command line was wrong: exit code 2. */
export const EXIT_USAGE = 2;
/** A well-formed request failed (no such task, a running task, the store, a permission): exit code 1. */
export const EXIT_FAILURE = 1;

/**
 * A mistake on the command line: unknown verb or flag, a missing or extra
 * argument, a bad value. Exits with {@linkcode EXIT_USAGE}.
 *
 * @example
 * ```ts
 * import { UsageError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 * const e = new UsageError('unknown verb "lst"');
 * equal(e.name, "UsageError");
 * ```
 */
export class UsageError extends Error {
  /** @param message What is wrong, in lower case, naming the value. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Thrown when stdout is closed by its reader (`bgtask logs b1 | head`): a quiet, successful end. */
export class OutputClosed extends Error {
  constructor() {
    super("stdout was closed");
    this.name = "OutputClosed";
  }
}

/** Colour codes (SGR), as in Deno's own messages. */
// deno-lint-ignore no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;

/** Sentence case from the module ("No task …") becomes lower case after "bgtask: ". */
function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}

/**
 * A removed store's error, said to a person at the command line: the
 * module's words are for a program that holds a `TaskManager`.
 */
function forTheCommandLine(message: string): string {
  return message
    .replace("while this manager had it open", "while this command had it open")
    .replace(/a manager that had (it|the old one) stops here/, "this command stops here")
    .replace(
      "a new TaskManager (or restarting this program) uses the new one",
      "run the command again to use the new one",
    )
    .replace(
      "a new TaskManager (or restarting this program) starts a new store there",
      "bgtask run starts a new store there",
    )
    // A task whose output file is gone: the verbs, not the methods.
    .replace(
      /restart\(id\) runs its command again, and remove\(id\) drops the task once it has ended \(the CLI: (bgtask restart \S+), (bgtask rm \S+)\)/,
      "$1 runs its command again, and $2 drops the task once it has ended",
    );
}

/** What to do about a limit of the system that Deno names by its number only. */
function limitHint(message: string): string {
  if (/ulimit|raise the limit/.test(message)) return ""; // said already (a spawn's error)
  if (/\(os error 24\)/.test(message)) {
    return " (this process has as many files open as its limit allows: raise it with ulimit -n)";
  }
  if (/\(os error 23\)/.test(message)) {
    return " (the system has as many files open as it allows: close some, or raise fs.file-max)";
  }
  if (/\(os error 12\)/.test(message)) {
    return " (out of memory: end some processes, or raise the memory limit)";
  }
  return "";
}

/** The folder bgtask's own modules are under: the package root (from src/cli/ and dist/cli/). */
const OWN_ROOT = new URL("../../", import.meta.url);

/**
 * The path of one of bgtask's own modules that Deno refused to load (`requires
 * read access to "…/src/ops/retention.ts", run again with the --allow-read
 * flag`, a `TypeError` from a dynamic `import()` or a `NotCapable`), else
 * undefined. bgtask reads no source file of its own otherwise: a script
 * under its package root, or the package's copy in a cache.
 */
function ownCodeRefused(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const path = /requires read access to "([^"]+\.(?:ts|js|mjs))"/i.exec(e.message)?.[1];
  if (path === undefined) return undefined;
  const root = OWN_ROOT.protocol === "file:" ? decodeURIComponent(OWN_ROOT.pathname) : undefined;
  // (Only bgtask's own files: here, or the package's in a cache (a JSR
  // install's root is no file). A store of the user's that happens to be a
  // .js under some src/ folder is the user's to allow.)
  const own = (root !== undefined && path.startsWith(root)) ||
    /\/@bgtask\/bgtask\/[^/]+\/(src|dist)\//.test(path);
  return own ? path : undefined;
}

/**
 * The stderr line and the exit code for an error thrown while running a verb.
 *
 * Bad arguments the module rejects (`TypeError`, `RangeError`, e.g. a cwd
 * that does not exist) count as usage errors; everything else as a failure.
 *
 * @example
 * ```ts
 * import { describeError } from "./errors.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(describeError(new Error("No task \"b9\" in the store")), {
 *   line: 'bgtask: no task "b9" in the store',
 *   code: 1,
 * });
 * ```
 */
export function describeError(e: unknown): { line: string; code: number } {
  const own = ownCodeRefused(e);
  if (own !== undefined) {
    // Not the user's mistake, and no flag of theirs helps (an installed
    // bgtask's flags are built in): its own modules, loaded on demand.
    return {
      line: `bgtask: Deno could not load bgtask's own code (read access to ` +
        `"${escapeControl(own)}" was refused; an incomplete module cache can do this): run ` +
        `the command again, and if this persists, install bgtask again (deno install -g -f …, ` +
        `see Install in the README)`,
      code: EXIT_FAILURE,
    };
  }
  let code = EXIT_FAILURE;
  if (e instanceof UsageError || e instanceof TypeError || e instanceof RangeError) {
    code = EXIT_USAGE;
  } else if (
    e instanceof TaskNotFoundError || e instanceof TaskStateError || e instanceof StoreError
  ) {
    code = EXIT_FAILURE;
  } else if (
    e instanceof StdinTimeoutError ||
    (e instanceof Error && e.cause instanceof StdinTimeoutError)
  ) {
    // `send --timeout` passed: a timeout, as everywhere else (GNU timeout's 124).
    code = EXIT_TIMEOUT;
  } else if (e instanceof InterruptedError) {
    // A Ctrl-C reached our helper bash too: this is the interruption, not a fault.
    code = signalExitCode(e.signal);
  }
  let message = e instanceof Error ? e.message : String(e);
  if (
    e instanceof Deno.errors.NotCapable &&
    / run again with(?:out (?:the|any))? --(?:allow|deny)-/.test(message)
  ) {
    // `deno install` bakes the flags into the installed script: they cannot be added per call.
    message +=
      " (if this is an installed bgtask, its permissions are built in: install it again with them)";
    if (/run again with --allow-run=bash\b/.test(message)) {
      // Deno resolves --allow-run=bash to a file on PATH when it starts: bash
      // granted by another path (--allow-run=/bin/bash, PATH's being
      // /usr/bin/bash), or no bash on that PATH, reads as not given. What
      // can be told is said.
      // No bash on PATH: that first (the flag alone cannot help).
      message = bashPathFirst(message) ??
        message + bashGrantHint(!/run again with --allow-run=bash --allow-/.test(message));
    }
  }
  if (e instanceof StoreError) message = forTheCommandLine(message);
  if (e instanceof StoreError && /^Store ".*" is not a folder$/s.test(message)) {
    // (A file, a fifo…: as a path with a file in it is told.)
    message += ": use another path, --dir DIR or BGTASK_DIR";
  }
  message += limitHint(message);
  // Colour codes (in Deno's own messages) say nothing; other controls are shown escaped.
  const oneLine = escapeControl(lowerFirst(message.replace(SGR, "").trim()));
  return { line: `bgtask: ${oneLine}`, code };
}
