/**
 * A task's output (read in bounded pieces) and its stdin's bookkeeping: the
 * writers' lock, who holds the FIFO, whether it was closed.
 *
 * @module
 */

import type { InputState } from "../contract.ts";
import { START_TIME_PATTERN } from "../records.ts";
import { append, exists, readOrUndefined, readRange, unlink, unlockAndClose } from "./files.ts";
import type { StoreFolder } from "./folder.ts";

/** Who holds a task's stdin: `PID START`. */
const HOLDER_RECORD = new RegExp(`^(\\d+) (${START_TIME_PATTERN})\n$`);

/** The output's size so far (0 before any). */
export async function outputSize(folder: StoreFolder, id: string): Promise<number> {
  return await folder.io("read", () => {
    try {
      return Deno.statSync(folder.layout.taskFile(id, "output")).size;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return 0;
      throw e;
    }
  });
}

/** Up to `maxBytes` of the output from `offset`. */
export async function readOutput(
  folder: StoreFolder,
  id: string,
  offset: number,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; eof: boolean }> {
  return await folder.io(
    "read",
    () => readRange(folder.layout.taskFile(id, "output"), offset, maxBytes),
    `the output of task ${id}`,
  );
}

/** Holds the task's stdin writers' lock (waiting for it); returns its release. */
export async function lockInput(folder: StoreFolder, id: string): Promise<() => void> {
  const file = await openInputLock(folder, id);
  try {
    await file.lock(true);
  } catch (e) {
    file.close();
    throw e;
  }
  return unlockAndClose(file);
}

/** Takes the task's stdin writers' lock if free; returns its release, or undefined. */
export async function tryLockInput(
  folder: StoreFolder,
  id: string,
): Promise<(() => void) | undefined> {
  const file = await openInputLock(folder, id);
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

async function openInputLock(folder: StoreFolder, id: string): Promise<Deno.FsFile> {
  return await folder.io(
    "write to",
    () =>
      Deno.open(folder.layout.taskFile(id, "stdinLock"), {
        read: true,
        write: true,
        create: true,
        mode: 0o600,
      }),
    `the stdin of task ${id}`,
  );
}

/** Where the task's stdin stands. */
export async function inputState(folder: StoreFolder, id: string): Promise<InputState> {
  const layout = folder.layout;
  return await folder.io("read", () => {
    const holder = HOLDER_RECORD.exec(readOrUndefined(layout.taskFile(id, "stdinHolder")) ?? "");
    return {
      closed: exists(layout.taskFile(id, "stdinClose")),
      midLine: exists(layout.taskFile(id, "stdinMidline")),
      holder: holder ? { pid: Number(holder[1]), start: holder[2] } : undefined,
    };
  }, `the stdin of task ${id}`);
}

/** Records that the stdin was closed, or whether its last byte ended a line. */
export async function setInputState(
  folder: StoreFolder,
  id: string,
  change: { closed?: true; midLine?: boolean },
): Promise<void> {
  const layout = folder.layout;
  await folder.io("write to", () => {
    if (change.midLine === true) append(layout.taskFile(id, "stdinMidline"));
    else if (change.midLine === false) unlink(layout.taskFile(id, "stdinMidline"));
    if (change.closed) append(layout.taskFile(id, "stdinClose"));
  }, `the stdin of task ${id}`);
}
