/**
 * The shapes bgtask reads and returns.
 *
 * @module
 */

/**
 * Where a task is in its life (see `src/lifecycle.ts` for the transitions).
 *
 * - `queued`: created, not started yet: waiting for a slot in its queue, for
 *   the tasks it runs after, or (for a moment) for its supervisor to start it.
 * - `running`: its command runs.
 * - `paused`: its whole process group is stopped ({@linkcode TaskManager.pause}).
 * - `completed`: its shell exited with code 0.
 * - `failed`: a non-zero exit, a signal, a timeout, the output cap, lost (its
 *   processes vanished without a final record), a dependency that did not
 *   complete, or it could not start; `reason` and `error` say which.
 * - `killed`: ended by {@linkcode TaskManager.kill} (or `killOnDispose`).
 *
 * @example Narrowing on the status
 * ```ts
 * import type { TaskStatus } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const ended = (s: TaskStatus) => s === "completed" || s === "failed" || s === "killed";
 * equal(ended("killed"), true);
 * ```
 */
export type TaskStatus = "queued" | "running" | "paused" | "completed" | "failed" | "killed";

/**
 * What a task's stdin is: `null` (`/dev/null`, the default: a command that
 * reads input gets end-of-file at once), `pipe` (what
 * {@linkcode TaskManager.writeStdin} sends, from any process sharing the
 * store, until {@linkcode TaskManager.closeStdin}), or `pty` (a terminal:
 * the command's stdin, stdout and stderr are a pseudo-terminal, whose screen
 * stream is the task's output; what is written is typed on it).
 *
 * @example
 * ```ts
 * import type { StdinMode } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const mode: StdinMode = "null";
 * equal(mode, "null");
 * ```
 */
export type StdinMode = "null" | "pipe" | "pty";

/**
 * When a task with `after` may start: `success` (the default) once every
 * listed task completed — if one did not, it fails without running — or `any`
 * once every listed task ended, however it ended.
 *
 * @example
 * ```ts
 * import type { AfterPolicy } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const policy: AfterPolicy = "any";
 * equal(policy, "any");
 * ```
 */
export type AfterPolicy = "success" | "any";

/**
 * How a finished task ended, for code that branches on it:
 *
 * - `exit`: its shell exited (`exitCode` says with what).
 * - `signal`: a signal ended its shell (`signal` says which).
 * - `timeout`: `timeoutMs` passed and bgtask ended it.
 * - `max-output`: its output passed `maxOutputBytes` and bgtask ended it.
 * - `killed`: {@linkcode TaskManager.kill} (or `killOnDispose`) ended it.
 * - `lost`: its processes vanished without recording an exit.
 * - `dependency`: a task it ran after did not complete; it never ran.
 * - `start`: it could not start (its working directory was gone); it never ran.
 *
 * @example
 * ```ts
 * import type { TaskEndReason } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const retry = (r: TaskEndReason | null) => r === "lost" || r === "timeout";
 * equal(retry("lost"), true);
 * ```
 */
export type TaskEndReason =
  | "exit"
  | "signal"
  | "timeout"
  | "max-output"
  | "killed"
  | "lost"
  | "dependency"
  | "start";

/**
 * A snapshot of one task, as recorded in the store. This is also the `--json`
 * shape of the CLI, and it is stable: fields are only ever added.
 *
 * @example Reading a snapshot
 * ```ts
 * import type { TaskInfo } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * function summary(t: Pick<TaskInfo, "id" | "status" | "error">): string {
 *   return t.status === "failed" ? `${t.id}: ${t.error}` : `${t.id}: ${t.status}`;
 * }
 * equal(summary({ id: "b1", status: "failed", error: "exited with code 3" }), "b1: exited with code 3");
 * ```
 */
