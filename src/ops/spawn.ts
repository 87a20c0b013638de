/**
 * Spawning: validate what the caller asked for, claim an id, write the spawn
 * record, and launch the supervisor.
 *
 * @module
 */

import { resolve } from "../path.ts";
import { isValidId, showId } from "../ids.ts";
import { requireRunBash } from "../permissions.ts";
import type { Inherited, SpawnRecord, StartedRecord } from "../store/records.ts";
import { spawnerEnvironment } from "./environ.ts";
import {
  launch,
  launchDetached,
  type LaunchResult,
  resolveTask,
  scheduleQueues,
} from "../supervisor/run.ts";
import type { AfterPolicy, SpawnOptions, StdinMode, TaskInfo } from "../types.ts";
import { type Ctx, infoOf, nonNegativeInt, REFUSED, REMOVED, showValue } from "./context.ts";
import { isImmediate } from "../lifecycle.ts";
import { queueName } from "./queue.ts";
import { checkOptionNames, OPTION_NAMES } from "../options.ts";
import { requireWellFormed } from "../well_formed.ts";

/** Commands longer than this (in UTF-8 bytes) go to a file instead of an argument. */
const ARG_LIMIT = 100 * 1024;
/** Linux's limit on one argument or environment string (MAX_ARG_STRLEN). */
const KERNEL_ARG_LIMIT = 128 * 1024;
/**
 * Linux's usual limit on a new program's arguments and environment together
 * (ARG_MAX: a quarter of the default 8 MiB stack), with a pointer for each.
 */
const KERNEL_TOTAL_LIMIT = 2 * 1024 * 1024;
/** The default output cap: 1 GiB. */
export const DEFAULT_MAX_OUTPUT = 1024 ** 3;
/** The default grace between SIGTERM and SIGKILL. */
export const DEFAULT_GRACE_MS = 2000;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * A TypeError about the task's working directory (missing, not a
 * directory, not to be entered, a path too long), so that a restart can say
 * it of the task restarted and an agent's server of its argument, rather
 * than of a spawn. `problem` says what, without the prefix; `fix`, when its
 * words do not, what to give instead.
 */
export class CwdError extends TypeError {
  /** What is wrong with the directory (`directory "/x" does not exist`). */
  readonly problem: string;
  /** What to give instead (`give a directory, not a file`); "" when `problem` says it. */
  readonly fix: string;
  /**
   * @param problem What is wrong with the directory.
   * @param fix What to give instead, when `problem` does not say it.
   */
  constructor(problem: string, fix = "") {
    super(`${WHAT}: ${problem}`);
    this.problem = problem;
    this.fix = fix;
  }
}

/** The fixes of {@linkcode CwdError}s, by what is wrong. */
const CWD_FIX = {
  missing: "give the full path of a directory that exists",
  notDir: "give a directory, not a file",
  denied: "give a directory this user may enter",
} as const;

/** Variables bash keeps read-only: it cannot give them to a task. */
const BASH_READ_ONLY = new Set(["SHELLOPTS", "BASHOPTS", "BASH_VERSINFO", "EUID", "PPID", "UID"]);
const encoder = new TextEncoder();
const WHAT = "Cannot spawn task";

function noNul(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new TypeError(`${WHAT}: ${name} must be a string`);
  if (v.includes("\0")) {
    throw new TypeError(`${WHAT}: ${name} contains a NUL byte, which bash cannot take`);
  }
  requireWellFormed(v, name, WHAT);
  return v;
}

