/**
 * Task ids: claimed by making the task's folder, never issued twice, with
 * a hint of the last one so that a claim does not scan the store.
 *
 * @module
 */

import { isValidId } from "../../ids.ts";
import { encoder, exists, readOrUndefined } from "./files.ts";
import type { StoreFolder } from "./folder.ts";

/** The id hint's width: every safe integer fits, so each write covers the last. */
const HINT_DIGITS = 16;

/** The line below which every id without a folder was removed (1: none merged yet). */
export function removedBelow(folder: StoreFolder): number {
  const s = readOrUndefined(folder.layout.below);
  const n = Number(s?.trim());
  return s !== undefined && Number.isSafeInteger(n) && n > 0 ? n : 1;
}

/**
 * `mkdir tasks/b<N>` fails if another process took N, so two processes
 * never get the same N. A removed task leaves a tombstone `ids/<N>`
 * (written before its folder is deleted), and a claim that finds one gives
 * the folder back and moves on, so N is never issued again.
 */
export async function claimId(folder: StoreFolder): Promise<string> {
  await folder.open("write");
  const layout = folder.layout;
  return await folder.io("write to", () => {
    const hint = readHint(folder);
    let n = (hint ?? highestId(folder)) + 1;
    for (;; n++) {
      const dir = layout.taskDir(`b${n}`);
      try {
        Deno.mkdirSync(dir, { mode: 0o700 });
      } catch (e) {
        if (e instanceof Deno.errors.AlreadyExists) continue;
        throw e;
      }
      // (The tombstone first, then the line below merged ones: `mergeRemoved`
      // raises the line before it deletes the tombstones under it.)
      if (!exists(layout.tombstoneOf(n))) {
        const below = removedBelow(folder);
        if (n >= below) break;
        Deno.removeSync(dir); // a removed task's id: never again
        n = below - 1; // (the loop's n++ goes on at the line)
        continue;
      }
      Deno.removeSync(dir); // a removed task's id: never again
    }
    writeHint(folder, n, hint === undefined);
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
function writeHint(folder: StoreFolder, n: number, repair: boolean): void {
  const f = Deno.openSync(folder.layout.hint, {
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
function readHint(folder: StoreFolder): number | undefined {
  try {
    const n = Number(Deno.readTextFileSync(folder.layout.hint).trim());
    if (Number.isSafeInteger(n) && n > 0) return n;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return undefined;
}

/** The highest id on disk, live or removed (when the hint says nothing). */
function highestId(folder: StoreFolder): number {
  let max = removedBelow(folder) - 1;
  for (const dir of [folder.layout.tasks, folder.layout.ids]) {
    for (const e of Deno.readDirSync(dir)) {
      const n = Number(e.name.replace(/^b/, ""));
      if (Number.isSafeInteger(n) && n > max) max = n;
    }
  }
  return max;
}

/** Whether any id was ever claimed here: the hint says one, or an id is on disk, live or removed. */
export async function issuedAny(folder: StoreFolder): Promise<boolean> {
  if (!(await folder.open("read"))) return false;
  return await folder.io("read", () => readHint(folder) !== undefined || highestId(folder) > 0);
}

/** The ids of the store's task folders, in order. */
export async function taskIds(folder: StoreFolder): Promise<string[]> {
  if (!(await folder.open("read"))) return [];
  const ids = await folder.names(folder.layout.tasks, isValidId);
  return ids.sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
}

/** The ids with an active marker (tasks that may not have ended or been announced). */
export async function activeIds(folder: StoreFolder): Promise<string[]> {
  if (!(await folder.open("read"))) return [];
  return await folder.names(folder.layout.active, isValidId);
}
