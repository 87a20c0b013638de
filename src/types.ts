/**
 * The shapes bgtask reads and returns.
 *
 * @module
 */

/**
 * Where a task is in its life.
 *
 * - `running`: started, and no final record yet.
 * - `completed`: its shell exited with code 0.
 * - `failed`: a non-zero exit, a signal, a timeout, the output cap, or lost
 *   (its processes vanished without a final record); `error` says which.
 * - `killed`: ended by {@linkcode TaskManager.kill} (or `killOnDispose`).
 *
 * @example Narrowing on the status
 * ```ts
 * import type { TaskStatus } from "@bgtask/bgtask";
 * const done = (s: TaskStatus) => s !== "running";
 * console.log(done("killed")); // true
 * ```
 */
export type TaskStatus = "running" | "completed" | "failed" | "killed";

/** Every status, in a fixed order (useful for validation and `--status` flags).
 *
 * @example
 * ```ts
 * import { TASK_STATUSES } from "@bgtask/bgtask";
 * console.log(TASK_STATUSES.includes("failed")); // true
 * ```
 */
export const TASK_STATUSES: readonly TaskStatus[] = [
  "running",
  "completed",
  "failed",
  "killed",
] as const;

/**
 * How a finished task ended, for code that branches on it:
 *
 * - `exit`: its shell exited (`exitCode` says with what).
 * - `signal`: a signal ended its shell (`signal` says which).
 * - `timeout`: `timeoutMs` passed and bgtask ended it.
 * - `max-output`: its output passed `maxOutputBytes` and bgtask ended it.
 * - `killed`: {@linkcode TaskManager.kill} (or `killOnDispose`) ended it.
 * - `lost`: its processes vanished without recording an exit.
 *
 * @example
 * ```ts
 * import type { TaskEndReason } from "@bgtask/bgtask";
 * const retry = (r: TaskEndReason | null) => r === "lost" || r === "timeout";
 * ```
 */
export type TaskEndReason = "exit" | "signal" | "timeout" | "max-output" | "killed" | "lost";

/**
 * A snapshot of one task, as recorded in the store. This is also the `--json`
 * shape of the CLI, and it is stable: fields are only ever added.
 *
 * @example Reading a snapshot
 * ```ts
 * import type { TaskInfo } from "@bgtask/bgtask";
 * function summary(t: TaskInfo): string {
 *   return t.status === "failed" ? `${t.id}: ${t.error}` : `${t.id}: ${t.status}`;
 * }
 * ```
 */
export interface TaskInfo {
  /** `b1`, `b2`, … unique in its store and never reused. */
  id: string;
  /** The shell command, exactly as given. */
  command: string;
  /** A human description ("" when none was given). */
  description: string;
  /** The directory the task runs in (resolved by the shell); null if it never started. */
  cwd: string | null;
  /** See {@linkcode TaskStatus}. */
  status: TaskStatus;
  /** The exit code; null while running, or when a signal, a kill or a loss ended it. */
  exitCode: number | null;
  /** The signal that ended the task's shell (`"SIGSEGV"`, …), else null. */
  signal: string | null;
  /** Why the task failed or was killed, in words; null when it completed or runs. */
  error: string | null;
  /** How it ended, as a keyword (see {@linkcode TaskEndReason}); null while running. */
  reason: TaskEndReason | null;
  /** The pid of the task's shell, which leads the task's process group; null if it never started. */
  pid: number | null;
  /** The absolute path of the output file (stdout and stderr interleaved). */
  outputFile: string;
  /** When the task was spawned (ISO 8601). */
  startedAt: string;
  /** When the final record was written (ISO 8601); null while running. */
  finishedAt: string | null;
  /** The timeout it was started with, in milliseconds; null for none. */
  timeoutMs: number | null;
  /** The output cap it was started with, in bytes; 0 for none. */
  maxOutputBytes: number;
}

/**
 * Options for {@linkcode TaskManager}.
 *
 * @example
 * ```ts
 * import { TaskManager } from "@bgtask/bgtask";
 * const tasks = new TaskManager({ dir: await Deno.makeTempDir(), killOnDispose: true });
 * await tasks.close();
 * ```
 */
export interface TaskManagerOptions {
  /** The store folder. Default: `$BGTASK_DIR`, else `<user cache dir>/bgtask`. */
  dir?: string;
  /**
   * Kill the tasks this manager started when it is closed or disposed
   * (`await using`). Default false: tasks outlive the manager.
   */
  killOnDispose?: boolean;
}

