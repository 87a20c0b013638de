/**
 * Completions: the log every ended task is announced in, the consumers
 * that read it (a cursor, a registration time, a lock each), and their
 * claims on each task's completion.
 *
 * @module
 */

import { isValidId } from "../../ids.ts";
import type { ClaimState, ConsumerOwner, ConsumerStart, LogSlice } from "../contract.ts";
import { text } from "../records.ts";
import {
  createExclusive,
  exists,
  readOrUndefined,
  readRange,
  unlink,
  writeAtomic,
} from "./files.ts";
import type { StoreFolder } from "./folder.ts";
import { CLAIM_PREFIX, NAME } from "./layout.ts";
import { damagedBy } from "./task_read.ts";

/** The most of the completion log read at once. */
const LOG_READ_LIMIT = 1024 * 1024;

/** A claim file's content as a state: pending for `PID START`, else done (empty, or `done`). */
function parseClaim(s: string): ClaimState {
  const m = /^pending (\d+) (\S+)\n$/.exec(s);
  return m ? { state: "pending", pid: Number(m[1]), start: m[2] } : { state: "done" };
}

/** Registers a consumer (from the log's start, or from now), or notes that it is used now. */
export async function openConsumer(
  folder: StoreFolder,
  name: string,
  fromStart: boolean,
  owner?: ConsumerOwner,
): Promise<void> {
  const layout = folder.layout;
  const dir = layout.consumerDir(name);
  await folder.open("write");
  await folder.io("write to", async () => {
    try {
      await Deno.mkdir(dir, { mode: 0o700 });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  });
  const cursor = layout.consumerFile(name, "cursor");
  const registered = () => folder.io("read", () => exists(cursor));
  // Whose it is (before the cursor that registers a new one): an ephemeral
  // open makes it the opener's, a name used again by another process
  // included (it kept a dead one's, and clean forgot it under a live user);
  // any other open leaves it as it is (a session's own drains are no
  // ephemeral opens).
  if (owner) await folder.io("write to", () => setOwner(layout.consumerFile(name, "owner"), owner));
  // Used now: its cursor's time says so (see consumers). (Forgotten since
  // it was looked at: registered again below.)
  const touched = await registered() && await folder.io("write to", () => touchCursor(cursor, 0));
  if (touched) return;
  await withConsumer(folder, name, async () => {
    if (await registered()) return;
    // One that starts with every finished task, forgotten since (see
    // removeConsumer), starts where it was forgotten: its start is kept.
    const kept = fromStart ? await consumerStart(folder, name) : undefined;
    if (kept !== undefined && kept.at > 0) {
      await writeCursor(folder, name, kept.offset ?? 0);
      return;
    }
    await writeStart(folder, name, fromStart);
  });
}

/**
 * Writes where the consumer begins: from the log's start, or from now.
 * Before the cursor, whose presence says the consumer is registered: the
 * time, the log's size, and the tasks ended but still active (see
 * ConsumerStart), read before the size (one that ends in between is the
 * consumer's when its line comes after the size). With `cursor`, the cursor
 * too (registered); without, the start alone waits for the next
 * registration.
 */
async function writeStart(
  folder: StoreFolder,
  name: string,
  fromStart: boolean,
  cursor = true,
): Promise<void> {
  const since = fromStart ? 0 : Date.now();
  const ended = fromStart ? [] : await endedActive(folder);
  const start = fromStart ? 0 : (await logSize(folder));
  await folder.io(
    "write to",
    () =>
      writeAtomic(
        folder.layout.consumerFile(name, "since"),
        `${since}\n${start}\n${ended.join(" ")}\n`,
      ),
  );
  if (cursor) await writeCursor(folder, name, start);
}

/** See {@linkcode TaskStore.keepConsumer}: the cursor's time is when it was last used. */
export async function keepConsumer(
  folder: StoreFolder,
  name: string,
  unusedMs: number,
): Promise<void> {
  const cursor = folder.layout.consumerFile(name, "cursor");
  await folder.io("write to", () => void touchCursor(cursor, unusedMs));
}

/**
 * Marks a consumer used now (its cursor's time), if it was last used more
 * than `unusedMs` ago (0: whenever); false when it is not registered (no
 * cursor: never, or forgotten meanwhile).
 */
function touchCursor(cursor: string, unusedMs: number): boolean {
  try {
    if (unusedMs > 0 && (Deno.statSync(cursor).mtime?.getTime() ?? 0) >= Date.now() - unusedMs) {
      return true;
    }
    const now = new Date();
    Deno.utimeSync(cursor, now, now);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** The registered consumers, by name, with when each last read. */
export async function consumers(
  folder: StoreFolder,
): Promise<{ name: string; lastUse: number; owner?: ConsumerOwner }[]> {
  const layout = folder.layout;
  return await folder.io("read", () => {
    const out: { name: string; lastUse: number; owner?: ConsumerOwner }[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(layout.consumers)];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return out;
      throw e;
    }
    for (const e of entries) {
      if (!NAME.test(e.name)) continue;
      try {
        const st = Deno.statSync(layout.consumerFile(e.name, "cursor"));
        const owner = ownerOf(readOrUndefined(layout.consumerFile(e.name, "owner")));
        out.push({ name: e.name, lastUse: st.mtime?.getTime() ?? 0, ...owner ? { owner } : {} });
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err; // not registered (yet)
      }
    }
    return out.sort((a, b) => a.name < b.name ? -1 : 1);
  });
}

/** An owner file's process ("PID START NS"); undefined for none, or one garbled. */
function ownerOf(s: string | undefined): ConsumerOwner | undefined {
  const m = /^([1-9]\d{0,9}) (\S{1,64}) (\S{1,64})\n?$/.exec(s ?? "");
  return m ? { pid: Number(m[1]), start: m[2], ns: m[3] } : undefined;
}

/** Writes the owner file, when it says another. */
function setOwner(path: string, owner: ConsumerOwner): void {
  const line = `${owner.pid} ${owner.start} ${owner.ns}\n`;
  if (readOrUndefined(path) !== line) writeAtomic(path, line);
}

/**
 * Removes a consumer and its claims; false when there was none (none
 * registered). With `anew`, see {@linkcode forgetAnew}.
 */
export async function removeConsumer(
  folder: StoreFolder,
  name: string,
  anew = false,
): Promise<boolean> {
  const layout = folder.layout;
  const dir = layout.consumerDir(name);
  if (!(await folder.open("read"))) return false;
  if (anew) return await forgetAnew(folder, name);
  return await folder.io("write to", async () => {
    // Out of sight first (a dot name is no consumer's), then deleted.
    const gone = layout.removedConsumer(name);
    try {
      Deno.renameSync(dir, gone);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
    await Deno.remove(gone, { recursive: true });
    // Its claims on the tasks still here go with it (a file each).
    for (const id of await folder.names(layout.tasks, isValidId)) {
      unlink(layout.claimFile(id, name));
    }
    return true;
  });
}

/**
 * Forgets a registered consumer in place, under its lock, so that its next
 * registration starts from now even `fromStart` (see openConsumer): its
 * start is written from now, then its cursor goes (unregistered), then its
 * claims. Its folder and lock stay: a registration in another process waits
 * for the lock and finds the new start (one that removed the folder first
 * let such a reader register from the log's start in between, and told it
 * everything again). False when it is not registered: a second forget finds
 * nothing to forget, and leaves its start where the first put it.
 */
async function forgetAnew(folder: StoreFolder, name: string): Promise<boolean> {
  const layout = folder.layout;
  const cursor = layout.consumerFile(name, "cursor");
  if (!(await folder.io("read", () => exists(cursor)))) return false;
  return await withConsumer(folder, name, async () => {
    if (!(await folder.io("read", () => exists(cursor)))) return false; // forgotten meanwhile
    await writeStart(folder, name, false, false);
    const ids = await folder.names(layout.tasks, isValidId);
    await folder.io("write to", () => {
      unlink(cursor);
      for (const id of ids) unlink(layout.claimFile(id, name));
    });
    return true;
  });
}

/**
 * Where the consumer began (at 0, from the log's start, for one never
 * registered; no offset for one registered by a build that wrote the time
 * alone).
 */
export async function consumerStart(folder: StoreFolder, name: string): Promise<ConsumerStart> {
  const s = await folder.io(
    "read",
    () => readOrUndefined(folder.layout.consumerFile(name, "since")),
  );
  const [at, offset, ended] = (s ?? "").split("\n");
  const n = Number(at);
  const o = Number(offset);
  return {
    at: s !== undefined && Number.isSafeInteger(n) && n > 0 ? n : 0,
    ...(offset && Number.isSafeInteger(o) && o >= 0 ? { offset: o } : {}),
    ended: new Set((ended ?? "").split(" ").filter(isValidId)),
  };
}

/** See {@linkcode TaskStore.forgetConsumerOffset}: the start's second line emptied. */
export async function forgetConsumerOffset(folder: StoreFolder, name: string): Promise<void> {
  const path = folder.layout.consumerFile(name, "since");
  const s = await folder.io("read", () => readOrUndefined(path));
  if (s === undefined) return;
  const [at, , ended] = s.split("\n");
  await folder.io("write to", () => writeAtomic(path, `${at}\n\n${ended ?? ""}\n`));
}

/** The tasks that have ended (a final record) and are still active. */
async function endedActive(folder: StoreFolder): Promise<string[]> {
  const layout = folder.layout;
  const active = await folder.names(layout.active, isValidId);
  return await folder.io("read", () => active.filter((id) => exists(layout.taskFile(id, "final"))));
}

async function logSize(folder: StoreFolder): Promise<number> {
  return await folder.io("read", () => {
    try {
      return Deno.statSync(folder.layout.log).size;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return 0;
      throw e;
    }
  });
}

/** Runs `fn` holding the consumer's lock. */
export async function withConsumer<T>(
  folder: StoreFolder,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  const path = folder.layout.consumerFile(name, "lock");
  const file = await folder.io("write to", async () => {
    try {
      return await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      // Its folder went meanwhile (a forget, a clean, in another process):
      // made again, as a registration makes it (the store's own is there).
      try {
        await Deno.mkdir(folder.layout.consumerDir(name), { mode: 0o700 });
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
      return await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    }
  });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close(); // closing releases the lock
  }
}

/** The consumer's cursor; undefined when it is not registered. */
export async function readCursor(folder: StoreFolder, name: string): Promise<number | undefined> {
  const s = await folder.io(
    "read",
    () => readOrUndefined(folder.layout.consumerFile(name, "cursor")),
  );
  if (s === undefined) return undefined;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** Moves the consumer's cursor. */
export async function writeCursor(
  folder: StoreFolder,
  name: string,
  offset: number,
): Promise<void> {
  const path = folder.layout.consumerFile(name, "cursor");
  await folder.io("write to", () => writeAtomic(path, `${offset}\n`));
}

/** The log's entries after `offset` (at most {@linkcode LOG_READ_LIMIT} of it). */
export async function readLog(folder: StoreFolder, offset: number): Promise<LogSlice> {
  const log = folder.layout.log;
  return await folder.io("read", async () => {
    // An offset past 0 is the end of an entry: the byte before it is a line
    // end, unless the log was truncated or replaced since (by hand: bgtask
    // only appends). Then its reader must start over, or it would wait for
    // the log to grow past where it was, and skip what was appended.
    const from = offset > 0 ? offset - 1 : 0;
    const read = await readRange(log, from, LOG_READ_LIMIT + offset - from);
    if (offset > 0 && read.bytes[0] !== 0x0a) return { entries: [], end: 0, restart: true };
    const bytes = read.bytes.subarray(offset - from);
    const entries: { id: string; end: number }[] = [];
    // Positions in bytes (a stray line may hold any bytes): the cursor is a byte offset.
    let pos = 0;
    for (;;) {
      const nl = bytes.indexOf(0x0a, pos);
      if (nl < 0) break;
      const id = logged(text(bytes.subarray(pos, nl)));
      pos = nl + 1;
      if (id !== undefined) entries.push({ id, end: offset + pos });
    }
    // A whole window without a line end is no entry (ids are short): on to
    // the end of that line (the cursor always stays at the end of a line).
    if (pos === 0 && bytes.length === LOG_READ_LIMIT) {
      return { entries, end: await pastLine(log, offset + bytes.length, offset) };
    }
    return { entries, end: offset + pos };
  });
}

/**
 * The id a line of the log names. A line cut short (a full disk, a crash, a
 * log cut by hand) has the next writer's line glued to it (`b1` + `b17`:
 * `b1b17`): that one, whole at the line's end, is still told (it was lost
 * to every consumer). The cut one is not: a supervisor whose line could
 * not be written whole leaves its task active, for a sweep to tell again.
 */
function logged(line: string): string | undefined {
  // (Blanks around it, or the \r an editor that saved the log with CRLF
  // line ends left: the id is still whole.)
  line = line.trim();
  const whole: unknown = line; // (a string either way: `isValidId` narrows to never)
  if (isValidId(whole)) return whole;
  const glued = line.slice(line.lastIndexOf("b"));
  return isValidId(glued) ? glued : undefined;
}

/** Just past the next line end of the log from `at`; `none` when there is none yet. */
async function pastLine(log: string, at: number, none: number): Promise<number> {
  for (;;) {
    const { bytes, eof } = await readRange(log, at, LOG_READ_LIMIT);
    const nl = bytes.indexOf(0x0a);
    if (nl >= 0) return at + nl + 1;
    if (eof || bytes.length === 0) return none;
    at += bytes.length;
  }
}

/** A consumer's claim on a task's completion. */
export async function readClaim(
  folder: StoreFolder,
  id: string,
  consumer: string,
): Promise<ClaimState> {
  const path = folder.layout.claimFile(id, consumer);
  const s = await folder.io("read", () => {
    try {
      return readOrUndefined(path);
    } catch (e) {
      // A file where the task's folder should be (or a folder where the
      // claim should be): that task is damaged, not the store. Anything
      // else (too many open files, an I/O error) may pass: it is thrown.
      // One this user may not read (its folder's mode changed, the store's own
      // being fine) is damaged too: the rest of the store still drains.
      const denied = e instanceof Deno.errors.PermissionDenied && folder.storeReadable();
      if (
        !(e instanceof Deno.errors.NotADirectory || e instanceof Deno.errors.IsADirectory ||
          denied)
      ) throw e;
      throw damagedBy(folder, id, e);
    }
  });
  return s === undefined ? { state: "none" } : parseClaim(s);
}

/** Every consumer's claim on a task's completion. */
export async function claims(folder: StoreFolder, id: string): Promise<Map<string, ClaimState>> {
  const layout = folder.layout;
  return await folder.io("read", () => {
    const out = new Map<string, ClaimState>();
    let names: string[];
    try {
      names = [...Deno.readDirSync(layout.taskDir(id))].map((e) => e.name);
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
      const consumer = name.slice(CLAIM_PREFIX.length);
      if (!name.startsWith(CLAIM_PREFIX) || !NAME.test(consumer)) continue;
      let s: string | undefined;
      try {
        s = readOrUndefined(layout.claimFile(id, consumer));
      } catch {
        continue; // (not a file: readClaim says the task is damaged)
      }
      if (s !== undefined) out.set(consumer, parseClaim(s));
    }
    return out;
  });
}

/** Moves a consumer's claim from `expect` to `next`; false when it was not `expect`. */
export async function claimCompletion(
  folder: StoreFolder,
  id: string,
  consumer: string,
  expect: ClaimState["state"],
  next: ClaimState,
): Promise<boolean> {
  folder.layout.consumerDir(consumer); // (a name that could be none: a TypeError)
  const path = folder.layout.claimFile(id, consumer);
  // Done is an empty file: an inode, no disk block (a word in it took a
  // 4 KiB block a task a consumer for good). (Read as done by every bgtask:
  // anything but a pending claim is.)
  const data = next.state === "pending" ? `pending ${next.pid} ${next.start}\n` : "";
  return await folder.io("write to", () => {
    try {
      if (expect === "none") return createExclusive(path, data);
      const current = readOrUndefined(path);
      if (current === undefined) return false;
      const isPending = current.startsWith("pending ");
      if ((expect === "pending") !== isPending) return false;
      if (next.state === "none") unlink(path);
      else writeAtomic(path, data);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false; // the task was removed meanwhile
      throw e;
    }
  });
}