function checkEnv(env: unknown): Record<string, string> {
  if (env === undefined) return {};
  if (typeof env !== "object" || env === null || Array.isArray(env)) {
    throw new TypeError(`${WHAT}: env must be an object of strings`);
  }
  // A Map (or Headers, URLSearchParams: any iterable of pairs) keeps its
  // entries where Object.entries cannot see them: taken as it is, it would
  // be dropped without a word. (An object of a class with fields is read.)
  const proto = Object.getPrototypeOf(env);
  const iterable = typeof (env as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";
  if (proto !== Object.prototype && proto !== null && iterable) {
    const kind = env instanceof Map ? "a Map" : "an iterable";
    throw new TypeError(
      `${WHAT}: env must be a plain object of strings (got ${kind}: use Object.fromEntries(…))`,
    );
  }
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_NAME.test(k)) {
      throw new TypeError(
        `${WHAT}: environment name ${JSON.stringify(k)} is not valid (letters, digits and _, ` +
          `not starting with a digit)`,
      );
    }
    if (BASH_READ_ONLY.has(k)) {
      throw new TypeError(
        `${WHAT}: env names ${k}, which bash keeps read-only, so no task can get it from env` +
          (k.endsWith("OPTS")
            ? `; set the options in the command instead (e.g. "set -o pipefail; …" or "shopt -s nullglob; …")`
            : ""),
      );
    }
    if (typeof v !== "string") {
      throw new TypeError(
        `${WHAT}: environment value of ${k} must be a string, got ${showValue(v)}` +
          (v === undefined || v === null ? ` (to leave ${k} out, omit it from env)` : ""),
      );
    }
    if (v.includes("\0")) {
      throw new TypeError(
        `${WHAT}: environment value of ${k} holds a NUL byte, which no environment can`,
      );
    }
    requireWellFormed(v, `environment value of ${k}`, WHAT);
    if (encoder.encode(v).length + k.length + 2 > KERNEL_ARG_LIMIT) {
      throw new TypeError(
        `${WHAT}: environment value of ${k} exceeds the kernel's 128 KiB limit for one variable`,
      );
    }
  }
  return { ...env as Record<string, string> };
}

/**
 * Refuses a command and environment that no program could be started with:
 * the kernel's limit on both together (ARG_MAX). What the spawner's own
 * environment adds is not counted (Deno may not read it): a task just under
 * the limit fails at its start instead, saying why in its output.
 */
function checkTotalSize(commandBytes: number, env: Record<string, string>): void {
  let total = commandBytes > ARG_LIMIT ? 0 : commandBytes + 9;
  for (const [k, v] of Object.entries(env)) total += k.length + encoder.encode(v).length + 10;
  if (total > KERNEL_TOTAL_LIMIT) {
    throw new TypeError(
      `${WHAT}: env and the command take ${total} bytes together, over the kernel's limit ` +
        `for starting a program (ARG_MAX, usually 2 MiB): pass big values in a file instead ` +
        `(a command over 100 KiB is run from a file by itself)`,
    );
  }
}

function checkAfter(after: unknown): string[] {
  if (after === undefined) return [];
  if (!Array.isArray(after)) throw new TypeError(`${WHAT}: after must be an array of task ids`);
  for (const id of after) {
    if (!isValidId(id)) {
      throw new TypeError(`${WHAT}: after holds ${showId(id)}, which is not a task id (b1, b2, …)`);
    }
  }
  return [...new Set(after as string[])];
}

/**
 * The policy, when `after` is given. Without `after`, a policy says nothing
 * (the CLI refuses `--after-any` without `--after` too): a forgotten `after`
 * would start the task at once. An empty `after` is an answer, a computed
 * list that came out empty: the policy stands, with nothing to apply to.
 */
function checkPolicy(policy: unknown, after: unknown): AfterPolicy {
  if (policy !== undefined && after === undefined) {
    throw new TypeError(
      `${WHAT}: afterPolicy applies to the tasks in after, and after is not given: ` +
        `give after (the tasks to run after), or leave afterPolicy out`,
    );
  }
  if (policy === undefined || policy === "success" || policy === "any") return policy ?? "success";
  throw new TypeError(
    `${WHAT}: afterPolicy must be "success" or "any", got ${JSON.stringify(policy)}`,
  );
}

