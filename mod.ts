/**
 * bgtask runs shell commands in the background and keeps each task's output
 * and state in a store folder (by default in the user's cache directory), so
 * that any process — the one that started a task, a CLI call a minute later,
 * an agent restarted tomorrow — can check its status, read its output as it
 * grows, wait for it, kill its whole process tree, and be told exactly once
 * when it finishes.
 *
 * Permissions: `--allow-run=bash --allow-read=<store> --allow-write=<store>
 * --allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR`. These are what bgtask needs,
 * not a sandbox: bash can read, write and run anything the user can, so a
 * process granted `--allow-run=bash` (and every task) can reach anything
 * through it; the store-scoped flags limit bgtask's own Deno calls only.
 *
 * @example Start, wait, read
 * ```ts
 * import { TaskManager } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 *
 * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
 * const task = await tasks.spawnShell("echo building; sleep 0.1; echo done", {
 *   description: "build",
 * });
 * const info = await tasks.wait(task.id);
 * equal(info.status, "completed");
 * equal(await tasks.readOutput(task.id), "building\ndone\n");
 * ```
 *
 * @module
 */

export { TaskManager } from "./src/task_manager.ts";
export {
  InterruptedError,
  OutputTooLargeError,
  StdinTimeoutError,
  StoreError,
  TaskNotFoundError,
  TaskStateError,
} from "./src/errors.ts";
export { cacheDir, defaultStoreDir } from "./src/cache_dir.ts";
export { ID_PATTERN, isValidId } from "./src/ids.ts";
export { TASK_STATUSES } from "./src/lifecycle.ts";
export { KILL_SIGNALS } from "./src/kill_signal.ts";
export type {
  AfterPolicy,
  BoundOptions,
  CleanOptions,
  CompletionsOptions,
  DrainOptions,
  FollowOptions,
  KillOptions,
  KillSignal,
  LineMatch,
  ListOptions,
  OutputChunk,
  QueueInfo,
  QueueLine,
  QueueOptions,
  ReadOptions,
  RemoveOptions,
  SpawnOptions,
  StdinMode,
  TaskEndReason,
  TaskInfo,
  TaskManagerOptions,
  TaskStatus,
  TerminalSize,
  WaitForLineOptions,
  WaitOptions,
  WriteStdinOptions,
} from "./src/types.ts";
