/**
 * Reading a task's records into what the lifecycle derives its state from,
 * telling a task being written, removed or damaged from one that is whole.
 *
 * @module
 */

import { StoreError } from "../../errors.ts";
import { sleep } from "../../timers.ts";
import type { TaskRecords } from "../../lifecycle.ts";
import { isPermissionError } from "../../permissions.ts";
import {
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
} from "../records.ts";
import { DamagedRecordError } from "./damaged.ts";
import { exists, existsQuietly, readOrUndefined } from "./files.ts";
import type { StoreFolder } from "./folder.ts";
import { myUid } from "./owner.ts";
import type { TaskFileName } from "./layout.ts";

/** A folder without a spawn record this long after it was made was abandoned mid-spawn. */
const ABANDONED_AFTER_MS = 60_000;
/** How long a reader waits for a record the supervisor is writing at that instant. */
const RECORD_SETTLE_TRIES = 20;
const RECORD_SETTLE_PAUSE_MS = 10;
/** A start record that cannot be read is damaged only once it is this old. */
const STARTED_SETTLE_MS = 3000;

/** A task's records; undefined for no task (never made, being made, or removed). */
export async function readTask(
  folder: StoreFolder,
  id: string,
): Promise<TaskRecords | undefined> {
  if (!(await folder.open("read"))) return undefined;
  return await folder.io("read", async () => {
    try {
      return await read(folder, id);
    } catch (e) {
      // The store itself is not this user's to read: say so, not "damaged".
      if (e instanceof Deno.errors.PermissionDenied) folder.explainDenied(e, "read");
      // A record vanished under us with the task: it was removed meanwhile.
      if (e instanceof Deno.errors.NotFound && exists(folder.dir) && !hasSpec(folder, id)) {
        return undefined;
      }
      // Anything else that goes wrong inside one task's folder (a file where
      // the folder should be, a record we may not read) damages that task only.
      if (
        e instanceof StoreError || e instanceof Deno.errors.NotFound || isPermissionError(e)
      ) throw e;
      throw damagedBy(folder, id, e);
    }
  });
}

/**
 * The error for a failure inside one task's folder: that task is damaged,
 * not the store; one this user may not read (a chmod) says how to undo it.
 */
export function damagedBy(folder: StoreFolder, id: string, e: unknown): DamagedRecordError {
  const dir = folder.layout.taskDir(id);
  const other = e instanceof Deno.errors.PermissionDenied ? othersIn(folder, id, e) : undefined;
  const fix = other
    ? ` (${chownAdvice(dir, other, false)})`
    : e instanceof Deno.errors.PermissionDenied
    ? ` (this user may not read its folder: chmod -R u+rwX "${dir}", or run bgtask as its owner)`
    : "";
  return new DamagedRecordError(id, `Task ${id} is damaged: ${(e as Error).message}${fix}`);
}

/**
 * The first of a task's folder and files (as far as they can be looked at)
 * that belongs to another user than this one (than the store's owner, when
 * who this is cannot be told): a supervisor of root's that wrote its last
 * records after the store was given to this user. Undefined when none.
 */
function othersIn(folder: StoreFolder, id: string, e: unknown): Others | undefined {
  const me = myUid();
  try {
    const owner = me ?? Deno.lstatSync(folder.dir).uid;
    if (owner === null) return undefined;
    const dir = folder.layout.taskDir(id);
    // (The file refused first, when the error names it: `readfile '…'`.)
    const refused = e instanceof Error ? /'([^']+)'$/.exec(e.message)?.[1] : undefined;
    const paths = [...refused?.startsWith(`${dir}/`) ? [refused] : [], dir];
    try {
      for (const entry of Deno.readDirSync(dir)) paths.push(`${dir}/${entry.name}`);
    } catch { /* (not to be listed: its folder alone) */ }
    for (const path of paths) {
      const uid = Deno.lstatSync(path).uid;
      if (uid !== null && uid !== owner) return { path, uid, owner: me === null ? owner : null };
    }
  } catch { /* (gone meanwhile, or not to be looked at) */ }
  return undefined;
}

/** A task's file that belongs to another user. */
interface Others {
  path: string;
  uid: number;
  /** The store's owner, when who this user is cannot be told (null: this user). */
  owner: number | null;
}

/**
 * What to do about a task's file that belongs to another user: a chown
 * (chmod cannot change another user's file), once the task has ended (its
 * supervisor, theirs, writes its last records then).
 */