function checkStdin(stdin: unknown): StdinMode {
  if (stdin === undefined || stdin === "null" || stdin === "pipe" || stdin === "pty") {
    return stdin ?? "null";
  }
  throw new TypeError(
    `${WHAT}: stdin must be "null", "pipe" or "pty", got ${JSON.stringify(stdin)}` +
      (stdin === null ? ' (the string "null": /dev/null, as when stdin is left out)' : ""),
  );
}

/** A terminal's columns or rows: 1 to 65535 (what the kernel's winsize holds). */
function checkSize(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > 65535) {
    throw new TypeError(
      `${WHAT}: ${name} must be a whole number from 1 to 65535, got ${showValue(v)}`,
    );
  }
  return v;
}

/** A fresh random token for a task's processes to carry. */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** This process's working directory, or an error that says what to do instead. */
function spawnerDir(): string {
  try {
    return Deno.cwd();
  } catch (e) {
    // A path whose bytes are not UTF-8 (InvalidData) cannot pass through Deno.
    const why = e instanceof Deno.errors.InvalidData
      ? `this process's working directory has a path that is not valid UTF-8, which Deno ` +
        `cannot pass on (${(e as Error).message}): give the task a directory whose path is, ` +
        `e.g. a symlink to it`
      : e instanceof Deno.errors.NotFound
      ? "this process's working directory no longer exists, so the task has none to start in: " +
        "give it one"
      : `this process's working directory cannot be read (${(e as Error).message}): give the ` +
        `task one`;
    throw new TypeError(`${WHAT}: ${why} (cwd; --cwd DIR on the command line)`, { cause: e });
  }
}

/**
 * What to add to "directory … does not exist": a `~` in it is one no shell
 * expanded; a path with U+FFFD in it may be one whose bytes
 * were not UTF-8, which reach Deno replaced.
 */
function missingDirHint(cwd: string): string {
  // (Resolved by now: "~/repo" given in /src is "/src/~/repo".)
  if (/(^|\/)~(\/|$)/.test(cwd)) {
    return ` (a "~" in it is taken as a folder's name: a shell expands it only unquoted at a ` +
      `word's start, not in --cwd=~/x, and Deno never: give the full path)`;
  }
  return cwd.includes("\uFFFD")
    ? " (its path has U+FFFD: a name that is not valid UTF-8 reaches Deno replaced by it; " +
      "give a symlink to the directory whose path is valid UTF-8)"
    : "";
}

/** The spawn record for `command`, or a TypeError naming what is wrong. */
export function specFor(id: string, command: string, options: SpawnOptions): SpawnRecord {
  if (typeof command !== "string") throw new TypeError(`${WHAT}: the command must be a string`);
  if (command.trim() === "") throw new TypeError(`${WHAT}: the command is empty`);
  noNul(command, "the command");
  const description = options.description ?? "";
  if (typeof description !== "string") throw new TypeError(`${WHAT}: description must be a string`);
  requireWellFormed(description, "description", WHAT);
  const cwd = noNul(options.cwd, "cwd");
  if (cwd === "") throw new TypeError(`${WHAT}: cwd must be a non-empty path`);
  const stdin = checkStdin(options.stdin);
  if (stdin !== "pty" && (options.columns !== undefined || options.rows !== undefined)) {
    throw new TypeError(
      `${WHAT}: columns and rows are the size of a terminal: they need stdin "pty"`,
    );
  }
  const env = checkEnv(options.env);
  const commandBytes = encoder.encode(command).length;
  checkTotalSize(commandBytes, env);
  return {
    id,
    command,
    description,
    // Resolved here (Deno.cwd() needs no permission): a task started later,
    // by another process, must run where its spawner meant.
    cwd: cwd?.startsWith("/") ? resolve(cwd) : resolve(spawnerDir(), cwd ?? "."),
    createdAt: Date.now(),
    timeoutMs: nonNegativeInt(options.timeoutMs, "timeoutMs", WHAT) ?? 0,
    maxOutputBytes: nonNegativeInt(options.maxOutputBytes, "maxOutputBytes", WHAT) ??
      DEFAULT_MAX_OUTPUT,
    graceMs: nonNegativeInt(options.graceMs, "graceMs", WHAT) ?? DEFAULT_GRACE_MS,
    env,
    stdin,
    columns: checkSize(options.columns, "columns", 80),
    rows: checkSize(options.rows, "rows", 24),
    queue: options.queue === undefined ? null : queueName(options.queue, WHAT),
    after: checkAfter(options.after),
    afterPolicy: checkPolicy(options.afterPolicy, options.after),
    restartOf: null,
    token: newToken(),
    longCommand: commandBytes > ARG_LIMIT,
    inherited: false,
  };
}

