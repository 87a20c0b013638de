/**
 * The TaskManager: every public verb of bgtask. The class holds the store and
 * documents the verbs; the work is done by the free functions in `ops/`.
 *
 * @module
 */

import { defaultStoreDir } from "./cache_dir.ts";
import { storeFolder } from "./store_path.ts";
import { TaskNotFoundError } from "./errors.ts";
import type { Ctx } from "./ops/context.ts";
import { getStatus, getStatusOrThrow, list } from "./ops/list.ts";
import { SharedChecks } from "./ops/shared_checks.ts";
import { OwnTasks } from "./ops/own_tasks.ts";
import { getQueueLine, getQueues, pauseQueue, removeQueue, setQueue } from "./ops/queue.ts";
import { FsStore, type StoreSource } from "./store/fs_store.ts";
import { type ProcessId, whoami } from "./supervisor/run.ts";
import type {
  BoundOptions,
  CleanOptions,
  CompletionsOptions,
  DrainOptions,
  FollowOptions,
  KillOptions,
  LineMatch,
  ListOptions,
  OutputChunk,
  QueueInfo,
  QueueLine,
  QueueOptions,
  ReadOptions,
  RemoveOptions,
  SpawnOptions,
  TaskInfo,
  TaskManagerOptions,
  TerminalSize,
  WaitForLineOptions,
  WaitOptions,
  WriteStdinOptions,
} from "./types.ts";
import { ChangeHub, CLOSED } from "./watch.ts";
import { checkOptionNames, isPlainObject, OPTION_NAMES } from "./options.ts";

// The ops that only writing, reading output and waiting need are loaded on
// their first use: a process that only looks at tasks (`bgtask status`,
// `list`) does not evaluate them (nine modules, about 0.3 ms each).
const completionsOps = () => import("./ops/completions.ts");
const killOps = () => import("./ops/kill.ts");
const pauseOps = () => import("./ops/pause.ts");
const readOps = () => import("./ops/read.ts");
const restartOps = () => import("./ops/restart.ts");
const retentionOps = () => import("./ops/retention.ts");
const spawnOps = () => import("./ops/spawn.ts");
const stdinOps = () => import("./ops/stdin.ts");
const waitOps = () => import("./ops/wait.ts");
const waitLineOps = () => import("./ops/wait_line.ts");

function storeSource(dir: string | undefined): StoreSource {
  if (dir !== undefined) return "option";
  try {
    return Deno.env.get("BGTASK_DIR") ? "BGTASK_DIR" : "default";
  } catch {
    return "default";
  }
}

/**
 * Runs shell commands in the background and keeps each task's output and
 * state in a store folder, so that any process — the one that started the
 * task, a CLI call a minute later, an agent restarted tomorrow — sees the same
 * truth.
 *
 * Permissions: `--allow-run=bash`, `--allow-read` and `--allow-write` on the
 * store, and `--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR` when no `dir` is
 * given. Nothing else. A program that only looks needs less: a finished
 * task, any output, {@linkcode TaskManager.peekCompletions} (of `"default"`, or
 * of a consumer already registered: a first peek registers one, a write) and
 * {@linkcode TaskManager.getQueueLine} need `--allow-read` alone; a look at
 * a task that may still run ({@linkcode TaskManager.getStatus},
 * {@linkcode TaskManager.list}, {@linkcode TaskManager.wait}), or at queues
 * ({@linkcode TaskManager.getQueues}, which lets them catch up), runs bash to
 * tell whether its processes live (`--allow-run=bash`); what records
 * (spawns, kills, {@linkcode TaskManager.drainCompletions},
 * {@linkcode TaskManager.acknowledgeCompletions},
 * {@linkcode TaskManager.forgetConsumer}, removals) writes (`--allow-write`),
 * and a drain runs bash too while a task runs. A missing permission throws
 * `Deno.errors.NotCapable` naming the flag to add.
 *
 * Errors any method may throw, beyond those it names: a
 * {@linkcode StoreError} when the store cannot be used (removed while open,
 * writable by others, a symlink, another user's, a full disk), and one
 * naming the task, and what to run, for a task whose records cannot be read
 * (a hand's edit, a disk fault); `list` passes such tasks to its
 * `onDamaged` and goes on.
 *
 * @example Start a task, wait for it, read its output
 * ```ts
 * import { TaskManager } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
 * const task = await tasks.spawnShell("echo hello", { description: "greet" });
 * const done = await tasks.wait(task.id);
 * equal(done.status, "completed");
 * equal(await tasks.readOutput(task.id), "hello\n");
 * ```
 */
export class TaskManager implements AsyncDisposable {
  readonly #store: FsStore;
  readonly #ctx: Ctx;
  readonly #killOnDispose: boolean;
  /** The close under way or done. */
  #closed?: Promise<void>;
  /** Aborted once closed: ends this manager's iterators (follow, completions). */
  readonly #closing = new AbortController();

  /**
   * Opens a store (created on the first write; reading never creates it, but
   * a consumer's registration does: a named consumer's first use, and a
   * wait for completions, which watches the store). Nothing runs until a
   * method is called.
   *
   * @param options Where the store is, and whether closing kills this manager's tasks.
   * @throws {Deno.errors.NotCapable} Without `dir`, when `--allow-env` is missing.
   * @throws {TypeError} For a `dir` that is no path (empty, neither a string nor a `file:`
   *   URL) or starts with `~` (which only a shell expands), or an unknown option.
   * @throws {Error} Without `dir`, when no store can be found: none of `BGTASK_DIR`,
   *   `XDG_CACHE_HOME` and `HOME` is set (or the last two are relative paths), or
   *   the one it reads holds bytes that are not UTF-8; the message names it and
   *   says to give `dir`.
   */
  constructor(options: TaskManagerOptions = {}) {
    checkOptionNames(options, OPTION_NAMES.manager, "Cannot open the store");
    const dir = options.dir === undefined ? undefined : storeFolder(options.dir);
    this.#store = new FsStore(dir ?? defaultStoreDir(), storeSource(dir));
    let self: Promise<ProcessId> | undefined;
    const whoAmI = () => self ??= whoami();
    this.#killOnDispose = options.killOnDispose ?? false;
    this.#ctx = {
      store: this.#store,
      hub: new ChangeHub(this.#store.changeFeed),
      mine: new OwnTasks(),
      self: whoAmI,
      checks: new SharedChecks(),
      // (Unknown when bash cannot tell this process's start: then not bound.)
      spawner: this.#killOnDispose
        ? async () => {
          const me = await whoAmI();
          return me.start === "0" ? "" : `${me.pid} ${me.start}`;
        }
        : undefined,
    };
  }

