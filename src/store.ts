/**
 * The on-disk task store: its layout, id claims, atomic records and the
 * exclusive claims that make "first final state wins" and "delivered exactly
 * once" hold across processes.
 *
 * ```
 * <store>/                 0700, refused if a symlink, another user's, or group/other-writable
 *   ids/<N>                tombstones of removed tasks (never deleted: ids are never reused)
 *   next                   a hint: the highest id number issued (may lag; claims walk up)
 *   tasks/b<N>/            0700, one folder per task
 *     task.json            the spawn record (written by Deno: temp file, then rename)
 *     started              pids and start times, cwd (written once by the supervisor)
 *     output               stdout and stderr, interleaved, 0600
 *     final.json           the final record: created exclusively, so the first writer wins
 *     delivered            created exclusively by whoever delivers the completion
 *     jobs                 the supervisor's notes on how the shell ended
 *     command.sh           only for commands too long to pass as one argument
 *   active/b<N>            tasks that may still be running (pruned lazily)
 *   events/b<N>            finished tasks not yet delivered (what completions watch)
 * ```
 *
 * @module
 */

import { join, resolve } from "node:path";
import { StoreError } from "./errors.ts";
import { isPermissionError, permissionFlags, rethrowPermission } from "./permissions.ts";
import type { TaskStatus } from "./types.ts";

/** The spawn record, `task.json`. */
export interface SpawnRecord {
  v: 1;
  id: string;
  command: string;
  description: string;
  cwd: string | null;
  createdAt: number;
  timeoutMs: number;
  maxOutputBytes: number;
  graceMs: number;
}

/** What the supervisor writes once the task runs, `started`. */
export interface StartedRecord {
  supervisorPid: number;
  supervisorStart: string;
  taskPid: number;
  taskStart: string;
  startedAt: number;
  cwd: string;
}

/** The final record, `final.json`. */
export interface FinalRecord {
  status: Exclude<TaskStatus, "running">;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  finishedAt: number;
  /** Who wrote it: exit, signal, timeout, cap, kill, lost. */
  by: string;
}

/** Everything the store holds about one task, before interpretation. */
export interface RawTask {
  spec: SpawnRecord;
  started?: StartedRecord;
  final?: FinalRecord;
}

/**
 * A task's record is damaged (the rest of the store is fine). Callers see a
 * StoreError naming the task; bgtask itself tells it from store-wide failures
 * by its class rather than by its message.
 */
export class DamagedRecordError extends StoreError {
  /** The damaged task. */
  readonly id: string;
  /**
   * Creates the error for a task.
   *
   * @param id The damaged task.
   * @param message What is damaged, naming the file.
   */
  constructor(id: string, message: string) {
    super(message);
    this.id = id;
  }
}

const EMPTY = new Uint8Array();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Short pause used only while a just-created record is being written. */
function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The task store in one folder. */
export class Store {
  /** The absolute store folder. */
  readonly dir: string;
  /** Where task folders live. */
  readonly tasksDir: string;
  /** Where finished-but-undelivered markers live. */
  readonly eventsDir: string;
  /** Where possibly-running markers live. */
  readonly activeDir: string;
  readonly #idsDir: string;
  readonly #hintFile: string;
  #ready?: Promise<void>;

  /** @param dir The store folder (need not exist yet). */
  constructor(dir: string) {
    this.dir = resolve(dir);
    this.tasksDir = join(this.dir, "tasks");
    this.eventsDir = join(this.dir, "events");
    this.activeDir = join(this.dir, "active");
    this.#idsDir = join(this.dir, "ids");
    this.#hintFile = join(this.dir, "next");
  }

  /** A task's folder. The id must already be validated. */
  taskDir(id: string): string {
    return join(this.tasksDir, id);
  }

  /** A file in a task's folder. */
  taskFile(id: string, name: string): string {
    return join(this.tasksDir, id, name);
  }