/** Starts `command` in the background; see {@linkcode TaskManager.spawnShell}. */
export async function spawnShell(
  ctx: Ctx,
  command: string,
  options: SpawnOptions,
): Promise<TaskInfo> {
  // Everything is checked before an id is claimed: a refused spawn uses none.
  checkOptionNames(options, OPTION_NAMES.spawn, WHAT);
  const draft = specFor("b0", command, options);
  return await spawnSpec(ctx, draft, command);
}

/**
 * A missing working directory, checked before an id is claimed where we may
 * read it (without asking: the minimal permissions do not cover it). A task
 * that starts later is started by a supervisor elsewhere, where the missing
 * directory would only show then (it fails at its start saying why); one
 * that starts now is refused by its launcher, after the id is claimed (the
 * id then stays used: ids are never issued twice). A path longer than the
 * system takes (PATH_MAX) is refused always: no process can enter it by that
 * path, and the launcher would take it for a missing directory.
 */
function checkCwdNow(cwd: string): void {
  const limit = Deno.build.os === "darwin" ? 1023 : 4095; // PATH_MAX, less its NUL
  const bytes = new TextEncoder().encode(cwd).length;
  if (bytes > limit) {
    throw new CwdError(
      `the path of directory ${JSON.stringify([...cwd].slice(0, 60).join("") + "…")} is ${bytes} ` +
        `bytes long, longer than the system's limit of ${limit} bytes for a path: give a ` +
        `shorter path to it (through a symlink to one of the folders on its way, say)`,
    );
  }
  const desc = { name: "read", path: cwd } as const;
  if (Deno.permissions.querySync(desc).state !== "granted") return;
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(cwd);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CwdError(
        `directory ${JSON.stringify(cwd)} does not exist${missingDirHint(cwd)}`,
        CWD_FIX.missing,
      );
    }
    return;
  }
  if (!st.isDirectory) {
    throw new CwdError(`${JSON.stringify(cwd)} is not a directory`, CWD_FIX.notDir);
  }
}

/**
 * Claims an id for `draft` and starts it (now, or when its queue and
 * dependencies allow), as one of this manager's tasks.
 */
export async function spawnSpec(
  ctx: Ctx,
  draft: SpawnRecord,
  command: string,
): Promise<TaskInfo> {
  const { id, started } = await start(ctx, draft, command);
  ctx.mine.add(id, draft.token);
  // (A store that cannot be listed now is no reason to fail a spawn that started.)
  await ctx.mine.prune(() => ctx.store.activeIds()).catch(() => {});
  // Started now: the task as it started, from its spawn record and the
  // `started` record its supervisor reported (read back, its records might
  // already say it ended; a queued task is returned queued in the same way).
  if (started) return await infoOf(ctx, { spec: { ...draft, id }, started });
  const r = await ctx.store.read(id);
  if (r) return await infoOf(ctx, r);
  // Removed already by another process (a `clean` the instant it ended): it
  // ran, and a spawn that threw would be tried again, running it twice. As
  // it was started, then: only its id is news to the caller.
  const info = await infoOf(ctx, { spec: { ...draft, id } });
  return isImmediate(draft) ? { ...info, status: "running" } : info;
}