export interface TaskInfo {
  /** `b1`, `b2`, … unique in its store and never reused. */
  id: string;
  /** The shell command, exactly as given. */
  command: string;
  /** A human description ("" when none was given). */
  description: string;
  /**
   * The directory the task runs in (as the shell resolved it once started;
   * before, where its spawner asked it to run). Null only for a record that
   * never said: a folder a spawner killed mid-spawn left without its spawn
   * record, or a task of bgtask 0.1 that never started.
   */
  cwd: string | null;
  /** See {@linkcode TaskStatus}. */
  status: TaskStatus;
  /**
   * The exit code; null until it ends, and when its shell did not exit by
   * itself: a signal, a kill, a timeout, the output cap, a loss, or a task
   * that never ran (`reason` says which).
   */
  exitCode: number | null;
  /**
   * The signal that ended the task's shell (`"SIGSEGV"`, …) when nobody in
   * bgtask sent it; else null (a kill's or a timeout's signal is named in
   * `error`).
   */
  signal: string | null;
  /** Why the task failed or was killed, in words; null when it completed or has not ended. */
  error: string | null;
  /** How it ended, as a keyword (see {@linkcode TaskEndReason}); null until it ends. */
  reason: TaskEndReason | null;
  /**
   * True when the task's shell exited leaving processes running in its
   * group (a server started with `&`, say), which bgtask then ended
   * (SIGTERM, then SIGKILL after the grace): a task lasts as long as its
   * command. False otherwise, and until it ends.
   */
  leftoversEnded: boolean;
  /** The pid of the task's shell, which leads the task's process group; null until it starts. */
  pid: number | null;
  /**
   * The absolute path of the output file (stdout and stderr interleaved).
   * It is made when the task starts: a queued task, or one that never ran
   * (killed while queued, a failed dependency), has none there yet
   * (`readOutput` reads it as empty).
   */
  outputFile: string;
  /** The output's size in bytes so far. */
  outputBytes: number;
  /** When the task was created (ISO 8601). */
  createdAt: string;
  /** When its command started (ISO 8601); null while queued, or if it never ran. */
  startedAt: string | null;
  /** When its final record was written (ISO 8601); null until it ends. */
  finishedAt: string | null;
  /** The timeout it was started with, in milliseconds; null for none. */
  timeoutMs: number | null;
  /** The output cap it was started with, in bytes; 0 for none. */
  maxOutputBytes: number;
  /** The queue it runs in; null for none. */
  queue: string | null;
  /** The tasks it runs after (empty for none). */
  after: string[];
  /** See {@linkcode AfterPolicy}. */
  afterPolicy: AfterPolicy;
  /** The task this one restarted ({@linkcode TaskManager.restart}); null otherwise. */
  restartOf: string | null;
  /** What its stdin is. */
  stdin: StdinMode;
  /**
   * True while a process of the task is blocked reading the task's input
   * (a prompt waits for an answer: on a terminal, its foreground program
   * reads the terminal); false otherwise, and always for stdin `/dev/null`
   * and for a task that is not running; null where it cannot be known
   * (without `/proc`; when a process of the task may not be looked at, such
   * as a setuid `sudo`, `su` or `passwd` run by a user who is not root; or
   * in a snapshot taken without a look at the task's processes, such as the
   * one `spawnShell` returns).
   */
  waitingForInput: boolean | null;
  /**
   * True once the task's stdin pipe was closed
   * ({@linkcode TaskManager.closeStdin}): nothing more can be written to it.
   * False otherwise: for stdin `/dev/null`, and for a terminal, which is
   * never closed (`closeStdin` types Ctrl-D there, and the program decides
   * what it means: readline after a partial line only beeps).
   */
  stdinClosed: boolean;
}

/**
 * Options for {@linkcode TaskManager}.
 *
 * @example
 * ```ts
 * import { TaskManager } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const tasks = new TaskManager({ dir, killOnDispose: true });
 * equal(tasks.dir, dir);
 * await tasks.close();
 * ```
 */
export interface TaskManagerOptions {
  /**
   * The store folder: a path (a relative one from the working directory) or
   * a `file:` URL (`new URL("./store/", import.meta.url)`). Not `~/…`, which
   * only a shell expands: a `TypeError` asks for the full path.
   *
   * @default {`$BGTASK_DIR`, else `<user cache dir>/bgtask`}
   */
  dir?: string | URL | undefined;
  /**
   * Kill the tasks this manager started when it is closed or disposed
   * (`await using`), and when its process ends without that: a
   * `Deno.exit()`, a signal it does not handle (a Ctrl-C of `deno test`,
   * which runs no disposal), a crash, a SIGKILL. Each task then records
   * its spawner (its pid and start time, which a bash run at the manager's
   * first spawn reads from `/proc`), and its watchdog ends it within a
   * second of that process's end, as `killed` ("the process that spawned
   * it with killOnDispose … ended without closing its TaskManager"); a task
   * still waiting for its turn (a queue, dependencies) never runs. A close
   * waits for the spawns under way and ends their tasks too, and refuses
   * spawns after it; it ends its own tasks only (known by their token: a
   * store deleted and made again gives the same ids to other tasks). The
   * process is what counts, not the isolate: a Worker's `Deno.exit()` or
   * `terminate()`, or a `deno run --watch` restart, ends no task until the
   * process itself ends, unless the manager is closed first.
   *
   * @default {false}
   */
  killOnDispose?: boolean | undefined;
}

