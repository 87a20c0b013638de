/**
 * The exit code of `bgtask wait` (and `run --wait`) for a finished task.
 *
 * | task                                              | code                |
 * | ------------------------------------------------- | ------------------- |
 * | completed                                         | 0                   |
 * | failed with exit code N                           | N                   |
 * | ended by signal N                                 | 128 + N             |
 * | timed out (its own `--timeout`)                   | 124                 |
 * | killed by `bgtask kill`                           | 143 (128 + SIGTERM) |
 * | passed `--max-output`, or lost                    | 125                 |
 * | never ran (a dependency failed, its cwd was gone) | 125                 |
 *
 * and 124 when `wait --timeout` elapses first.
 *
 * @module
 */

import type { TaskInfo } from "../../mod.ts";

/** `wait --timeout` elapsed, or the task's own `--timeout` ended it (as GNU `timeout`). */
export const EXIT_TIMEOUT = 124;
/**
 * The task was stopped for passing `--max-output`, was lost, or never ran:
 * no exit status recorded.
 */
export const EXIT_NO_STATUS = 125;
/**
 * The task was ended by `bgtask kill`: 128 + SIGTERM, as a shell reports a
 * job it killed (whichever `--signal` the kill sent: the code says "killed").
 */
export const EXIT_KILLED = 143;

/**
 * Signal numbers by name, in order from 1: the generic Linux numbering (every
 * architecture but alpha, mips and sparc, as the supervisor's `sig_name`) and
 * macOS's. A table rather than `node:os` `constants.signals`: importing a
 * `node:` module costs every CLI call 10–20 ms (see `src/path.ts`).
 */
const NUMBERING: Record<string, readonly string[]> = {
  linux: ("HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD " +
    "CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS").split(" "),
  darwin: ("HUP INT QUIT ILL TRAP ABRT EMT FPE KILL BUS SEGV SYS PIPE ALRM TERM URG STOP TSTP " +
    "CONT CHLD TTIN TTOU IO XCPU XFSZ VTALRM PROF WINCH INFO USR1 USR2").split(" "),
};

/**
 * The number of signal `name` (`SIGSEGV`) on `os`, or undefined when it has
 * none there.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { signalNumber } from "./exit_codes.ts";
 * equal(signalNumber("SIGUSR1", "linux"), 10);
 * equal(signalNumber("SIGUSR1", "darwin"), 30);
 * ```
 */
export function signalNumber(
  name: string,
  os: typeof Deno.build.os = Deno.build.os,
): number | undefined {
  const i = (NUMBERING[os] ?? NUMBERING.linux).indexOf(name.replace(/^SIG/, ""));
  return i === -1 ? undefined : i + 1;
}

/**
 * The exit code that reports `task` (see the module doc for the table);
 * undefined until it ends (queued, running, paused).
 *
 * @example
 * ```ts
 * import { exitCodeFor } from "./exit_codes.ts";
 * import type { TaskInfo } from "../../mod.ts";
 * import { equal } from "node:assert/strict";
 * const t = { status: "failed", exitCode: null, signal: "SIGSEGV", reason: "signal" };
 * equal(exitCodeFor(t as TaskInfo), 139);
 * ```
 */
export function exitCodeFor(task: TaskInfo): number | undefined {
  switch (task.status) {
    case "queued":
    case "running":
    case "paused":
      return undefined;
    case "completed":
      return 0;
    case "killed":
      return EXIT_KILLED;
    case "failed":
      if (task.exitCode !== null) return task.exitCode;
      if (task.signal !== null) {
        const n = signalNumber(task.signal);
        if (n !== undefined) return 128 + n;
      }
      return task.reason === "timeout" ? EXIT_TIMEOUT : EXIT_NO_STATUS;
  }
}