/**
 * Claims an id for `draft` and starts it; returns the id, and the task's
 * `started` record when it was started now.
 */
async function start(
  ctx: Ctx,
  draft: SpawnRecord,
  command: string,
): Promise<{ id: string; started?: StartedRecord }> {
  requireRunBash(WHAT, ctx.store.location);
  checkCwdNow(draft.cwd);
  for (const dep of draft.after) {
    if (!(await ctx.store.read(dep))) {
      // A removed one too (its tombstone is no task): said so, as its id is no typo.
      const gone = await ctx.store.removedAs(dep);
      throw new TypeError(
        `${WHAT}: after names ${dep}, which ${
          gone === "refused" ? REFUSED : gone ? REMOVED : "is not a task in this store"
        }`,
      );
    }
  }
  // A task that waits is started by another process: it takes this one's
  // environment and umask along, recorded at the spawn (read before an id
  // is claimed; into a queue, only when it does not take a free slot).
  const waits = draft.queue !== null || draft.after.length > 0;
  // A killOnDispose manager's tasks end with its process (a restart's too:
  // bound to the manager that restarts it, not to the first one).
  const spawner = ctx.spawner ? await ctx.spawner() : "";
  draft = { ...draft, inherited: waits, spawner };
  return draft.queue !== null && draft.after.length === 0
    ? { id: await enqueue(ctx, draft, command) }
    : draft.after.length > 0
    ? { id: await deferred(ctx, draft, command, await spawnerEnvironment()) }
    : await immediate(ctx, draft, command);
}

/**
 * Claims an id and writes the records, then runs `then`, removing the task
 * again if it fails; returns the id and what `then` returned.
 */
async function create<T>(
  ctx: Ctx,
  draft: SpawnRecord,
  command: string,
  then: (id: string) => Promise<T>,
  inherited?: Inherited,
): Promise<{ id: string; made: T }> {
  const store = ctx.store;
  const id = await store.claimId();
  // (The limits are those of this spawn's environment: a restart's draft may carry its task's.)
  const { limits: _, ...rest } = draft;
  const spec: SpawnRecord = {
    ...rest,
    id,
    ...(inherited?.limits ? { limits: inherited.limits } : {}),
  };
  let made: T;
  try {
    await store.create(spec, spec.longCommand ? command : undefined, inherited);
    made = await then(id);
  } catch (e) {
    await store.remove(id, true).catch(() => {});
    if (e instanceof Error && /argument list too long|os error 7\b/i.test(e.message)) {
      throw new TypeError(
        `${WHAT}: the command and environment together exceed the kernel's argument size limit`,
        { cause: e },
      );
    }
    throw e;
  }
  return { id, made };
}

/** No queue, no dependencies: the supervisor starts it now. */
async function immediate(
  ctx: Ctx,
  draft: SpawnRecord,
  command: string,
): Promise<{ id: string; started: StartedRecord }> {
  const { id, made } = await create(ctx, draft, command, async (id) => {
    const result = await launch(ctx.store, { ...draft, id });
    if (!result.ok) throw launchError(draft, result);
    return result.started;
  });
  return { id, started: made };
}

