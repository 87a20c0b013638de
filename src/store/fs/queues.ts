/**
 * Queues and dependencies as Deno sees them: a queue's settings, its lock,
 * its line and the slots its tasks hold (bash's side is queue.sh), and the
 * tasks that run after others.
 *
 * @module
 */

import { StoreError } from "../../errors.ts";
import { join } from "../../path.ts";
import { isValidId } from "../../ids.ts";
import type { QueueConf, QueueState } from "../contract.ts";
import { text } from "../records.ts";
import { append, encoder, exists, readOrUndefined, writeAtomic } from "./files.ts";
import type { StoreFolder } from "./folder.ts";
import { NAME, type QueueFile, RETIRED_QUEUE } from "./layout.ts";

/** Entries of ended tasks a queue's `running` may keep before it is rewritten (queue.sh's too). */
const RUNNING_SLACK = 8;
/** How often a step that races a queue's removal is tried (opening its lock, deleting its folder). */
const QUEUE_RACE_TRIES = 100;
/** How many times a queue's lock may be replaced under a waiter before it gives up. */
const QUEUE_LOCK_ROUNDS = 1000;
/** What a removed queue's lock file holds (it is otherwise empty). */
const QUEUE_RETIRED = "removed\n";

/** The task id of an entry of a queue's `running` ("ID@LAUNCH_MS"). */
function slotId(entry: string): string {
  return entry.split("@")[0];
}

/** The queues' names. */
export async function queueNames(folder: StoreFolder): Promise<string[]> {
  if (!(await folder.open("read"))) return [];
  return (await folder.names(folder.layout.queues, (n) => NAME.test(n))).sort();
}

/**
 * A queue's settings; undefined for no queue. One without settings runs 1
 * at a time, and so does one whose settings are garbled (a hand, a disk
 * fault), as its scheduler reads them too (queue.sh, q_schedule): a queue
 * that stalls for good, or runs unbounded, would be worse.
 */
export async function readQueue(
  folder: StoreFolder,
  name: string,
): Promise<QueueConf | undefined> {
  const layout = folder.layout;
  const s = await folder.io("read", () => readOrUndefined(layout.queueFile(name, "conf")));
  const m = s === undefined ? null : /^([1-9]\d{0,15}) ([01])\n?$/.exec(s);
  if (m && Number.isSafeInteger(Number(m[1]))) {
    return { parallel: Number(m[1]), paused: m[2] === "1" };
  }
  const there = await folder.io("read", () => exists(layout.queueDir(name)));
  return there ? { parallel: 1, paused: false } : undefined;
}

/** Changes a queue's settings (making it), under its lock; returns them. */
export async function writeQueue(
  folder: StoreFolder,
  name: string,
  change: Partial<QueueConf>,
): Promise<QueueConf> {
  const path = folder.layout.queueFile(name, "conf");
  // Under the queue's lock: never into a queue being removed, and what is
  // not changed is read there (a change made meanwhile is kept).
  return await withQueue(folder, name, async () => {
    const conf = { parallel: 1, paused: false, ...await readQueue(folder, name), ...change };
    await folder.io("write to", () => {
      writeAtomic(path, `${conf.parallel} ${conf.paused ? 1 : 0}\n`);
    });
    return conf;
  });
}