  /**
   * The absolute store folder.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * equal(new TaskManager({ dir: "/tmp/store" }).dir, "/tmp/store");
   * ```
   */
  get dir(): string {
    return this.#store.dir;
  }

  /**
   * Starts `command` with `bash -c` in the background and returns as soon as
   * it runs. The task gets its own session and process group; its stdout and
   * stderr go, interleaved, straight into its output file; its stdin is
   * `/dev/null` unless `stdin` says otherwise (`"pipe"`: fed by
   * {@linkcode writeStdin}; `"pty"`: a terminal, see {@linkcode StdinMode}).
   * A supervisor that outlives this process records how it ends.
   * This never keeps the Deno process alive.
   *
   * Requires `--allow-run=bash` and read/write access to the store.
   *
   * @param command Any bash command line; passed to bash verbatim.
   * @param options Description, cwd, env, timeout, output cap.
   * @returns The new task: `status: "running"` (a very short command may have
   *   ended already), or `"queued"` with a `queue` or `after`. One that another
   *   process removed before this returned (a `clean` the instant it ended) is
   *   returned as it was started: it ran, and its id is never issued again.
   * @throws {TypeError} For an empty command, a NUL byte, bad options, or a missing cwd;
   *   for a command, description, cwd or env value that is not well-formed UTF-16 (a lone
   *   surrogate, which UTF-8 cannot hold: remove it, or give `text.toWellFormed()`).
   * @throws {Error} After {@linkcode close} of a `killOnDispose` manager (its tasks end with it).
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("sleep 3; echo $GREETING", {
   *   description: "nap",
   *   env: { GREETING: "hi" },
   *   timeoutMs: 10_000,
   * });
   * equal(t.id, "b1");
   * equal(t.status, "running");
   * await tasks.wait(t.id);
   * equal(await tasks.readOutput(t.id), "hi\n");
   * ```
   */
  spawnShell(command: string, options: SpawnOptions = {}): Promise<TaskInfo> {
    // (Under way from this call on: a close right after it waits for it.)
    return this.#ctx.mine.spawn(async () =>
      (await spawnOps()).spawnShell(this.#ctx, command, options)
    );
  }

