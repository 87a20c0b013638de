/**
 * Retention: removing finished tasks, one by one or in bulk. Removing what
 * someone else removed a moment ago counts as removed.
 *
 * @module
 */

import { TaskNotFoundError, TaskStateError } from "../errors.ts";
import { isFinal, isImmediate, statusOf, type TaskRecords } from "../lifecycle.ts";
import type { CleanOptions, RemoveOptions, TaskInfo } from "../types.ts";
import { type Ctx, infoOf, nonNegativeInt, notFound, requireTask } from "./context.ts";
import { DEFAULT_CONSUMER, forgetOrphans, unreadAmong } from "./completions.ts";
import { CONSUMER_FORGET_MS, REMOVED_MERGE_MS } from "../timing.ts";
import { killWaiting } from "./kill.ts";
import { list, statusSet } from "./list.ts";
import { requireSettledRead, settle } from "./settle.ts";
import { aliveMany, scheduleQueues, tasksEnded, tokensAlive } from "../supervisor/run.ts";
import { DamagedRecordError } from "../store/fs_store.ts";
import type { SpawnRecord, StartedRecord } from "../store/records.ts";
import { checkOptionNames, OPTION_NAMES } from "../options.ts";
import { queueName } from "./queue.ts";

/** An id's number, for ordering. */
function idNumber(t: TaskInfo): number {
  return Number(t.id.slice(1));
}

/**
 * See {@linkcode TaskManager.remove}. A queued task is removed too: it is
 * recorded as killed first (so no scheduler starts it meanwhile), and what
 * waits for it is handed on.
 */
export async function remove(
  ctx: Ctx,
  id: string,
  options: RemoveOptions = {},
): Promise<TaskInfo> {
  checkOptionNames(options, OPTION_NAMES.remove, "Cannot remove task");
  const slots = new Set<string>();
  const info = await removeOne(ctx, id, slots, options.onUnread).catch(async (e) => {
    // Removed already: what a removal cut short left of it goes now.
    if (e instanceof TaskNotFoundError) await ctx.store.finishRemovals([id]);
    throw e;
  });
  await scheduleQueues(ctx.store, await withWaiting(ctx, slots));
  return info;
}

/**
 * The queues among `queues` in whose line a task waits: only there can a
 * slot left held by a removed task keep one from starting (a task that is
 * gone holds no slot for anyone who counts them; a bash scheduler run for
 * each of 2,000 removals took 18 s).
 */
async function withWaiting(ctx: Ctx, queues: Set<string>): Promise<string[]> {
  const out: string[] = [];
  for (const q of queues) if ((await ctx.store.queueState(q)).waiting) out.push(q);
  return out;
}

/**
 * Removes one task; `slots` gets the queue of a task that held a slot of it.
 * Its supervisor hands the slot on after recording the end, and not once
 * the folder is gone: removed in between, the slot would be held for ever,
 * so the caller schedules those queues (which frees the slots of tasks no
 * longer there) once it is done. `onUnread` hears of the consumers that
 * had not read its end (see {@linkcode RemoveOptions.onUnread}).
 */
async function removeOne(
  ctx: Ctx,
  id: string,
  slots: Set<string>,
  onUnread?: RemoveOptions["onUnread"],
): Promise<TaskInfo> {
  let r: TaskRecords;
  try {
    r = await settle(ctx, await requireSettledRead(ctx, id));
  } catch (e) {
    if (!(e instanceof DamagedRecordError) || e.id !== id || !e.ended) throw e;
    return await removeDamagedEnd(ctx, e, e.ended, slots);
  }
  // A task still waiting never runs: recorded killed unrun, if its start can
  // still be claimed. One a scheduler is starting this instant is running
  // (and refused as such below), never killed here.
  if (!r.final && !r.started && !isImmediate(r.spec) && r.launchedAt === undefined) {
    await killWaiting(ctx, id);
    r = await requireTask(ctx, id);
  }
  if (!r.final) {
    // Not finished when we looked, and gone now: someone else removed it meanwhile.
    if (!(await ctx.store.read(id))) throw await notFound(ctx, id);
    // (One that starts at once, or that a scheduler launched, reads queued
    // until its start is recorded: it is starting, and refused as a running one is.)
    const starting = !r.started && (isImmediate(r.spec) || r.launchedAt !== undefined);
    const state = starting ? "starting" : statusOf(r);
    throw new TaskStateError(id, `Cannot remove task ${id}: it is still ${state} (kill it first)`);
  }
  const info = await infoOf(ctx, r);
  // (Read before it goes: the log names it, the consumers' cursors say who read that far.)
  const unread = onUnread ? (await unreadAmong(ctx, [info])).get(id) : undefined;
  // What runs after it is resolved before it goes (its supervisor may be
  // handing on at this very moment: resolving twice is harmless), so that
  // a task removed just as it completed counts as completed for them.
  if (await ctx.store.hasDependents(id)) await tasksEnded(ctx.store, [id]);
  // (Another removal at once, a second clean's: the task is that one's to report.)
  if (!(await ctx.store.remove(id))) throw await notFound(ctx, id);
  if (r.spec.queue !== null && (r.started || r.launchedAt !== undefined)) slots.add(r.spec.queue);
  if (unread && unread.length > 0) onUnread!(info, unread);
  return info;
}

/**
 * Removes a task whose final record cannot be read: something recorded its
 * end (the record is made only then), and its output and the rest are
 * whole, so it goes as any ended task does, once a look finds none of its
 * processes left (a record garbled by hand on a running task is refused).
 * Its info says how it ended is unknown.
 */
