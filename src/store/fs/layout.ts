/**
 * The filesystem store's layout: the only module that knows its folder and
 * file names. The rest of the store asks it for paths; the supervisor gets
 * the names it writes from {@linkcode supervisorLayout}.
 *
 * ```
 * <store>/                      0700; refused if a symlink, another user's, or group/other-writable
 *   store-id                    a random id, written once: tells this store from one made anew at its path
 *   mcp-token                   `bgtask mcp --http`'s bearer token (0600), made at its first start
 *   next                        a hint: the highest id number issued (may lag; claims walk up)
 *   ids/<N>                     tombstones of removed tasks (ids are never reused), each with how
 *                               the task had ended (its status), if it had, or "refused" (its
 *                               spawn failed after claiming the id); merged by `clean` into:
 *   removed-below               N: every id below N without a task folder was removed (the
 *                               tombstones merged into it said no more than that to anyone;
 *                               tasks below it stay tasks)
 *   active/b<N>                 tasks that may not have ended or been announced (pruned lazily;
 *                               a byte in it: its supervisor has announced it)
 *   completions.log             ids of finished tasks, one per line, in the order they ended
 *   consumers/<name>/cursor     how far a completion consumer has handled the log (its time:
 *                               when the consumer last read)
 *   consumers/<name>/since      when it was registered (ms; 0: from the log's start)
 *   consumers/<name>/lock       held (flock) while a consumer claims
 *   consumers/<name>/owner      "PID START": an ephemeral consumer's process (see openConsumer);
 *                               once it has ended, `clean` forgets the consumer
 *   queues/<name>/conf          "PARALLEL PAUSED" (see src/supervisor/queue.sh for the rest:
 *                               lock, list, head, running, damaged)
 *   deps/<id>/<dependent>       the tasks that run after <id>
 *   tasks/b<N>/                 0700, one folder per task, the supervisor's working directory
 *     spec                      the spawn record (written by Deno: temp file, then rename)
 *     command.sh                only for commands too long to pass as one argument
 *     environ                   a task that waits (queue, dependencies): its spawner's umask and
 *                               environment, which it runs with (NUL-separated, 0600); emptied
 *                               when it starts or ends unstarted
 *     started                   pids and start times, when it started, cwd (written once by the supervisor)
 *     output                    stdout and stderr, interleaved, 0600
 *     notes                     what bash said when the command ended (tells a signal from an exit)
 *     paused                    pause bookkeeping (`TOTAL_MS SINCE_MS`, SINCE on the wall clock)
 *     paused.boot               `SINCE_MS BOOT_MS`: when the pause SINCE_MS names began, on the boot
 *                               clock (a build before it reads `paused` alone)
 *     stdin                     stdin "pipe" or "pty": the FIFO that feeds the task (made by the supervisor)
 *     stdin.lock                held (flock) while one writer writes to the FIFO
 *     stdin.holder              `PID START` of the process that holds the FIFO's write end (its watchdog)
 *     stdin.close               created when the task's stdin was closed: no writes after it
 *     stdin.midline             exists while the last byte written ended no line (for a terminal's Ctrl-D)
 *     pty                       stdin "pty": `SID START TTY_NR` of the terminal's session
 *     looked                    empty; its time is when the watchdog last read the output's size
 *     final.json                the final record: created exclusively, so the first writer wins
 *     ready                     a task that ran after others: they ended (created once)
 *     launched                  a waiting task was started (created once: who starts it; a
 *                               second name of `spec` when its spawner gave it a free slot)
 *     kill                      a kill was asked for: the grace in ms (then `watchdog`: the task's
 *                               watchdog ends the tree); the supervisor records it
 *     delivered.<consumer>      a consumer's claim on the completion: empty once done (`done`
 *                               from older bgtasks), or `pending PID START`
 * ```
 *
 * @module
 */

import { join, resolve } from "../../path.ts";

/** The names of a task's records, inside its folder. */
export const F = {
  spec: "spec",
  legacySpec: "task.json",
  command: "command.sh",
  environ: "environ",
  started: "started",
  output: "output",
  notes: "notes",
  paused: "paused",
  pausedBoot: "paused.boot",
  final: "final.json",
  delivered: "delivered",
  ready: "ready",
  launched: "launched",
  kill: "kill",
  stdin: "stdin",
  stdinLock: "stdin.lock",
  stdinHolder: "stdin.holder",
  stdinClose: "stdin.close",
  stdinMidline: "stdin.midline",
  pty: "pty",
  looked: "looked",
} as const;

/** The names of the store's own files and folders. */
const S = {
  tasks: "tasks",
  ids: "ids",
  active: "active",
  consumers: "consumers",
  queues: "queues",
  deps: "deps",
  log: "completions.log",
  hint: "next",
  below: "removed-below",
  storeId: "store-id",
  mcpToken: "mcp-token",
} as const;

/** Its names, and those of their temp files and of an open's probe (see {@linkcode isStoreEntry}). */
const STORE_ENTRY = new RegExp(
  `^(?:(?:${Object.values(S).map((n) => n.replace(".", "\\.")).join("|")})` +
    `(?:\\.[0-9a-f-]{36}\\.tmp)?|\\.probe-[0-9a-f-]{36})$`,
);

/**
 * Whether `name`, found in a store's own folder, is one bgtask makes there:
 * what a folder may hold to be made a store (a store whose making was cut
 * short), where any other file says it is someone else's folder.
 */
export function isStoreEntry(name: string): boolean {
  return STORE_ENTRY.test(name);
}

/** A task's record (a key of {@linkcode F}). */
export type TaskFileName = keyof typeof F;

/** The files of a consumer's folder. */
export type ConsumerFile = "cursor" | "since" | "lock" | "owner";

