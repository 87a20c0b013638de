/**
 * The filesystem task store: the only module that knows folder and file names.
 *
 * ```
 * <store>/                      0700; refused if a symlink, another user's, or group/other-writable
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
 *   queues/<name>/conf          "PARALLEL PAUSED" (see src/supervisor/queue.sh for the rest:
 *                               lock, list, head, running)
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
 *     paused                    pause bookkeeping (`TOTAL_MS SINCE_MS`)
 *     stdin                     stdin "pipe" or "pty": the FIFO that feeds the task (made by the supervisor)
 *     stdin.lock                held (flock) while one writer writes to the FIFO
 *     stdin.holder              `PID START` of the process that holds the FIFO's write end (its watchdog)
 *     stdin.close               created when the task's stdin was closed: no writes after it
 *     stdin.midline             exists while the last byte written ended no line (for a terminal's Ctrl-D)
 *     pty                       stdin "pty": `SID START TTY_NR` of the terminal's session
 *     looked                    empty; its time is when the watchdog last read the output's size
 *     final.json                the final record: created exclusively, so the first writer wins
 *     ready                     a task that ran after others: they ended (created once)
 *     launched                  a waiting task was started (created once: who starts it)
 *     kill                      a kill was asked for: the grace in ms (then `watchdog`: the task's
 *                               watchdog ends the tree); the supervisor records it
 *     delivered.<consumer>      a consumer's claim on the completion: empty once done (`done`
 *                               from older bgtasks), or `pending PID START`
 * ```
 *
 * @module
 */

import { readInto } from "../bytes.ts";
import { join, resolve } from "../path.ts";
import { StoreError } from "../errors.ts";
import { sleep } from "../timers.ts";
import { isValidId } from "../ids.ts";
import type { TaskRecords } from "../lifecycle.ts";
import {
  isPermissionError,
  permissionFlags,
  rethrowPermission,
  shellWord,
} from "../permissions.ts";
import type {
  ClaimState,
  EndNote,
  InputState,
  LogSlice,
  QueueConf,
  QueueState,
  TaskStore,
} from "./contract.ts";
import {
  type FinalRecord,
  formatFinal,
  formatInherited,
  formatPaused,
  formatSpec,
  type Inherited,
  parseFinal,
  parseLegacySpec,
  parsePaused,
  parsePty,
  parseSpec,
  parseStarted,
  type PausedRecord,
  plainSpec,
  type PtyRecord,
  type SpawnRecord,
  START_TIME_PATTERN,
  text,
} from "./records.ts";

