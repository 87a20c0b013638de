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
  /** The signal that ended it, if one did (an `exit 130` is no signal). */
  signal: Deno.Signal | null;
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

/** The size of a buffer pipes are read into. */
const CHUNK = 16384;
/** Buffers that reads of pipes gave back, for the next ones (at most SPARE_MAX of them). */
const spare: ArrayBuffer[] = [];
const SPARE_MAX = 8;
let made = 0;

/** How many buffers pipes have been read into since this module loaded (for tests). */
export function pipeBuffersMade(): number {
  return made;
}

/**
 * All of a pipe, read to its end (not through `Response`: that loads Deno's
 * fetch code), into buffers that are used again: read the default way, each
 * read returns a fresh 64 KiB chunk, memory outside V8's heap that its
 * collector counts little. A process that runs bash often (one asked for a
 * running task's status, which looks at its processes) grew to 96 MB over
 * 2,000 looks that way, to 74 MB this way (V8's young generation is most of
 * the rest: see `--max-semi-space-size` in the README), and each of its
 * spawns costs more the larger it is (a detached child is started by a fork
 * of the whole process). Returns a copy of the bytes, sized to them.
 * With `until`, which is given each chunk read, the reading stops after the
 * first chunk for which it says true.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readPipe } from "./bash.ts";
 * const text = "x".repeat(40_000);
 * const out = await readPipe(new Blob([text]).stream());
 * assert.equal(new TextDecoder().decode(out), text);
 * assert.equal((await readPipe(null)).length, 0);
 * ```
 */
export async function readPipe(
  stream: ReadableStream<Uint8Array> | null,
  until?: (chunk: Uint8Array) => boolean,
): Promise<Uint8Array> {
  if (!stream) return EMPTY;
  let reader: ReadableStreamBYOBReader;
  try {
    reader = stream.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: read as it comes.
    const parts: Uint8Array[] = [];
    for await (const part of stream) {
      parts.push(part);
      if (until?.(part)) break;
    }
    return concat(parts);
  }
  const parts: Uint8Array[] = [];
  let buf = spare.pop() ?? (made++, new ArrayBuffer(CHUNK));
  try {
    for (;;) {
      // The buffer moves into the view the read returns (the one given is detached).
      const { value, done } = await reader.read(new Uint8Array(buf));
      if (value) {
        buf = value.buffer as ArrayBuffer;
        if (value.byteLength > 0) parts.push(value.slice());
      }
      if (done) break;
      if (value && value.byteLength > 0 && until?.(value)) {
        // Enough said: the pipe is closed here (its writer may still hold it).
        await reader.cancel();
        break;
      }
    }
  } finally {
    reader.releaseLock();
    // (Detached by a read that failed: nothing to give back.)
    if (buf.byteLength === CHUNK && spare.length < SPARE_MAX) spare.push(buf);
  }
  return parts.length === 1 ? parts[0] : concat(parts);
}

/**
 * Starts `bash` with `options` (stdin `/dev/null`, working directory `/`),
 * unreferenced, and gives it to `use`, keeping this process alive until
 * `use` is done (see the module's note on Deno's stray SIGKILL).
 */
async function withBash<T>(
  options: Omit<Deno.CommandOptions, "stdin">,
  use: (child: Deno.ChildProcess) => Promise<T>,
): Promise<T> {
  const child = new Deno.Command("bash", { ...options, cwd: BASH_CWD, stdin: "null" }).spawn();
  child.unref();
  const keepAlive = later(KEEP_ALIVE_MS, () => {});
  try {
    return await use(child);
  } finally {
    keepAlive();
  }
}

/**
 * Runs `bash` with `options` (stdin is always `/dev/null`; the working
 * directory `/`, see {@linkcode BASH_CWD}) and resolves once it has exited
 * and its piped output has ended. `onStdout`, given, sees each chunk of a
 * piped stdout as it is read (a copy: it may keep it).
 *
 * @throws What `Deno.Command#spawn` throws (no bash, no `--allow-run=bash`).
 */
export function runBash(
  options: Omit<Deno.CommandOptions, "stdin">,
  onStdout?: (chunk: Uint8Array) => void,
): Promise<BashOutput> {
  const seen = onStdout && ((chunk: Uint8Array) => (onStdout(chunk.slice()), false));
  return withBash(options, async (child) => {
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      options.stdout === "piped" ? readPipe(child.stdout, seen) : EMPTY,
      options.stderr === "piped" ? readPipe(child.stderr) : EMPTY,
    ]);
    return { code: status.code, signal: status.signal, stdout, stderr };
  });
}

/**
 * Runs `bash` as {@linkcode runBash} does (its stdout piped, its stderr
 * not), and resolves as soon as its stdout holds `words` words ended by a NUL
 * (a report), without waiting for the pipe to end or bash to exit: `code` is
 * then null. When the pipe ends first, bash's exit is awaited, and `code` is
 * its exit code.
 *
 * @throws What `Deno.Command#spawn` throws (no bash, no `--allow-run=bash`).
 */
export function runBashForWords(
  options: Omit<Deno.CommandOptions, "stdin" | "stdout" | "stderr">,
  words: number,
): Promise<{ code: number | null; stdout: Uint8Array }> {
  return withBash({ ...options, stdout: "piped", stderr: "null" }, async (child) => {
    // Handled from the start: once the report came, bash's exit is not
    // awaited, and it can fail (ECHILD, in a process that ignores SIGCHLD,
    // whose children the kernel reaps): unhandled, that ended the process.
    child.status.catch(() => {});
    let ends = 0;
    const stdout = await readPipe(child.stdout, (chunk) => {
      for (const b of chunk) if (b === 0) ends++;
      return ends >= words;
    });
    return { code: ends >= words ? null : (await child.status).code, stdout };
  });
}
