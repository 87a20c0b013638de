/**
 * What Deno writes into a task's folder and the store's markers: the spawn
 * record, the final record (first writer wins), the completion log's line,
 * a start's claim, a kill request, pause bookkeeping; and the supervisor's
 * notes, read back.
 *
 * @module
 */

import type { EndNote } from "../contract.ts";
import type { KillSignal } from "../../types.ts";
import {
  type FinalRecord,
  formatFinal,
  formatInherited,
  formatPaused,
  formatSpec,
  type Inherited,
  type PausedRecord,
  type SpawnRecord,
} from "../records.ts";
import {
  append,
  createExclusive,
  createNew,
  encoder,
  exists,
  isNoSpace,
  readOrUndefined,
  unlink,
  writeAtomic,
} from "./files.ts";
import type { StoreFolder } from "./folder.ts";

/** Writes a new task's records: its command file if long, its environment if it waits, its spawn record. */
export async function createTask(
  folder: StoreFolder,
  spec: SpawnRecord,
  longCommand?: string,
  inherited?: Inherited,
): Promise<void> {
  const id = spec.id;
  const layout = folder.layout;
  await folder.io("write to", () => {
    if (longCommand !== undefined) createNew(layout.taskFile(id, "command"), longCommand);
    // Before the spawn record: whoever starts the task reads it then.
    if (spec.inherited) {
      if (!inherited) throw new TypeError("create: an inheriting task needs its environment");
      createNew(layout.taskFile(id, "environ"), formatInherited(inherited));
    }
    writeAtomic(layout.taskFile(id, "spec"), formatSpec(spec));
    append(layout.activeMarker(id));
  });
}

/** Empties a task's recorded environment, if it has one (see `environ`). */
function emptyEnviron(folder: StoreFolder, id: string): void {
  try {
    Deno.truncateSync(folder.layout.taskFile(id, "environ"));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** The task ended and was announced: its active marker goes. */
export async function deactivate(folder: StoreFolder, id: string): Promise<void> {
  await folder.io("write to", () => {
    // What it kept for its start only goes with it: a waiting task's
    // recorded environment, which a supervisor of an older bgtask (one
    // that knew no such record) neither read nor emptied.
    emptyEnviron(folder, id);
    unlink(folder.layout.activeMarker(id));
  });
}

/** Appends the task's id to the completion log. */
export async function announce(folder: StoreFolder, id: string): Promise<void> {
  await folder.io("write to", () => append(folder.layout.log, encoder.encode(`${id}\n`)));
}

/**
 * Its active marker is not empty (the supervisor wrote a byte to it once it
 * had told the log), or is gone (dropped once the task was announced).
 */
export async function announced(folder: StoreFolder, id: string): Promise<boolean> {
  return await folder.io("read", () => {
    try {
      return Deno.statSync(folder.layout.activeMarker(id)).size > 0;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return true;
      throw e;
    }
  });
}

/** Writes the final record if none is there (then announces it); false when another was first. */
export async function commitFinal(
  folder: StoreFolder,
  id: string,
  record: FinalRecord,
): Promise<boolean> {
  const won = await folder.io("write to", () => {
    if (!createExclusive(folder.layout.taskFile(id, "final"), formatFinal(record))) return false;
    // A waiting task that ended unstarted (killed, lost): its spawner's
    // environment leaves the disk (a task that started emptied it then).
    emptyEnviron(folder, id);
    return true;
  });
  if (won) await announce(folder, id);
  return won;
}

/** Claims a waiting task's start; false when someone else claimed it, or it was removed. */
export async function claimLaunch(folder: StoreFolder, id: string): Promise<boolean> {
  return await folder.io("write to", () => {
    try {
      // As the scheduler's claim (queue.sh, q_launch): the marker, then when.
      createNew(folder.layout.taskFile(id, "launched"), `${Date.now()}\n`);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotFound) {
        return false;
      }
      throw e;
    }
  });
}

/** How bash said the task's shell (`pid`) ended, from the supervisor's notes. */
export async function endNote(
  folder: StoreFolder,
  id: string,
  pid: number,
): Promise<EndNote | undefined> {
  return await folder.io("read", () => {
    const path = folder.layout.taskFile(id, "notes");
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

/** Whether a kill was asked for. */
export async function killRequested(folder: StoreFolder, id: string): Promise<boolean> {
  return await folder.io("read", () => exists(folder.layout.taskFile(id, "kill")));
}

/**
 * Asks for a kill with a grace (the shorter of two asks wins); `delegate`:
 * the watchdog ends the tree. The request is "GRACE[ watchdog]", then, for
 * a first signal other than SIGTERM, its name on a line of its own: the
 * supervisor of a task an earlier bgtask started reads the first line alone,
 * as it did (and a request without a second line is SIGTERM's, as those were).
 */
export async function requestKill(
  folder: StoreFolder,
  id: string,
  graceMs: number,
  delegate: boolean,
  signal: KillSignal,
): Promise<boolean> {
  const path = folder.layout.taskFile(id, "kill");
  const first = signal === "SIGTERM" ? "" : `${signal}\n`;
  const request = `${graceMs}${delegate ? " watchdog" : ""}\n${first}`;
  return await folder.io("write to", () => {
    try {
      createNew(path, request);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        // Asked already. A shorter grace now is what the tree gets (this
        // asker's SIGKILL comes sooner): the request says so, for the
        // supervisor's record and its own deadline. (One left empty by a
        // full disk reads as the default grace, and its watchdog finishes
        // the kill if nobody does.)
        // One that now delegates (the task's start record turned out damaged)
        // tells its watchdog to act at once, keeping the shorter grace. The
        // first request's signal stands: it is the one sent first.
        const m = /^(\d+)( watchdog)?\n?(.*)/.exec(readOrUndefined(path) ?? "");
        if (m && (graceMs < Number(m[1]) || (delegate && !m[2]))) {
          writeAtomic(
            path,
            `${Math.min(graceMs, Number(m[1]))}${m[2] || delegate ? " watchdog" : ""}\n` +
              (m[3] ? `${m[3]}\n` : ""),
          );
        }
        return true;
      }
      // Made, but a full disk refused the grace in it: the request stands
      // (the supervisor reads the default grace), so the kill goes on.
      if (exists(path)) return true;
      // No file could be made at all (no inode left): not asked.
      if (isNoSpace(e)) return false;
      throw e;
    }
  });
}

/**
 * Writes a task's pause bookkeeping: `paused` as every build reads it, and
 * before it, the boot clock's moment (`paused.boot`, named by the pause's
 * wall-clock moment: one a build before it leaves is not taken for another
 * pause's).
 */
export async function writePaused(
  folder: StoreFolder,
  id: string,
  record: PausedRecord,
): Promise<void> {
  const layout = folder.layout;
  await folder.io("write to", () => {
    if (record.sinceBoot !== undefined && record.since > 0) {
      writeAtomic(layout.taskFile(id, "pausedBoot"), `${record.since} ${record.sinceBoot}\n`);
    }
    writeAtomic(layout.taskFile(id, "paused"), formatPaused(record));
  });
}
