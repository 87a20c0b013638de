/**
 * The TaskManager: every public verb of bgtask.
 *
 * @module
 */

import { join } from "node:path";
import { defaultStoreDir } from "./cache_dir.ts";
import { TaskNotFoundError, TaskStateError } from "./errors.ts";
import { ID_PATTERN, idNumber, isValidId, showId } from "./ids.ts";
import { launch } from "./launch.ts";
import { requireRunBash } from "./permissions.ts";
import { decode, incompleteTail, readRange, readTail } from "./output.ts";
import { aliveMany, killGroup } from "./process.ts";
import {
  DamagedRecordError,
  type FinalRecord,
  type RawTask,
  type SpawnRecord,
  Store,
} from "./store.ts";
import {
  type CleanOptions,
  type CompletionsOptions,
  type FollowOptions,
  type KillOptions,
  type ListOptions,
  type OutputChunk,
  type ReadOptions,
  type SpawnOptions,
  TASK_STATUSES,
  type TaskEndReason,
  type TaskInfo,
  type TaskManagerOptions,
  type TaskStatus,
  type WaitOptions,
} from "./types.ts";
import { ChangeHub, sleep } from "./watch.ts";

/** Commands longer than this (in UTF-8 bytes) go to a file instead of an argument. */
const ARG_LIMIT = 100 * 1024;
/** Linux's limit on one argument (MAX_ARG_STRLEN), for env values. */
const KERNEL_ARG_LIMIT = 128 * 1024;
const DEFAULT_MAX_OUTPUT = 1024 ** 3;
const DEFAULT_GRACE_MS = 2000;
const DEFAULT_READ = 1024 * 1024;
/** A task with no `started` record this long after spawning never started. */
const START_DEADLINE_MS = 30_000;
/** How often waiters re-check that running tasks are still alive. */
const LIVENESS_EVERY_MS = 1000;
/** When a waiter first checks. */
const FIRST_CHECK_MS = 200;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const encoder = new TextEncoder();

const LOST_ERROR = "lost: its processes ended without recording an exit " +
  "(killed from outside, the machine restarted, or the disk was full when it ended)";
const NEVER_STARTED_ERROR = "lost: the task never reported that it started";

/** The public keyword for who wrote the final record. */
function endReason(by: string): TaskEndReason {
  switch (by) {
    case "cap":
      return "max-output";
    case "kill":
      return "killed";
    case "signal":
    case "timeout":
    case "lost":
      return by;
    default:
      return "exit";
  }
}

function byNumber(a: string, b: string): number {
  return idNumber(a) - idNumber(b);
}

function statusSet(s: TaskStatus | TaskStatus[] | undefined, what: string): Set<TaskStatus> | null {
  if (s === undefined) return null;
  const list = Array.isArray(s) ? s : [s];
  for (const v of list) {
    if (!TASK_STATUSES.includes(v)) {
      throw new TypeError(
        `${what}: unknown status ${JSON.stringify(v)} (expected one of ${
          TASK_STATUSES.join(", ")
        })`,
      );
    }
  }
  return new Set(list);
}

function nonNegativeInt(v: unknown, name: string, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new TypeError(`${what}: ${name} must be a whole number ≥ 0, got ${String(v)}`);
  }
  return v;
}

/**
 * Runs shell commands in the background and keeps each task's output and
 * state in a store folder, so that any process — the one that started the
 * task, a CLI call a minute later, an agent restarted tomorrow — sees the same
 * truth.
 *
 * Permissions: `--allow-run=bash`, `--allow-read` and `--allow-write` on the
 * store, and `--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR` when no `dir` is
 * given. Nothing else.
 *
 * @example Start a task, wait for it, read its output
 * ```ts
 * import { TaskManager } from "@bgtask/bgtask";
 * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
 * const task = await tasks.spawnShell("echo hello", { description: "greet" });
 * const done = await tasks.wait(task.id);
 * console.log(done.status, await tasks.readOutput(task.id)); // "completed" "hello\n"
 * ```
 */
export class TaskManager implements AsyncDisposable {
  readonly #store: Store;
  readonly #hub: ChangeHub;
  readonly #killOnDispose: boolean;
  readonly #mine = new Set<string>();