function chownAdvice(dir: string, other: Others, ended: boolean): string {
  const to = other.owner === null
    ? `this user${ended ? "" : " once the task has ended"}: sudo chown -R "$(id -u)"`
    : `the store's owner${ended ? "" : " once the task has ended"}: sudo chown -R ${other.owner}`;
  return `"${other.path}" belongs to another user (uid ${other.uid}), which chmod cannot ` +
    `change: give it back to ${to} "${dir}", or run bgtask as uid ${other.uid}`;
}

/** True while the task's spawn record exists (removal deletes it first). */
export function hasSpec(folder: StoreFolder, id: string): boolean {
  return exists(folder.layout.taskFile(id, "spec")) ||
    exists(folder.layout.taskFile(id, "legacySpec"));
}

/**
 * When a scheduler claimed the task's start: the time in its marker, or the
 * marker's own time while it holds none (just made, a full disk refused
 * the time, or the marker of a spawner that took a free slot: a second name
 * of the spawn record, see queues.ts, takeSlot). Undefined without a marker.
 */
function launchedAt(folder: StoreFolder, id: string): number | undefined {
  const path = folder.layout.taskFile(id, "launched");
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

/** True when the task's record `name` was last written less than `ms` ago. */
function madeWithin(folder: StoreFolder, id: string, name: TaskFileName, ms: number): boolean {
  try {
    const t = Deno.statSync(folder.layout.taskFile(id, name)).mtime?.getTime();
    return t !== undefined && t > Date.now() - ms;
  } catch {
    return false;
  }
}

async function read(folder: StoreFolder, id: string): Promise<TaskRecords | undefined> {
  const layout = folder.layout;
  let spec: SpawnRecord | undefined;
  const specText = readOrUndefined(layout.taskFile(id, "spec"));
  if (specText !== undefined) {
    spec = parseSpec(specText, () => {
      const path = layout.taskFile(id, "command");
      const command = readOrUndefined(path);
      if (command !== undefined) return command;
      if (!hasSpec(folder, id)) throw new Deno.errors.NotFound(`"${path}" was removed`);
      throw new DamagedRecordError(
        id,
        `Task ${id} is damaged: its command file "${path}" is missing`,
      );
    });
  } else {
    const legacy = readOrUndefined(layout.taskFile(id, "legacySpec"));
    if (legacy === undefined) return withoutSpec(folder, id);
    spec = parseLegacySpec(legacy);
  }
  if (!spec || spec.id !== id) {
    throw new DamagedRecordError(
      id,
      `Task ${id} is damaged: its spawn record "${layout.taskFile(id, "spec")}" cannot be read ` +
        `(bgtask cannot remove it: delete its folder, rm -r "${layout.taskDir(id)}", ` +
        `which also ends whatever of it runs)`,
    );
  }
  // The final record first: `started` is written before it, so a task read
  // with a final record is never missing a start it had.
  const final = await readWritten(
    folder,
    id,
    "final",
    parseFinal,
    true,
    // (Made only for the error: every read of a task passes here.)
    () =>
      `it has ended, and its output is intact in "${layout.taskFile(id, "output")}": ` +
      `bgtask logs ${id} shows it, bgtask rm ${id} removes the task`,
  ).catch(async (e) => {
    // What reading its output needs, which the final record is not.
    if (e instanceof DamagedRecordError) {
      const started = await readWritten(folder, id, "started", parseStarted);
      e.ended = { spec, started, outputFile: layout.taskFile(id, "output") };
    }
    throw e;
  });
  // Without a final record, a start record that cannot be read is damage,
  // not "not started yet": read so, a running task would be recorded lost.
  const started = await readWritten(
    folder,
    id,
    "started",
    parseStarted,
    !final,
    "its processes may still run: kill ends them",
  ).catch((e) => {
    // Unreadable, and just made: a supervisor held up between making it and
    // writing it (a loaded machine). Not started yet, as far as we know.
    if (
      e instanceof DamagedRecordError && madeWithin(folder, id, "started", STARTED_SETTLE_MS)
    ) {
      return undefined;
    }
    if (e instanceof DamagedRecordError) e.token = spec.token;
    throw e;
  });
  // Some record was missing: maybe for being removed meanwhile (see below).
  let missing = !final || !started;
  // An ended task is neither paused nor being launched: nothing more to read.
  let paused: PausedRecord | undefined;
  let launched: number | undefined;
  if (!final) {
    const pausedText = readOrUndefined(layout.taskFile(id, "paused"));
    if (pausedText !== undefined) paused = parsePaused(pausedText);
    if (paused && paused.since > 0) {
      // (Of this pause only: the one its wall-clock moment names.)
      const boot = /^(\d+) (\d+)\n$/.exec(readOrUndefined(layout.taskFile(id, "pausedBoot")) ?? "");
      if (boot && Number(boot[1]) === paused.since) paused.sinceBoot = Number(boot[2]);
    }
  }
  if (!started && !final) launched = launchedAt(folder, id);
  const ready = !started && !final && spec.after.length > 0 &&
      exists(layout.taskFile(id, "ready"))
    ? true as const
    : undefined;
  // Written before `started`, by the command's wrapper.
  let pty: PtyRecord | undefined;
  if (spec.stdin === "pty" && started) {
    const ptyText = readOrUndefined(layout.taskFile(id, "pty"));
    if (ptyText === undefined) missing = true;
    else pty = parsePty(ptyText);
  }
  // Removal deletes the spawn record before anything else: still there
  // now, so none of the records above was missing for being removed. Gone:
  // the task was removed meanwhile and may have been read half (its final
  // record already deleted): it is no task. (Nothing missing: ids are never
  // reused, so what was read is this task's, whole.)
  if (missing && !hasSpec(folder, id)) return undefined;
  return { spec, started, final, paused, launchedAt: launched, pty, ...(ready && { ready }) };
}

/**
 * A task folder without a spawn record: being created right now (unknown
 * yet), gone (unknown), or left by a spawner that died mid-spawn. The last
 * reads as a task that failed without starting, so that it lists, and
 * `remove` and `clean` can delete it; nothing is written for it.
 */
function withoutSpec(folder: StoreFolder, id: string): TaskRecords | undefined {
  const layout = folder.layout;
  // Removed: its tombstone is written before the folder goes, so a folder
  // with one is what a removal cut short left (or one under way), not a
  // task (finishRemovals deletes it).
  if (exists(layout.tombstone(id))) return undefined;
  let made: number;
  try {
    const st = Deno.statSync(layout.taskDir(id));
    made = st.mtime?.getTime() ?? 0;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    // A store removed from under us is an error that says so, not an unknown task.
    if (!exists(folder.dir)) folder.gone(e);
    return undefined;
  }
  if (made > Date.now() - ABANDONED_AFTER_MS) return undefined;
  // A task that ran (its start, end or output is there) whose spawn record
  // went later, by a hand: damaged, not a spawn abandoned before it began
  // (clean would delete it, ending what of it runs).
  const ran = (["started", "final", "output"] as const).some((f) =>
    existsQuietly(layout.taskFile(id, f))
  );
  if (ran) {
    throw new DamagedRecordError(
      id,
      `Task ${id} is damaged: its spawn record "${layout.taskFile(id, "spec")}" is missing ` +
        `(bgtask cannot remove it: delete its folder, rm -r "${layout.taskDir(id)}", ` +
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
async function readWritten<T>(
  folder: StoreFolder,
  id: string,
  name: "final" | "started",
  parse: (s: string) => T | undefined,
  strict = false,
  hint: string | (() => string) = "",
): Promise<T | undefined> {
  const path = folder.layout.taskFile(id, name);
  for (let attempt = 0;; attempt++) {
    let s: string | undefined;
    try {
      s = readOrUndefined(path);
    } catch (e) {
      // A final record this user may not read is there all the same: the
      // task ended (a supervisor of root's wrote it after the store was
      // given to this user), and is removed as one whose record is damaged.
      if (name !== "final" || !strict || !(e instanceof Deno.errors.PermissionDenied)) throw e;
      if (isPermissionError(e)) throw e;
      const other = othersIn(folder, id, e);
      const fix = other
        ? chownAdvice(folder.layout.taskDir(id), other, true)
        : `chmod -R u+rwX "${folder.layout.taskDir(id)}" makes it readable`;
      throw new DamagedRecordError(
        id,
        `Task ${id} is damaged: ${e.message} (${typeof hint === "function" ? hint() : hint}; ` +
          `${fix})`,
        "final",
      );
    }
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
        name === "started" ? "start" : "final",
      );
    }
    await sleep(RECORD_SETTLE_PAUSE_MS);
  }
}