/**
 * Options for {@linkcode TaskManager.spawnShell}.
 *
 * @example
 * ```ts
 * import type { SpawnOptions } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: SpawnOptions = { description: "unit tests", timeoutMs: 60_000 };
 * equal(opts.timeoutMs, 60_000);
 * ```
 */
export interface SpawnOptions {
  /** A human description, shown by `list`. */
  description?: string | undefined;
  /**
   * The working directory (must exist). A task that starts now is refused
   * when it is missing; one that starts later (`queue`, `after`) is refused
   * at once only where this process may read it (`--allow-read`), and
   * otherwise ends `failed`, reason `start`, when its turn comes and the
   * directory is not there.
   *
   * @default {Deno.cwd()}
   */
  cwd?: string | undefined;
  /**
   * Extra environment variables for the task (names must be shell
   * identifiers, and not ones bash keeps read-only: `SHELLOPTS`,
   * `BASHOPTS`, `UID`, `EUID`, `PPID`, `BASH_VERSINFO`; bash's own
   * dynamic variables, such as `GROUPS`, `BASHPID` or `FUNCNAME`, are not
   * passed on either). `BGTASK_TASK_ID` and `BGTASK_INVOCATION` are
   * bgtask's own: the task gets its own id and token in them whatever `env`
   * says, so that a copied environment (`Deno.env.toObject()` in a task)
   * can be passed as it is (the CLI's `run --env` refuses them: there,
   * naming one is a mistake).
   *
   * The values are kept in the task's record (`tasks/<id>/spec`, mode 0600)
   * for as long as the task is, ended or not, until {@linkcode TaskManager.remove}
   * or {@linkcode TaskManager.clean} removes it; {@linkcode TaskManager.restart}
   * copies them. Pass a secret another way: a file only you can read, that
   * the command reads.
   */
  env?: Record<string, string> | undefined;
  /**
   * End the task's whole process group after this many milliseconds of
   * running (counted from its real start; paused time does not count).
   * 0 or absent: never.
   */
  timeoutMs?: number | undefined;
  /**
   * End the task once its output passes this many bytes; 0 means no cap.
   *
   * @default {1073741824} (1 GiB)
   */
  maxOutputBytes?: number | undefined;
  /**
   * How long a timeout, the output cap, a {@linkcode TaskManager.kill}
   * without a grace of its own and `close()` (with `killOnDispose`) wait
   * after SIGTERM before SIGKILL, in milliseconds: the time the task needs
   * to shut down cleanly.
   *
   * @default {2000}
   */
  graceMs?: number | undefined;
  /**
   * Run in this queue: the task is `queued` until one of the queue's slots
   * is free (see {@linkcode TaskManager.setQueue}; a queue never set runs one
   * task at a time). Names: letters, digits, `_`, `.` and `-`, starting with a letter or digit, up to 64.
   * `spawnShell` returns once the task is in line, without waiting for it
   * to start: with a free slot, it still reads `queued` for the few
   * milliseconds its supervisor takes to start it (as with `after`), and a
   * task that cannot start then (its directory removed meanwhile, …) ends
   * `failed`, reason `"start"`, instead of making `spawnShell` throw.
   *
   * A task that waits (a queue, `after`) is started by another process (the
   * supervisor of a task that ends), yet runs with this process's
   * environment and umask, recorded with the task at the spawn.
   */
  queue?: string | undefined;
  /**
   * Start only after these tasks have ended (they must exist). With a queue,
   * the task joins it once they have; until then it holds no slot. It runs
   * with this process's environment and umask, recorded at the spawn (see
   * `queue`).
   */
  after?: readonly string[] | undefined;
  /**
   * What the tasks in `after` must have done (see {@linkcode AfterPolicy}).
   * Only with `after` (an empty array will do): without it, a `TypeError`.
   *
   * @default {"success"}
   */
  afterPolicy?: AfterPolicy | undefined;
  /**
   * The task's stdin (see {@linkcode StdinMode}): `"pipe"` or `"pty"` make
   * an interactive task, that {@linkcode TaskManager.writeStdin} feeds.
   * A terminal needs util-linux `script` (2.35 or later) or `python3`.
   *
   * @default {"null"}
   */
  stdin?: StdinMode | undefined;
  /**
   * The terminal's width, for stdin `"pty"` (1 to 65535).
   *
   * @default {80}
   */
  columns?: number | undefined;
  /**
   * The terminal's height, for stdin `"pty"` (1 to 65535).
   *
   * @default {24}
   */
  rows?: number | undefined;
}

