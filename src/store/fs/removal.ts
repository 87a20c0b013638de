/**
 * Removing tasks: a tombstone first (the id is never issued again), then
 * the spawn record (readers see the task gone, never half), then the rest;
 * and merging old tombstones into one line.
 *
 * @module
 */

import { isValidId } from "../../ids.ts";
import type { FinalStatus } from "../../lifecycle.ts";
import { join } from "../../path.ts";
import { isPermissionError } from "../../permissions.ts";
import { parseFinal } from "../records.ts";
import {
  createExclusive,
  exists,
  isNoSpace,
  readOrUndefined,
  unlink,
  writeAtomic,
} from "./files.ts";
import type { StoreFolder } from "./folder.ts";
import { removedBelow } from "./ids.ts";
import { TOMBSTONE } from "./layout.ts";
import { hasSpec } from "./task_read.ts";

/** A tombstone's word for a task whose spawn failed after claiming its id. */
const REFUSED = "refused";

/**
 * Its tombstone `ids/<N>` (written before the folder goes), and what it
 * says; below the line of merged tombstones, an id without a folder.
 */
export async function removedAs(
  folder: StoreFolder,
  id: string,
): Promise<"removed" | "refused" | undefined> {
  // (The store itself removed a moment ago is the likelier why: looked at now.)
  if (!isValidId(id) || !(await folder.openNow("read"))) return undefined;
  return await folder.io("read", () => {
    const said = readOrUndefined(folder.layout.tombstone(id));
    if (said === undefined) {
      const merged = Number(id.slice(1)) < removedBelow(folder) &&
        !exists(folder.layout.taskDir(id));
      return merged ? "removed" : undefined;
    }
    return said.trim() === REFUSED ? "refused" : "removed";
  });
}

