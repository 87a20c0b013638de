/**
 * Looking at tasks: one by id, or the whole store.
 *
 * @module
 */

import { idNumber, idTypeError, isValidId, showId } from "../ids.ts";
import { TASK_STATUSES, type TaskRecords } from "../lifecycle.ts";
import { DamagedRecordError } from "../store/fs_store.ts";
import type { ListOptions, TaskInfo, TaskStatus } from "../types.ts";
import { type Ctx, infoOf } from "./context.ts";
import { queueName } from "./queue.ts";
import { readSettled, requireSettledRead, settle, settleMany } from "./settle.ts";
import { checkOptionNames, OPTION_NAMES } from "../options.ts";

/** How many task folders are read at once (a record caught mid-write is re-read after a pause). */
const READ_POOL = 16;
/** How many records a list reads between two turns of the event loop. */
const YIELD_EVERY = 128;
/**
 * A turn of the event loop: what waits for it (a server's requests) runs.
 * (A message, not a timer: a timer set from a timer's callback waits 4 ms
 * once they nest five deep.)
 */
function turn(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      port2.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/** The set of statuses asked for, or null for all; a TypeError names an unknown one. */
export function statusSet(
  s: TaskStatus | readonly TaskStatus[] | undefined,
  what: string,
): Set<TaskStatus> | null {
  if (s === undefined) return null;
  // (Array.isArray does not narrow a readonly array: a string is the one status.)
  const list: readonly TaskStatus[] = typeof s === "string" ? [s] : Array.isArray(s) ? s : [s];
  for (const v of list) {
    if (!TASK_STATUSES.includes(v)) {
      throw new TypeError(
        `${what}: unknown status ${JSON.stringify(v)} (expected one of ${
          TASK_STATUSES.join(", ")
        })`,
      );
    }
  }
  return new Set(list);
}

/** See {@linkcode TaskManager.getStatus}. */
export async function getStatus(ctx: Ctx, id: string): Promise<TaskInfo | undefined> {
  const wrongType = idTypeError(id);
  if (wrongType) throw wrongType;
  if (!isValidId(id)) return undefined;
  const r = await readSettled(ctx, id);
  if (!r) return undefined;
  return await infoOf(ctx, await settle(ctx, r));
}

/** See {@linkcode TaskManager.getStatusOrThrow}. */
export async function getStatusOrThrow(ctx: Ctx, id: string): Promise<TaskInfo> {
  return await infoOf(ctx, await settle(ctx, await requireSettledRead(ctx, id)));
}

/** See {@linkcode TaskManager.list}. */
export async function list(ctx: Ctx, options: ListOptions): Promise<TaskInfo[]> {
  checkOptionNames(options, OPTION_NAMES.list, "Cannot list tasks");
  const wanted = statusSet(options.status, "Cannot list tasks");
  const queue = options.queue === undefined
    ? undefined
    : queueName(options.queue, "Cannot list tasks");
  const last = options.last === undefined ? undefined : atLeastOne(options.last);
  const ids = options.ids === undefined ? await ctx.store.ids() : askedIds(options.ids);
  const matching = async (some: string[]) => {
    const present = (await readMany(ctx, some, options.onDamaged))
      .filter((r) => queue === undefined || r.spec.queue === queue);
    const out: TaskInfo[] = [];
    for (const [i, r] of (await settleMany(ctx, present)).entries()) {
      if (i > 0 && i % YIELD_EVERY === 0) await turn(); // (see readMany)
      const info = await infoOf(ctx, r);
      if (!wanted || wanted.has(info.status)) out.push(info);
    }
    return out;
  };
  if (last === undefined) return await matching(ids);
  // The newest first, a batch at a time, until enough match.
  const found: TaskInfo[] = [];
  for (let end = ids.length; end > 0 && found.length < last;) {
    const start = Math.max(0, end - Math.max(last - found.length, LAST_BATCH));
    found.unshift(...await matching(ids.slice(start, end)));
    end = start;
  }
  return found.slice(-last);
}

/** How many tasks `last` reads at a time, at least, going back for matches. */
const LAST_BATCH = 64;

/** `last`, a whole number of at least 1, or a TypeError saying so. */
function atLeastOne(v: unknown): number {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 1) return v;
  throw new TypeError(`Cannot list tasks: last must be a whole number of at least 1, not ${v}`);
}

/** `ids`, each once, in id order (as the store's own `ids()`); a malformed one is refused. */
function askedIds(ids: readonly string[]): string[] {
  for (const id of ids) {
    if (!isValidId(id)) {
      throw new TypeError(
        `Cannot list tasks: ids holds ${showId(id)}, which is not a task id (b1, b2, …)`,
      );
    }
  }
  return [...new Set(ids)].sort((a, b) => idNumber(a) - idNumber(b));
}

/**
 * The tasks of the store's active set, settled: every task that has not
 * ended is among them (with some that ended and were not swept yet). For
 * what only unfinished tasks matter to (the queues' counts): a store's
 * whole history need not be read.
 */
export async function listActive(ctx: Ctx): Promise<TaskInfo[]> {
  // In id order, as list's.
  const ids = (await ctx.store.activeIds()).sort((a, b) => idNumber(a) - idNumber(b));
  const records = await readMany(ctx, ids);
  return await Promise.all((await settleMany(ctx, records)).map((r) => infoOf(ctx, r)));
}

/** The records of `ids`, READ_POOL at a time; a damaged one is told to `onDamaged` and left out. */
async function readMany(
  ctx: Ctx,
  ids: string[],
  onDamaged?: (id: string, e: Error) => void,
): Promise<TaskRecords[]> {
  const records: (TaskRecords | undefined)[] = new Array(ids.length);
  let next = 0;
  let end = 0;
  const worker = async () => {
    while (next < end) {
      const i = next++;
      try {
        records[i] = await readSettled(ctx, ids[i]);
      } catch (e) {
        if (!(e instanceof DamagedRecordError)) throw e;
        onDamaged?.(ids[i], e);
      }
    }
  };
  // The reads are synchronous (faster, on small files): a turn of the event
  // loop between two runs of them, or a server's other requests wait for the
  // whole list (3,000 tasks held one for 0.2-0.4 s).
  while (next < ids.length) {
    if (next > 0) await turn();
    end = Math.min(ids.length, next + YIELD_EVERY);
    await Promise.all(Array.from({ length: Math.min(READ_POOL, end - next) }, worker));
  }
  return records.filter((r): r is TaskRecords => r !== undefined);
}