/**
 * A queue, as {@linkcode TaskManager.getQueues} reports it.
 *
 * @example
 * ```ts
 * import type { QueueInfo } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const q: QueueInfo = { name: "ci", parallel: 4, paused: false, running: 2, queued: 10 };
 * equal(q.running + q.queued, 12);
 * ```
 */
export interface QueueInfo {
  /** Its name. */
  name: string;
  /** How many of its tasks may run at once. */
  parallel: number;
  /** True while no new task of it starts ({@linkcode TaskManager.pauseQueue}). */
  paused: boolean;
  /** Its tasks that run (or are paused) now. */
  running: number;
  /** Its tasks that wait: for a slot, or for the tasks they run after. */
  queued: number;
}

/**
 * A queue's waiting line, as {@linkcode TaskManager.getQueueLine} reports it.
 *
 * @example
 * ```ts
 * import type { QueueLine } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const line: QueueLine = { name: "ci", paused: false, waiting: ["b7", "b9"] };
 * equal(line.waiting.indexOf("b9") + 1, 2); // b9 is 2nd in line
 * ```
 */
export interface QueueLine {
  /** The queue's name. */
  name: string;
  /** True while no new task of it starts ({@linkcode TaskManager.pauseQueue}). */
  paused: boolean;
  /**
   * The ids of its tasks that wait for a slot, in the order they will start
   * (the first starts next). A task that waits for the tasks it runs after
   * is not in it until they have ended.
   */
  waiting: string[];
}

/**
 * Options for {@linkcode TaskManager.setQueue}.
 *
 * @example
 * ```ts
 * import type { QueueOptions } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: QueueOptions = { parallel: 4 };
 * equal(opts.parallel, 4);
 * ```
 */
export interface QueueOptions {
  /** How many of its tasks may run at once (a whole number ≥ 1). */
  parallel: number;
}

/**
 * The first signal a kill sends the task's process group (see
 * {@linkcode KillOptions.signal}): SIGKILL follows after the grace.
 *
 * @example
 * ```ts
 * import type { KillSignal } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const polite: KillSignal = "SIGINT"; // as a Ctrl-C at a terminal would
 * equal(polite, "SIGINT");
 * ```
 */
export type KillSignal =
  | "SIGTERM"
  | "SIGINT"
  | "SIGHUP"
  | "SIGQUIT"
  | "SIGUSR1"
  | "SIGUSR2"
  | "SIGKILL";

/**
 * Options for {@linkcode TaskManager.kill}.
 *
 * @example
 * ```ts
 * import type { KillOptions } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: KillOptions = { graceMs: 500, signal: "SIGINT" };
 * equal(opts.graceMs, 500);
 * ```
 */
export interface KillOptions {
  /**
   * Milliseconds between the first signal and SIGKILL.
   *
   * @default The task's own, given at its spawn ({@linkcode SpawnOptions.graceMs}: 2000 unless set)
   */
  graceMs?: number | undefined;
  /**
   * The first signal, sent to the whole group (its strays too): a program
   * that shuts down cleanly on SIGINT (a dev server's Ctrl-C) is given that.
   * Whatever is left after `graceMs` gets SIGKILL, as after SIGTERM; with
   * `"SIGKILL"` there is no grace. (The background jobs of a shell script,
   * `server &`, start with SIGINT and SIGQUIT ignored, as bash makes them:
   * those end at the SIGKILL.) Not an AbortSignal: a kill has no deadline
   * to give, it ends within the grace and 5 s more.
   *
   * @default "SIGTERM"
   */
  signal?: KillSignal | undefined;
}