/** See {@linkcode TaskStore.removedEnding}: the word its tombstone keeps. */
export async function removedEnding(
  folder: StoreFolder,
  id: string,
): Promise<FinalStatus | undefined> {
  if (!isValidId(id) || !(await folder.openNow("read"))) return undefined;
  const said = await folder.io("read", () => readOrUndefined(folder.layout.tombstone(id)));
  const word = said?.trim();
  return word === "completed" || word === "failed" || word === "killed" ? word : undefined;
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
export async function mergeRemoved(
  folder: StoreFolder,
  below: number,
  olderThanMs: number,
): Promise<number> {
  if (!(await folder.open("read"))) return 0;
  const layout = folder.layout;
  return await folder.io("write to", () => {
    const cutoff = Date.now() - olderThanMs;
    let lock: Deno.FsFile;
    try {
      lock = Deno.openSync(layout.ids, { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return 0; // (a folder made by hand, never used)
      throw e;
    }
    try {
      lock.lockSync(true);
      const old: number[] = [];
      let top = 0;
      for (const e of Deno.readDirSync(layout.ids)) {
        if (!TOMBSTONE.test(e.name)) continue;
        const n = Number(e.name);
        if (n >= below) continue;
        let made: number;
        try {
          made = Deno.lstatSync(layout.tombstoneOf(n)).mtime?.getTime() ?? Infinity;
        } catch (err) {
          if (err instanceof Deno.errors.NotFound) continue;
          throw err;
        }
        if (made > cutoff || exists(layout.taskDir(`b${n}`))) continue;
        old.push(n);
        if (n >= top) top = n + 1;
      }
      if (old.length === 0) return 0;
      if (top > removedBelow(folder)) writeAtomic(layout.below, `${top}\n`);
      for (const n of old) unlink(layout.tombstoneOf(n));
      return old.length;
    } finally {
      lock.close();
    }
  });
}

/**
 * Writes `id`'s tombstone, with `word` in it when there is room. A full
 * disk must not keep a task from being removed (which frees room): then
 * an empty tombstone (an inode, no block; on tmpfs a link counts as an
 * inode, and the temp file and link of a word's atomic write need two),
 * else, with no inode left either, the task's spawn record renamed into
 * its place (neither); a refused spawn without a spawn record has its
 * empty folder deleted for the inode. The word is then written into that
 * file when a block allows (the spawn record's own, freed as it is cut).
 * A word lost so reads as "removed" (a task run after it counts it not
 * completed). Made only if not there: true for the removal that made it
 * (of two at once, the one that reports the task), false when another had.
 */
function writeTombstone(folder: StoreFolder, id: string, word: string | undefined): boolean {
  const tombstone = folder.layout.tombstone(id);
  const empty = () => {
    try {
      Deno.writeFileSync(tombstone, new Uint8Array(), { createNew: true, mode: 0o600 });
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return false;
      throw e;
    }
  };
  // (Into the file this removal made: a reader sees "removed" until then.)
  const sayWord = () => {
    if (word === undefined) return;
    try {
      Deno.writeTextFileSync(tombstone, `${word}\n`);
    } catch {
      // no block either: "removed"
    }
  };
  try {
    return word === undefined ? empty() : createExclusive(tombstone, `${word}\n`);
  } catch (e) {
    if (!isNoSpace(e)) throw e;
  }
  try {
    const made = empty();
    if (made) sayWord();
    return made;
  } catch (e) {
    if (!isNoSpace(e)) throw e;
    try {
      Deno.renameSync(folder.layout.taskFile(id, "spec"), tombstone);
    } catch {
      // No spawn record to rename: a spawn refused before it was written
      // leaves an empty folder, whose inode the tombstone takes (else the
      // folder stayed for good, and the id read as never issued).
      if (word !== REFUSED) throw e;
      try {
        Deno.removeSync(folder.layout.taskDir(id));
        if (!empty()) return false;
      } catch {
        throw e; // (the disk's own error)
      }
    }
    sayWord();
    return true;
  }
}

/** When each store's tasks folder was last found to allow removals, and for how long that holds. */
const probed = new WeakMap<StoreFolder, number>();
const PROBE_FOR_MS = 1_000;

/**
 * Writes the tombstone first (so the id is never issued again), then
 * deletes the spawn record (so that readers see the task as gone, never
 * half: see task_read.ts), then the folder. Two removals at once both succeed.
 */
export async function removeTask(
  folder: StoreFolder,
  id: string,
  refused: boolean,
): Promise<boolean> {
  return await folder.io("write to", async () => {
    // A folder it may not be deleted from (tasks/ made read-only) refuses
    // the removal before its tombstone: else the task went from every list
    // and left its files, and the removal asked again said it was removed.
    // (A full disk, no inode left, tells nothing: a removal frees room, and
    // must not be refused for want of it. Once a second: a folder made and
    // removed costs about 0.35 ms here, and a clean of 1,000 tasks took
    // half as long again.)
    if (!((probed.get(folder) ?? -Infinity) > performance.now() - PROBE_FOR_MS)) {
      const probe = join(folder.layout.tasks, `.probe-${crypto.randomUUID()}`);
      try {
        Deno.mkdirSync(probe);
        Deno.removeSync(probe);
      } catch (e) {
        if (!isNoSpace(e)) throw e;
      }
      probed.set(folder, performance.now());
    }
    // The tombstone keeps how the task ended: a task spawned to run after
    // it while it was being removed still runs after a completed one.
    // (One this user may not read, another user's, says nothing: "removed".)
    let final: string | undefined;
    try {
      final = readOrUndefined(folder.layout.taskFile(id, "final"));
    } catch (e) {
      if (!(e instanceof Deno.errors.PermissionDenied) || isPermissionError(e)) throw e;
    }
    const ended = parseFinal(final ?? "");
    const mine = writeTombstone(folder, id, refused ? REFUSED : ended?.status);
    try {
      await deleteRemoved(folder, id);
      return mine;
    } catch (e) {
      // Nothing of it deleted (its spawn record is there: a folder of its
      // own it may not write to): as it was, a task, its tombstone taken back.
      if (hasSpec(folder, id)) unlink(folder.layout.tombstone(id));
      throw e;
    }
  });
}

/**
 * The part of a removal after its tombstone: the spawn record first (so
 * that readers see the task as gone, never half), then the folder, its
 * active marker and its dependents' folder. Again is harmless.
 */
async function deleteRemoved(folder: StoreFolder, id: string): Promise<void> {
  const layout = folder.layout;
  unlink(layout.taskFile(id, "spec"));
  unlink(layout.taskFile(id, "legacySpec"));
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.remove(layout.taskDir(id), { recursive: true });
      break;
    } catch (e) {
      // Another remover deleted part of it first (NotFound), or a file was
      // made in it meanwhile (a supervisor's last note): done once the folder is gone.
      const raced = e instanceof Deno.errors.NotFound ||
        (e instanceof Error && /not empty|os error 39\b/i.test(e.message));
      if (!raced) throw e;
      if (!exists(layout.taskDir(id))) break;
      if (attempt >= 5) throw e;
    }
  }
  unlink(layout.activeMarker(id));
  // Who ran after it: resolved when it ended (or, if that was missed, by
  // the next look at them, which finds it gone).
  try {
    Deno.removeSync(layout.dependents(id), { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Finishes removals cut short (of `ids`, or of every task folder); returns their ids. */
export async function finishRemovals(folder: StoreFolder, ids?: string[]): Promise<string[]> {
  if (!(await folder.open("read"))) return [];
  const layout = folder.layout;
  const folders = ids?.filter(isValidId) ?? await folder.names(layout.tasks, isValidId);
  // A folder with a tombstone and no spawn record (with one, the task
  // still reads whole: removing it again finishes it). One this user may
  // not look into is left as it is: it cannot be removed either, and the
  // others are (a clean stopped at it with a bare "permission denied").
  const left = folders.filter((id) => {
    try {
      return exists(layout.tombstone(id)) && exists(layout.taskDir(id)) && !hasSpec(folder, id);
    } catch (e) {
      if (e instanceof Deno.errors.PermissionDenied) return false;
      throw e;
    }
  });
  for (const id of left) await folder.io("write to", () => deleteRemoved(folder, id));
  return left;
}