/** The error for a task that could not start. */
function launchError(draft: SpawnRecord, result: Exclude<LaunchResult, { ok: true }>): Error {
  // Quoted as JSON: a control character in it is shown, not obeyed (or dropped).
  const where = JSON.stringify(draft.cwd);
  switch (result.reason) {
    case "cwd-missing":
      return new CwdError(
        `directory ${where} does not exist${missingDirHint(draft.cwd)}`,
        CWD_FIX.missing,
      );
    case "cwd-not-dir":
      return new CwdError(`${where} is not a directory`, CWD_FIX.notDir);
    case "cwd-denied":
      return new CwdError(
        `directory ${where} cannot be entered (permission denied)`,
        CWD_FIX.denied,
      );
    case "no-pty":
      return new Error(
        `${WHAT}: stdin "pty" needs util-linux script(1), 2.35 or later, or python3 on PATH, ` +
          `and neither was found`,
      );
    case "stdin":
      return new Error(`${WHAT}: its stdin (a FIFO in the task's folder) could not be created`);
    case "disk-full":
      return new Error(
        `${WHAT}: its start could not be recorded, the store's disk is full (it was ended at ` +
          `once; of bytes or of inodes: df -h, df -i; bgtask list --json gives each task's ` +
          `outputBytes; bgtask rm ID or bgtask clean ` +
          `deletes finished tasks and frees their room)`,
      );
    default:
      return new Error(`${WHAT}: ${result.detail}`);
  }
}

/**
 * Into a queue: the id is claimed, and the task takes a free slot or joins
 * the line, under the queue's lock, so that a queue's tasks are in id order.
 * A task that takes a slot is launched here, without waiting for it (as a
 * supervisor that hands its slot on launches the next): it reads `queued`
 * until its supervisor records the start. One that joins the line is started
 * by the supervisor of a task that ends (the scheduler runs now only if the
 * line may hold tasks it can start).
 */
async function enqueue(ctx: Ctx, draft: SpawnRecord, command: string): Promise<string> {
  const q = draft.queue!;
  const store = ctx.store;
  let next = "wait" as "launch" | "schedule" | "wait";
  const id = await store.withQueue(q, async () => {
    const conf = await store.readQueue(q) ?? { parallel: 1, paused: false };
    const state = await store.queueState(q);
    const free = !conf.paused && state.running < conf.parallel;
    // Taking a free slot, it is launched from here, with this process's own
    // environment: nothing to record (a file and a fork fewer).
    const now = free && !state.waiting;
    const spec = now ? { ...draft, inherited: false } : draft;
    const inherited = now ? undefined : await spawnerEnvironment();
    return (await create(ctx, spec, command, async (id) => {
      if (now) {
        await store.takeSlot(q, id);
        next = "launch";
      } else {
        await store.enqueue(q, id);
        // A task that ends looks at the line without the lock (queue.sh,
        // handoff): if it looked before this id was in it, its slot is free
        // by now (its final record was written before it looked), and we
        // start the line ourselves. One of us sees the other.
        if (free || (!conf.paused && (await store.queueState(q)).running < conf.parallel)) {
          next = "schedule";
        }
      }
    }, inherited)).id;
  });
  if (next === "launch") {
    try {
      launchDetached(store, { ...draft, id });
    } catch (e) {
      await ctx.store.remove(id, true).catch(() => {});
      await scheduleQueues(store, [q]).catch(() => {});
      throw e;
    }
  } else if (next === "schedule") {
    await scheduleQueues(store, [q]);
  }
  return id;
}

/**
 * After other tasks: recorded as their dependent, then resolved (they may
 * have ended already). Into a queue, it is recorded under the queue's lock,
 * which makes the queue if it is new: a queue comes into being when a task
 * is spawned into it, so that its verbs (pause it, list it, refuse to remove
 * it) know it while its tasks still wait for others. (Resolved after the
 * lock is let go: a task ready at once joins its queue under that lock.)
 */
async function deferred(
  ctx: Ctx,
  draft: SpawnRecord,
  command: string,
  inherited?: Inherited,
): Promise<string> {
  const record = async () =>
    (await create(ctx, draft, command, async (id) => {
      for (const dep of draft.after) await ctx.store.addDependent(dep, id);
    }, inherited)).id;
  const id = draft.queue === null ? await record() : await ctx.store.withQueue(draft.queue, record);
  try {
    await resolveTask(ctx.store, id);
  } catch (e) {
    await ctx.store.remove(id, true).catch(() => {});
    throw e;
  }
  return id;
}
