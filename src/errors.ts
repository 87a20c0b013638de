/**
 * The error classes callers may want to catch. Bad arguments are plain
 * `TypeError`/`RangeError`; a missing Deno permission is a
 * `Deno.errors.NotCapable` whose message names the flag to add.
 *
 * @module
 */

/**
 * No task with this id exists in the store.
 *
 * @example
 * ```ts
 * import { TaskManager, TaskNotFoundError } from "@bgtask/bgtask";
 * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
 * try {
 *   await tasks.readOutput("b999");
 * } catch (e) {
 *   console.log(e instanceof TaskNotFoundError); // true
 * }
 * ```
 */
export class TaskNotFoundError extends Error {
  /** The id that was asked for. */
  readonly id: string;
  /**
   * Creates the error for an id.
   *
   * @param id The id that was asked for (shown quoted in the message).
   * @param message Override the default message.
   */
  constructor(id: string, message?: string) {
    super(message ?? `No task ${JSON.stringify(id)} in the store`);
    this.name = "TaskNotFoundError";
    this.id = id;
  }
}

/**
 * The task is in the wrong state for the operation (e.g. removing a running task).
 *
 * @example
 * ```ts
 * import { TaskStateError } from "@bgtask/bgtask";
 * const e = new TaskStateError("b3", "Cannot remove task b3: it is still running");
 * console.log(e.name); // "TaskStateError"
 * ```
 */
export class TaskStateError extends Error {
  /** The task concerned. */
  readonly id: string;
  /**
   * Creates the error for a task.
   *
   * @param id The task concerned.
   * @param message What is wrong, naming the task.
   */
  constructor(id: string, message: string) {
    super(message);
    this.name = "TaskStateError";
    this.id = id;
  }
}

/**
 * The store folder is unusable: it cannot be created or written, it is a
 * symlink, it is owned by another user or writable by group/others, it was
 * removed, or one of its records is damaged.
 *
 * @example
 * ```ts
 * import { StoreError } from "@bgtask/bgtask";
 * const e = new StoreError("Store \"/x\" is writable by group or others (mode 777)");
 * console.log(e.name); // "StoreError"
 * ```
 */
export class StoreError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong, naming the path.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreError";
  }
}