/**
 * Options for {@linkcode TaskManager.spawnShell}.
 *
 * @example
 * ```ts
 * import type { SpawnOptions } from "@bgtask/bgtask";
 * const opts: SpawnOptions = { description: "unit tests", timeoutMs: 60_000 };
 * ```
 */
export interface SpawnOptions {
  /** A human description, shown by `list`. */
  description?: string;
  /** The working directory (must exist). Default: the current directory. */
  cwd?: string;
  /** Extra environment variables for the task (names must be shell identifiers). */
  env?: Record<string, string>;
  /** End the task's whole process group after this many milliseconds (0 or absent: never). */
  timeoutMs?: number;
  /** End the task once its output passes this many bytes. Default 1 GiB; 0 means no cap. */
  maxOutputBytes?: number;
  /** How long a timeout or the output cap waits after SIGTERM before SIGKILL. Default 2000. */
  graceMs?: number;
}

/**
 * Options for {@linkcode TaskManager.kill}.
 *
 * @example
 * ```ts
 * import type { KillOptions } from "@bgtask/bgtask";
 * const opts: KillOptions = { graceMs: 500 };
 * ```
 */
export interface KillOptions {
  /** Milliseconds between SIGTERM and SIGKILL. Default 2000. */
  graceMs?: number;
}

/**
 * Options for {@linkcode TaskManager.wait}.
 *
 * @example
 * ```ts
 * import type { WaitOptions } from "@bgtask/bgtask";
 * const opts: WaitOptions = { signal: AbortSignal.timeout(1000) };
 * ```
 */
export interface WaitOptions {
  /** Stops waiting: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Options for {@linkcode TaskManager.completions}.
 *
 * @example
 * ```ts
 * import type { CompletionsOptions } from "@bgtask/bgtask";
 * const opts: CompletionsOptions = { signal: new AbortController().signal };
 * ```
 */
export interface CompletionsOptions {
  /** Ends the iteration (it returns; it does not throw). */
  signal?: AbortSignal;
}

/**
 * Options for {@linkcode TaskManager.follow}.
 *
 * @example
 * ```ts
 * import type { FollowOptions } from "@bgtask/bgtask";
 * const opts: FollowOptions = { offset: 0 };
 * ```
 */
export interface FollowOptions {
  /** The byte offset to start from. Default 0. */
  offset?: number;
  /** Ends the iteration early (it returns; it does not throw). */
  signal?: AbortSignal;
}

/**
 * Options for {@linkcode TaskManager.readOutputChunk} and {@linkcode TaskManager.readOutputBytes}.
 *
 * @example
 * ```ts
 * import type { ReadOptions } from "@bgtask/bgtask";
 * const opts: ReadOptions = { offset: 1024, maxBytes: 4096 };
 * ```
 */
export interface ReadOptions {
  /** The byte offset to read from. Default 0. */
  offset?: number;
  /** The most bytes to read. Default 1 MiB. */
  maxBytes?: number;
}

/**
 * A piece of a task's output, from {@linkcode TaskManager.readOutputChunk}.
 *
 * @example Polling loop
 * ```ts
 * import type { OutputChunk } from "@bgtask/bgtask";
 * function show(c: OutputChunk) {
 *   if (c.text) console.log(c.text);
 *   return c.nextOffset; // pass back as `offset` next time
 * }
 * ```
 */
export interface OutputChunk {
  /** The decoded text (invalid UTF-8 replaced by U+FFFD; never half a character). */
  text: string;
  /** The offset the text starts at. */
  offset: number;
  /** Where to read next. */
  nextOffset: number;
  /** True once the task has finished and everything up to the end was read. */
  done: boolean;
}

/**
 * Options for {@linkcode TaskManager.list}.
 *
 * @example
 * ```ts
 * import type { ListOptions } from "@bgtask/bgtask";
 * const opts: ListOptions = { status: "running" };
 * ```
 */
export interface ListOptions {
  /** Only tasks with this status (or one of these). */
  status?: TaskStatus | TaskStatus[];
  /**
   * Called for each task folder whose records cannot be read. The task is left
   * out of the result, and the rest still list.
   */
  onDamaged?: (id: string, error: Error) => void;
}

/**
 * Options for {@linkcode TaskManager.clean}.
 *
 * @example
 * ```ts
 * import type { CleanOptions } from "@bgtask/bgtask";
 * const opts: CleanOptions = { olderThanMs: 24 * 3600_000, status: ["completed"] };
 * ```
 */
export interface CleanOptions {
  /** Only tasks that finished at least this long ago. */
  olderThanMs?: number;
  /** Only tasks with this final status (or one of these). `running` never matches. */
  status?: TaskStatus | TaskStatus[];
}