async function removeDamagedEnd(
  ctx: Ctx,
  damage: DamagedRecordError,
  ended: { spec: SpawnRecord; started?: StartedRecord },
  slots: Set<string>,
): Promise<TaskInfo> {
  const { spec, started } = ended;
  const id = spec.id;
  const alive = started
    ? (await aliveMany([{ started, token: spec.token }]))[0].alive
    : spec.token !== "" && (await tokensAlive([spec.token]))[0];
  if (alive) {
    throw new TaskStateError(
      id,
      `Cannot remove task ${id}: ${damage.message}, and processes of it still run: end them ` +
        `(they have BGTASK_TASK_ID=${id} in their environment), then remove it`,
    );
  }
  const info = await infoOf(ctx, {
    spec,
    started,
    final: {
      status: "failed",
      exitCode: null,
      signal: null,
      error: "how it ended is unknown: its final record was damaged",
      finishedAt: Date.now(),
      by: "lost",
    },
  });
  if (await ctx.store.hasDependents(id)) await tasksEnded(ctx.store, [id]);
  if (!(await ctx.store.remove(id))) throw await notFound(ctx, id);
  if (spec.queue !== null) slots.add(spec.queue);
  return info;
}

/** See {@linkcode TaskManager.clean}. */
export async function clean(ctx: Ctx, options: CleanOptions): Promise<TaskInfo[]> {
  const what = "Cannot clean tasks";
  checkOptionNames(options, OPTION_NAMES.clean, what);
  const olderThanMs = nonNegativeInt(options.olderThanMs, "olderThanMs", what) ?? 0;
  const keep = nonNegativeInt(options.keep, "keep", what) ?? 0;
  const queue = options.queue === undefined ? undefined : queueName(options.queue, what);
  const wanted = statusSet(options.status, what);
  // (A task that has not ended is never cleaned: asking for one would clean nothing, silently.)
  for (const status of wanted ?? []) {
    if (!isFinal(status)) {
      throw new TypeError(
        `${what}: status ${JSON.stringify(status)} is not one a finished task has; clean ` +
          `removes finished tasks only (expected one of completed, failed, killed; kill or ` +
          `remove a task that has not ended)`,
      );
    }
  }
  const cutoff = Date.now() - olderThanMs;
  const { signal } = options;
  const removed: TaskInfo[] = [];
  const slots = new Set<string>();
  // What removals cut short (a process ended half-way) left goes first.
  await ctx.store.finishRemovals();
  // And consumers whose processes have ended: nobody reads for them.
  for (const name of await forgetOrphans(ctx)) options.onForgotten?.(name, "ended");
  let damaged = false;
  const all = await list(ctx, {
    onDamaged: (id, error) => {
      damaged = true;
      options.onDamaged?.(id, error);
    },
  });
  const matching = all.filter((t) =>
    isFinal(t.status) && t.finishedAt !== null && (!wanted || wanted.has(t.status)) &&
    (queue === undefined || t.queue === queue)
  );
  // The newest `keep` of them stay (by when they finished; ids break ties).
  const finished = (t: TaskInfo) => Date.parse(t.finishedAt!);
  const kept = new Set(
    matching.toSorted((a, b) => finished(b) - finished(a) || idNumber(b) - idNumber(a))
      .slice(0, keep).map((t) => t.id),
  );
  const candidates = matching.filter((t) => !kept.has(t.id) && finished(t) <= cutoff);
  // (After the list: a task it found lost is one more to tell the consumers of.
  // Only when something may go: what consumers have not read costs a pass
  // over the completion log for each of them.)
  const unreadBy = options.unread || candidates.length === 0
    ? new Map<string, string[]>()
    : await unreadAmong(ctx, candidates);
  for (const t of candidates) {
    // Stopped between two removals, never inside one.
    if (signal?.aborted) break;
    const readers = unreadBy.get(t.id);
    if (readers) {
      options.onUnread?.(t, readers);
      continue;
    }
    try {
      removed.push(await removeOne(ctx, t.id, slots));
    } catch (e) {
      if (!(e instanceof TaskNotFoundError)) throw e; // removed meanwhile by someone else
    }
  }
  await scheduleQueues(ctx.store, await withWaiting(ctx, slots));
  // Consumers gone for good (their sessions ended unannounced) leave with them.
  if (!signal?.aborted) {
    const before = Date.now() - CONSUMER_FORGET_MS;
    for (const { name, lastUse } of await ctx.store.consumers()) {
      if (name === DEFAULT_CONSUMER || lastUse >= before) continue;
      if (await ctx.store.removeConsumer(name)) options.onForgotten?.(name, "unused");
    }
    // A damaged task may be one still to run after a removed one.
    if (!damaged) await mergeRemoved(ctx, all, new Set(removed.map((t) => t.id)));
  }
  return removed;
}

/**
 * The records of removed ids merge into one (each was a file of its own, a
 * disk block with how its task ended): those below every task that a task
 * not yet finished runs after (which it may still read; the tasks kept, a
 * failed one to look at, hold nothing back). Only records older than
 * {@linkcode REMOVED_MERGE_MS}: a spawn that found a task it runs after a
 * moment before that task's removal has written its own record long since.
 */
async function mergeRemoved(ctx: Ctx, listed: TaskInfo[], removed: Set<string>): Promise<void> {
  let below = Infinity;
  for (const t of listed) {
    if (removed.has(t.id) || isFinal(t.status)) continue;
    for (const dep of t.after) below = Math.min(below, Number(dep.slice(1)));
  }
  await ctx.store.mergeRemoved(below, REMOVED_MERGE_MS);
}