  /**
   * Creates the store if needed and checks it is safe to use: a real folder
   * (not a symlink), owned by us, not writable by group or others. Runs once
   * per Store; a failure is not cached, so a later call tries again.
   */
  ready(): Promise<void> {
    this.#ready ??= this.#init().catch((e) => {
      this.#ready = undefined;
      throw e;
    });
    return this.#ready;
  }

  async #init(): Promise<void> {
    const dir = this.dir;
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) this.#fail(e, "create");
    }
    let st: Deno.FileInfo;
    try {
      st = await Deno.lstat(dir);
    } catch (e) {
      this.#fail(e, "open");
    }
    if (st.isSymlink) {
      throw new StoreError(
        `Store "${dir}" is a symlink; refusing to use it (set BGTASK_DIR to the real folder)`,
      );
    }
    if (!st.isDirectory) throw new StoreError(`Store "${dir}" is not a folder`);
    if (st.mode !== null && (st.mode & 0o022) !== 0) {
      throw new StoreError(
        `Store "${dir}" is writable by group or others (mode ${
          (st.mode & 0o777).toString(8)
        }); run: chmod 700 "${dir}"`,
      );
    }
    // Ownership without --allow-sys: a file we create is ours; compare owners
    // (before anything else is created in a folder that may be someone else's).
    const probe = join(dir, `.probe-${crypto.randomUUID()}`);
    try {
      await Deno.writeFile(probe, EMPTY, { createNew: true, mode: 0o600 });
      const mine = await Deno.lstat(probe);
      if (st.uid !== null && mine.uid !== null && mine.uid !== st.uid) {
        throw new StoreError(
          `Store "${dir}" is owned by another user (uid ${st.uid}, we are ${mine.uid})`,
        );
      }
    } catch (e) {
      if (e instanceof StoreError) throw e;
      this.#fail(e, "write to");
    } finally {
      await Deno.remove(probe).catch(() => {});
    }
    for (const sub of [this.tasksDir, this.eventsDir, this.activeDir, this.#idsDir]) {
      try {
        await Deno.mkdir(sub, { mode: 0o700 });
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) this.#fail(e, "create");
      }
    }
  }

  /** Maps a filesystem error on the store to a StoreError or a permission hint. */
  #fail(e: unknown, action: string): never {
    if (isPermissionError(e)) {
      rethrowPermission(
        e,
        `Cannot ${action} the bgtask store "${this.dir}"`,
        permissionFlags(this.dir),
      );
    }
    if (e instanceof Deno.errors.NotFound) {
      throw new StoreError(`Store "${this.dir}" does not exist (was it removed?)`, { cause: e });
    }
    throw new StoreError(
      `Cannot ${action} the bgtask store "${this.dir}": ${(e as Error).message}`,
      { cause: e },
    );
  }

  /** Wraps store I/O so that errors name the store and the flag to add. */
  async io<T>(action: string, fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof StoreError || e instanceof TypeError) throw e;
      if (
        e instanceof Deno.errors.NotCapable &&
        (e as Error).message.includes("run again with --allow")
      ) {
        throw e;
      }
      this.#fail(e, action);
    }
  }

  /**
   * Claims a new id. `mkdir tasks/b<N>` fails if another process took N, so
   * two processes never get the same N. A removed task leaves a tombstone
   * `ids/<N>` (written before its folder is deleted), and a claim that finds
   * one gives the folder back and moves on, so N is never issued again.
   */
  async claimId(): Promise<string> {
    await this.ready();
    return await this.io("write to", () => {
      let n = this.#readHint() + 1;
      for (;; n++) {
        const dir = this.taskDir(`b${n}`);
        try {
          Deno.mkdirSync(dir, { mode: 0o700 });
        } catch (e) {
          if (e instanceof Deno.errors.AlreadyExists) continue;
          throw e;
        }
        if (!this.exists(join(this.#idsDir, String(n)))) break;
        Deno.removeSync(dir); // a removed task's id: never again
      }
      // The hint is overwritten in place (no new inode: creating files is what
      // costs on most disks). A reader that catches it half-written, or a racing
      // writer that leaves it lower, only makes the next claim walk or scan.
      Deno.writeFileSync(this.#hintFile, encoder.encode(`${n}\n`), { mode: 0o600 });
      return `b${n}`;
    });
  }

  #readHint(): number {
    try {
      const n = Number(Deno.readTextFileSync(this.#hintFile).trim());
      if (Number.isSafeInteger(n) && n > 0) return n;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    // No usable hint: the highest id on disk, live or removed.
    let max = 0;
    for (const dir of [this.tasksDir, this.#idsDir]) {
      for (const e of Deno.readDirSync(dir)) {
        const n = Number(e.name.replace(/^b/, ""));
        if (Number.isSafeInteger(n) && n > max) max = n;
      }
    }
    return max;
  }

  /*
   * The record operations below are synchronous: they touch a few bytes, and
   * a sync call costs microseconds where an async one waits for a thread-pool
   * round trip (measured: spawn overhead fell by ~3 ms).
   */

  /** Writes a whole file so readers see the old content or the new, never half: temp + rename. */
  writeAtomic(path: string, text: string): void {
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    try {
      Deno.writeFileSync(tmp, encoder.encode(text), { createNew: true, mode: 0o600 });
      Deno.renameSync(tmp, path);
    } catch (e) {
      try {
        Deno.removeSync(tmp);
      } catch { /* never created */ }
      throw e;
    }
  }

  /**
   * Creates `path` with `text` only if it does not exist yet, atomically and
   * completely (temp file + `link`). Returns false when it already existed.
   */
  createExclusive(path: string, text: string): boolean {
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    try {
      // Inside the try: on a full disk the temp file is created but not written.
      Deno.writeFileSync(tmp, encoder.encode(text), { createNew: true, mode: 0o600 });
      Deno.linkSync(tmp, path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return false;
      throw e;
    } finally {
      try {
        Deno.removeSync(tmp);
      } catch { /* never created */ }
    }
  }

  /** Creates an empty marker file exclusively; false if it existed. */
  claim(path: string): boolean {
    try {
      Deno.writeFileSync(path, EMPTY, { createNew: true, mode: 0o600 });
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return false;
      throw e;
    }
  }

  /** Creates an empty file if missing (idempotent). */
  touch(path: string): void {
    Deno.writeFileSync(path, EMPTY, { append: true, mode: 0o600 });
  }

  /** Removes a file, ignoring "not found". */
  unlink(path: string): void {
    try {
      Deno.removeSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  /** True when the file exists. */
  exists(path: string): boolean {
    try {
      Deno.lstatSync(path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  /** The names in one of the store's folders that match `pattern`. */
  async names(dir: string, pattern: RegExp): Promise<string[]> {
    await this.ready();
    return await this.io("read", async () => {
      const out: string[] = [];
      for await (const e of Deno.readDir(dir)) if (pattern.test(e.name)) out.push(e.name);
      return out;
    });
  }

  /**
   * Reads everything recorded about a task. Resolves undefined when the task
   * folder or its spawn record does not exist (never created, being created,
   * or removed); throws a StoreError naming the file when a record is damaged.
   */
  async readTask(id: string): Promise<RawTask | undefined> {
    await this.ready();
    return await this.io("read", async () => {
      try {
        return await this.#readTask(id);
      } catch (e) {
        // Anything else that goes wrong inside one task's folder (a file where
        // the folder should be, a record we may not read) damages that task only.
        if (
          e instanceof StoreError || e instanceof Deno.errors.NotFound || isPermissionError(e)
        ) throw e;
        throw new DamagedRecordError(id, `Task ${id} is damaged: ${(e as Error).message}`);
      }
    });
  }

  async #readTask(id: string): Promise<RawTask | undefined> {
    const specText = readOrUndefined(this.taskFile(id, "task.json"));
    if (specText === undefined) {
      if (await this.#isStaleOrphan(id)) {
        throw new DamagedRecordError(
          id,
          `Task ${id} is damaged: its record "task.json" is missing`,
        );
      }
      // A store removed from under us is an error that says so, not an unknown task.
      await Deno.lstat(this.tasksDir);
      return undefined;
    }
    const spec = parseSpec(specText);
    if (!spec || spec.id !== id) {
      throw new DamagedRecordError(
        id,
        `Task ${id} is damaged: "${this.taskFile(id, "task.json")}" cannot be read`,
      );
    }
    const started = await this.#readWritten(id, "started", parseStarted);
    const final = await this.#readWritten(id, "final.json", parseFinal, true);
    return { spec, started, final };
  }

  /** A folder without task.json that is more than a minute old is damaged, not in creation. */
  async #isStaleOrphan(id: string): Promise<boolean> {
    try {
      const st = await Deno.stat(this.taskDir(id));
      return (st.mtime?.getTime() ?? Date.now()) < Date.now() - 60_000;
    } catch {
      return false;
    }
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
  ): Promise<T | undefined> {
    const path = this.taskFile(id, name);
    for (let attempt = 0;; attempt++) {
      const text = readOrUndefined(path);
      if (text === undefined) return undefined;
      const v = parse(text);
      if (v !== undefined) return v;
      if (attempt >= 20) {
        if (!strict) return undefined;
        throw new DamagedRecordError(id, `Task ${id} is damaged: "${path}" cannot be read`);
      }
      await pause(10);
    }
  }

  /** Deletes a task's folder and its markers; a tombstone keeps its id from being issued again. */
  async removeTask(id: string): Promise<void> {
    await this.io("write to", async () => {
      this.touch(join(this.#idsDir, id.slice(1)));
      await Deno.remove(this.taskDir(id), { recursive: true });
      this.unlink(join(this.eventsDir, id));
      this.unlink(join(this.activeDir, id));
    });
  }
}

function readOrUndefined(path: string): string | undefined {
  try {
    return decoder.decode(Deno.readFileSync(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function parseSpec(text: string): SpawnRecord | undefined {
  const v = parseJson(text);
  if (
    !v || typeof v.id !== "string" || typeof v.command !== "string" ||
    typeof v.createdAt !== "number"
  ) return undefined;
  return {
    v: 1,
    id: v.id,
    command: v.command,
    description: typeof v.description === "string" ? v.description : "",
    cwd: typeof v.cwd === "string" ? v.cwd : null,
    createdAt: v.createdAt,
    timeoutMs: typeof v.timeoutMs === "number" ? v.timeoutMs : 0,
    maxOutputBytes: typeof v.maxOutputBytes === "number" ? v.maxOutputBytes : 0,
    graceMs: typeof v.graceMs === "number" ? v.graceMs : 2000,
  };
}

/** Parses a `started` record; undefined when it is not (yet) complete. */
export function parseStarted(text: string): StartedRecord | undefined {
  const nl = text.indexOf("\n");
  if (nl < 0) return undefined;
  const w = text.slice(0, nl).split(" ");
  if (w.length !== 5 || !/^\d+$/.test(w[0]) || !/^\d+$/.test(w[2]) || !/^\d+$/.test(w[4])) {
    return undefined;
  }
  return {
    supervisorPid: Number(w[0]),
    supervisorStart: w[1],
    taskPid: Number(w[2]),
    taskStart: w[3],
    startedAt: Number(w[4]),
    cwd: text.slice(nl + 1),
  };
}

const FINAL_STATUSES = new Set(["completed", "failed", "killed"]);

function parseFinal(text: string): FinalRecord | undefined {
  const v = parseJson(text);
  if (!v || !FINAL_STATUSES.has(v.status as string) || typeof v.finishedAt !== "number") {
    return undefined;
  }
  return {
    status: v.status as FinalRecord["status"],
    exitCode: typeof v.exitCode === "number" ? v.exitCode : null,
    signal: typeof v.signal === "string" ? v.signal : null,
    error: typeof v.error === "string" ? v.error : null,
    finishedAt: v.finishedAt,
    by: typeof v.by === "string" ? v.by : "unknown",
  };
}