  /**
   * The task's current record, or undefined when no such task exists (a
   * malformed id never touches the filesystem). A task recorded as running
   * whose processes are all gone is recorded as failed ("lost") first.
   *
   * Requires read access to the store, and `--allow-run=bash` (and write
   * access) to check a running task's processes.
   *
   * @throws {TypeError} For an id that is no string (an array, a task object, null).
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * equal(await tasks.getStatus("b42"), undefined);
   * equal(await tasks.getStatus("../etc"), undefined);
   * ```
   */
  getStatus(id: string): Promise<TaskInfo | undefined> {
    return getStatus(this.#ctx, id);
  }

  /**
   * The task's current record, as {@linkcode getStatus} gives it; an id that
   * names no task is a {@linkcode TaskNotFoundError} instead, whose message
   * says why: not a task id, a task that was removed (by {@linkcode remove}
   * or {@linkcode clean}: ids are never reused, so it is gone for good), or
   * no such task.
   *
   * Requires what {@linkcode getStatus} does.
   *
   * @throws {TaskNotFoundError} For an unknown, removed or malformed id.
   * @throws {TypeError} For an id that is no string (an array, a task object, null).
   *
   * @example
   * ```ts
   * import { TaskManager, TaskNotFoundError } from "@bgtask/bgtask";
   * import { equal, rejects } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.wait((await tasks.spawnShell("true")).id);
   * equal((await tasks.getStatusOrThrow(t.id)).status, "completed");
   * await tasks.remove(t.id);
   * await rejects(tasks.getStatusOrThrow(t.id), TaskNotFoundError); // "Task b1 was removed, …"
   * ```
   */
  getStatusOrThrow(id: string): Promise<TaskInfo> {
    return getStatusOrThrow(this.#ctx, id);
  }

  /**
   * Every task in the store, oldest first. A task whose records are damaged
   * is left out (and passed to `onDamaged`); the rest still list. A store
   * that does not exist lists as empty (and is not created). With `ids`,
   * only those tasks are read: the snapshots of many tasks at once, with one
   * look at the processes of those that run (a {@linkcode getStatus} each
   * looks at its own).
   *
   * Requires read access to the store, and `--allow-run=bash` (and write
   * access) while a task runs, to check its processes.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.wait((await tasks.spawnShell("true")).id);
   * equal((await tasks.list()).length, 1);
   * equal((await tasks.list({ status: "failed" })).length, 0);
   * equal((await tasks.list({ ids: ["b1", "b7"] })).length, 1); // (no b7)
   * ```
   */
  list(options: ListOptions = {}): Promise<TaskInfo[]> {
    return list(this.#ctx, options);
  }

  /**
   * The task's whole output so far, decoded as UTF-8 (invalid bytes become
   * U+FFFD). Bounded: an output larger than `maxBytes` (16 MiB unless given)
   * is not read, and an {@linkcode OutputTooLargeError} says how to read it
   * in pieces ({@linkcode readOutputChunk}, {@linkcode follow}, {@linkcode tailOutput}).
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   * @throws {TypeError} For an id that is no string (an array, a task object, null),
   *   or a `maxBytes` that is no whole number.
   * @throws {OutputTooLargeError} For an output larger than `maxBytes`.
   * @throws {RangeError} For a `maxBytes` under 1 or over 64 MiB.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("echo out; echo err >&2");
   * await tasks.wait(t.id);
   * equal(await tasks.readOutput(t.id), "out\nerr\n");
   * ```
   */
  async readOutput(id: string, options: BoundOptions = {}): Promise<string> {
    return (await readOps()).readAll(this.#ctx, id, options);
  }

  /**
   * Reads output from a byte offset, for polling a running task. The text
   * never ends in half a character: `nextOffset` stops before an incomplete
   * UTF-8 sequence, which the next call returns whole. `done` turns true once
   * the task has finished and everything has been read. At most `maxBytes`
   * (1 MiB unless given) a call.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   * @throws {TypeError} For an id that is no string (an array, a task object, null),
   *   or a `maxBytes` or `offset` that is no whole number.
   * @throws {RangeError} For a `maxBytes` under 4 (one whole character) or
   *   over 64 MiB.
   *
   * @example Poll until the task is done
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
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
   * equal(text, "1\n2\n3\n");
   * ```
   */
  async readOutputChunk(id: string, options: ReadOptions = {}): Promise<OutputChunk> {
    return (await readOps()).readChunk(this.#ctx, id, options);
  }

  /**
   * Reads raw output bytes from an offset (for byte-exact copies, as the CLI's
   * `logs` does). An empty result means nothing more is there yet: for a
   * task that has ended, the end ({@linkcode readOutputChunk} says which
   * with `done`). At most `maxBytes` (1 MiB unless given) a call.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   * @throws {TypeError} For an id that is no string (an array, a task object, null),
   *   or a `maxBytes` or `offset` that is no whole number.
   * @throws {RangeError} For a `maxBytes` under 1 or over 64 MiB.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("printf '\\xff\\x00'");
   * await tasks.wait(t.id);
   * deepEqual(await tasks.readOutputBytes(t.id), new Uint8Array([255, 0]));
   * ```
   */
  async readOutputBytes(id: string, options: ReadOptions = {}): Promise<Uint8Array> {
    return (await readOps()).readBytes(this.#ctx, id, options);
  }

  /**
   * The last `lines` lines of the output (a last line without a newline
   * counts). Reads backwards, so a large output costs only what is returned;
   * lines longer together than `maxBytes` (16 MiB unless given) give an
   * {@linkcode OutputTooLargeError} instead.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   * @throws {TypeError} For an id that is no string (an array, a task object, null).
   * @throws {TypeError} For `lines` missing or not a whole number ≥ 0, or a `maxBytes`
   *   that is no whole number.
   * @throws {OutputTooLargeError} When the lines asked for are larger than
   *   `maxBytes`.
   * @throws {RangeError} For a `maxBytes` under 1 or over 64 MiB.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("seq 1 1000");
   * await tasks.wait(t.id);
   * equal(await tasks.tailOutput(t.id, 2), "999\n1000\n");
   * ```
   */
  async tailOutput(id: string, lines: number, options: BoundOptions = {}): Promise<string> {
    return (await readOps()).readTail(this.#ctx, id, lines, options);
  }

  /**
   * Ends the task's whole process tree: SIGTERM (or `signal`) to its process
   * group, SIGKILL to whatever is left after `graceMs`, and resolves only
   * when no process of the group is alive. A paused task is continued after
   * the first signal, so that it can act on it. The record says `killed`, its
   * `error` which signal came first, and never changes again. A finished
   * task is left as it is and its record returned. Works from any process
   * sharing the store.
   *
   * Requires `--allow-run=bash` and read/write access to the store.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   * @throws {TypeError} For an id that is no string (an array, a task object, null).
   * @throws {TaskStateError} When processes of the task outlive SIGKILL by
   *   5 s (another user's, which this one may not signal: a command run
   *   through sudo; or processes stuck in the kernel), naming the command
   *   that ends them; or for a task in a PID namespace this process cannot
   *   see into (nothing is done then).
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("sleep 300 & sleep 300 & wait");
   * const info = await tasks.kill(t.id, { graceMs: 500 });
   * equal(info.status, "killed");
   * ```
   *
   * @example A first signal other than SIGTERM: SIGINT, as a Ctrl-C would send it
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("trap 'echo stopping; exit 0' INT; echo up; sleep 300");
   * await tasks.waitForLine(t.id, /up/);
   * const info = await tasks.kill(t.id, { signal: "SIGINT", graceMs: 10_000 });
   * equal(await tasks.readOutput(t.id), "up\nstopping\n");
   * equal(info.error, "killed on request (SIGINT; SIGKILL if anything was left after 10000 ms)");
   * ```
   */
  async kill(id: string, options: KillOptions = {}): Promise<TaskInfo> {
    return (await killOps()).kill(this.#ctx, id, options);
  }

  /**
   * Resolves with the task's final record once it has finished — any task in
   * the store, also one started by another process. Many waiters may wait on
   * one task. A task whose processes vanished resolves as failed ("lost").
   * With `until: "input"`, resolves as soon as the task waits for input
   * (`waitingForInput` true, looked at every 100 ms) or has ended — or as
   * soon as a look finds that it cannot be known (`waitingForInput` null: a
   * process of the task may not be looked at, such as a setuid `sudo`,
   * `su` or `passwd` at its prompt when this user is not root).
   *
   * Requires read access to the store, and `--allow-run=bash` for liveness checks.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id, or a task removed meanwhile.
   * @throws {TypeError} For an id that is no string (an array, a task object, null).
   * @throws The signal's reason, when `signal` aborts.
   *
   * @example Wait with a deadline
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("exit 3");
   * const info = await tasks.wait(t.id, { signal: AbortSignal.timeout(10_000) });
   * equal(info.status, "failed");
   * equal(info.exitCode, 3);
   * ```
   */
  async wait(id: string, options: WaitOptions = {}): Promise<TaskInfo> {
    return (await waitOps()).wait(this.#ctx, id, options);
  }

  /**
   * Resolves once a line of the task's output matches `pattern` — a server's
   * "listening on", a build's "ready" — with that line and the byte offset
   * just past it; the output is searched from its start (or `offset`), and
   * on as it grows. For a test that starts a server and must not go on
   * before it is up, nor hang when it crashes: a task that ends without such
   * a line rejects, naming how it ended.
   *
   * Each line is matched as a terminal shows it, cleaned as MCP shows
   * output: a line redrawn with `\r` (a progress bar) on its last drawing
   * (`/compiling/` does not match a line whose last drawing is `linking`),
   * terminal escapes left out, other control bytes and bytes that are no
   * UTF-8 written `\xNN`. A line still longer than 1 MiB after its last
   * redraw is matched on its first and last 512 KiB only, and a match in
   * one says so (`inPart`). The last line, before its
   * newline, counts once the task waits for input (a prompt), ends, or has
   * written nothing more for a second (a line written in two pieces stays
   * one). The flags `g` and `y` are left out: each line is searched
   * whole, as without them. The pattern runs as given, in this process: one
   * that backtracks badly (`^(a+)+$`) can take hours on a 40-character line
   * and block the event loop, `signal` included, unless the process runs
   * with `--v8-flags=--enable-experimental-regexp-engine-on-excessive-backtracks`
   * (V8 then moves it to its linear-time engine).
   *
   * Requires read access to the store, and `--allow-run=bash` for liveness checks.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id, or a task removed meanwhile.
   * @throws {TypeError} For an id that is no string (an array, a task object, null).
   * @throws {TaskStateError} When the task ends without a matching line.
   * @throws The signal's reason, when `signal` aborts.
   *
   * @example Wait until a server is up
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal, rejects } from "node:assert/strict";
   * await using tasks = new TaskManager({ dir: await Deno.makeTempDir(), killOnDispose: true });
   * const server = await tasks.spawnShell("echo starting; sleep 0.2; echo 'listening on 8000'; sleep 300");
   * const up = await tasks.waitForLine(server.id, /listening on (\d+)/, {
   *   signal: AbortSignal.timeout(10_000),
   * });
   * equal(up.line, "listening on 8000");
   * equal(up.offset, "starting\nlistening on 8000\n".length);
   * const crash = await tasks.spawnShell("echo 'port in use' >&2; exit 1");
   * await rejects(tasks.waitForLine(crash.id, /listening/), /ended \(failed: exited with code 1\)/);
   * ```
   */
  async waitForLine(
    id: string,
    pattern: RegExp,
    options: WaitForLineOptions = {},
  ): Promise<LineMatch> {
    return (await waitLineOps()).waitForLine(this, id, pattern, options);
  }

  /**
   * Writes to the stdin of a task spawned with `stdin: "pipe"` or `"pty"`,
   * from any process sharing the store (also after its spawner has exited).
   * A string is written as UTF-8; bytes as they are. The task reads the bytes
   * in order, exactly; one call's bytes are never interleaved with another
   * call's (writers take turns, whatever the size). Resolves once every byte
   * is in the task's stdin buffer (64 KiB), not once the task has read them.
   * On a terminal, the bytes are typed: `"\r"` is Enter, `"\x03"` Ctrl-C,
   * `"\x04"` Ctrl-D; a line is at most 4095 bytes (the terminal drops the
   * rest of a longer one, as it would of typing, while the program reads
   * lines: send long lines through a pipe).
   *
   * What is written is kept nowhere by bgtask; on a terminal its echo is in
   * the output like anything the terminal shows, so a secret should be read
   * with echo off (`read -s`, `getpass`).
   *
   * Requires read/write access to the store.
   *
   * @throws {TaskStateError} When the task takes no input: its stdin is
   *   `/dev/null`, it has not started, it has ended, its stdin was closed, or
   *   no process of it reads its stdin any more.
   * @throws {StdinTimeoutError} When the task did not read for `timeoutMs`
   *   while its buffer was full (it says how many bytes were written), or
   *   another write to its stdin was still in progress after `timeoutMs`
   *   (nothing was written).
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   * @throws {TypeError} For an id that is no string (an array, a task object, null).
   *
   * @example Answer a prompt
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell('printf "name? "; read name; echo "hi $name"', { stdin: "pipe" });
   * await tasks.writeStdin(t.id, "Ada\n");
   * equal((await tasks.wait(t.id)).status, "completed");
   * equal(await tasks.readOutput(t.id), "name? hi Ada\n"); // (the prompt, on a pipe too)
   * ```
   */
  async writeStdin(
    id: string,
    data: string | Uint8Array,
    options: WriteStdinOptions = {},
  ): Promise<void> {
    return (await stdinOps()).writeStdin(this.#ctx, id, data, options);
  }

  /**
   * Ends a task's input. A pipe: the task reads what was written before, then
   * end-of-file; a task whose stdin is never closed never sees end-of-file
   * (until it ends). A terminal: Ctrl-D is typed (twice after a partial
   * line), which ends input for a program reading lines; a program that
   * reads keys decides what Ctrl-D means (readline after a partial line only
   * beeps), so a terminal takes more input after it, and closing it again
   * types Ctrl-D again. Nothing more may be written to a closed pipe.
   * Closing twice is no error, even once the task has ended.
   *
   * Requires `--allow-run=bash` and read/write access to the store.
   *
   * @throws {TaskStateError} When its stdin is `/dev/null`, or it has not
   *   started, or it has ended without its stdin closed.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("wc -l", { stdin: "pipe" });
   * await tasks.writeStdin(t.id, "one\ntwo\n");
   * await tasks.closeStdin(t.id);
   * await tasks.wait(t.id);
   * equal((await tasks.readOutput(t.id)).trim(), "2");
   * ```
   */
  async closeStdin(id: string): Promise<void> {
    return (await stdinOps()).closeStdin(this.#ctx, id);
  }

  /**
   * Sets the size of a task's terminal (stdin `"pty"`); its programs are told
   * (SIGWINCH), as when a terminal window is resized. Rows and columns change
   * at once where perl or python3 is installed; else `stty` sets one and
   * then the other (two signals, see the README's "Terminal").
   *
   * Requires `--allow-run=bash` and read access to the store.
   *
   * @throws {TaskStateError} When the task has no terminal or has ended.
   * @throws {TypeError} For a size that is not `{ columns, rows }`, both whole
   *   numbers from 1 to 65535 (one missing is named), or an id that is no string.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("read; stty size", { stdin: "pty" });
   * await tasks.resizeTerminal(t.id, { columns: 100, rows: 30 });
   * await tasks.writeStdin(t.id, "\r");
   * await tasks.wait(t.id);
   * equal((await tasks.readOutput(t.id)).trim(), "30 100");
   * ```
   */
  async resizeTerminal(id: string, size: TerminalSize): Promise<void> {
    return (await stdinOps()).resizeTerminal(this.#ctx, id, size);
  }

  /**
   * The finished tasks (completed, failed or killed) not yet delivered to
   * `consumer` (`"default"` unless given), in the order they were announced
   * (about the order they finished: a supervisor slowed down between its
   * task's end and its announcement is overtaken; one delivered again after
   * its claimer died comes after those never claimed), each marked
   * delivered: every finished task is delivered exactly once per consumer,
   * across processes and restarts, and one consumer never takes another's.
   * A delivery counts as handled when this resolves, or, with `handle`, once
   * `handle` has resolved (see {@linkcode DrainOptions.handle}: what a failed
   * handler could not pass on is delivered again).
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("true");
   * await tasks.wait(t.id);
   * deepEqual((await tasks.drainCompletions()).map((i) => i.id), ["b1"]);
   * deepEqual(await tasks.drainCompletions(), []);
   * ```
   *
   * @example Delivered only once written
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual, rejects } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.wait((await tasks.spawnShell("true")).id);
   * const fail = () => { throw new Error("the reader has gone"); };
   * await rejects(tasks.drainCompletions({ handle: fail }), /the reader has gone/);
   * deepEqual((await tasks.drainCompletions()).map((i) => i.id), ["b1"]); // given back
   * ```
   *
   * @example Wait for the next task to finish, with a deadline
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual, rejects } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.spawnShell("sleep 0.2");
   * const done = await tasks.drainCompletions({ wait: true, signal: AbortSignal.timeout(10_000) });
   * deepEqual(done.map((i) => i.id), ["b1"]);
   * await rejects(
   *   tasks.drainCompletions({ wait: true, signal: AbortSignal.timeout(100) }),
   *   { name: "TimeoutError" }, // nothing else finished
   * );
   * ```
   */
  async drainCompletions(options: DrainOptions = {}): Promise<TaskInfo[]> {
    return (await completionsOps()).drainCompletions(this.#ctx, options);
  }

  /**
   * The finished tasks `consumer` has not been told about yet, without
   * claiming any: a look that takes nothing. A named consumer never used
   * before is registered by it (nothing is pending for it yet; it hears of
   * every task that ends from now on); `"default"`, which starts with every
   * finished task, counts for {@linkcode clean} only from its first drain.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.wait((await tasks.spawnShell("true")).id);
   * equal((await tasks.peekCompletions()).length, 1);
   * equal((await tasks.drainCompletions()).length, 1); // still there to drain
   * ```
   */
  async peekCompletions(options: Omit<CompletionsOptions, "signal"> = {}): Promise<TaskInfo[]> {
    return (await completionsOps()).peekCompletions(this.#ctx, options);
  }

  /**
   * Marks the completions of `ids` as delivered to `consumer` without
   * returning them: for a consumer that learned of those ends some other way
   * (it awaited the task, or an agent's call answered with its end state),
   * so that `drainCompletions`, `completions()` and `peekCompletions` do not
   * tell it again. Only completions the consumer would be told of are marked:
   * tasks that ended since it began and that no reader of it has claimed.
   * Unfinished, unknown and removed ids are passed over (a task that has not
   * ended is still delivered when it does). Resolves with the ids marked.
   *
   * @throws {TypeError} An id that is not one (`b1`, `b2`, …), or a bad consumer name.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const a = await tasks.spawnShell("true");
   * const b = await tasks.spawnShell("true");
   * await tasks.wait(a.id);
   * await tasks.wait(b.id);
   * deepEqual(await tasks.acknowledgeCompletions([a.id]), [a.id]); // seen already
   * deepEqual((await tasks.drainCompletions()).map((t) => t.id), [b.id]);
   * deepEqual(await tasks.acknowledgeCompletions([b.id]), []); // delivered already
   * ```
   */
  async acknowledgeCompletions(
    ids: readonly string[],
    options: Omit<CompletionsOptions, "signal"> = {},
  ): Promise<string[]> {
    return (await completionsOps()).acknowledgeCompletions(this.#ctx, ids, options);
  }

  /**
   * Forgets a completion consumer that is done for good (an agent's session
   * that ended): its place in the completion log and its claims on the
   * tasks go, and `clean` no longer keeps the tasks it had not been told about. Used again, it starts
   * anew with the tasks that end from then on: `"default"` too, though it
   * began with every finished task (it is not told again of those it was
   * told of). Resolves false when there was no such consumer.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.peekCompletions({ consumer: "session-1" }); // registers it
   * equal(await tasks.forgetConsumer("session-1"), true);
   * equal(await tasks.forgetConsumer("session-1"), false);
   * ```
   */
  async forgetConsumer(consumer: string): Promise<boolean> {
    return (await completionsOps()).forgetConsumer(this.#ctx, consumer);
  }

  /**
   * Yields each finished task as it finishes — tasks of any process sharing
   * the store, and those finished earlier but not yet delivered to
   * `consumer`. Wakes within milliseconds of a task's end (a filesystem watch
   * on the store). Ends when `signal` aborts, releasing every watcher and
   * timer it holds.
   *
   * Delivery: an item counts as handled when the next one is requested or
   * the loop ends. So each finished task is yielded exactly once per consumer
   * while the consumer lives; if the process dies while it holds an item
   * (between the yield and the next request), the item is delivered again to
   * the next reader of that consumer: at least once across a crash. A loop
   * left by an exception counts its last item as handled too (a generator
   * cannot tell a `throw` from a `break`): where a failure must give the item
   * back, use {@linkcode drainCompletions} with `handle`. A consumer never
   * used before starts with the tasks that end from its first use on, which
   * for this generator is its first iteration, not the call: use
   * {@linkcode peekCompletions} first to register it before spawning.
   *
   * @example Be told when background work is done
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.spawnShell("sleep 0.1");
   * const stop = new AbortController();
   * const seen: string[] = [];
   * for await (const done of tasks.completions({ signal: stop.signal })) {
   *   seen.push(`${done.id} ${done.status}`);
   *   stop.abort();
   * }
   * deepEqual(seen, ["b1 completed"]);
   * ```
   */
  async *completions(options: CompletionsOptions = {}): AsyncGenerator<TaskInfo, void, undefined> {
    yield* (await completionsOps()).completions(this.#ctx, this.#untilClosed(options));
  }

  /**
   * Yields the task's output as it is written, from `offset`, and ends once
   * the task has finished and all its output has been yielded. Never splits a
   * character between two pieces. It also ends when `signal` aborts or the
   * manager is closed: a server streaming it to a client passes the
   * request's signal (`req.signal`), as a `break` or `return()` from outside
   * waits for the next piece first.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   * @throws {TypeError} For an id that is no string (an array, a task object, null).
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("echo one; sleep 0.1; echo two");
   * let all = "";
   * for await (const text of tasks.follow(t.id)) all += text;
   * equal(all, "one\ntwo\n");
   * ```
   */
  async *follow(id: string, options: FollowOptions = {}): AsyncGenerator<string, void, undefined> {
    yield* (await waitOps()).follow(this.#ctx, id, this.#untilClosed(options));
  }

  /**
   * Yields the task's output as it is written, byte for byte, from `offset`,
   * and ends once the task has finished and all its output has been
   * yielded: {@linkcode follow} without the decoding, for copying the output
   * somewhere as it is (a file, a socket, a hash). While nothing new comes,
   * it looks at the output's size (every 10 ms, backing off to 100 ms); the
   * task's end is heard at once.
   *
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   * @throws {TypeError} For an id that is no string (an array, a task object, null).
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("printf 'a\\377'; sleep 0.1; printf b");
   * const bytes: number[] = [];
   * for await (const piece of tasks.followBytes(t.id)) bytes.push(...piece);
   * deepEqual(bytes, [0x61, 0xff, 0x62]);
   * ```
   */
  async *followBytes(
    id: string,
    options: FollowOptions = {},
  ): AsyncGenerator<Uint8Array, void, undefined> {
    yield* (await waitOps()).followBytes(this.#ctx, id, this.#untilClosed(options));
  }

  /**
   * Deletes a task's folder (output included) and returns its last state: a
   * finished task, or a queued one (in a queue, or waiting for the tasks it
   * runs after), which is killed first, so it never runs (it is returned
   * `killed`). Its id is never issued again. A task removed by someone else
   * meanwhile is not an error for {@linkcode clean}; here it is a
   * {@linkcode TaskNotFoundError}. The tasks that run after it are resolved
   * first (it counts as it ended). A removal cut short (the process ended
   * half-way) leaves a task that reads as removed; removing it again, or
   * {@linkcode clean}, deletes what is left of it.
   *
   * Requires read/write access to the store, and `--allow-run=bash` for a
   * task not recorded as ended (its processes are looked at), one that
   * other tasks run after, or one that ran in a queue (the queue is then
   * scheduled: a slot its supervisor had not handed on yet is freed).
   *
   * A completion consumer that has not been told of the task's end yet
   * never will be: {@linkcode clean} keeps such a task, `remove` takes it
   * and names those consumers to `onUnread`.
   *
   * @throws {TaskStateError} When the task is running or paused (kill it
   *   first).
   * @throws {TaskNotFoundError} For an unknown or malformed id.
   * @throws {TypeError} For an id that is no string (an array, a task object,
   *   null), or an unknown option.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("true");
   * await tasks.wait(t.id);
   * await tasks.remove(t.id);
   * equal(await tasks.getStatus(t.id), undefined);
   * ```
   *
   * @example An agent that had not been told
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.drainCompletions({ consumer: "agent" }); // registered
   * const t = await tasks.spawnShell("true");
   * await tasks.wait(t.id);
   * const unread: string[] = [];
   * await tasks.remove(t.id, { onUnread: (_, who) => unread.push(...who) });
   * deepEqual(unread, ["agent"]);
   * deepEqual(await tasks.drainCompletions({ consumer: "agent" }), []); // never told
   * ```
   *
   * @example A queued task is killed and removed
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.pauseQueue("q");
   * const t = await tasks.spawnShell("echo never", { queue: "q" });
   * equal((await tasks.remove(t.id)).status, "killed");
   * equal(await tasks.getStatus(t.id), undefined);
   * await tasks.removeQueue("q");
   * ```
   */
  async remove(id: string, options: RemoveOptions = {}): Promise<TaskInfo> {
    return (await retentionOps()).remove(this.#ctx, id, options);
  }

  /**
   * Removes finished tasks, by age and/or status, and returns what it
   * removed. Unfinished tasks are never touched; tasks another process
   * removes at the same time count as removed by it. A task that a
   * completion consumer has not been told about yet is kept (see
   * {@linkcode CleanOptions.unread}); {@linkcode remove} takes one anyway.
   * It first deletes what removals cut short left (see {@linkcode remove}),
   * and last merges the records that keep removed ids used (a file each)
   * once they are an hour old, keeping those a task yet to run after them
   * may read. Its `signal` stops it between two removals, with what it removed.
   *
   * Requires read/write access to the store, and `--allow-run=bash` as
   * {@linkcode remove} does (tasks not recorded as ended, tasks others run
   * after, tasks that ran in a queue).
   *
   * @throws {TypeError} For a `status` no finished task has (`running`,
   *   `queued`, `paused`), or an unknown option or value.
   *
   * @example Keep a day of history
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const removed = await tasks.clean({ olderThanMs: 24 * 3600_000 });
   * equal(removed.length, 0);
   * ```
   *
   * @example Keep the last two that finished
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * for (let i = 0; i < 3; i++) await tasks.wait((await tasks.spawnShell("true")).id);
   * deepEqual((await tasks.clean({ keep: 2 })).map((t) => t.id), ["b1"]);
   * ```
   *
   * @example An agent's notices are not cleaned away
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.drainCompletions({ consumer: "agent" }); // registered
   * await tasks.wait((await tasks.spawnShell("true")).id);
   * deepEqual(await tasks.clean(), []); // kept: "agent" has not read it
   * deepEqual((await tasks.drainCompletions({ consumer: "agent" })).map((t) => t.id), ["b1"]);
   * deepEqual((await tasks.clean()).map((t) => t.id), ["b1"]);
   * ```
   *
   * @example Stopped by its signal
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.wait((await tasks.spawnShell("true")).id);
   * deepEqual(await tasks.clean({ signal: AbortSignal.abort() }), []); // before the first
   * deepEqual((await tasks.clean()).map((t) => t.id), ["b1"]);
   * ```
   */
  async clean(options: CleanOptions = {}): Promise<TaskInfo[]> {
    return (await retentionOps()).clean(this.#ctx, options);
  }

  /**
   * Creates a queue or changes how many of its tasks run at once. Tasks
   * spawned with `{ queue }` wait (`queued`) until a slot is free, first in
   * first out; a queue never set runs one task at a time. Lowering `parallel`
   * lets running tasks finish; raising it starts more at once. No daemon: the
   * supervisor of a task that ends starts the next one.
   *
   * Requires `--allow-run=bash` and read/write access to the store.
   *
   * @throws {TypeError} For a name that is not a valid queue name, or a
   *   `parallel` that is missing or not a whole number ≥ 1.
   *
   * @example Four at a time
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.setQueue("ci", { parallel: 4 });
   * const shards = [];
   * for (let i = 0; i < 6; i++) shards.push(await tasks.spawnShell("sleep 30", { queue: "ci" }));
   * const [ci] = await tasks.getQueues();
   * equal(ci.running + ci.queued, 6);
   * equal(ci.running <= 4, true);
   * for (const t of shards) await tasks.kill(t.id); // those still queued never run
   * ```
   */
  setQueue(name: string, options: QueueOptions): Promise<QueueInfo> {
    return setQueue(this.#ctx, name, options);
  }

  /**
   * Every queue in the store, with its tasks that run and wait. Looking lets
   * each queue catch up first: a slot held by a task whose supervisor was
   * killed is freed (the task is recorded lost) and what fits starts.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.setQueue("ci", { parallel: 2 });
   * deepEqual(await tasks.getQueues(), [
   *   { name: "ci", parallel: 2, paused: false, running: 0, queued: 0 },
   * ]);
   * ```
   */
  getQueues(): Promise<QueueInfo[]> {
    return getQueues(this.#ctx);
  }

  /**
   * The queue's waiting line: the tasks that wait for a slot, in the order
   * they will start, and whether the queue is paused. A task's place is its
   * index in it + 1. Reads the line, not the tasks' records, so it costs
   * the same whatever the store holds (unlike {@linkcode getQueues}, which
   * reads every unfinished task); and it only looks (a queue that has not
   * caught up with a task that died unseen is shown as it stands). A queue
   * never used has an empty line.
   *
   * Requires read access to the store.
   *
   * @throws {TypeError} For a name that is not a valid queue name.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.pauseQueue("ci");
   * const a = await tasks.spawnShell("true", { queue: "ci" });
   * const b = await tasks.spawnShell("true", { queue: "ci" });
   * deepEqual(await tasks.getQueueLine("ci"), { name: "ci", paused: true, waiting: [a.id, b.id] });
   * await tasks.kill(a.id); // (it never ran)
   * deepEqual((await tasks.getQueueLine("ci")).waiting, [b.id]);
   * await tasks.kill(b.id);
   * ```
   */
  getQueueLine(name: string): Promise<QueueLine> {
    return getQueueLine(this.#ctx, name);
  }

  /**
   * Stops starting the queue's tasks; those that run go on. A name never
   * used makes that queue, paused (a script may hold a queue before it fills
   * it; the CLI refuses such a name, where it is more likely a typo).
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.pauseQueue("ci");
   * const t = await tasks.spawnShell("true", { queue: "ci" });
   * equal((await tasks.getStatus(t.id))?.status, "queued");
   * await tasks.resumeQueue("ci");
   * equal((await tasks.wait(t.id)).status, "completed");
   * ```
   */
  pauseQueue(name: string): Promise<QueueInfo> {
    return pauseQueue(this.#ctx, name, true);
  }

  /**
   * Starts the queue's tasks again, as many as fit at once. A name never
   * used makes that queue (running one at a time), as `pauseQueue` does.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * equal((await tasks.resumeQueue("ci")).paused, false);
   * ```
   */
  resumeQueue(name: string): Promise<QueueInfo> {
    return pauseQueue(this.#ctx, name, false);
  }

  /**
   * Ends every task of a queue that has not ended: its waiting tasks first,
   * all at once under the queue's lock, so that none of them starts (not even
   * in a slot that a running task frees meanwhile: each is recorded killed,
   * "it never ran"); then its running and paused tasks, as {@linkcode kill}
   * ends them, all at once. The queue itself stays as it was (not paused):
   * what is spawned into it afterwards runs. Tasks that wait for this
   * queue's tasks (`after`) are resolved: under `afterPolicy` `"success"`
   * they fail unrun.
   *
   * Requires `--allow-run=bash` and read/write access to the store.
   *
   * @returns The tasks it ended, in id order; empty when the store has no such queue.
   * @throws {TaskStateError} For a task whose kill is refused (one running in
   *   a PID namespace this process cannot see into), once every other task's
   *   kill is done.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.spawnShell("sleep 300", { queue: "ci" });
   * await tasks.spawnShell("echo never", { queue: "ci" }); // waits: ci runs 1 at a time
   * const ended = await tasks.killQueue("ci", { graceMs: 500 });
   * deepEqual(ended.map((t) => [t.id, t.status, t.startedAt === null]), [
   *   ["b1", "killed", false],
   *   ["b2", "killed", true], // it never ran
   * ]);
   * ```
   */
  async killQueue(name: string, options: KillOptions = {}): Promise<TaskInfo[]> {
    return (await killOps()).killQueue(this.#ctx, name, options);
  }

  /**
   * Deletes a queue: its settings and its line. Its finished tasks stay, and
   * still name it. A queue with a task that has not ended (queued, running,
   * paused, or waiting for its dependencies) is refused with a
   * {@linkcode TaskStateError} naming them: kill them or wait for them first.
   * Naming the queue again (a spawn into it, {@linkcode setQueue}) makes a
   * new one, which runs one task at a time until it is set.
   *
   * Requires `--allow-run=bash` and read/write access to the store.
   *
   * @returns true when the queue was removed, false when the store had none of that name.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual, equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.setQueue("ci", { parallel: 4 });
   * equal(await tasks.removeQueue("ci"), true);
   * deepEqual(await tasks.getQueues(), []);
   * equal(await tasks.removeQueue("ci"), false);
   * ```
   */
  removeQueue(name: string): Promise<boolean> {
    return removeQueue(this.#ctx, name);
  }

  /**
   * Stops a running task's whole process group (SIGSTOP), children included;
   * its status is `paused` until {@linkcode resume}. Paused time does not
   * count toward its timeout. A task that is queued or has ended is refused
   * with a {@linkcode TaskStateError}.
   *
   * A task is never left paused while one of its processes holds a queue's
   * or a completion consumer's lock of the store (a task that runs bgtask
   * itself: stopped, it would hold up every bgtask that wants that lock): it
   * runs until it has let go, and is stopped then; one that still holds one
   * 3 s after the pause began is left running, and refused with a
   * {@linkcode TaskStateError} (the time it ran meanwhile counts as paused).
   *
   * Requires `--allow-run=bash` and read/write access to the store.
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("sleep 300");
   * equal((await tasks.pause(t.id)).status, "paused");
   * equal((await tasks.resume(t.id)).status, "running");
   * await tasks.kill(t.id);
   * ```
   */
  async pause(id: string): Promise<TaskInfo> {
    return (await pauseOps()).pause(this.#ctx, id);
  }

  /**
   * Continues a paused task's whole process group (SIGCONT).
   *
   * @example
   * ```ts
   * import { TaskManager, TaskStateError } from "@bgtask/bgtask";
   * import { rejects } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const t = await tasks.spawnShell("true");
   * await tasks.wait(t.id);
   * await rejects(tasks.resume(t.id), TaskStateError);
   * ```
   */
  async resume(id: string): Promise<TaskInfo> {
    return (await pauseOps()).resume(this.#ctx, id);
  }

  /**
   * Starts a task that has ended again, as a new task: the same command,
   * description, cwd, env, limits (`timeoutMs`, `maxOutputBytes`, `graceMs`),
   * stdin mode and terminal size, queue and dependencies (`after`, each
   * one replaced by its newest restart where it was restarted since: restart
   * a failed dependency, then what ran after it, and the second waits for
   * the first's new task; a dependency that failed and was not restarted
   * fails the new task unrun, as it did the old; one removed since is left
   * out, unless the task needs it completed and it failed or was killed:
   * then the restart is refused, as the new task would never run). The new
   * task's `restartOf` names the old one. Like any spawn, it inherits the
   * environment of the process that restarts it, `env` on top.
   *
   * @throws {TaskStateError} When the task has not ended, or runs after a
   * task that failed or was killed and has been removed since (with the
   * default `afterPolicy`, `"success"`).
   * @throws {TaskNotFoundError} For an unknown or removed id.
   * @throws {Error} After {@linkcode close} of a `killOnDispose` manager (its tasks end with it).
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * const first = await tasks.spawnShell("exit 1");
   * await tasks.wait(first.id);
   * const again = await tasks.restart(first.id);
   * equal(again.restartOf, first.id);
   * equal(again.command, "exit 1");
   * ```
   */
  restart(id: string): Promise<TaskInfo> {
    return this.#ctx.mine.spawn(async () => (await restartOps()).restart(this.#ctx, id));
  }

  /**
   * Closes the manager. With `killOnDispose`, kills every task this manager
   * started that has not ended, once the spawns under way have returned
   * (their tasks too); a spawn or restart after it is refused. Tasks
   * otherwise outlive it. Then ends this manager's {@linkcode follow},
   * {@linkcode followBytes} and {@linkcode completions} iterators under way,
   * as their signal's abort would, a follower once it has read what was
   * written up to then (a server's streams end with it); one begun after the
   * close runs as any. A {@linkcode drainCompletions} with `wait` is not
   * ended (give it a `signal`, aborted as you close).
   *
   * @example
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { equal } from "node:assert/strict";
   * let id = "";
   * {
   *   await using tasks = new TaskManager({ dir: await Deno.makeTempDir(), killOnDispose: true });
   *   id = (await tasks.spawnShell("sleep 300")).id;
   * } // leaving the scope kills the sleep
   * equal(id, "b1");
   * ```
   */
  close(): Promise<void> {
    // (Every call resolves once the tasks are ended: a second close waits for the first.)
    // Its iterators end after the kills: a follower hears its task's end.
    return this.#closed ??= this.#closeNow().finally(() => this.#closing.abort(CLOSED));
  }

  /** `options` with a signal that also aborts when this manager is closed. */
  #untilClosed<T extends { signal?: AbortSignal }>(options: T): T {
    const closing = this.#closing.signal;
    // (One begun after the close runs as any: only those under way end. A
    // wrong options value is left as given: the operation's check names it.)
    if (closing.aborted || typeof options !== "object" || options === null) return options;
    if (!isPlainObject(options)) return options; // (an AbortSignal, say)
    if (options.signal === undefined) return { ...options, signal: closing };
    if (!(options.signal instanceof AbortSignal)) return options;
    return { ...options, signal: AbortSignal.any([options.signal, closing]) };
  }

  async #closeNow(): Promise<void> {
    if (!this.#killOnDispose) return;
    const own = await this.#ctx.mine.close();
    const { kill } = await killOps();
    await Promise.all(own.map(async ({ id, token }) => {
      // The same id in a store deleted and made again is another's task.
      const records = await this.#store.read(id).catch(() => undefined);
      if (records?.spec.token !== token) return;
      // With the task's own grace (a server that ignores SIGTERM and was
      // given 200 ms is not waited for 2 s).
      await kill(this.#ctx, id, { graceMs: records.spec.graceMs }).catch((e) => {
        if (!(e instanceof TaskNotFoundError)) throw e;
      });
    }));
  }

  /** Same as {@linkcode close}; lets `await using` manage the manager. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