/**
 * Options for {@linkcode TaskManager.wait}.
 *
 * @example
 * ```ts
 * import type { WaitOptions } from "@bgtask/bgtask";
 * import { ok } from "node:assert/strict";
 * const opts: WaitOptions = { signal: AbortSignal.timeout(1000) };
 * ok(opts.signal);
 * ```
 */
export interface WaitOptions {
  /**
   * Stops waiting: the promise rejects with the signal's reason. A task that
   * has ended already is returned, even with a signal aborted before the
   * call: there is nothing to wait for.
   */
  signal?: AbortSignal | undefined;
  /**
   * What to wait for: `"exit"`, the task's end; or `"input"`, the task
   * waiting for input (`waitingForInput` true: a process of it is blocked
   * reading its stdin) or its end, whichever comes first. A task whose stdin
   * is `/dev/null` never waits for input: `"input"` then waits for its end.
   *
   * @default {"exit"}
   */
  until?: "exit" | "input" | undefined;
}

/**
 * Options for {@linkcode TaskManager.waitForLine}.
 *
 * @example
 * ```ts
 * import type { WaitForLineOptions } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: WaitForLineOptions = { signal: AbortSignal.timeout(30_000) };
 * equal(opts.offset, undefined);
 * ```
 */
export interface WaitForLineOptions {
  /**
   * Stops waiting: the promise rejects with the signal's reason. One aborted
   * before the call rejects at once, even when the line is in the output
   * already (unlike `wait`, which returns a task that has ended: a search
   * is work the signal asked not to do).
   */
  signal?: AbortSignal | undefined;
  /**
   * Where to start searching, in bytes: the `offset` of an earlier match, to
   * wait for the next one, or where an earlier read ended. From inside a
   * line, the rest of that line is searched as a line of its own (what came
   * before the offset was seen already; `^` matches at the offset).
   *
   * @default {0}
   */
  offset?: number | undefined;
}

/**
 * A line of a task's output that matched, as {@linkcode TaskManager.waitForLine} gives it.
 *
 * @example
 * ```ts
 * import type { LineMatch } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const m: LineMatch = { line: "listening on 8000", offset: 18, match: null };
 * equal(m.line.length + 1, m.offset); // the first line, and its newline
 * ```
 */
export interface LineMatch {
  /**
   * The line, without its newline, as it was matched: as a terminal shows it
   * (a line redrawn with `\r`, its last drawing; terminal escapes left out;
   * other control bytes, and bytes that are no UTF-8, written `\xNN`); for a
   * line judged in part (`inPart`), the part that matched.
   */
  line: string;
  /** The byte offset just past the line: where to search on from, or read on with readOutputChunk. */
  offset: number;
  /** The pattern's match in the line, with its groups (`/listening on (\d+)/`: `match[1]`, the port). */
  match: RegExpExecArray | null;
  /**
   * Set when the line was longer than 1 MiB even after its last `\r`
   * redraw, and so was matched on its first and last 512 KiB only: where it
   * starts, its size in bytes, and which part matched.
   */
  inPart?: { start: number; bytes: number; part: "first" | "last" };
}

/**
 * Options for {@linkcode TaskManager.writeStdin}.
 *
 * @example
 * ```ts
 * import type { WriteStdinOptions } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: WriteStdinOptions = { timeoutMs: 1000 };
 * equal(opts.timeoutMs, 1000);
 * ```
 */
export interface WriteStdinOptions {
  /**
   * How long the task may leave its input unread while its stdin's buffer
   * (64 KiB) is full — a task that never reads cannot hold the call longer —
   * and, before that, how long to wait for another write to the same stdin
   * to finish (so at most twice this in all). Then a
   * {@linkcode StdinTimeoutError} says how much was written. 0: write only
   * what fits at once (nothing while another write is in progress).
   *
   * @default {10000}
   */
  timeoutMs?: number | undefined;
  /** Stops the write: the promise rejects with the signal's reason (part may be written). */
  signal?: AbortSignal | undefined;
}