  /**
   * Opens a store (created on first use). Nothing runs until a method is called.
   *
   * @param options Where the store is, and whether closing kills this manager's tasks.
   * @throws {Deno.errors.NotCapable} Without `dir`, when `--allow-env` is missing.
   */
  constructor(options: TaskManagerOptions = {}) {
    if (options.dir !== undefined && (typeof options.dir !== "string" || options.dir === "")) {
      throw new TypeError(`Cannot open the store: dir must be a non-empty path`);
    }
    this.#store = new Store(options.dir ?? defaultStoreDir());
    this.#hub = new ChangeHub(this.#store.eventsDir);
    this.#killOnDispose = options.killOnDispose ?? false;
  }

  /**
   * The absolute store folder.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * console.log(new TaskManager({ dir: "/tmp/store" }).dir); // "/tmp/store"
   * ```
   */
  get dir(): string {
    return this.#store.dir;
  }

  /**
   * Starts `command` with `bash -c` in the background and returns as soon as
   * it runs. The task gets its own process group; its stdout and stderr go,
   * interleaved, straight into its output file; a supervisor that outlives
   * this process records how it ends. This never keeps the Deno process alive.
   *
   * Requires `--allow-run=bash` and read/write access to the store.
   *
   * @param command Any bash command line; passed to bash verbatim as an argument.
   * @param options Description, cwd, env, timeout, output cap.
   * @returns The new task, `status: "running"`.
   * @throws {TypeError} For an empty command, a NUL byte, bad options, or a missing cwd.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("sleep 0.1; echo done", {
   *   description: "nap",
   *   env: { GREETING: "hi" },
   *   timeoutMs: 10_000,
   * });
   * console.log(t.id, t.status); // "b1" "running"
   * await tasks.wait(t.id);
   * ```
   */
  async spawnShell(command: string, options: SpawnOptions = {}): Promise<TaskInfo> {
    const what = "Cannot spawn task";
    if (typeof command !== "string") throw new TypeError(`${what}: the command must be a string`);
    if (command.trim() === "") throw new TypeError(`${what}: the command is empty`);
    if (command.includes("\0")) {
      throw new TypeError(`${what}: the command contains a NUL byte, which bash cannot take`);
    }
    const description = options.description ?? "";
    if (typeof description !== "string") {
      throw new TypeError(`${what}: description must be a string`);
    }
    const cwd = options.cwd;
    if (cwd !== undefined && (typeof cwd !== "string" || cwd === "" || cwd.includes("\0"))) {
      throw new TypeError(`${what}: cwd must be a non-empty path without NUL bytes`);
    }
    const env = options.env ?? {};
    if (typeof env !== "object" || env === null || Array.isArray(env)) {
      throw new TypeError(`${what}: env must be an object of strings`);
    }
    for (const [k, v] of Object.entries(env)) {
      if (!ENV_NAME.test(k)) {
        throw new TypeError(
          `${what}: environment name ${JSON.stringify(k)} is not valid (letters, digits, _)`,
        );
      }
      if (typeof v !== "string" || v.includes("\0")) {
        throw new TypeError(`${what}: environment value of ${k} must be a string without NUL`);
      }
      if (encoder.encode(v).length + k.length + 2 > KERNEL_ARG_LIMIT) {
        throw new TypeError(
          `${what}: environment value of ${k} exceeds the kernel's 128 KiB limit for one variable`,
        );
      }
    }
    const timeoutMs = nonNegativeInt(options.timeoutMs, "timeoutMs", what) ?? 0;
    const maxOutputBytes = nonNegativeInt(options.maxOutputBytes, "maxOutputBytes", what) ??
      DEFAULT_MAX_OUTPUT;
    const graceMs = nonNegativeInt(options.graceMs, "graceMs", what) ?? DEFAULT_GRACE_MS;

    requireRunBash(what);
    const store = this.#store;
    const id = await store.claimId();
    let spec: SpawnRecord;
    let started: { pid: number; cwd: string };
    try {
      const longCommand = encoder.encode(command).length > ARG_LIMIT;
      spec = {
        v: 1,
        id,
        command,
        description,
        cwd: cwd ?? null,
        createdAt: Date.now(),
        timeoutMs,
        maxOutputBytes,
        graceMs,
      };
      await store.io("write to", () => {
        Deno.writeFileSync(store.taskFile(id, "output"), new Uint8Array(), {
          createNew: true,
          mode: 0o600,
        });
        if (longCommand) {
          Deno.writeFileSync(store.taskFile(id, "command.sh"), encoder.encode(command), {
            createNew: true,
            mode: 0o600,
          });
        }
        store.writeAtomic(store.taskFile(id, "task.json"), JSON.stringify(spec) + "\n");
        store.touch(join(store.activeDir, id));
      });
      const result = await launch({
        taskDir: store.taskDir(id),
        eventFile: join(store.eventsDir, id),
        cwd,
        command: longCommand ? undefined : command,
        commandFile: longCommand ? store.taskFile(id, "command.sh") : undefined,
        timeoutMs,
        maxOutputBytes,
        graceMs,
        env,
      });
      if (!result.ok) {
        switch (result.reason) {
          case "cwd-missing":
            throw new TypeError(`${what}: directory "${cwd}" does not exist`);
          case "cwd-not-dir":
            throw new TypeError(`${what}: "${cwd}" is not a directory`);
          case "cwd-denied":
            throw new TypeError(
              `${what}: directory "${cwd}" cannot be entered (permission denied)`,
            );
          default:
            throw new Error(`${what}: ${result.detail}`);
        }
      }
      started = result;
    } catch (e) {
      await store.removeTask(id).catch(() => {});
      if (e instanceof Error && /argument list too long|os error 7\b/i.test(e.message)) {
        throw new TypeError(
          `${what}: the command and environment together exceed the kernel's argument size limit`,
          { cause: e },
        );
      }
      throw e;
    }
    this.#mine.add(id);
    // What the supervisor just reported is what it recorded in `started`.
    return { ...this.#info({ spec }), pid: started.pid, cwd: started.cwd };
  }

  /**
   * The task's current record, or undefined when no such task exists (a
   * malformed id never touches the filesystem). A task recorded as running
   * whose processes are all gone is recorded as failed ("lost") first.
   *
   * Requires read/write access to the store, and `--allow-run=bash` to check
   * a running task's processes.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * console.log(await tasks.getStatus("b42")); // undefined
   * console.log(await tasks.getStatus("../etc")); // undefined
   * ```
   */
  async getStatus(id: string): Promise<TaskInfo | undefined> {
    if (!isValidId(id)) return undefined;
    const raw = await this.#store.readTask(id);
    if (!raw) return undefined;
    return this.#info(await this.#settle(raw));
  }

  /**
   * Every task in the store, oldest first. A task whose records are damaged
   * is left out (and passed to `onDamaged`); the rest still list.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.wait((await tasks.spawnShell("true")).id);
   * const failed = await tasks.list({ status: "failed" });
   * console.log((await tasks.list()).length, failed.length); // 1 0
   * ```
   */
  async list(options: ListOptions = {}): Promise<TaskInfo[]> {
    const wanted = statusSet(options.status, "Cannot list tasks");
    const ids = (await this.#store.names(this.#store.tasksDir, ID_PATTERN)).sort(byNumber);
    // Reads are synchronous, but a record caught mid-write is re-read after a
    // pause; a small pool keeps one such task from holding up the rest.
    const raws: (RawTask | undefined)[] = new Array(ids.length);
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const i = next++;
        const id = ids[i];
        try {
          raws[i] = await this.#store.readTask(id);
        } catch (e) {
          if (!(e instanceof DamagedRecordError)) throw e;
          options.onDamaged?.(id, e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, ids.length) }, worker));
    const present = raws.filter((r): r is RawTask => r !== undefined);
    const settled = await this.#settleMany(present);
    return settled.map((r) => this.#info(r)).filter((t) => !wanted || wanted.has(t.status));
  }

  /**
   * The task's whole output so far, decoded as UTF-8 (invalid bytes become
   * U+FFFD; this never throws on bad bytes). For large or growing output
   * prefer {@linkcode readOutputChunk} or {@linkcode tailOutput}.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("echo out; echo err >&2");
   * await tasks.wait(t.id);
   * console.log(await tasks.readOutput(t.id)); // "out\nerr\n"
   * ```
   */
  async readOutput(id: string): Promise<string> {
    await this.#require(id);
    return await this.#store.io(
      "read",
      async () => decode(await Deno.readFile(this.#store.taskFile(id, "output"))),
    );
  }

  /**
   * Reads output from a byte offset, for polling a running task. The text
   * never ends in half a character: `nextOffset` stops before an incomplete
   * UTF-8 sequence, which the next call returns whole. `done` turns true once
   * the task has finished and everything has been read.
   *
   * @example Poll until the task is done
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("for i in 1 2 3; do echo $i; sleep 0.05; done");
   * let offset = 0, text = "";
   * for (;;) {
   *   const chunk = await tasks.readOutputChunk(t.id, { offset });
   *   text += chunk.text;
   *   offset = chunk.nextOffset;
   *   if (chunk.done) break;
   *   await new Promise((r) => setTimeout(r, 20));
   * }
   * console.log(text); // "1\n2\n3\n"
   * ```
   */
  async readOutputChunk(id: string, options: ReadOptions = {}): Promise<OutputChunk> {
    const { offset, maxBytes } = this.#readOptions(options, 4);
    const raw = await this.#require(id);
    const finished = raw.final !== undefined;
    const { bytes, eof } = await this.#store.io(
      "read",
      () => readRange(this.#store.taskFile(id, "output"), offset, maxBytes),
    );
    const keep = finished && eof ? bytes.length : bytes.length - incompleteTail(bytes);
    return {
      text: decode(bytes.subarray(0, keep)),
      offset,
      nextOffset: offset + keep,
      done: finished && eof && keep === bytes.length,
    };
  }

  /**
   * Reads raw output bytes from an offset (for byte-exact copies, as the CLI's
   * `logs` does). An empty result means nothing more is written yet.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("printf '\\xff\\x00'");
   * await tasks.wait(t.id);
   * console.log(await tasks.readOutputBytes(t.id)); // Uint8Array(2) [ 255, 0 ]
   * ```
   */
  async readOutputBytes(id: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const { offset, maxBytes } = this.#readOptions(options, 1);
    await this.#require(id);
    const { bytes } = await this.#store.io(
      "read",
      () => readRange(this.#store.taskFile(id, "output"), offset, maxBytes),
    );
    return bytes;
  }

  /**
   * The last `lines` lines of the output (a last line without a newline
   * counts). Costs only what it returns, however large the output.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("seq 1 1000");
   * await tasks.wait(t.id);
   * console.log(await tasks.tailOutput(t.id, 2)); // "999\n1000\n"
   * ```
   */
  async tailOutput(id: string, lines: number): Promise<string> {
    if (!Number.isSafeInteger(lines) || lines < 0) {
      throw new TypeError(`Cannot read output: lines must be a whole number ≥ 0, got ${lines}`);
    }
    await this.#require(id);
    return await this.#store.io("read", () => readTail(this.#store.taskFile(id, "output"), lines));
  }

  /**
   * Ends the task's whole process tree: SIGTERM to its process group,
   * SIGKILL to whatever is left after `graceMs`, and resolves only when no
   * process of the group is alive. The record says `killed` and never
   * changes again. A finished task is left as it is and its record returned.
   * Works from any process sharing the store.
   *
   * Requires `--allow-run=bash` and read/write access to the store.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("sleep 300 & sleep 300 & wait");
   * const info = await tasks.kill(t.id, { graceMs: 500 });
   * console.log(info.status); // "killed"
   * ```
   */
  async kill(id: string, options: KillOptions = {}): Promise<TaskInfo> {
    const graceMs = nonNegativeInt(options.graceMs, "graceMs", "Cannot kill task") ??
      DEFAULT_GRACE_MS;
    let raw = await this.#require(id);
    // A task being launched right now has no `started` record for a moment.
    for (let i = 0; !raw.final && !raw.started && i < 100; i++) {
      await sleep(20);
      raw = await this.#require(id);
    }
    if (raw.final) return this.#info(raw);
    const record: FinalRecord = {
      status: "killed",
      exitCode: null,
      signal: null,
      error: `killed on request (SIGTERM, then SIGKILL after ${graceMs} ms)`,
      finishedAt: Date.now(),
      by: "kill",
    };
    const won = await this.#commitFinal(id, record);
    if (won && raw.started) await killGroup(raw.started, graceMs);
    return this.#info(await this.#require(id));
  }

  /**
   * Resolves with the task's final record once it has finished — any task in
   * the store, also one started by another process. Many waiters may wait on
   * one task. A task whose processes vanished resolves as failed ("lost").
   *
   * Requires read access to the store, and `--allow-run=bash` for liveness checks.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id, or a task removed meanwhile.
   * @throws The signal's reason, when `signal` aborts.
   *
   * @example Wait with a deadline
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("exit 3");
   * const info = await tasks.wait(t.id, { signal: AbortSignal.timeout(10_000) });
   * console.log(info.status, info.exitCode); // "failed" 3
   * ```
   */
  async wait(id: string, options: WaitOptions = {}): Promise<TaskInfo> {
    const { signal } = options;
    let raw = await this.#require(id);
    if (raw.final) return this.#info(raw);
    signal?.throwIfAborted();
    this.#hub.acquire();
    try {
      // The first liveness check comes soon, not at once: most tasks report their own end.
      let lastCheck = Date.now() - LIVENESS_EVERY_MS + FIRST_CHECK_MS;
      for (;;) {
        signal?.throwIfAborted();
        const gen = this.#hub.generation;
        raw = await this.#require(id);
        if (!raw.final && Date.now() - lastCheck >= LIVENESS_EVERY_MS) {
          lastCheck = Date.now();
          raw = await this.#settle(raw);
        }
        if (raw.final) return this.#info(raw);
        await this.#hub.wait(gen, 200, signal);
      }
    } finally {
      await this.#hub.release();
    }
  }

  /**
   * The finished tasks (completed, failed or killed) not yet delivered from
   * this store, oldest first, each marked delivered: every finished task is
   * delivered exactly once per store, across processes and restarts.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("true");
   * await tasks.wait(t.id);
   * console.log((await tasks.drainCompletions()).map((i) => i.id)); // ["b1"]
   * console.log(await tasks.drainCompletions()); // []
   * ```
   */
  async drainCompletions(): Promise<TaskInfo[]> {
    await this.#sweep();
    const out: TaskInfo[] = [];
    for (const id of await this.#pendingEvents()) {
      const info = await this.#deliver(id);
      if (info) out.push(info);
    }
    return out;
  }

  /**
   * Yields each finished task as it finishes — tasks of any process sharing
   * the store, and those finished earlier but not yet delivered — under the
   * same exactly-once claim as {@linkcode drainCompletions}. Wakes within
   * milliseconds of a task's end (a filesystem watch on the store). Ends when
   * `signal` aborts, releasing every watcher and timer it holds.
   *
   * @example Be told when background work is done
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.spawnShell("sleep 0.1");
   * const stop = new AbortController();
   * for await (const done of tasks.completions({ signal: stop.signal })) {
   *   console.log(done.id, done.status); // "b1" "completed"
   *   stop.abort();
   * }
   * ```
   */
  async *completions(options: CompletionsOptions = {}): AsyncGenerator<TaskInfo, void, undefined> {
    const { signal } = options;
    if (signal?.aborted) return;
    await this.#store.ready();
    this.#hub.acquire();
    try {
      let lastSweep = 0;
      while (!signal?.aborted) {
        const gen = this.#hub.generation;
        if (Date.now() - lastSweep >= LIVENESS_EVERY_MS) {
          await this.#sweep();
          lastSweep = Date.now();
        }
        for (const id of await this.#pendingEvents()) {
          if (signal?.aborted) return;
          const info = await this.#deliver(id);
          if (info) yield info;
        }
        await this.#hub.wait(gen, 250, signal);
      }
    } finally {
      await this.#hub.release();
    }
  }

  /**
   * Yields the task's output as it is written, from `offset`, and ends once
   * the task has finished and all its output has been yielded. Never splits a
   * character between two pieces.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("echo one; sleep 0.1; echo two");
   * let all = "";
   * for await (const text of tasks.follow(t.id)) all += text;
   * console.log(all); // "one\ntwo\n"
   * ```
   */
  async *follow(id: string, options: FollowOptions = {}): AsyncGenerator<string, void, undefined> {
    const { signal } = options;
    let offset = this.#readOptions({ offset: options.offset }, 4).offset;
    await this.#require(id);
    this.#hub.acquire();
    try {
      let lastCheck = Date.now();
      let idle = 0;
      while (!signal?.aborted) {
        const gen = this.#hub.generation;
        const chunk = await this.readOutputChunk(id, { offset });
        offset = chunk.nextOffset;
        if (chunk.text) {
          idle = 0;
          yield chunk.text;
          continue;
        }
        if (chunk.done) return;
        if (Date.now() - lastCheck >= LIVENESS_EVERY_MS) {
          lastCheck = Date.now();
          await this.#settle(await this.#require(id));
          continue;
        }
        // Output is polled (a watch per write would flood); task ends wake us at once.
        await this.#hub.wait(gen, Math.min(100, 10 + 10 * idle++), signal);
      }
    } finally {
      await this.#hub.release();
    }
  }

  /**
   * Deletes a finished task's folder (output included). Its id is never
   * issued again.
   *
   * @throws {TaskStateError} When the task is still running.
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("true");
   * await tasks.wait(t.id);
   * await tasks.remove(t.id);
   * console.log(await tasks.getStatus(t.id)); // undefined
   * ```
   */
  async remove(id: string): Promise<TaskInfo> {
    const raw = await this.#settle(await this.#require(id));
    if (!raw.final) {
      throw new TaskStateError(id, `Cannot remove task ${id}: it is still running (kill it first)`);
    }
    await this.#store.removeTask(id);
    return this.#info(raw);
  }

  /**
   * Removes finished tasks, by age and/or status, and returns what it
   * removed. Running tasks are never touched.
   *
   * @example Keep a day of history
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const removed = await tasks.clean({ olderThanMs: 24 * 3600_000 });
   * console.log(removed.length); // 0
   * ```
   */
  async clean(options: CleanOptions = {}): Promise<TaskInfo[]> {
    const what = "Cannot clean tasks";
    const olderThanMs = nonNegativeInt(options.olderThanMs, "olderThanMs", what) ?? 0;
    const wanted = statusSet(options.status, what);
    const cutoff = Date.now() - olderThanMs;
    const removed: TaskInfo[] = [];
    for (const t of await this.list()) {
      if (t.status === "running" || t.finishedAt === null) continue;
      if (wanted && !wanted.has(t.status)) continue;
      if (Date.parse(t.finishedAt) > cutoff) continue;
      try {
        removed.push(await this.remove(t.id));
      } catch (e) {
        if (!(e instanceof TaskNotFoundError)) throw e; // removed meanwhile by someone else
      }
    }
    return removed;
  }

  /**
   * Closes the manager. With `killOnDispose`, first kills every task this
   * manager started that is still running. Tasks otherwise outlive it.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * await using tasks = new TaskManager({ dir: await Deno.makeTempDir(), killOnDispose: true });
   * await tasks.spawnShell("sleep 300");
   * // leaving the scope kills the sleep
   * ```
   */
  async close(): Promise<void> {
    if (!this.#killOnDispose) return;
    const ids = [...this.#mine];
    this.#mine.clear();
    await Promise.all(ids.map((id) =>
      this.kill(id).catch((e) => {
        if (!(e instanceof TaskNotFoundError)) throw e;
      })
    ));
  }

  /** Same as {@linkcode close}; lets `await using` manage the manager. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals ----

  #readOptions(options: ReadOptions, minBytes: number): { offset: number; maxBytes: number } {
    const what = "Cannot read output";
    const offset = nonNegativeInt(options.offset, "offset", what) ?? 0;
    const maxBytes = nonNegativeInt(options.maxBytes, "maxBytes", what) ?? DEFAULT_READ;
    if (maxBytes < minBytes) {
      throw new RangeError(`${what}: maxBytes must be at least ${minBytes}, got ${maxBytes}`);
    }
    return { offset, maxBytes };
  }

  /** The raw task, or a TaskNotFoundError naming the id. */
  async #require(id: string): Promise<RawTask> {
    if (!isValidId(id)) {
      throw new TaskNotFoundError(
        String(id),
        `No task ${showId(id)}: not a task id (ids look like b1, b2, …)`,
      );
    }
    const raw = await this.#store.readTask(id);
    if (!raw) throw new TaskNotFoundError(id);
    return raw;
  }

  #info(raw: RawTask): TaskInfo {
    const { spec, started, final } = raw;
    return {
      id: spec.id,
      command: spec.command,
      description: spec.description,
      cwd: started?.cwd ?? spec.cwd,
      status: final?.status ?? "running",
      exitCode: final?.exitCode ?? null,
      signal: final?.signal ?? null,
      error: final?.error ?? null,
      reason: final ? endReason(final.by) : null,
      pid: started?.taskPid ?? null,
      outputFile: this.#store.taskFile(spec.id, "output"),
      startedAt: new Date(spec.createdAt).toISOString(),
      finishedAt: final ? new Date(final.finishedAt).toISOString() : null,
      timeoutMs: spec.timeoutMs || null,
      maxOutputBytes: spec.maxOutputBytes,
    };
  }

  /** Commits a final record (first wins), then announces it. True if ours won. */
  async #commitFinal(id: string, record: FinalRecord): Promise<boolean> {
    const store = this.#store;
    const won = await store.io(
      "write to",
      () => store.createExclusive(store.taskFile(id, "final.json"), JSON.stringify(record) + "\n"),
    );
    if (won) {
      await store.io("write to", async () => {
        await store.touch(join(store.eventsDir, id));
        await store.unlink(join(store.activeDir, id));
      });
      this.#hub.notify();
    }
    return won;
  }

  /** One task: if it claims to run but nothing of it is alive, record it as lost. */
  async #settle(raw: RawTask): Promise<RawTask> {
    return (await this.#settleMany([raw]))[0];
  }

  /** Many tasks at once: one bash process checks every running one. */
  async #settleMany(raws: RawTask[]): Promise<RawTask[]> {
    const out = [...raws];
    const check: number[] = [];
    const now = Date.now();
    for (let i = 0; i < out.length; i++) {
      const r = out[i];
      if (r.final) continue;
      if (!r.started) {
        if (r.spec.createdAt < now - START_DEADLINE_MS) {
          out[i] = await this.#markLost(r, NEVER_STARTED_ERROR);
        }
        continue;
      }
      check.push(i);
    }
    if (check.length === 0) return out;
    const alive = await aliveMany(check.map((i) => out[i].started!));
    for (let k = 0; k < check.length; k++) {
      if (!alive[k]) out[check[k]] = await this.#markLost(out[check[k]], LOST_ERROR);
    }
    return out;
  }