/** Runs `fn` holding the queue's lock (making the queue); never in a queue being removed. */
export async function withQueue<T>(
  folder: StoreFolder,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  const dir = folder.layout.queueDir(name);
  const path = folder.layout.queueFile(name, "lock");
  await folder.open("write");
  for (let round = 1;; round++) {
    if (round > QUEUE_LOCK_ROUNDS) {
      throw new StoreError(
        `Cannot lock queue "${name}": its lock "${path}" was replaced ${QUEUE_LOCK_ROUNDS} ` +
          `times while we waited for it (is the queue being removed again and again?)`,
      );
    }
    const file = await folder.io("write to", async () => {
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
      if (await folder.io("read", () => isFile(file, path))) return await fn();
    } finally {
      file.close(); // closing releases the lock
    }
  }
}

/** True while `path` is the very file `file` has open. */
function isFile(file: Deno.FsFile, path: string): boolean {
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
    return text(head.subarray(0, n)) !== QUEUE_RETIRED && exists(path);
  }
  try {
    return Deno.statSync(path).ino === ino;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Deletes a queue's folder (the caller holds its lock). */
export async function removeQueue(folder: StoreFolder, name: string): Promise<void> {
  const layout = folder.layout;
  const dir = layout.queueDir(name);
  // Out of the way at once (a rename), then deleted: whoever opens the
  // queue's files by name meanwhile finds none, rather than making a file
  // in a folder being deleted. (The dot keeps it out of queueNames.)
  const tomb = layout.retiredQueue(name);
  await folder.io("write to", () => {
    try {
      Deno.renameSync(dir, join(layout.queues, tomb));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    // The lock (our caller holds it: nobody waiting has looked yet) says
    // it is retired, for whoever cannot tell its file from the path's.
    try {
      Deno.writeFileSync(
        join(layout.queues, tomb, "lock" satisfies QueueFile),
        encoder.encode(QUEUE_RETIRED),
        {
          append: true,
        },
      );
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    // A process that was opening the lock as the folder moved can still
    // make one in it (the rename came between its look-up of the folder
    // and of the file): deleting again removes that. Anything left (hidden,
    // and nobody's) goes with the next removal.
    for (const old of Deno.readDirSync(layout.queues)) {
      if (!RETIRED_QUEUE.test(old.name)) continue;
      const tries = old.name === tomb ? QUEUE_RACE_TRIES : 1;
      for (let n = 1; n <= tries; n++) {
        try {
          Deno.removeSync(join(layout.queues, old.name), { recursive: true });
          break;
        } catch {
          // not empty yet (see above), or gone already
        }
      }
    }
  });
}

/** Puts a task at the end of a queue's line. */
export async function enqueue(folder: StoreFolder, name: string, id: string): Promise<void> {
  const path = folder.layout.queueFile(name, "list");
  await folder.io("write to", () => append(path, encoder.encode(`${id}\n`)));
}

/**
 * A queue's files as they are: the ids holding its slots, the entries of
 * its line (split at newlines: the last is what follows the last one), and
 * its head (how many entries were taken).
 */
function queueFiles(
  folder: StoreFolder,
  name: string,
): { holders: string[]; entries: string[]; head: number } {
  const layout = folder.layout;
  const holders = slotEntries(folder, name).map(slotId);
  const entries = (readOrUndefined(layout.queueFile(name, "list")) ?? "").split("\n");
  const head = Number(readOrUndefined(layout.queueFile(name, "head"))?.trim() ?? 0);
  return { holders, entries, head };
}

/**
 * The last look at a queue's slots, by store: its `running` as read and the
 * entries in it that held a slot then. A spawn looks (queueState), then
 * takes a slot (takeSlot) under the same hold of the lock: if `running` is
 * still as read, the look stands for the second one. (A task that held
 * its slot then may have ended since, never the reverse: an ended task's
 * entry kept as held is one that `running` may keep anyway.)
 */
const lastLook = new WeakMap<StoreFolder, { name: string; text: string; held: string[] }>();

/** How many of a queue's slots are held, and whether a task waits in line. */
export async function queueState(folder: StoreFolder, name: string): Promise<QueueState> {
  return await folder.io("read", () => {
    const layout = folder.layout;
    const text = readOrUndefined(layout.queueFile(name, "running")) ?? "";
    const held = heldEntries(folder, text);
    lastLook.set(folder, { name, text, held });
    const entries = (readOrUndefined(layout.queueFile(name, "list")) ?? "").split("\n");
    const head = Number(readOrUndefined(layout.queueFile(name, "head"))?.trim() ?? 0);
    return { running: held.length, waiting: entries.length - 1 > head };
  });
}

/** The entries of a queue's `running` ("ID@LAUNCH_MS"), those that name a task. */
function slotEntries(folder: StoreFolder, name: string): string[] {
  return entriesOf(readOrUndefined(folder.layout.queueFile(name, "running")) ?? "");
}

/** The entries of the text of a queue's `running` that name a task. */
function entriesOf(text: string): string[] {
  return text.split(/\s+/).filter((e) => isValidId(slotId(e)));
}

/** The entries of the text of a queue's `running` whose tasks hold their slots. */
function heldEntries(folder: StoreFolder, text: string): string[] {
  return entriesOf(text).filter((e) => holds(folder, slotId(e)));
}

/**
 * Whether a task named in a queue's `running` still holds its slot: it has
 * not ended, and was not removed. (A task that ends frees its slot by its
 * final record alone: its supervisor takes the queue's lock to drop its
 * entry only when someone waits in line; see queue.sh.) The final record
 * first: most entries are of tasks that ended, told by one look.
 */
function holds(folder: StoreFolder, id: string): boolean {
  return !exists(folder.layout.taskFile(id, "final")) && exists(folder.layout.taskDir(id));
}

/** The tasks of a queue: those holding its slots and those in its line. */
export async function queueMembers(folder: StoreFolder, name: string): Promise<Set<string>> {
  return await folder.io("read", () => {
    const q = queueFiles(folder, name);
    const from = Number.isSafeInteger(q.head) && q.head > 0 ? q.head : 0;
    return new Set([...q.holders, ...q.entries.slice(from).filter(isValidId)]);
  });
}

/**
 * Whether a queue's line holds, or held, what names no task (garbled by
 * hand, or by a disk fault: its scheduler marks it `damaged` as it passes
 * such a line): the tasks that waited in it may be missing from it.
 */
export async function queueDamaged(folder: StoreFolder, name: string): Promise<boolean> {
  return await folder.io(
    "read",
    () =>
      exists(folder.layout.queueFile(name, "damaged")) ||
      queueFiles(folder, name).entries.some((e) => e !== "" && !isValidId(e)),
  );
}

/** The tasks waiting in a queue's line, in order. */
export async function queueLine(folder: StoreFolder, name: string): Promise<string[]> {
  if (!(await folder.open("read"))) return [];
  return await folder.io("read", () => {
    const q = queueFiles(folder, name);
    const from = Number.isSafeInteger(q.head) && q.head > 0 ? q.head : 0;
    const ids = new Set(q.entries.slice(from).filter(isValidId));
    return [...ids].filter((id) => waits(folder, id));
  });
}

/** Whether a task in a queue's line still waits there: not launched, not ended, not removed. */
function waits(folder: StoreFolder, id: string): boolean {
  const layout = folder.layout;
  return exists(layout.taskDir(id)) && !exists(layout.taskFile(id, "launched")) &&
    !exists(layout.taskFile(id, "final"));
}

/** Claims a task's start and gives it a slot of the queue (the caller holds its lock). */
export async function takeSlot(folder: StoreFolder, name: string, id: string): Promise<void> {
  const layout = folder.layout;
  const path = layout.queueFile(name, "running");
  await folder.io("write to", () => {
    const now = Date.now();
    // The claim: a second name for the task's spawn record, written just
    // before under this lock (a hard link: no new inode, where making one
    // costs a search of the inode table on some disks, 0.3-0.5 ms here).
    // It holds no time, as a marker a full disk left empty holds none:
    // readers take its time from the file's (task_read.ts, launchedAt),
    // and queue.sh finds no claimer in it, as in the spawner's own marker.
    Deno.linkSync(layout.taskFile(id, "spec"), layout.taskFile(id, "launched"));
    // Appended, as the scheduler does (queue.sh, q_schedule): never
    // rewritten in place, where a kill between the truncation and the
    // write would forget the running tasks. Once many entries are of tasks
    // that ended (nobody else may have dropped them: see holds), it is
    // replaced whole. (Which hold: as our look under this lock saw them,
    // if `running` is as it was then; see lastLook.)
    const text = readOrUndefined(path) ?? "";
    const entries = entriesOf(text);
    const look = lastLook.get(folder);
    lastLook.delete(folder);
    const held = look?.name === name && look.text === text ? look.held : heldEntries(folder, text);
    const entry = `${id}@${now}`;
    if (entries.length > held.length + RUNNING_SLACK) {
      writeAtomic(path, [...held, entry].join("\n") + "\n");
    } else {
      append(path, encoder.encode(`${entry}\n`));
    }
  });
}

/** Records that `id` runs after `dep`. */
export async function addDependent(folder: StoreFolder, dep: string, id: string): Promise<void> {
  await folder.io("write to", () => {
    const dir = folder.layout.dependents(dep);
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    append(join(dir, id));
  });
}

/** Whether a task runs after `id`. */
export async function hasDependents(folder: StoreFolder, id: string): Promise<boolean> {
  return await folder.io("read", () => exists(folder.layout.dependents(id)));
}