/**
 * Options for {@linkcode TaskManager.resizeTerminal}.
 *
 * @example
 * ```ts
 * import type { TerminalSize } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const size: TerminalSize = { columns: 120, rows: 40 };
 * equal(size.columns * size.rows, 4800);
 * ```
 */
export interface TerminalSize {
  /** The width (1 to 65535). */
  columns: number;
  /** The height (1 to 65535). */
  rows: number;
}

/**
 * Options for {@linkcode TaskManager.completions} and
 * {@linkcode TaskManager.drainCompletions}.
 *
 * @example
 * ```ts
 * import type { CompletionsOptions } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: CompletionsOptions = { consumer: "my-agent", signal: new AbortController().signal };
 * equal(opts.consumer, "my-agent");
 * ```
 */
export interface CompletionsOptions {
  /**
   * Who is being told. Each consumer gets every finished task once, whoever
   * else reads completions: a person running `bgtask completions` never takes
   * an agent's notices. A consumer that was never used before starts with the
   * tasks that finish from then on; `"default"` starts with every finished task.
   * Names: letters, digits, `_`, `.` and `-`, starting with a letter or digit, up to 64.
   *
   * @default {"default"}
   */
  consumer?: string | undefined;
  /**
   * The consumer is this process's alone, for as long as it runs: once the
   * process has ended, {@linkcode TaskManager.clean} forgets it, and what it
   * had not read no longer keeps finished tasks (a session that a new one
   * replaces, as each `bgtask mcp` session's). The last process to use it
   * with `ephemeral` owns it; a use without leaves it as it is (the
   * session's own drains need not repeat it). Only a
   * `clean` in the same pid namespace forgets it (a container's or a
   * sandbox's processes cannot be told dead from outside), and one whose
   * process bgtask cannot identify (no `--allow-run=bash`) is kept. Not for
   * the default consumer, which is everyone's.
   *
   * @default {false}
   */
  ephemeral?: boolean | undefined;
  /**
   * `completions()`: ends the iteration (it returns; it does not throw).
   * `drainCompletions()`: an aborted signal refuses the call before anything
   * is claimed (it throws the signal's reason), and ends a `wait` likewise.
   */
  signal?: AbortSignal | undefined;
}

/**
 * Options for {@linkcode TaskManager.drainCompletions}.
 *
 * @example
 * ```ts
 * import type { DrainOptions } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: DrainOptions = { consumer: "ci", handle: (tasks) => console.log(tasks.length) };
 * equal(opts.consumer, "ci");
 * ```
 */
export interface DrainOptions extends CompletionsOptions {
  /**
   * Handles the tasks before they count as delivered: they are claimed for
   * this consumer, given to `handle`, and marked delivered once it resolves.
   * It is called once a drain, with `[]` when there is none (a reader that
   * prints "nothing finished" says so then).
   * If it throws (the output it writes to has gone), they are given back, to
   * be delivered by the next drain, and the error is thrown. If the process
   * dies inside it, they are delivered again once it is found dead (at least
   * once across a crash, as with {@linkcode TaskManager.completions}).
   *
   * When it passed on only some (its output went part-way through), it
   * resolves with `{ passedOn: ids }`, the ids of those it passed on: they
   * are delivered, the others given back, and the drain returns those
   * passed on. Any other value it resolves with means all were. (A
   * `passedOn` that is no array of the given tasks' ids is a TypeError, and
   * all are given back.)
   *
   * @example Passing on some
   * ```ts
   * import { TaskManager } from "@bgtask/bgtask";
   * import { deepEqual } from "node:assert/strict";
   * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
   * await tasks.wait((await tasks.spawnShell("true")).id);
   * await tasks.wait((await tasks.spawnShell("true")).id);
   * // Only the first reached the reader:
   * const got = await tasks.drainCompletions({ handle: (t) => ({ passedOn: [t[0].id] }) });
   * deepEqual(got.map((t) => t.id), ["b1"]);
   * deepEqual((await tasks.drainCompletions()).map((t) => t.id), ["b2"]); // given back
   * ```
   */
  handle?: ((tasks: TaskInfo[]) => unknown) | undefined;
  /**
   * When nothing is waiting to be delivered, wait for a task to finish (any
   * process's) instead of returning an empty list: the promise resolves the
   * moment one is delivered, with every task there is to deliver then. It
   * waits until `signal` aborts, then rejects with the signal's reason
   * (`AbortSignal.timeout(ms)` for a deadline); nothing is claimed by a wait
   * that ends so. A consumer never used before starts with the tasks that
   * finish from this call on.
   *
   * @default {false}
   */
  wait?: boolean | undefined;
}