/** The names of a task's records, inside its folder. */
const F = {
  spec: "spec",
  legacySpec: "task.json",
  command: "command.sh",
  environ: "environ",
  started: "started",
  output: "output",
  notes: "notes",
  paused: "paused",
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

/** Entries of ended tasks a queue's `running` may keep before it is rewritten (queue.sh's too). */
const RUNNING_SLACK = 8;

/** A folder without a spawn record this long after it was made was abandoned mid-spawn. */
const ABANDONED_AFTER_MS = 60_000;
/** How long a reader waits for a record the supervisor is writing at that instant. */
const RECORD_SETTLE_TRIES = 20;
const RECORD_SETTLE_PAUSE_MS = 10;
/** A start record that cannot be read is damaged only once it is this old. */
const STARTED_SETTLE_MS = 3000;
/** The most of the completion log read at once. */
const LOG_READ_LIMIT = 1024 * 1024;

const EMPTY = new Uint8Array();
/** A tombstone's word for a task whose spawn failed after claiming its id. */
const REFUSED = "refused";
const encoder = new TextEncoder();
const CONSUMER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Who holds a task's stdin: `PID START`. */
const HOLDER_RECORD = new RegExp(`^(\\d+) (${START_TIME_PATTERN})\n$`);
/** A tombstone's name: the number of a removed id. */
const TOMBSTONE = /^[1-9][0-9]*$/;
/** The id hint's width: every safe integer fits, so each write covers the last. */
const HINT_DIGITS = 16;
/** How often a step that races a queue's removal is tried (opening its lock, deleting its folder). */
const QUEUE_RACE_TRIES = 100;
/** How many times a queue's lock may be replaced under a waiter before it gives up. */
const QUEUE_LOCK_ROUNDS = 1000;
/** What a removed queue's lock file holds (it is otherwise empty). */
const QUEUE_RETIRED = "removed\n";

/** How the store's folder was chosen, so that advice about it names the right knob. */
export type StoreSource = "option" | "BGTASK_DIR" | "default";

/**
 * A task's records cannot be read (the rest of the store is fine). Callers see
 * a StoreError naming the task; bgtask itself tells it from store-wide
 * failures by its class rather than by its message.
 */
export class DamagedRecordError extends StoreError {
  /** The damaged task. */
  readonly id: string;
  /** Which record cannot be read, when it is known (`start`: its processes may still run). */
  readonly record?: "start" | "final";
  /**
   * For a damaged start record: the token the task's processes carry, which
   * tells whether any of them is left.
   */
  token?: string;
  /**
   * Creates the error for a task.
   *
   * @param id The damaged task.
   * @param message What is damaged, naming the file.
   * @param record Which record cannot be read, when known.
   */
  constructor(id: string, message: string, record?: "start" | "final") {
    super(message);
    this.id = id;
    if (record !== undefined) this.record = record;
  }
}

/** The error for a umask that takes the owner's own permissions away (`made` came out `mode`). */
function umaskError(action: string, made: string, mode: number): StoreError {
  return new StoreError(
    `Cannot ${action}: this process's umask takes the owner's own permissions away (${made} ` +
      `came out ${(mode & 0o7777).toString(8)}), so nothing bgtask writes could be written ` +
      `again; use a umask such as 077 or 022`,
  );
}

/** The task id of an entry of a queue's `running` ("ID@LAUNCH_MS"). */
function slotId(entry: string): string {
  return entry.split("@")[0];
}

/** A write refused for want of room: no block or no inode left (ENOSPC), or over a quota (EDQUOT). */
function isNoSpace(e: unknown): boolean {
  return e instanceof Error && /os error (28|122)\b|No space left|quota exceeded/i.test(e.message);
}

/** A claim file's content as a state: pending for `PID START`, else done (empty, or `done`). */
function parseClaim(s: string): ClaimState {
  const m = /^pending (\d+) (\S+)\n$/.exec(s);
  return m ? { state: "pending", pid: Number(m[1]), start: m[2] } : { state: "done" };
}

function readOrUndefined(path: string): string | undefined {
  try {
    return text(Deno.readFileSync(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Up to `maxBytes` of a file from `offset`; a missing file reads as empty.
 * `eof` when the read reached the end.
 */
async function readRange(
  path: string,
  offset: number,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; eof: boolean }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { bytes: EMPTY, eof: true };
    throw e;
  }
  using _ = file;
  // (Not file.stat(): Deno checks it against the file's real path, outside
  // the permission in a store reached through a symlink.)
  const size = await file.seek(0, Deno.SeekMode.End);
  if (offset >= size) return { bytes: EMPTY, eof: true };
  const buf = new Uint8Array(Math.min(maxBytes, size - offset));
  const got = await readInto(file, offset, buf);
  return { bytes: buf.subarray(0, got), eof: offset + got >= size };
}

function bashQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * Lets go of a lock held on `file`, then closes it. Unlocked first: a flock
 * lasts while any copy of the descriptor is open, and a child this process
 * is starting at that moment (any spawn, from any part of the program) holds
 * a copy of every descriptor until its exec closes them.
 */
function unlockAndClose(file: Deno.FsFile): () => void {
  return () => {
    try {
      file.unlockSync();
    } finally {
      file.close();
    }
  };
}

/**
 * How long a look at the store folder's identity stands: the calls one
 * operation makes within it (a record a task) are not looked at again.
 */
const RECHECK_MS = 5;

/** What tells one folder from another made later at the same path. */
interface Identity {
  dev: number;
  ino: number | null;
  /** Its birth time in ms (null where the file system does not keep it). */
  born: number | null;
}

function identityOf(st: Deno.FileInfo): Identity {
  return { dev: st.dev, ino: st.ino, born: st.birthtime?.getTime() ?? null };
}

function sameFolder(st: Deno.FileInfo, was: Identity): boolean {
  const now = identityOf(st);
  return now.dev === was.dev && now.ino === was.ino && now.born === was.born;
}

/** The task store in one folder. */
export class FsStore implements TaskStore {
  /** The absolute store folder. */
  readonly dir: string;
  readonly #source: StoreSource;
  /**
   * This process made a file in the store (opening it to write): the store
   * is this user's, and a refusal in it is about something inside.
   */
  #wroteProbe = false;
  readonly #tasks: string;
  readonly #ids: string;
  readonly #active: string;
  readonly #consumers: string;
  readonly #queues: string;
  readonly #deps: string;
  readonly #log: string;
  readonly #hint: string;
  readonly #below: string;
  readonly #storeIdFile: string;
  #opened?: Promise<boolean>;
  #openedFor?: "read" | "write";
  /**
   * The store folder this manager opened, once it has: its device, inode and
   * birth time (a folder made anew at the path may get the inode the removed
   * one had, and does here, on ext4).
   */
  #identity?: Identity;
  /**
   * The store's random id (its `store-id` file), once read: what tells it
   * from a store made anew at its path when its folder alone cannot (see
   * #sameStore).
   */
  #storeId?: string;
  /** The store was removed (or replaced) under this manager: it stays closed. */
  #removed = false;
  /** When the folder was last found to be the one opened (performance.now()). */
  #checkedAt = -Infinity;

  /**
   * @param dir The store folder (need not exist yet).
   * @param source How it was chosen (for advice in errors).
   */
  constructor(dir: string, source: StoreSource = "option") {
    this.dir = resolve(dir);
    this.#source = source;
    this.#tasks = join(this.dir, "tasks");
    this.#ids = join(this.dir, "ids");
    this.#active = join(this.dir, "active");
    this.#consumers = join(this.dir, "consumers");
    this.#queues = join(this.dir, "queues");
    this.#deps = join(this.dir, "deps");
    this.#log = join(this.dir, "completions.log");
    this.#hint = join(this.dir, "next");
    this.#below = join(this.dir, "removed-below");
    this.#storeIdFile = join(this.dir, "store-id");
  }

  /** The store folder. */
  get location(): string {
    return this.dir;
  }

  /** The completion log: appended whenever a task ends. */
  get changeFeed(): string {
    return this.#log;
  }

  #taskFile(id: string, name: string): string {
    return join(this.#tasks, id, name);
  }

  // ---- opening ----

  /**
   * Checks the store once per mode and caches success (a failure is not
   * cached, so a later call tries again; nor is a store not there yet, which
   * another process may make at any time). `write` implies `read`. A call
   * also makes sure the folder is still the one opened (an lstat, about 3 µs,
   * at most once in {@linkcode RECHECK_MS}): a store removed, or removed and
   * made anew by someone else, closes this one for good (its error says why,
   * and that a new manager starts a new store).
   */
  open(mode: "read" | "write"): Promise<boolean> {
    try {
      this.#checkSame();
      if (this.#opened && (this.#openedFor === "write" || mode === "read")) return this.#opened;
      const there = this.#open(mode);
      if (!there) return Promise.resolve(false);
      this.#opened = Promise.resolve(true);
      this.#openedFor = mode;
      return this.#opened;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Throws the removed store's error when the folder opened is gone or another. */
  #checkSame(): void {
    if (this.#removed) throw new StoreError(this.#removedMessage());
    const was = this.#identity;
    if (!was) return;
    // Once per operation, not per record it reads: a list of 10,000 tasks
    // opens the store for each (+8% with an lstat each).
    const now = performance.now();
    if (now - this.#checkedAt < RECHECK_MS) return;
    this.#checkedAt = now;
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(this.dir);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) this.#gone(e);
      this.#fail(e, "open");
    }
    if (!this.#sameStore(st, was)) this.#gone();
    this.#identity = identityOf(st);
  }

  /**
   * Whether the folder now at the store's path (`st`) is the store opened
   * (`was`). A folder that looks the same (device, inode, birth time) on a
   * file system that keeps birth times is; otherwise the store's id decides:
   * a folder's inode is not stable everywhere (overlayfs over two file
   * systems gives a directory a new one once its entry is evicted; a store
   * restored from a copy has a new one), and where no birth time is kept a
   * store made anew may have the removed one's inode and nothing else to tell
   * it by. An older store without an id (that this process could not give
   * one) has only its folder: a device or inode of another is another store;
   * a birth time alone that changed is taken for a copy-up (overlayfs).
   */
  #sameStore(st: Deno.FileInfo, was: Identity): boolean {
    if (was.born !== null && sameFolder(st, was)) return true;
    if (this.#storeId !== undefined) {
      const id = this.#readStoreId();
      // (Unreadable for the moment: the folder is all there is to go by.)
      if (id === undefined) return st.dev === was.dev && st.ino === was.ino;
      return id === this.#storeId;
    }
    return st.dev === was.dev && st.ino === was.ino;
  }

  /**
   * The store's id; null when it has none (made by an older bgtask), and
   * undefined when it cannot be read now (another error than its absence).
   */
  #readStoreId(): string | null | undefined {
    try {
      return Deno.readTextFileSync(this.#storeIdFile).trim() || null;
    } catch (e) {
      return e instanceof Deno.errors.NotFound ? null : undefined;
    }
  }

  /**
   * Reads the store's id, at an open; at a write open (`give`), gives a
   * store without one its id first (an older bgtask's). The id is written to
   * a file of its own, then linked into place (a link fails if one is
   * there): whoever opens the store at the same moment reads it whole, or
   * not at all. Never fails the open (a full disk: a store without an id
   * stays usable, as an older bgtask's is); a read never writes.
   */
  #learnStoreId(give: boolean): void {
    let id = this.#readStoreId();
    if (id === null && give) {
      const temp = `${this.#storeIdFile}.${crypto.randomUUID()}.tmp`;
      try {
        Deno.writeFileSync(temp, new TextEncoder().encode(crypto.randomUUID() + "\n"), {
          createNew: true,
          mode: 0o600,
        });
        Deno.linkSync(temp, this.#storeIdFile);
      } catch {
        // Linked by another process meanwhile (its id stands), or no room.
      } finally {
        try {
          Deno.removeSync(temp);
        } catch { /* never made */ }
      }
      id = this.#readStoreId();
    }
    if (typeof id !== "string") return;
    // (Opened before under another id: another store.)
    if (this.#storeId !== undefined && id !== this.#storeId) this.#gone();
    this.#storeId = id;
  }

  /** Closes this store for good, as removed, and throws its error. */
  #gone(cause?: unknown): never {
    this.#removed = true;
    throw new StoreError(this.#removedMessage(), cause === undefined ? undefined : { cause });
  }

  // Opening takes a dozen small calls, made synchronously (microseconds each
  // where an async call waits for the thread pool): 11 ms to claim the first
  // id of a process became 3.
  #open(mode: "read" | "write"): boolean {
    const dir = this.dir;
    const made = mode === "write" && !this.#existsQuietly(dir);
    if (mode === "write") {
      try {
        Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) {
          // (Not knowing whether it exists, for want of --allow-read: "open".)
          const unseen = isPermissionError(e) &&
            Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted";
          this.#fail(e, this.#existsQuietly(dir) ? "write to" : unseen ? "open" : "create");
        }
      }
    }
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(dir);
    } catch (e) {
      if (mode === "read" && e instanceof Deno.errors.NotFound) return false;
      this.#fail(e, "open");
    }
    if (made && st.isDirectory && st.mode !== null && (st.mode & 0o700) !== 0o700) {
      // Made 0700 and found otherwise: the umask takes the owner's own
      // permissions away, and every folder and file bgtask made would be
      // as unusable. Nothing is left behind.
      try {
        Deno.removeSync(dir);
      } catch { /* (not empty: someone else's now) */ }
      throw umaskError(`create the bgtask store "${dir}"`, "a folder made 700", st.mode);
    }
    if (st.isSymlink) throw new StoreError(this.#symlinkMessage());
    if (!st.isDirectory) throw new StoreError(`Store "${dir}" is not a folder`);
    // (Opened for reading before, and now for writing: the same store.)
    const was = this.#identity;
    if (was && !this.#sameStore(st, was)) this.#gone();
    if (st.mode !== null && (st.mode & 0o022) !== 0) {
      throw new StoreError(
        `Store "${dir}" is writable by group or others (mode ${
          (st.mode & 0o7777).toString(8)
        }); run: chmod 700 "${dir}"`,
      );
    }
    this.#checkOwner(st, mode);
    if (mode === "write") {
      if (!this.#exists(this.#tasks)) this.#checkFresh();
      for (const sub of [this.#tasks, this.#ids, this.#active, this.#consumers, this.#queues]) {
        try {
          Deno.mkdirSync(sub, { mode: 0o700 });
        } catch (e) {
          if (!(e instanceof Deno.errors.AlreadyExists)) this.#fail(e, "create");
        }
      }
      try {
        Deno.writeFileSync(this.#log, EMPTY, { append: true, mode: 0o600 });
      } catch (e) {
        this.#fail(e, "write to");
      }
    }
    this.#learnStoreId(mode === "write");
    // Taken last, once this open's own writes are made (on overlayfs the
    // first one gives the folder a new birth time).
    try {
      this.#identity = identityOf(Deno.lstatSync(dir));
    } catch (e) {
      this.#fail(e, "open");
    }
    return true;
  }

  /**
   * A folder about to become a store must not hold a file bgtask would
   * write over: a mistyped path would turn a project folder into a store,
   * its own `next` overwritten. (Other files are let be: bgtask writes
   * nothing else that a folder can already hold.)
   */
  #checkFresh(): void {
    let ours: boolean;
    try {
      // Ours (a store whose tasks folder went), or one cut short: a number, or nothing.
      ours = /^\d*\n?$/.test(Deno.readTextFileSync(this.#hint));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      if (!(e instanceof Deno.errors.IsADirectory)) throw e;
      ours = false;
    }
    if (ours) return;
    throw new StoreError(
      `"${this.dir}" is not a bgtask store: its "next" is someone else's (bgtask would ` +
        `write over it); give bgtask a folder of its own (new or empty)`,
    );
  }

  #symlinkMessage(): string {
    const fix = this.#source === "BGTASK_DIR"
      ? "set BGTASK_DIR to the real folder"
      : this.#source === "default"
      ? "replace the link with a folder, or set BGTASK_DIR to the real folder"
      : "pass the real folder as the store";
    return `Store "${this.dir}" is a symlink; refusing to use it (${fix})`;
  }

  /**
   * The store must be ours. Without --allow-sys, a file we create is ours:
   * compare owners (before anything else is created in a folder that may be
   * someone else's). A read-only check uses Deno.uid() when allowed, and
   * otherwise trusts the folder's mode (reading never writes).
   */
  #checkOwner(st: Deno.FileInfo, mode: "read" | "write"): void {
    if (st.uid === null) return;
    let me: number | null = null;
    if (mode === "read") {
      const sys = Deno.permissions.querySync({ name: "sys", kind: "uid" }).state;
      if (sys === "granted") me = Deno.uid();
    } else {
      const probe = join(this.dir, `.probe-${crypto.randomUUID()}`);
      try {
        // (Opened, not written with writeFileSync, whose mode is applied past
        // the umask: the umask must show, as it does on the folders made.)
        Deno.openSync(probe, { createNew: true, write: true, mode: 0o600 }).close();
        const made = Deno.lstatSync(probe);
        me = made.uid;
        this.#wroteProbe = true;
        if (made.mode !== null && (made.mode & 0o600) !== 0o600) {
          // Made 0600, found less: the umask takes the owner's own permissions
          // away, and the folders bgtask makes (tasks, queues) would be unusable.
          throw umaskError(`write to the bgtask store "${this.dir}"`, "a file made 600", made.mode);
        }
      } catch (e) {
        this.#fail(e, "write to");
      } finally {
        try {
          Deno.removeSync(probe);
        } catch {
          // already gone, or never made (the error above says why)
        }
      }
    }
    if (me !== null && me !== st.uid) {
      throw new StoreError(
        `Store "${this.dir}" is owned by another user (uid ${st.uid}, we are ${me}); run ` +
          `bgtask as that user, or use a store of your own (--dir DIR or BGTASK_DIR)`,
      );
    }
  }

  /**
   * The error of a store removed while it was open. This store stays closed
   * (its ids would start again at b1, and anyone holding an old id would
   * find another task): a new one must be opened.
   */
  #removedMessage(): string {
    const anew = "a new TaskManager (or restarting this program)";
    if (this.#existsQuietly(this.dir)) {
      return `Store "${this.dir}" was removed and made anew while this manager had it open: ` +
        `its ids start again at b1, so a manager that had the old one stops here; ${anew} ` +
        "uses the new one";
    }
    return `Store "${this.dir}" does not exist (was it removed?): a manager that had it stops ` +
      `here; ${anew} starts a new store there`;
  }

  /** Maps a filesystem error on the store to a StoreError or a permission hint. */
  #fail(e: unknown, action: string, what?: string): never {
    if (e instanceof StoreError) throw e;
    if (e instanceof Deno.errors.PermissionDenied) this.#explainDenied(e, action);
    if (isPermissionError(e)) {
      // A store found by default or by $BGTASK_DIR may not be the one the
      // permissions were given for (an installed bgtask whose MCP client
      // config sets no BGTASK_DIR): say how to name that one instead.
      const other = this.#source === "option"
        ? ""
        : this.#source === "default"
        ? "; or, to use the store these permissions are for, set BGTASK_DIR to it"
        : "; or set BGTASK_DIR to the store these permissions are for";
      rethrowPermission(
        e,
        `Cannot ${action} the bgtask store "${this.dir}"`,
        permissionFlags(this.dir, this.#source !== "option") + other,
      );
    }
    if (e instanceof Deno.errors.NotFound && action !== "create" && !this.#exists(this.dir)) {
      this.#gone(e);
    }
    const target = what ?? `the bgtask store "${this.dir}"`;
    // A full disk: what frees room (reading needs none, and removing finds it).
    const fix = isNoSpace(e)
      ? ` (the disk is full: bgtask list --json gives each task's outputBytes; bgtask rm ID ` +
        `or bgtask clean deletes finished tasks and frees their room)`
      : action === "create" && /os error 13\b/.test((e as Error).message)
      ? ` (this user may not create it there: use a store elsewhere, --dir DIR or BGTASK_DIR)`
      : /os error 30\b|Read-only file system/i.test((e as Error).message)
      ? ` (the file system is read-only: reading still works; remount it read-write, or use ` +
        `another store, --dir DIR or BGTASK_DIR)`
      : "";
    throw new StoreError(`Cannot ${action} ${target}: ${(e as Error).message}${fix}`, {
      cause: e,
    });
  }

  /**
   * The system refused (not a missing Deno permission): when the store's
   * owner or mode says why, an error that says so and what to run. (A store
   * made by root in a user's home, as `sudo -E` does, or one whose mode lost
   * the owner's write bit.) Returns when they do not explain it.
   */
  #explainDenied(e: Error, action: string): void {
    // The store, or (not made yet) the nearest folder above it that is there.
    let at = this.dir;
    let st: Deno.FileInfo | undefined;
    for (;;) {
      try {
        st = Deno.lstatSync(at);
        break;
      } catch {
        const up = resolve(at, "..");
        if (up === at) return;
        at = up;
      }
    }
    if (st.mode === null || st.uid === null || !st.isDirectory) return;
    const where = at === this.dir ? "it" : `"${at}", the folder above it,`;
    const m = (st.mode & 0o7777).toString(8);
    if ((st.mode & 0o700) !== 0o700) {
      throw new StoreError(
        `Cannot ${action} the bgtask store "${this.dir}": ${where} has mode ${m}, which ` +
          `takes permissions away from its owner (a umask such as 277 makes folders so); if it ` +
          `is yours, run: chmod 700 "${at}" (and use a umask such as 077)`,
        { cause: e },
      );
    }
    let readable = true;
    try {
      Deno.readDirSync(at)[Symbol.iterator]().next();
    } catch {
      readable = false;
    }
    // Readable by us, and shared for reading only (its owner let the group
    // or others read it): ours to read, its owner's to change.
    if (
      readable && action !== "read" && !this.#wroteProbe && at === this.dir &&
      (st.mode & 0o044) !== 0 && (st.mode & 0o022) === 0
    ) {
      throw new StoreError(
        `Cannot ${action} the bgtask store "${this.dir}": it belongs to uid ${st.uid} and is ` +
          `shared for reading (mode ${m}): other users may read its tasks, only its owner may ` +
          `change them (run, kill, rm, …); run bgtask as that user, or use a store of your ` +
          `own (--dir DIR or BGTASK_DIR)`,
        { cause: e },
      );
    }
    // Readable and searchable by us: the refusal is about something inside.
    if (readable) return;
    // Made by root in a user's way (`sudo -E`): give it back. Another user's:
    // never suggest taking it.
    const fix = st.uid === 0
      ? `run bgtask as root, or give it to this user: sudo chown -R "$(id -u)" ${shellWord(at)}`
      : "run bgtask as that user, or use a store of your own (--dir DIR or BGTASK_DIR)";
    throw new StoreError(
      `Cannot ${action} the bgtask store "${this.dir}": ${where} belongs to uid ` +
        `${st.uid} (mode ${m}) and this user may not use it; ${fix}`,
      { cause: e },
    );
  }

  /** Runs store I/O so that errors name the store and the flag to add. */
  async #io<T>(action: string, fn: () => T | Promise<T>, what?: string): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof TypeError || e instanceof DamagedRecordError) throw e;
      this.#fail(e, action, what);
    }
  }

  /** Whether this user may list the store's task folders (the store itself is fine). */
  #storeReadable(): boolean {
    try {
      Deno.readDirSync(this.#tasks)[Symbol.iterator]().next();
      return true;
    } catch {
      return false;
    }
  }

  /** True when `path` can be seen to exist (false also when we may not look). */
  #existsQuietly(path: string): boolean {
    try {
      return this.#exists(path);
    } catch {
      return false;
    }
  }

  #exists(path: string): boolean {
    try {
      Deno.lstatSync(path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  // ---- ids ----

  /**
   * `mkdir tasks/b<N>` fails if another process took N, so two processes
   * never get the same N. A removed task leaves a tombstone `ids/<N>`
   * (written before its folder is deleted), and a claim that finds one gives
   * the folder back and moves on, so N is never issued again.
   */
  async claimId(): Promise<string> {
    await this.open("write");
    return await this.#io("write to", () => {
      const hint = this.#readHint();
      let n = (hint ?? this.#highestId()) + 1;
      for (;; n++) {
        const dir = join(this.#tasks, `b${n}`);
        try {
          Deno.mkdirSync(dir, { mode: 0o700 });
        } catch (e) {
          if (e instanceof Deno.errors.AlreadyExists) continue;
          throw e;
        }
        // (The tombstone first, then the line below merged ones: `mergeRemoved`
        // raises the line before it deletes the tombstones under it.)
        if (!this.#exists(join(this.#ids, String(n)))) {
          const below = this.#removedBelow();
          if (n >= below) break;
          Deno.removeSync(dir); // a removed task's id: never again
          n = below - 1; // (the loop's n++ goes on at the line)
          continue;
        }
        Deno.removeSync(dir); // a removed task's id: never again
      }
      this.#writeHint(n, hint === undefined);
      return `b${n}`;
    });
  }

  /**
   * Overwrites the hint in place with a number of fixed width: no new inode
   * and no truncation (creating files is what costs on most disks, and
   * emptying one that has data makes ext4 write it out at close: 300-550 µs
   * here, against 55-100 µs in place). A reader that catches it
   * half-written, or a racing writer that leaves it lower, only makes the
   * next claim walk or scan (or skip ids: none is ever issued twice). A
   * hint that could not be read is written anew (`repair`): it may be longer.
   */
  #writeHint(n: number, repair: boolean): void {
    const f = Deno.openSync(this.#hint, {
      write: true,
      create: true,
      truncate: repair,
      mode: 0o600,
    });
    try {
      const bytes = encoder.encode(`${String(n).padStart(HINT_DIGITS, "0")}\n`);
      for (let at = 0; at < bytes.length;) at += f.writeSync(bytes.subarray(at));
    } finally {
      f.close();
    }
  }

  /** The last id claimed, as the hint says; undefined when it says nothing usable. */
  #readHint(): number | undefined {
    try {
      const n = Number(Deno.readTextFileSync(this.#hint).trim());
      if (Number.isSafeInteger(n) && n > 0) return n;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return undefined;
  }

  /** The highest id on disk, live or removed (when the hint says nothing). */
  #highestId(): number {
    let max = this.#removedBelow() - 1;
    for (const dir of [this.#tasks, this.#ids]) {
      for (const e of Deno.readDirSync(dir)) {
        const n = Number(e.name.replace(/^b/, ""));
        if (Number.isSafeInteger(n) && n > max) max = n;
      }
    }
    return max;
  }

  // ---- records ----

  /*
   * The record operations are synchronous where they touch a few bytes: a
   * sync call costs microseconds where an async one waits for a thread-pool
   * round trip.
   */

  /**
   * Writes `data` to a temp file next to `path` and hands it to `place`
   * (which moves or links it into place); the temp file never stays behind.
   */
  #viaTemp<T>(path: string, data: string, place: (tmp: string) => T): T {
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    try {
      // Inside the try: on a full disk the temp file is created but not written.
      Deno.writeFileSync(tmp, encoder.encode(data), { createNew: true, mode: 0o600 });
      return place(tmp);
    } finally {
      try {
        Deno.removeSync(tmp);
      } catch { /* renamed, or never created */ }
    }
  }

  /** Writes a whole file so readers see the old content or the new, never half: temp + rename. */
  #writeAtomic(path: string, data: string): void {
    this.#viaTemp(path, data, (tmp) => Deno.renameSync(tmp, path));
  }

  /**
   * Creates `path` with `data` only if it does not exist yet, atomically and
   * completely (temp file + link). Returns false when it already existed.
   */
  #createExclusive(path: string, data: string): boolean {
    return this.#viaTemp(path, data, (tmp) => {
      try {
        Deno.linkSync(tmp, path);
        return true;
      } catch (e) {
        if (e instanceof Deno.errors.AlreadyExists) return false;
        throw e;
      }
    });
  }

  async create(spec: SpawnRecord, longCommand?: string, inherited?: Inherited): Promise<void> {
    const id = spec.id;
    await this.#io("write to", () => {
      if (longCommand !== undefined) {
        Deno.writeFileSync(this.#taskFile(id, F.command), encoder.encode(longCommand), {
          createNew: true,
          mode: 0o600,
        });
      }
      // Before the spawn record: whoever starts the task reads it then.
      if (spec.inherited) {
        if (!inherited) throw new TypeError("create: an inheriting task needs its environment");
        Deno.writeFileSync(
          this.#taskFile(id, F.environ),
          formatInherited(inherited),
          {
            createNew: true,
            mode: 0o600,
          },
        );
      }
      this.#writeAtomic(this.#taskFile(id, F.spec), formatSpec(spec));
      Deno.writeFileSync(join(this.#active, id), EMPTY, { append: true, mode: 0o600 });
    });
  }

  async read(id: string): Promise<TaskRecords | undefined> {
    if (!(await this.open("read"))) return undefined;
    return await this.#io("read", async () => {
      try {
        return await this.#read(id);
      } catch (e) {
        // The store itself is not this user's to read: say so, not "damaged".
        if (e instanceof Deno.errors.PermissionDenied) this.#explainDenied(e, "read");
        // A record vanished under us with the task: it was removed meanwhile.
        if (e instanceof Deno.errors.NotFound && this.#exists(this.dir) && !this.#hasSpec(id)) {
          return undefined;
        }
        // Anything else that goes wrong inside one task's folder (a file where
        // the folder should be, a record we may not read) damages that task only.
        if (
          e instanceof StoreError || e instanceof Deno.errors.NotFound || isPermissionError(e)
        ) throw e;
        throw this.#damagedBy(id, e);
      }
    });
  }

  /**
   * The error for a failure inside one task's folder: that task is damaged,
   * not the store; one this user may not read (a chmod) says how to undo it.
   */
  #damagedBy(id: string, e: unknown): DamagedRecordError {
    const fix = e instanceof Deno.errors.PermissionDenied
      ? ` (this user may not read its folder: chmod -R u+rwX "${join(this.#tasks, id)}", or ` +
        `run bgtask as its owner)`
      : "";
    return new DamagedRecordError(id, `Task ${id} is damaged: ${(e as Error).message}${fix}`);
  }

  /**
   * When a scheduler claimed the task's start: the time in its marker, or the
   * marker's own time while it is empty (just made, or a full disk refused
   * the time). Undefined without a marker.
   */
  #launchedAt(id: string): number | undefined {
    const path = this.#taskFile(id, F.launched);
    const text = readOrUndefined(path);
    if (text === undefined) return undefined;
    // "MS[ PID START]": when, and who claimed it (queue.sh, q_launch).
    const when = text.trim().split(/\s+/)[0];
    const l = Number(when);
    if (when !== "" && Number.isSafeInteger(l) && l > 0) return l;
    try {
      return Deno.statSync(path).mtime?.getTime() ?? Date.now();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined; // removed meanwhile
      throw e;
    }
  }

  /** True when the task's file `name` was last written less than `ms` ago. */
  #madeWithin(id: string, name: string, ms: number): boolean {
    try {
      const t = Deno.statSync(this.#taskFile(id, name)).mtime?.getTime();
      return t !== undefined && t > Date.now() - ms;
    } catch {
      return false;
    }
  }

  /** True while the task's spawn record exists (removal deletes it first). */
  #hasSpec(id: string): boolean {
    return this.#exists(this.#taskFile(id, F.spec)) ||
      this.#exists(this.#taskFile(id, F.legacySpec));
  }

  async #read(id: string): Promise<TaskRecords | undefined> {
    let spec: SpawnRecord | undefined;
    const specText = readOrUndefined(this.#taskFile(id, F.spec));
    if (specText !== undefined) {
      spec = parseSpec(specText, () => {
        const path = this.#taskFile(id, F.command);
        const command = readOrUndefined(path);
        if (command !== undefined) return command;
        if (!this.#hasSpec(id)) throw new Deno.errors.NotFound(`"${path}" was removed`);
        throw new DamagedRecordError(
          id,
          `Task ${id} is damaged: its command file "${path}" is missing`,
        );
      });
    } else {
      const legacy = readOrUndefined(this.#taskFile(id, F.legacySpec));
      if (legacy === undefined) return this.#withoutSpec(id);
      spec = parseLegacySpec(legacy);
    }
    if (!spec || spec.id !== id) {
      throw new DamagedRecordError(
        id,
        `Task ${id} is damaged: its spawn record "${this.#taskFile(id, F.spec)}" cannot be read ` +
          `(bgtask cannot remove it: delete its folder, rm -r "${join(this.#tasks, id)}", ` +
          `which also ends whatever of it runs)`,
      );
    }
    // The final record first: `started` is written before it, so a task read
    // with a final record is never missing a start it had.
    const final = await this.#readWritten(
      id,
      F.final,
      parseFinal,
      true,
      // (Made only for the error: every read of a task passes here.)
      () =>
        `it has ended, and its output is intact in "${this.#taskFile(id, F.output)}"; bgtask ` +
        `cannot remove it: delete its folder, rm -r "${join(this.#tasks, id)}"`,
    );
    // Without a final record, a start record that cannot be read is damage,
    // not "not started yet": read so, a running task would be recorded lost.
    const started = await this.#readWritten(
      id,
      F.started,
      parseStarted,
      !final,
      "its processes may still run: kill ends them",
    ).catch((e) => {
      // Unreadable, and just made: a supervisor held up between making it and
      // writing it (a loaded machine). Not started yet, as far as we know.
      if (e instanceof DamagedRecordError && this.#madeWithin(id, F.started, STARTED_SETTLE_MS)) {
        return undefined;
      }
      if (e instanceof DamagedRecordError) e.token = spec.token;
      throw e;
    });
    // Some record was missing: maybe for being removed meanwhile (see below).
    let missing = !final || !started;
    // An ended task is neither paused nor being launched: nothing more to read.
    let paused: PausedRecord | undefined;
    let launchedAt: number | undefined;
    if (!final) {
      const pausedText = readOrUndefined(this.#taskFile(id, F.paused));
      if (pausedText !== undefined) paused = parsePaused(pausedText);
    }
    if (!started && !final) launchedAt = this.#launchedAt(id);
    const ready = !started && !final && spec.after.length > 0 &&
        this.#exists(this.#taskFile(id, F.ready))
      ? true as const
      : undefined;
    // Written before `started`, by the command's wrapper.
    let pty: PtyRecord | undefined;
    if (spec.stdin === "pty" && started) {
      const ptyText = readOrUndefined(this.#taskFile(id, F.pty));
      if (ptyText === undefined) missing = true;
      else pty = parsePty(ptyText);
    }
    // Removal deletes the spawn record before anything else: still there
    // now, so none of the records above was missing for being removed. Gone:
    // the task was removed meanwhile and may have been read half (its final
    // record already deleted): it is no task. (Nothing missing: ids are never
    // reused, so what was read is this task's, whole.)
    if (missing && !this.#hasSpec(id)) return undefined;
    return { spec, started, final, paused, launchedAt, pty, ...(ready && { ready }) };
  }

  /**
   * A task folder without a spawn record: being created right now (unknown
   * yet), gone (unknown), or left by a spawner that died mid-spawn. The last
   * reads as a task that failed without starting, so that it lists, and
   * `remove` and `clean` can delete it; nothing is written for it.
   */
  #withoutSpec(id: string): TaskRecords | undefined {
    // Removed: its tombstone is written before the folder goes, so a folder
    // with one is what a removal cut short left (or one under way), not a
    // task (finishRemovals deletes it).
    if (this.#exists(join(this.#ids, id.slice(1)))) return undefined;
    let made: number;
    try {
      const st = Deno.statSync(join(this.#tasks, id));
      made = st.mtime?.getTime() ?? 0;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      // A store removed from under us is an error that says so, not an unknown task.
      if (!this.#exists(this.dir)) this.#gone(e);
      return undefined;
    }
    if (made > Date.now() - ABANDONED_AFTER_MS) return undefined;
    // A task that ran (its start, end or output is there) whose spawn record
    // went later, by a hand: damaged, not a spawn abandoned before it began
    // (clean would delete it, ending what of it runs).
    if ([F.started, F.final, F.output].some((f) => this.#existsQuietly(this.#taskFile(id, f)))) {
      throw new DamagedRecordError(
        id,
        `Task ${id} is damaged: its spawn record "${this.#taskFile(id, F.spec)}" is missing ` +
          `(bgtask cannot remove it: delete its folder, rm -r "${join(this.#tasks, id)}", ` +
          `which also ends whatever of it runs)`,
      );
    }
    return {
      spec: plainSpec({ id, command: "", createdAt: made, graceMs: 0 }),
      final: {
        status: "failed",
        exitCode: null,
        signal: null,
        error: "lost: its spawner stopped before the task was created (nothing ran)",
        finishedAt: made,
        by: "lost",
      },
    };
  }

  /**
   * Reads a record the supervisor writes with an exclusive create and one
   * write: a reader may catch it empty or short for an instant, so an
   * unparsable record is read again for up to ~200 ms before it counts as damaged.
   */
  async #readWritten<T>(
    id: string,
    name: string,
    parse: (s: string) => T | undefined,
    strict = false,
    hint: string | (() => string) = "",
  ): Promise<T | undefined> {
    const path = this.#taskFile(id, name);
    for (let attempt = 0;; attempt++) {
      const s = readOrUndefined(path);
      if (s === undefined) return undefined;
      const v = parse(s);
      if (v !== undefined) return v;
      if (attempt >= RECORD_SETTLE_TRIES) {
        if (!strict) return undefined;
        throw new DamagedRecordError(
          id,
          `Task ${id} is damaged: "${path}" cannot be read${
            hint ? ` (${typeof hint === "function" ? hint() : hint})` : ""
          }`,
          name === F.started ? "start" : name === F.final ? "final" : undefined,
        );
      }
      await sleep(RECORD_SETTLE_PAUSE_MS);
    }
  }

  async #names(dir: string, keep: (name: string) => boolean): Promise<string[]> {
    return await this.#io("read", async () => {
      const out: string[] = [];
      try {
        for await (const e of Deno.readDir(dir)) if (keep(e.name)) out.push(e.name);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound && this.#exists(this.dir)) return out;
        throw e;
      }
      return out;
    });
  }

  /**
   * Its tombstone `ids/<N>` (written before the folder goes), and what it
   * says; below the line of merged tombstones, an id without a folder.
   */
  async removedAs(id: string): Promise<"removed" | "refused" | undefined> {
    if (!isValidId(id) || !(await this.open("read"))) return undefined;
    return await this.#io("read", () => {
      const said = readOrUndefined(join(this.#ids, id.slice(1)));
      if (said === undefined) {
        const merged = Number(id.slice(1)) < this.#removedBelow() &&
          !this.#exists(join(this.#tasks, id));
        return merged ? "removed" : undefined;
      }
      return said.trim() === REFUSED ? "refused" : "removed";
    });
  }

  /**
   * Tombstones older than `olderThanMs` of ids below `below` go, their ids
   * staying used: the line `removed-below` is raised past the highest of
   * them first (a claim that finds no tombstone looks at the line next: see
   * claimId), then they are deleted. Under a lock on `ids/`, so that two
   * merges never lower the line. Tasks below the line are still read (an id
   * with a folder is no removed one), and one of them removed later gets a
   * tombstone of its own. A tombstone whose folder is still there (a removal
   * cut short, which finishRemovals deletes) stays.
   */
  async mergeRemoved(below: number, olderThanMs: number): Promise<number> {
    if (!(await this.open("read"))) return 0;
    return await this.#io("write to", () => {
      const cutoff = Date.now() - olderThanMs;
      let lock: Deno.FsFile;
      try {
        lock = Deno.openSync(this.#ids, { read: true });
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return 0; // (a folder made by hand, never used)
        throw e;
      }
      try {
        lock.lockSync(true);
        const old: number[] = [];
        let top = 0;
        for (const e of Deno.readDirSync(this.#ids)) {
          if (!TOMBSTONE.test(e.name)) continue;
          const n = Number(e.name);
          if (n >= below) continue;
          let made: number;
          try {
            made = Deno.lstatSync(join(this.#ids, e.name)).mtime?.getTime() ?? Infinity;
          } catch (err) {
            if (err instanceof Deno.errors.NotFound) continue;
            throw err;
          }
          if (made > cutoff || this.#exists(join(this.#tasks, `b${n}`))) continue;
          old.push(n);
          if (n >= top) top = n + 1;
        }
        if (old.length === 0) return 0;
        if (top > this.#removedBelow()) this.#writeAtomic(this.#below, `${top}\n`);
        for (const n of old) this.#unlink(join(this.#ids, String(n)));
        return old.length;
      } finally {
        lock.close();
      }
    });
  }

  /** The line below which every id without a folder was removed (1: none merged yet). */
  #removedBelow(): number {
    const s = readOrUndefined(this.#below);
    const n = Number(s?.trim());
    return s !== undefined && Number.isSafeInteger(n) && n > 0 ? n : 1;
  }

  async ids(): Promise<string[]> {
    if (!(await this.open("read"))) return [];
    const ids = await this.#names(this.#tasks, isValidId);
    return ids.sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  }

  async activeIds(): Promise<string[]> {
    if (!(await this.open("read"))) return [];
    return await this.#names(this.#active, isValidId);
  }

  async deactivate(id: string): Promise<void> {
    await this.#io("write to", () => {
      // What it kept for its start only goes with it: a waiting task's
      // recorded environment, which a supervisor of an older bgtask (one
      // that knew no such record) neither read nor emptied.
      this.#emptyEnviron(id);
      this.#unlink(join(this.#active, id));
    });
  }

  /** Empties a task's recorded environment, if it has one (see `environ`). */
  #emptyEnviron(id: string): void {
    try {
      Deno.truncateSync(this.#taskFile(id, F.environ));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  /**
   * Writes `id`'s tombstone, with `word` in it when there is room. A full
   * disk must not keep a task from being removed (which frees room): then
   * an empty tombstone (an inode, no block), else, with no inode left
   * either, the task's spawn record renamed into its place (neither). A word
   * lost so reads as "removed" (a task run after it counts it not completed).
   */
  #writeTombstone(id: string, word: string | undefined): void {
    const tombstone = join(this.#ids, id.slice(1));
    const empty = () => Deno.writeFileSync(tombstone, EMPTY, { append: true, mode: 0o600 });
    try {
      if (word === undefined) empty();
      else this.#writeAtomic(tombstone, `${word}\n`);
      return;
    } catch (e) {
      if (!isNoSpace(e)) throw e;
    }
    try {
      empty();
    } catch (e) {
      if (!isNoSpace(e)) throw e;
      try {
        Deno.renameSync(this.#taskFile(id, F.spec), tombstone);
      } catch {
        throw e; // (no spawn record to rename: the disk's own error)
      }
    }
  }

  #unlink(path: string): void {
    try {
      Deno.removeSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  async commitFinal(id: string, record: FinalRecord): Promise<boolean> {
    const won = await this.#io("write to", () => {
      if (!this.#createExclusive(this.#taskFile(id, F.final), formatFinal(record))) return false;
      // A waiting task that ended unstarted (killed, lost): its spawner's
      // environment leaves the disk (a task that started emptied it then).
      this.#emptyEnviron(id);
      return true;
    });
    if (won) await this.announce(id);
    return won;
  }

  async claimLaunch(id: string): Promise<boolean> {
    return await this.#io("write to", () => {
      try {
        // As the scheduler's claim (queue.sh, q_launch): the marker, then when.
        Deno.writeFileSync(this.#taskFile(id, F.launched), encoder.encode(`${Date.now()}\n`), {
          createNew: true,
          mode: 0o600,
        });
        return true;
      } catch (e) {
        if (e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotFound) {
          return false;
        }
        throw e;
      }
    });
  }

  async announce(id: string): Promise<void> {
    await this.#io("write to", () => {
      Deno.writeFileSync(this.#log, encoder.encode(`${id}\n`), { append: true, mode: 0o600 });
    });
  }

  /** Its active marker is not empty: the supervisor wrote a byte to it once it had told the log. */
  async announced(id: string): Promise<boolean> {
    return await this.#io("read", () => {
      try {
        return Deno.statSync(join(this.#active, id)).size > 0;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return false;
        throw e;
      }
    });
  }

  async endNote(id: string, pid: number): Promise<EndNote | undefined> {
    return await this.#io("read", () => {
      const path = this.#taskFile(id, F.notes);
      let text: string;
      let at: number;
      try {
        text = Deno.readTextFileSync(path);
        at = Deno.statSync(path).mtime?.getTime() ?? Date.now();
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
      // bash's `jobs -l` lines (supervisor.sh): "[2]+ 4242 Done …", "[2]+ 4242 Exit 3 …";
      // the last one about the task's shell says how it stands.
      const line = new RegExp(`^\\[\\d+\\][-+ ]* ${pid} (\\S+)(?: +(\\S+))?`);
      let note: string[] | undefined;
      for (const l of text.split("\n")) {
        const m = line.exec(l);
        if (m) note = [m[1], m[2] ?? ""];
      }
      if (note?.[0] === "Done") return { exitCode: 0, at };
      if (note?.[0] === "Exit" && /^\d+$/.test(note[1])) return { exitCode: Number(note[1]), at };
      return undefined;
    });
  }

  async killRequested(id: string): Promise<boolean> {
    return await this.#io("read", () => this.#exists(this.#taskFile(id, F.kill)));
  }

  async requestKill(id: string, graceMs: number, delegate = false): Promise<void> {
    const path = this.#taskFile(id, F.kill);
    const request = `${graceMs}${delegate ? " watchdog" : ""}\n`;
    await this.#io("write to", () => {
      try {
        Deno.writeFileSync(path, encoder.encode(request), { createNew: true, mode: 0o600 });
      } catch (e) {
        if (e instanceof Deno.errors.AlreadyExists) {
          // Asked already. A shorter grace now is what the tree gets (this
          // asker's SIGKILL comes sooner): the request says so, for the
          // supervisor's record and its own deadline.
          const m = /^(\d+)( watchdog)?/.exec(readOrUndefined(path) ?? "");
          if (m && graceMs < Number(m[1])) {
            this.#writeAtomic(path, `${graceMs}${m[2] || delegate ? " watchdog" : ""}\n`);
          }
          return;
        }
        // Made, but a full disk refused the grace in it: the request stands
        // (the supervisor reads the default grace), so the kill goes on.
        if (this.#exists(path)) return;
        throw e;
      }
    });
  }

  async writePaused(id: string, record: PausedRecord): Promise<void> {
    await this.#io(
      "write to",
      () => this.#writeAtomic(this.#taskFile(id, F.paused), formatPaused(record)),
    );
  }

  /**
   * Writes the tombstone first (so the id is never issued again), then
   * deletes the spawn record (so that readers see the task as gone, never
   * half: see `#read`), then the folder. Two removals at once both succeed.
   */
  async remove(id: string, refused = false): Promise<void> {
    await this.#io("write to", async () => {
      // The tombstone keeps how the task ended: a task spawned to run after
      // it while it was being removed still runs after a completed one.
      const ended = parseFinal(readOrUndefined(this.#taskFile(id, F.final)) ?? "");
      this.#writeTombstone(id, refused ? REFUSED : ended?.status);
      await this.#deleteRemoved(id);
    });
  }

  /**
   * The part of a removal after its tombstone: the spawn record first (so
   * that readers see the task as gone, never half), then the folder, its
   * active marker and its dependents' folder. Again is harmless.
   */
  async #deleteRemoved(id: string): Promise<void> {
    this.#unlink(this.#taskFile(id, F.spec));
    this.#unlink(this.#taskFile(id, F.legacySpec));
    for (let attempt = 0;; attempt++) {
      try {
        await Deno.remove(join(this.#tasks, id), { recursive: true });
        break;
      } catch (e) {
        // Another remover deleted part of it first (NotFound), or a file was
        // made in it meanwhile (a supervisor's last note): done once the folder is gone.
        const raced = e instanceof Deno.errors.NotFound ||
          (e instanceof Error && /not empty|os error 39\b/i.test(e.message));
        if (!raced) throw e;
        if (!this.#exists(join(this.#tasks, id))) break;
        if (attempt >= 5) throw e;
      }
    }
    this.#unlink(join(this.#active, id));
    // Who ran after it: resolved when it ended (or, if that was missed, by
    // the next look at them, which finds it gone).
    try {
      Deno.removeSync(join(this.#deps, id), { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  async finishRemovals(ids?: string[]): Promise<string[]> {
    if (!(await this.open("read"))) return [];
    const folders = ids?.filter(isValidId) ?? await this.#names(this.#tasks, isValidId);
    // A folder with a tombstone and no spawn record (with one, the task
    // still reads whole: removing it again finishes it).
    const left = folders.filter((id) =>
      this.#exists(join(this.#ids, id.slice(1))) && this.#exists(join(this.#tasks, id)) &&
      !this.#hasSpec(id)
    );
    for (const id of left) await this.#io("write to", () => this.#deleteRemoved(id));
    return left;
  }

  // ---- output ----

  outputPath(id: string): string {
    return this.#taskFile(id, F.output);
  }

  async outputSize(id: string): Promise<number> {
    return await this.#io("read", () => {
      try {
        return Deno.statSync(this.outputPath(id)).size;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return 0;
        throw e;
      }
    });
  }

  async readOutput(
    id: string,
    offset: number,
    maxBytes: number,
  ): Promise<{ bytes: Uint8Array; eof: boolean }> {
    return await this.#io(
      "read",
      () => readRange(this.outputPath(id), offset, maxBytes),
      `the output of task ${id}`,
    );
  }

  // ---- stdin ----

  inputPath(id: string): string {
    return this.#taskFile(id, F.stdin);
  }

  async lockInput(id: string): Promise<() => void> {
    const file = await this.#openInputLock(id);
    try {
      await file.lock(true);
    } catch (e) {
      file.close();
      throw e;
    }
    return unlockAndClose(file);
  }

  async tryLockInput(id: string): Promise<(() => void) | undefined> {
    const file = await this.#openInputLock(id);
    let got: boolean;
    try {
      got = await file.tryLock(true);
    } catch (e) {
      file.close();
      throw e;
    }
    if (got) return unlockAndClose(file);
    file.close();
    return undefined;
  }

  async #openInputLock(id: string): Promise<Deno.FsFile> {
    return await this.#io(
      "write to",
      () =>
        Deno.open(this.#taskFile(id, F.stdinLock), {
          read: true,
          write: true,
          create: true,
          mode: 0o600,
        }),
      `the stdin of task ${id}`,
    );
  }

  async inputState(id: string): Promise<InputState> {
    return await this.#io("read", () => {
      const holder = HOLDER_RECORD.exec(
        readOrUndefined(this.#taskFile(id, F.stdinHolder)) ?? "",
      );
      return {
        closed: this.#exists(this.#taskFile(id, F.stdinClose)),
        midLine: this.#exists(this.#taskFile(id, F.stdinMidline)),
        holder: holder ? { pid: Number(holder[1]), start: holder[2] } : undefined,
      };
    }, `the stdin of task ${id}`);
  }

  async setInputState(id: string, change: { closed?: true; midLine?: boolean }): Promise<void> {
    await this.#io("write to", () => {
      if (change.midLine === true) {
        Deno.writeFileSync(this.#taskFile(id, F.stdinMidline), EMPTY, {
          append: true,
          mode: 0o600,
        });
      } else if (change.midLine === false) {
        this.#unlink(this.#taskFile(id, F.stdinMidline));
      }
      if (change.closed) {
        Deno.writeFileSync(this.#taskFile(id, F.stdinClose), EMPTY, { append: true, mode: 0o600 });
      }
    }, `the stdin of task ${id}`);
  }

  // ---- completions ----

  #consumerDir(name: string): string {
    if (!CONSUMER.test(name)) throw new TypeError(`Invalid consumer name ${JSON.stringify(name)}`);
    return join(this.#consumers, name);
  }

  async openConsumer(name: string, fromStart: boolean): Promise<void> {
    const dir = this.#consumerDir(name);
    await this.open("write");
    await this.#io("write to", async () => {
      try {
        await Deno.mkdir(dir, { mode: 0o700 });
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
    });
    const registered = () => this.#io("read", () => this.#exists(join(dir, "cursor")));
    if (await registered()) {
      // Used now: its cursor's time says so (see consumers).
      await this.#io("write to", () => {
        const now = new Date();
        Deno.utimeSync(join(dir, "cursor"), now, now);
      });
      return;
    }
    await this.withConsumer(name, async () => {
      if (await registered()) return;
      const start = fromStart ? 0 : (await this.#logSize());
      // Before the cursor, whose presence says the consumer is registered.
      const since = fromStart ? 0 : Date.now();
      await this.#io("write to", () => this.#writeAtomic(join(dir, "since"), `${since}\n`));
      await this.writeCursor(name, start);
    });
  }

  async consumers(): Promise<{ name: string; lastUse: number }[]> {
    return await this.#io("read", () => {
      const out: { name: string; lastUse: number }[] = [];
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(this.#consumers)];
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return out;
        throw e;
      }
      for (const e of entries) {
        if (!CONSUMER.test(e.name)) continue;
        try {
          const st = Deno.statSync(join(this.#consumers, e.name, "cursor"));
          out.push({ name: e.name, lastUse: st.mtime?.getTime() ?? 0 });
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err; // not registered (yet)
        }
      }
      return out.sort((a, b) => a.name < b.name ? -1 : 1);
    });
  }

  async removeConsumer(name: string): Promise<boolean> {
    const dir = this.#consumerDir(name);
    if (!(await this.open("read"))) return false;
    return await this.#io("write to", async () => {
      // Out of sight first (a dot name is no consumer's), then deleted.
      const gone = join(this.#consumers, `.removed-${name}-${crypto.randomUUID()}`);
      try {
        Deno.renameSync(dir, gone);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return false;
        throw e;
      }
      await Deno.remove(gone, { recursive: true });
      // Its claims on the tasks still here go with it (a file each).
      for (const id of await this.#names(this.#tasks, isValidId)) {
        this.#unlink(this.#taskFile(id, `${F.delivered}.${name}`));
      }
      return true;
    });
  }

  async consumerSince(name: string): Promise<number> {
    const s = await this.#io("read", () => readOrUndefined(join(this.#consumerDir(name), "since")));
    const n = Number(s?.trim());
    return s !== undefined && Number.isSafeInteger(n) && n > 0 ? n : 0;
  }

  async #logSize(): Promise<number> {
    return await this.#io("read", () => {
      try {
        return Deno.statSync(this.#log).size;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return 0;
        throw e;
      }
    });
  }

  async withConsumer<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const path = join(this.#consumerDir(name), "lock");
    const file = await this.#io(
      "write to",
      () => Deno.open(path, { read: true, write: true, create: true, mode: 0o600 }),
    );
    try {
      await file.lock(true);
      return await fn();
    } finally {
      file.close(); // closing releases the lock
    }
  }

  async readCursor(name: string): Promise<number | undefined> {
    const s = await this.#io(
      "read",
      () => readOrUndefined(join(this.#consumerDir(name), "cursor")),
    );
    if (s === undefined) return undefined;
    const n = Number(s.trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }

  async writeCursor(name: string, offset: number): Promise<void> {
    const path = join(this.#consumerDir(name), "cursor");
    await this.#io("write to", () => this.#writeAtomic(path, `${offset}\n`));
  }

  async readLog(offset: number): Promise<LogSlice> {
    return await this.#io("read", async () => {
      // An offset past 0 is the end of an entry: the byte before it is a line
      // end, unless the log was truncated or replaced since (by hand: bgtask
      // only appends). Then its reader must start over, or it would wait for
      // the log to grow past where it was, and skip what was appended.
      const from = offset > 0 ? offset - 1 : 0;
      const read = await readRange(this.#log, from, LOG_READ_LIMIT + offset - from);
      if (offset > 0 && read.bytes[0] !== 0x0a) return { entries: [], end: 0, restart: true };
      const bytes = read.bytes.subarray(offset - from);
      const entries: { id: string; end: number }[] = [];
      // Positions in bytes (a stray line may hold any bytes): the cursor is a byte offset.
      let pos = 0;
      for (;;) {
        const nl = bytes.indexOf(0x0a, pos);
        if (nl < 0) break;
        const id = text(bytes.subarray(pos, nl));
        pos = nl + 1;
        if (isValidId(id)) entries.push({ id, end: offset + pos });
      }
      // A whole window without a line end is no entry (ids are short): on to
      // the end of that line (the cursor always stays at the end of a line).
      if (pos === 0 && bytes.length === LOG_READ_LIMIT) {
        return { entries, end: await this.#pastLine(offset + bytes.length, offset) };
      }
      return { entries, end: offset + pos };
    });
  }

  /** Just past the next line end of the log from `at`; `none` when there is none yet. */
  async #pastLine(at: number, none: number): Promise<number> {
    for (;;) {
      const { bytes, eof } = await readRange(this.#log, at, LOG_READ_LIMIT);
      const nl = bytes.indexOf(0x0a);
      if (nl >= 0) return at + nl + 1;
      if (eof || bytes.length === 0) return none;
      at += bytes.length;
    }
  }

  async readClaim(id: string, consumer: string): Promise<ClaimState> {
    const path = this.#taskFile(id, `${F.delivered}.${consumer}`);
    const s = await this.#io("read", () => {
      try {
        return readOrUndefined(path);
      } catch (e) {
        // A file where the task's folder should be (or a folder where the
        // claim should be): that task is damaged, not the store. Anything
        // else (too many open files, an I/O error) may pass: it is thrown.
        // One this user may not read (its folder's mode changed, the store's own
        // being fine) is damaged too: the rest of the store still drains.
        const denied = e instanceof Deno.errors.PermissionDenied && this.#storeReadable();
        if (
          !(e instanceof Deno.errors.NotADirectory || e instanceof Deno.errors.IsADirectory ||
            denied)
        ) throw e;
        throw this.#damagedBy(id, e);
      }
    });
    return s === undefined ? { state: "none" } : parseClaim(s);
  }

  async claims(id: string): Promise<Map<string, ClaimState>> {
    return await this.#io("read", () => {
      const out = new Map<string, ClaimState>();
      const prefix = `${F.delivered}.`;
      let names: string[];
      try {
        names = [...Deno.readDirSync(join(this.#tasks, id))].map((e) => e.name);
      } catch (e) {
        // Removed, or damaged (a file where its folder should be, a folder
        // this user may not read): no claim to tell (readClaim says which).
        if (
          e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory ||
          e instanceof Deno.errors.PermissionDenied
        ) return out;
        throw e;
      }
      for (const name of names) {
        const consumer = name.slice(prefix.length);
        if (!name.startsWith(prefix) || !CONSUMER.test(consumer)) continue;
        let s: string | undefined;
        try {
          s = readOrUndefined(join(this.#tasks, id, name));
        } catch {
          continue; // (not a file: readClaim says the task is damaged)
        }
        if (s !== undefined) out.set(consumer, parseClaim(s));
      }
      return out;
    });
  }

  async claimCompletion(
    id: string,
    consumer: string,
    expect: ClaimState["state"],
    next: ClaimState,
  ): Promise<boolean> {
    this.#consumerDir(consumer);
    const path = this.#taskFile(id, `${F.delivered}.${consumer}`);
    // Done is an empty file: an inode, no disk block (a word in it took a
    // 4 KiB block a task a consumer for good). (Read as done by every bgtask:
    // anything but a pending claim is.)
    const data = next.state === "pending" ? `pending ${next.pid} ${next.start}\n` : "";
    return await this.#io("write to", () => {
      try {
        if (expect === "none") return this.#createExclusive(path, data);
        const current = readOrUndefined(path);
        if (current === undefined) return false;
        const isPending = current.startsWith("pending ");
        if ((expect === "pending") !== isPending) return false;
        if (next.state === "none") this.#unlink(path);
        else this.#writeAtomic(path, data);
        return true;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return false; // the task was removed meanwhile
        throw e;
      }
    });
  }

  // ---- queues and dependencies ----

  #queueDir(name: string): string {
    if (!CONSUMER.test(name)) throw new TypeError(`Invalid queue name ${JSON.stringify(name)}`);
    return join(this.#queues, name);
  }

  async queueNames(): Promise<string[]> {
    if (!(await this.open("read"))) return [];
    return (await this.#names(this.#queues, (n) => CONSUMER.test(n))).sort();
  }

  async readQueue(name: string): Promise<QueueConf | undefined> {
    const s = await this.#io("read", () => readOrUndefined(join(this.#queueDir(name), "conf")));
    const m = s === undefined ? null : /^(\d+) ([01])\n$/.exec(s);
    if (m) return { parallel: Number(m[1]), paused: m[2] === "1" };
    const exists = await this.#io("read", () => this.#exists(this.#queueDir(name)));
    return exists ? { parallel: 1, paused: false } : undefined;
  }

  async writeQueue(name: string, change: Partial<QueueConf>): Promise<QueueConf> {
    const dir = this.#queueDir(name);
    // Under the queue's lock: never into a queue being removed, and what is
    // not changed is read there (a change made meanwhile is kept).
    return await this.withQueue(name, async () => {
      const conf = { parallel: 1, paused: false, ...await this.readQueue(name), ...change };
      await this.#io("write to", () => {
        this.#writeAtomic(join(dir, "conf"), `${conf.parallel} ${conf.paused ? 1 : 0}\n`);
      });
      return conf;
    });
  }

  async withQueue<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const dir = this.#queueDir(name);
    const path = join(dir, "lock");
    await this.open("write");
    for (let round = 1;; round++) {
      if (round > QUEUE_LOCK_ROUNDS) {
        throw new StoreError(
          `Cannot lock queue "${name}": its lock "${path}" was replaced ${QUEUE_LOCK_ROUNDS} ` +
            `times while we waited for it (is the queue being removed again and again?)`,
        );
      }
      const file = await this.#io("write to", async () => {
        for (let tries = 1;; tries++) {
          try {
            Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
            return await Deno.open(path, { read: true, append: true, create: true, mode: 0o600 });
          } catch (e) {
            // Removed as we made or opened it (see removeQueue): again. (A
            // file where its folder should be fails the same way every time.)
            const raced = e instanceof Deno.errors.NotFound ||
              e instanceof Deno.errors.AlreadyExists;
            if (!raced || tries >= QUEUE_RACE_TRIES) throw e;
          }
        }
      });
      try {
        await file.lock(true);
        // Removed while we waited (removeQueue deletes the folder under this
        // lock): the file we hold is no longer the queue's lock.
        if (await this.#io("read", () => this.#isFile(file, path))) return await fn();
      } finally {
        file.close(); // closing releases the lock
      }
    }
  }

  /** True while `path` is the very file `file` has open. */
  #isFile(file: Deno.FsFile, path: string): boolean {
    let ino: number | null;
    try {
      ino = file.statSync().ino;
    } catch (e) {
      // Deno checks the stat of an open file against the file's real path,
      // which is outside the permission in a store reached through a
      // symlink. Then: not a lock that removeQueue retired, and still there.
      if (!(e instanceof Deno.errors.NotCapable)) throw e;
      const head = new Uint8Array(QUEUE_RETIRED.length);
      file.seekSync(0, Deno.SeekMode.Start);
      const n = file.readSync(head) ?? 0;
      return text(head.subarray(0, n)) !== QUEUE_RETIRED && this.#exists(path);
    }
    try {
      return Deno.statSync(path).ino === ino;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  async removeQueue(name: string): Promise<void> {
    const dir = this.#queueDir(name);
    // Out of the way at once (a rename), then deleted: whoever opens the
    // queue's files by name meanwhile finds none, rather than making a file
    // in a folder being deleted. (The dot keeps it out of queueNames.)
    const tomb = `.${name}.removed-${crypto.randomUUID()}`;
    await this.#io("write to", () => {
      try {
        Deno.renameSync(dir, join(this.#queues, tomb));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return;
        throw e;
      }
      // The lock (our caller holds it: nobody waiting has looked yet) says
      // it is retired, for whoever cannot tell its file from the path's.
      try {
        Deno.writeFileSync(join(this.#queues, tomb, "lock"), encoder.encode(QUEUE_RETIRED), {
          append: true,
        });
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      // A process that was opening the lock as the folder moved can still
      // make one in it (the rename came between its look-up of the folder
      // and of the file): deleting again removes that. Anything left (hidden,
      // and nobody's) goes with the next removal.
      for (const old of Deno.readDirSync(this.#queues)) {
        if (!/^\..+\.removed-/.test(old.name)) continue;
        const tries = old.name === tomb ? QUEUE_RACE_TRIES : 1;
        for (let n = 1; n <= tries; n++) {
          try {
            Deno.removeSync(join(this.#queues, old.name), { recursive: true });
            break;
          } catch {
            // not empty yet (see above), or gone already
          }
        }
      }
    });
  }

  async enqueue(name: string, id: string): Promise<void> {
    const path = join(this.#queueDir(name), "list");
    await this.#io("write to", () => {
      Deno.writeFileSync(path, encoder.encode(`${id}\n`), { append: true, mode: 0o600 });
    });
  }

  /**
   * A queue's files as they are: the ids holding its slots, the entries of
   * its line (split at newlines: the last is what follows the last one), and
   * its head (how many entries were taken).
   */
  #queueFiles(name: string): { holders: string[]; entries: string[]; head: number } {
    const dir = this.#queueDir(name);
    const holders = this.#slotEntries(dir).map(slotId);
    const entries = (readOrUndefined(join(dir, "list")) ?? "").split("\n");
    const head = Number(readOrUndefined(join(dir, "head"))?.trim() ?? 0);
    return { holders, entries, head };
  }

  async queueState(name: string): Promise<QueueState> {
    return await this.#io("read", () => {
      const q = this.#queueFiles(name);
      const running = q.holders.filter((id) => this.#holds(id));
      return { running: running.length, waiting: q.entries.length - 1 > q.head };
    });
  }

  /** The entries of a queue's `running` ("ID@LAUNCH_MS"), those that name a task. */
  #slotEntries(dir: string): string[] {
    return (readOrUndefined(join(dir, "running")) ?? "").split(/\s+/)
      .filter((e) => isValidId(slotId(e)));
  }

  /**
   * Whether a task named in a queue's `running` still holds its slot: it has
   * not ended, and was not removed. (A task that ends frees its slot by its
   * final record alone: its supervisor takes the queue's lock to drop its
   * entry only when someone waits in line; see queue.sh.)
   */
  #holds(id: string): boolean {
    return this.#exists(join(this.#tasks, id)) && !this.#exists(this.#taskFile(id, F.final));
  }

  async queueMembers(name: string): Promise<Set<string>> {
    return await this.#io("read", () => {
      const q = this.#queueFiles(name);
      const from = Number.isSafeInteger(q.head) && q.head > 0 ? q.head : 0;
      return new Set([...q.holders, ...q.entries.slice(from).filter(isValidId)]);
    });
  }

  async queueLine(name: string): Promise<string[]> {
    if (!(await this.open("read"))) return [];
    return await this.#io("read", () => {
      const q = this.#queueFiles(name);
      const from = Number.isSafeInteger(q.head) && q.head > 0 ? q.head : 0;
      const ids = new Set(q.entries.slice(from).filter(isValidId));
      return [...ids].filter((id) => this.#waits(id));
    });
  }

  /** Whether a task in a queue's line still waits there: not launched, not ended, not removed. */
  #waits(id: string): boolean {
    return this.#exists(join(this.#tasks, id)) && !this.#exists(this.#taskFile(id, F.launched)) &&
      !this.#exists(this.#taskFile(id, F.final));
  }

  async takeSlot(name: string, id: string): Promise<void> {
    const dir = this.#queueDir(name);
    await this.#io("write to", () => {
      const now = Date.now();
      Deno.writeFileSync(this.#taskFile(id, F.launched), encoder.encode(`${now}\n`), {
        createNew: true,
        mode: 0o600,
      });
      // Appended, as the scheduler does (queue.sh, q_schedule): never
      // rewritten in place, where a kill between the truncation and the
      // write would forget the running tasks. Once many entries are of tasks
      // that ended (nobody else may have dropped them: see #holds), it is
      // replaced whole.
      const path = join(dir, "running");
      const entries = this.#slotEntries(dir);
      const held = entries.filter((e) => this.#holds(slotId(e)));
      const entry = `${id}@${now}`;
      if (entries.length > held.length + RUNNING_SLACK) {
        this.#writeAtomic(path, [...held, entry].join("\n") + "\n");
      } else {
        Deno.writeFileSync(path, encoder.encode(`${entry}\n`), { append: true, mode: 0o600 });
      }
    });
  }

  async addDependent(dep: string, id: string): Promise<void> {
    await this.#io("write to", () => {
      const dir = join(this.#deps, dep);
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
      Deno.writeFileSync(join(dir, id), EMPTY, { append: true, mode: 0o600 });
    });
  }

  async hasDependents(id: string): Promise<boolean> {
    return await this.#io("read", () => this.#exists(join(this.#deps, id)));
  }

  // ---- the supervisor's view ----

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
      F_TASKS: "tasks",
      F_IDS: "ids",
      F_QUEUES: "queues",
      F_DEPS: "deps",
      F_ACTIVE: "active",
      F_LOG: "completions.log",
    };
    return Object.entries(names).map(([k, v]) => `${k}=${bashQuote(v)}`).join("\n") + "\n";
  }
}
