/**
 * Running a bash process to its end without Deno's stray SIGKILL.
 *
 * Deno (2.9) sends SIGKILL to a child's pid once it has reaped the child,
 * when the child is referenced (its "kill on drop"). The pid is free by then,
 * and the next process to get it is signalled instead: on a machine that
 * reuses pids quickly, another task, its supervisor, or anyone's process. The
 * pid-reuse stress test (`tests/correctness_pid_reuse_test.ts`) caught tasks
 * and supervisors killed that way. An unreferenced child is not signalled, so
 * every bash bgtask runs is unreferenced, and a timer keeps this process alive
 * while it runs (one of `timers.ts`: the global `setTimeout` would load Deno's
 * Node timers, about 10 ms of every `bgtask run`).
 *
 * @module
 */

import { concat } from "../bytes.ts";
import { later } from "../timers.ts";

/** What a finished bash process left: its exit status and what it printed. */
export interface BashOutput {
  /** Its exit code (128 + N when signal N ended it). */
  code: number;
  /** Its stdout, when piped. */
  stdout: Uint8Array;
  /** Its stderr, when piped. */
  stderr: Uint8Array;
}

/**
 * Where every bash bgtask runs starts: `/`, not the caller's directory. A
 * child process starts in its parent's directory, and one the user cannot
 * enter (a `sudo -u` from root's home, an agent started in a private
 * folder) made every spawn fail with "Permission denied" from Deno. Nothing
 * bgtask runs needs it: a task's directory is in its spawn record (made
 * absolute by the spawner), and the store's paths are absolute.
 */
export const BASH_CWD = "/";

/** How long the keep-alive timer sleeps; any value works, it is cleared at the end. */
const KEEP_ALIVE_MS = 3_600_000;
const EMPTY = new Uint8Array(0);

/** All of a pipe, read to its end (not through `Response`: that loads Deno's fetch code). */
async function collect(stream: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  if (!stream) return EMPTY;
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return parts.length === 1 ? parts[0] : concat(parts);
}

/**
 * Runs `bash` with `options` (stdin is always `/dev/null`; the working
 * directory `/`, see {@linkcode BASH_CWD}) and resolves once it has exited
 * and its piped output has ended.
 *
 * @throws What `Deno.Command#spawn` throws (no bash, no `--allow-run=bash`).
 */
export async function runBash(
  options: Omit<Deno.CommandOptions, "stdin">,
): Promise<BashOutput> {
  const child = new Deno.Command("bash", { ...options, cwd: BASH_CWD, stdin: "null" }).spawn();
  child.unref();
  const keepAlive = later(KEEP_ALIVE_MS, () => {});
  try {
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      options.stdout === "piped" ? collect(child.stdout) : EMPTY,
      options.stderr === "piped" ? collect(child.stderr) : EMPTY,
    ]);
    return { code: status.code, stdout, stderr };
  } finally {
    keepAlive();
  }
}