/**
 * Options for {@linkcode TaskManager.follow} and {@linkcode TaskManager.followBytes}.
 *
 * @example
 * ```ts
 * import type { FollowOptions } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: FollowOptions = { offset: 0 };
 * equal(opts.offset, 0);
 * ```
 */
export interface FollowOptions {
  /**
   * The byte offset to start from.
   *
   * @default {0}
   */
  offset?: number | undefined;
  /**
   * The most bytes one read takes: at most 64 MiB, and at least 4 for
   * {@linkcode TaskManager.follow} (room for any one character). A piece of
   * `followBytes` is one read; one of `follow` may hold up to 3 bytes more,
   * as UTF-8: a character cut at the end of a read is finished in the next
   * piece. Smaller pieces keep a copying loop's memory low.
   *
   * @default {1048576} (1 MiB)
   */
  maxBytes?: number | undefined;
  /** Ends the iteration early (it returns; it does not throw). */
  signal?: AbortSignal | undefined;
  /**
   * Called when the output is found smaller than the offset the iteration
   * has reached: the file was truncated, as a process of the task does
   * when it reopens its output with `>` (`echo warning > /dev/stderr`). The
   * iteration then goes on from byte 0 of the new content, as `tail -f`
   * does; this is called first, with the offset that had been reached, so
   * that a copier can tell the bytes that follow start over. (Only a size
   * below that offset tells: a task that writes more than it had before
   * the next look goes unnoticed, as with `tail -f`.)
   */
  onTruncated?: ((offset: number) => void) | undefined;
}

/**
 * Options for {@linkcode TaskManager.readOutputChunk} and {@linkcode TaskManager.readOutputBytes}.
 *
 * @example
 * ```ts
 * import type { ReadOptions } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: ReadOptions = { offset: 1024, maxBytes: 4096 };
 * equal(opts.maxBytes, 4096);
 * ```
 */
export interface ReadOptions {
  /**
   * The byte offset to read from.
   *
   * @default {0}
   */
  offset?: number | undefined;
  /**
   * The most bytes to read: at most 64 MiB, and at least 4 for
   * {@linkcode TaskManager.readOutputChunk} (room for any one character).
   *
   * @default {1048576} (1 MiB)
   */
  maxBytes?: number | undefined;
}

/**
 * Options for {@linkcode TaskManager.readOutput} and {@linkcode TaskManager.tailOutput}.
 *
 * @example
 * ```ts
 * import type { BoundOptions } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: BoundOptions = { maxBytes: 64 * 1024 * 1024 };
 * equal(opts.maxBytes, 67108864);
 * ```
 */
export interface BoundOptions {
  /**
   * The most bytes the text may take; more is an {@linkcode OutputTooLargeError}
   * (at most 64 MiB).
   *
   * @default {16777216} (16 MiB)
   */
  maxBytes?: number | undefined;
}

/**
 * A piece of a task's output, from {@linkcode TaskManager.readOutputChunk}.
 *
 * @example Polling loop
 * ```ts
 * import type { OutputChunk } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * function show(c: OutputChunk): number {
 *   return c.nextOffset; // pass back as `offset` next time
 * }
 * equal(show({ text: "hi\n", offset: 0, nextOffset: 3, done: false }), 3);
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
 * import { type ListOptions, TASK_STATUSES } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: ListOptions = { status: "running" };
 * equal(opts.status, "running");
 * // Read-only arrays will do (a constant's, `as const`):
 * const every: ListOptions = { status: TASK_STATUSES, ids: ["b1", "b2"] as const };
 * equal(every.status?.length, 6);
 * ```
 */
