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
 * import { equal } from "node:assert/strict";
 * equal(await main(["--version"]), 0); // prints "bgtask 0.2.0-dev"
 * ```
 *
 * @module
 */

// The CLI's code is src/cli/main.ts and what it imports; it runs from the
// bundle `deno task gen` builds of it (checked in CI to be up to date): one
// bundle's few files load faster than the modules they come from.
import { exitAs, main as bundledMain } from "./dist/cli/main.js";

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
 * import { equal } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * equal(await main(["--dir", dir, "run", "--wait", "echo hi"]), 0); // prints "b1"
 * equal(await main(["--dir", dir, "list"]), 0); // prints the table
 * equal(await main(["--dir", dir, "status", "b9"]), 1); // bgtask: no task "b9" in the store
 * ```
 */
export function main(args: string[]): Promise<number> {
  return bundledMain(args);
}

if (import.meta.main) {
  // Started with SIGCHLD ignored (a parent that ignores it passes that on
  // through exec), a process has its children reaped by the kernel, and no
  // exit code of the bash bgtask runs could be had: every verb but `run` and
  // `wait` failed. This process is bgtask's own: a listener (which does
  // nothing, nor keeps the process alive) makes SIGCHLD handled, not
  // ignored. A program that imports `main` or the module keeps its own
  // dispositions: bgtask's errors then say what to do.
  Deno.addSignalListener("SIGCHLD", () => {});
  // (By the signal a verb stopped for, if one did: a script's loop stops too.)
  exitAs(await main(Deno.args));
}