  async #markLost(raw: RawTask, error: string): Promise<RawTask> {
    const id = raw.spec.id;
    // The supervisor may have finished between our read and the check.
    const fresh = await this.#store.readTask(id);
    if (!fresh || fresh.final) return fresh ?? raw;
    await this.#commitFinal(id, {
      status: "failed",
      exitCode: null,
      signal: null,
      error,
      finishedAt: Date.now(),
      by: "lost",
    });
    return (await this.#store.readTask(id)) ?? raw;
  }

  /**
   * Finds finished tasks whose completion is not announced yet (their
   * supervisor died between the two steps) and running tasks that are lost.
   */
  async #sweep(): Promise<void> {
    const store = this.#store;
    const running: RawTask[] = [];
    for (const id of await store.names(store.activeDir, ID_PATTERN)) {
      let raw: RawTask | undefined;
      try {
        raw = await store.readTask(id);
      } catch (e) {
        if (!(e instanceof DamagedRecordError)) throw e;
        continue; // damaged: reported by list, not delivered
      }
      if (!raw) {
        await store.io("write to", () => store.unlink(join(store.activeDir, id)));
      } else if (raw.final) {
        await store.io("write to", async () => {
          if (!(await store.exists(store.taskFile(id, "delivered")))) {
            await store.touch(join(store.eventsDir, id));
          }
          await store.unlink(join(store.activeDir, id));
        });
      } else {
        running.push(raw);
      }
    }
    await this.#settleMany(running);
  }

  async #pendingEvents(): Promise<string[]> {
    return (await this.#store.names(this.#store.eventsDir, ID_PATTERN)).sort(byNumber);
  }

  /** Claims delivery of one finished task; undefined if someone else delivered it. */
  async #deliver(id: string): Promise<TaskInfo | undefined> {
    const store = this.#store;
    const event = join(store.eventsDir, id);
    let raw: RawTask | undefined;
    try {
      raw = await store.readTask(id);
    } catch (e) {
      if (!(e instanceof DamagedRecordError)) throw e;
    }
    if (!raw?.final) {
      if (!raw) await store.io("write to", () => store.unlink(event));
      return undefined;
    }
    const won = await store.io("write to", async () => {
      try {
        return await store.claim(store.taskFile(id, "delivered"));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return false; // removed meanwhile
        throw e;
      } finally {
        await store.unlink(event);
      }
    });
    return won ? this.#info(raw) : undefined;
  }
}