export interface ListOptions {
  /** Only tasks with this status (or one of these). */
  status?: TaskStatus | readonly TaskStatus[] | undefined;
  /** Only the tasks of this queue. */
  queue?: string | undefined;
  /**
   * Only these tasks: only their records are read, not the whole store's
   * (the snapshots of many known tasks at once, with one look at the
   * processes of those that run). An id that names no task (or a removed
   * one) is left out, a malformed one refused (`TypeError`); the order is the
   * list's, oldest first.
   */
  ids?: readonly string[] | undefined;
  /**
   * Only the newest this many of the tasks that match (by id), still oldest
   * first: the records of older tasks are not read (a store of 10,000 tasks
   * takes seconds to list whole). A whole number of at least 1.
   */
  last?: number | undefined;
  /**
   * Called for each task folder whose records cannot be read. The task is left
   * out of the result, and the rest still list.
   */
  onDamaged?: ((id: string, error: Error) => void) | undefined;
}

/**
 * Options for {@linkcode TaskManager.remove}.
 *
 * @example
 * ```ts
 * import type { RemoveOptions } from "@bgtask/bgtask";
 * import { ok } from "node:assert/strict";
 * const opts: RemoveOptions = { onUnread: (t, who) => console.error(`${t.id}: ${who}`) };
 * ok(opts.onUnread);
 * ```
 */
export interface RemoveOptions {
  /**
   * Called, once the task is removed, with the completion consumers that had
   * not been told of its end: they never will be (a removed task is not
   * delivered). {@linkcode TaskManager.clean} keeps such a task; `remove`
   * takes it all the same, and says so here. Not called when every
   * consumer has read it (nor for one that has not read completions for a
   * day, as `clean` does not wait for it).
   */
  onUnread?: ((task: TaskInfo, consumers: string[]) => void) | undefined;
}

/**
 * Options for {@linkcode TaskManager.clean}.
 *
 * @example
 * ```ts
 * import type { CleanOptions } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * const opts: CleanOptions = { olderThanMs: 24 * 3600_000, status: ["completed"] };
 * equal(opts.olderThanMs, 86_400_000);
 * ```
 */
export interface CleanOptions {
  /** Only tasks that finished at least this long ago. */
  olderThanMs?: number | undefined;
  /**
   * Only tasks with this final status (or one of these): `completed`,
   * `failed` or `killed`. Another status (`running`, `queued`, `paused`) is
   * refused with a `TypeError`: clean never removes a task that has not ended.
   */
  status?: TaskStatus | readonly TaskStatus[] | undefined;
  /** Only the tasks of this queue (as `pueue clean -g`). */
  queue?: string | undefined;
  /**
   * Keep this many of the tasks that match, those that finished last (as
   * task-spooler's `TS_MAXFINISHED`): `{ keep: 100 }` leaves the newest 100
   * finished tasks and removes the rest.
   *
   * @default {0}
   */
  keep?: number | undefined;
  /**
   * Called for each task folder whose records cannot be read: such a task is
   * left in place (whether it ended cannot be known), and the rest are cleaned.
   */
  onDamaged?: ((id: string, error: Error) => void) | undefined;
  /**
   * Also remove finished tasks that a completion consumer has not been told
   * about yet. Without it, such a task is kept (an agent reading its
   * notices does not lose one to a person tidying up), until the consumer
   * has read it, or has not read completions for a day.
   *
   * @default {false}
   */
  unread?: boolean | undefined;
  /** Called for each task kept because these consumers have not been told about it yet. */
  onUnread?: ((task: TaskInfo, consumers: string[]) => void) | undefined;
  /**
   * Called for each named completion consumer that `clean` forgot: having
   * read no completions for 30 days (`why` `"unused"`: a session that ended
   * without saying so, its folder stayed for good), or an ephemeral one
   * whose process has ended (`"ended"`: see
   * {@linkcode CompletionsOptions.ephemeral}), forgotten before what it had
   * not read could keep any task. One that comes back later is new: it is
   * told of the tasks that finish from then on. `default` is never forgotten.
   */
  onForgotten?: ((consumer: string, why: "unused" | "ended") => void) | undefined;
  /**
   * Stops the clean early: once it aborts, no further task is removed (one
   * being removed is removed whole), and the call resolves with the tasks
   * removed until then.
   */
  signal?: AbortSignal | undefined;
}