/** The files of a queue's folder (see queue.sh for those only bash writes). */
export type QueueFile = "conf" | "lock" | "list" | "head" | "running" | "damaged";

/** A name a consumer or a queue may have: it is a folder's name. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A tombstone's name: the number of a removed id. */
export const TOMBSTONE = /^[1-9][0-9]*$/;

/** The prefix of a task's claim files, one a consumer (`delivered.<consumer>`). */
export const CLAIM_PREFIX = `${F.delivered}.`;

/** A removed queue's folder, out of sight while it is deleted (the dot hides it). */
export const RETIRED_QUEUE = /^\..+\.removed-/;

function bashQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The paths of one store. */
export class Layout {
  /** The absolute store folder. */
  readonly dir: string;
  /** The task folders' folder. */
  readonly tasks: string;
  /** The tombstones' folder (also locked while tombstones merge). */
  readonly ids: string;
  /** The active markers' folder. */
  readonly active: string;
  /** The consumers' folder. */
  readonly consumers: string;
  /** The queues' folder. */
  readonly queues: string;
  /** The dependents' folder. */
  readonly deps: string;
  /** The completion log. */
  readonly log: string;
  /** The id hint. */
  readonly hint: string;
  /** The line below which merged tombstones' ids were removed. */
  readonly below: string;
  /** The store's random id. */
  readonly storeId: string;
  /** `bgtask mcp --http`'s bearer token. */
  readonly mcpToken: string;

  /** @param dir The store folder (made absolute). */
  constructor(dir: string) {
    this.dir = resolve(dir);
    this.tasks = join(this.dir, S.tasks);
    this.ids = join(this.dir, S.ids);
    this.active = join(this.dir, S.active);
    this.consumers = join(this.dir, S.consumers);
    this.queues = join(this.dir, S.queues);
    this.deps = join(this.dir, S.deps);
    this.log = join(this.dir, S.log);
    this.hint = join(this.dir, S.hint);
    this.below = join(this.dir, S.below);
    this.storeId = join(this.dir, S.storeId);
    this.mcpToken = join(this.dir, S.mcpToken);
  }

  /** The folder the store's subfolders are made in at its first write open. */
  get folders(): string[] {
    return [this.tasks, this.ids, this.active, this.consumers, this.queues];
  }

  /** A probe file's path, unique to its caller. */
  probe(): string {
    return join(this.dir, `.probe-${crypto.randomUUID()}`);
  }

  /** A task's folder. */
  taskDir(id: string): string {
    return join(this.tasks, id);
  }

  /** A task's record. */
  taskFile(id: string, name: TaskFileName): string {
    return join(this.tasks, id, F[name]);
  }

  /** A consumer's claim on a task's completion. */
  claimFile(id: string, consumer: string): string {
    return join(this.tasks, id, CLAIM_PREFIX + consumer);
  }

  /** A removed id's tombstone (`id` is `b<N>`). */
  tombstone(id: string): string {
    return join(this.ids, id.slice(1));
  }

  /** The tombstone of the id numbered `n`. */
  tombstoneOf(n: number | string): string {
    return join(this.ids, String(n));
  }

  /** A task's active marker. */
  activeMarker(id: string): string {
    return join(this.active, id);
  }

  /** The folder of the tasks that run after `dep`. */
  dependents(dep: string): string {
    return join(this.deps, dep);
  }

  /** A consumer's folder; a name that could not be one is a TypeError. */
  consumerDir(name: string): string {
    if (!NAME.test(name)) throw new TypeError(`Invalid consumer name ${JSON.stringify(name)}`);
    return join(this.consumers, name);
  }

  /** A consumer's file. */
  consumerFile(name: string, file: ConsumerFile): string {
    return join(this.consumerDir(name), file);
  }

  /** Where a removed consumer's folder goes, out of sight, while it is deleted. */
  removedConsumer(name: string): string {
    return join(this.consumers, `.removed-${name}-${crypto.randomUUID()}`);
  }

  /** A queue's folder; a name that could not be one is a TypeError. */
  queueDir(name: string): string {
    if (!NAME.test(name)) throw new TypeError(`Invalid queue name ${JSON.stringify(name)}`);
    return join(this.queues, name);
  }

  /** A queue's file. */
  queueFile(name: string, file: QueueFile): string {
    return join(this.queueDir(name), file);
  }

  /** The name a removed queue's folder takes while it is deleted (see {@linkcode RETIRED_QUEUE}). */
  retiredQueue(name: string): string {
    return `.${name}.removed-${crypto.randomUUID()}`;
  }

  /**
   * The names the supervisor's scripts write by, as bash assignments
   * (`F_SPEC='spec'` …), put before the scripts' text.
   */
  supervisorLayout(): string {
    const names: Record<string, string> = {
      F_SPEC: F.spec,
      F_COMMAND: F.command,
      F_ENVIRON: F.environ,
      F_STARTED: F.started,
      F_OUTPUT: F.output,
      F_NOTES: F.notes,
      F_PAUSED: F.paused,
      F_FINAL: F.final,
      F_READY: F.ready,
      F_LAUNCHED: F.launched,
      F_KILL: F.kill,
      F_STDIN: F.stdin,
      F_HOLDER: F.stdinHolder,
      F_CLOSE: F.stdinClose,
      F_PTY: F.pty,
      F_LOOKED: F.looked,
      F_TASKS: S.tasks,
      F_IDS: S.ids,
      F_QUEUES: S.queues,
      F_CONSUMERS: S.consumers,
      F_DEPS: S.deps,
      F_ACTIVE: S.active,
      F_LOG: S.log,
    };
    return Object.entries(names).map(([k, v]) => `${k}=${bashQuote(v)}`).join("\n") + "\n";
  }
}
