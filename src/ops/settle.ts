/**
 * Settling: a task recorded as running whose processes are all gone is
 * recorded as failed ("lost"), and a finished task whose end was never
 * announced (its supervisor died between the two steps) is announced. The
 * same look says whether a running interactive task waits for input.
 *
 * @module
 */

import { StoreError } from "../errors.ts";
import { isImmediate, type TaskRecords } from "../lifecycle.ts";
import { DamagedRecordError } from "../store/fs_store.ts";
import type { FinalRecord } from "../store/records.ts";
import {
  aliveMany,
  type Probe,
  resolveTask,
  scheduleQueues,
  tasksEnded,
  tasksStarting,
  tokensAlive,
} from "../supervisor/run.ts";
import { HAND_ON_DEADLINE_MS, LIVENESS_CHECK_MS, START_DEADLINE_MS } from "../timing.ts";
import { type Ctx, requireTask } from "./context.ts";
import { mayRunBash } from "../permissions.ts";

/** The error of a task whose processes vanished. */
export const LOST_ERROR = "lost: its processes ended without recording an exit " +
  "(killed from outside, the machine restarted, or the disk was full when it ended)";
/**
 * The error of a task of another pid namespace (a container or sandbox)
 * nothing of which is left, seen from the namespace that sees every process.
 */
export const NAMESPACE_LOST_ERROR = "lost: it ran in another PID namespace (a container or " +
  "sandbox), and nothing of it is left: that namespace may have ended, and its processes with it";
/** The error of a task that should have started and never did. */
export const NEVER_STARTED_ERROR = "lost: the task never reported that it started";
/** The error of a queued task its queue never took in. */
export const STRAY_ERROR = "lost: its spawner ended before the task joined its queue";

/** One task: if it claims to run but nothing of it is alive, record it as lost. */
export async function settle(ctx: Ctx, r: TaskRecords): Promise<TaskRecords> {
  return (await settleMany(ctx, [r]))[0];
}

/** What the liveness check needs to know of a running task. */
function probe(ctx: Ctx, r: TaskRecords): Probe {
  const p: Probe = { started: r.started!, token: r.spec.token, pty: r.pty };
  if (r.spec.stdin === "pipe") p.input = { mode: "pipe", fifo: ctx.store.inputPath(r.spec.id) };
  else if (r.spec.stdin === "pty") p.input = { mode: "pty", pty: r.pty };
  return p;
}

/** Not started, and still waiting for the tasks it runs after. */
function waitsForDependencies(r: TaskRecords): boolean {
  return r.spec.after.length > 0 && !r.ready && r.launchedAt === undefined;
}

/** In a queue's line, where its spawner put it (no dependencies; not launched yet). */
function waitsInLine(r: TaskRecords): boolean {
  return r.spec.queue !== null && r.spec.after.length === 0 && r.launchedAt === undefined;
}

/** Records of the tasks others run after, each read once in a look (null: gone). */
type Deps = Map<string, TaskRecords | null | "damaged">;

async function depRecord(
  ctx: Ctx,
  id: string,
  deps: Deps,
): Promise<TaskRecords | null | "damaged"> {
  let d = deps.get(id);
  if (d === undefined) {
    try {
      d = (await ctx.store.read(id)) ?? null;
    } catch (e) {
      if (!(e instanceof DamagedRecordError)) throw e;
      d = "damaged"; // there, still
    }
    deps.set(id, d);
  }
  return d;
}

/**
 * True when nobody else will resolve a task that waits for others: one of
 * them was removed before its end was handed on (its folder deleted by hand
 * while it ran), or all have ended (with policy "success", one that did not
 * complete is enough: it fails the task at once) and whoever should have
 * resolved it did not within {@linkcode HAND_ON_DEADLINE_MS} (its spawner
 * died between recording it and resolving it, or a supervisor between its
 * end and the hand-on).
 */
async function unresolved(ctx: Ctx, r: TaskRecords, deps: Deps, now: number): Promise<boolean> {
  let last = r.spec.createdAt;
  let pending = false;
  let failedAt: number | undefined;
  for (const id of r.spec.after) {
    const d = await depRecord(ctx, id, deps);
    if (d === null) return true;
    if (d === "damaged" || !d.final) {
      pending = true;
      continue;
    }
    last = Math.max(last, d.final.finishedAt);
    if (d.final.status !== "completed") {
      failedAt = Math.min(failedAt ?? Infinity, Math.max(r.spec.createdAt, d.final.finishedAt));
    }
  }
  const since = pending ? (r.spec.afterPolicy === "any" ? undefined : failedAt) : last;
  return since !== undefined && since < now - HAND_ON_DEADLINE_MS;
}

/** Whether the task's queue knows it (`seen`: each queue read once in a look). */
async function inQueue(ctx: Ctx, r: TaskRecords, seen: Map<string, Set<string>>): Promise<boolean> {
  const q = r.spec.queue!;
  let members = seen.get(q);
  if (!members) seen.set(q, members = await ctx.store.queueMembers(q));
  return members.has(r.spec.id);
}

/**
 * Whether this process may run bash and write the store: a look that would
 * start tasks (resolve a waiting one, schedule a queue) is otherwise only a
 * look (a reader given only `--allow-read` starts nothing).
 */
function mayAct(ctx: Ctx): boolean {
  const write = { name: "write", path: ctx.store.location } as const;
  return mayRunBash() && Deno.permissions.querySync(write).state === "granted";
}

/** Whether the line of `r`'s queue is garbled (see the store's `queueDamaged`), asked once a queue. */
async function lineDamaged(
  ctx: Ctx,
  r: TaskRecords,
  seen: Map<string, boolean>,
): Promise<boolean> {
  const q = r.spec.queue!;
  let damaged = seen.get(q);
  if (damaged === undefined) {
    damaged = await ctx.store.queueDamaged(q).catch(() => false);
    seen.set(q, damaged);
  }
  return damaged;
}

/**
 * A queued task its queue does not know: its spawner recorded it and died
 * before putting it in line (both happen under the queue's lock, so holding
 * the lock makes sure). Nobody would start it: it is lost. Unless the line
 * is garbled (by a hand, a disk fault): then it was likely in it, and is put
 * back in line (`requeued` gets its queue, to schedule). Left as it is
 * where the store may only be read.
 */
async function loseStray(
  ctx: Ctx,
  r: TaskRecords,
  lost: string[],
  requeued: Set<string>,
): Promise<TaskRecords> {
  if (!mayAct(ctx)) return r;
  const q = r.spec.queue!;
  try {
    return await ctx.store.withQueue(q, async () => {
      if ((await ctx.store.queueMembers(q)).has(r.spec.id)) return r;
      if (await ctx.store.queueDamaged(q)) {
        await ctx.store.enqueue(q, r.spec.id);
        requeued.add(q);
        return r;
      }
      return await markLost(ctx, r, STRAY_ERROR, lost);
    });
  } catch (e) {
    if (e instanceof StoreError) return r; // a later look tries again
    throw e;
  }
}

/** Many tasks at once: one bash process checks every running one. */
export async function settleMany(ctx: Ctx, records: TaskRecords[]): Promise<TaskRecords[]> {
  const out = [...records];
  const check: number[] = [];
  const now = Date.now();
  const lost: string[] = [];
  const orphans: number[] = [];
  const strays: number[] = [];
  const late: number[] = [];
  const deps: Deps = new Map();
  const queues = new Map<string, Set<string>>();
  const damaged = new Map<string, boolean>();
  for (let i = 0; i < out.length; i++) {
    const r = out[i];
    if (r.final) continue;
    if (r.started) check.push(i);
    else if (waitsForDependencies(r)) {
      if (await unresolved(ctx, r, deps, now)) orphans.push(i);
    } else if (waitsInLine(r)) {
      // (Its spawner may still be putting it in line: only an old one. Or
      // any one, from a line found garbled: put back in line at once.)
      const old = r.spec.createdAt < now - START_DEADLINE_MS;
      if ((old || await lineDamaged(ctx, r, damaged)) && !(await inQueue(ctx, r, queues))) {
        strays.push(i);
      }
    } else {
      // Started by its spawner (immediate) or by a scheduler (launched): it
      // should have written its started record by now.
      const since = isImmediate(r.spec) ? r.spec.createdAt : r.launchedAt;
      if (since !== undefined && since < now - START_DEADLINE_MS) late.push(i);
    }
  }
  for (const i of orphans) {
    // Nobody else would resolve it (see unresolved), and it would wait for
    // ever. (A removed dependency counts as its tombstone says it ended.)
    if (!mayAct(ctx)) break;
    await resolveTask(ctx.store, out[i].spec.id);
    out[i] = (await ctx.store.read(out[i].spec.id)) ?? out[i];
  }
  const requeued = new Set<string>();
  for (const i of strays) out[i] = await loseStray(ctx, out[i], lost, requeued);
  await scheduleQueues(ctx.store, [...requeued]);
  // Late to start, but not lost while a process carrying its token is alive:
  // a launcher or supervisor still starting it (at the process limit bash
  // retries each fork for 15 s, and a start takes up to three); nor, for a
  // task a scheduler launched, while a process its launch marker names is
  // (a launcher forked, not yet exec'd). Where bash may not run, by the
  // deadline alone, as before.
  const starting = late.length > 0 && mayRunBash()
    ? await tasksStarting(
      ctx.store,
      late.map((i) => {
        const { token, id } = out[i].spec;
        return isImmediate(out[i].spec) ? { token } : { token, id };
      }),
    )
    : [];
  for (let k = 0; k < late.length; k++) {
    if (!starting[k]) out[late[k]] = await markLost(ctx, out[late[k]], NEVER_STARTED_ERROR, lost);
  }
  if (check.length > 0) {
    const alive = await aliveMany(check.map((i) => probe(ctx, out[i])));
    for (let k = 0; k < check.length; k++) {
      const { alive: yes, waitingForInput, view } = alive[k];
      // (A task of a pid namespace not seen from here reads alive: never lost
      // here, nor its slot freed, nor what runs after it started here.)
      const why = view === "gone" ? NAMESPACE_LOST_ERROR : LOST_ERROR;
      if (!yes) out[check[k]] = await markLost(ctx, out[check[k]], why, lost);
      else if (waitingForInput !== undefined) out[check[k]] = { ...out[check[k]], waitingForInput };
    }
  }
  // Their supervisors are gone: hand their queue slots on, and resolve the
  // tasks that run after them, here.
  const handOn = [];
  for (const id of lost) {
    const r = out.find((x) => x.spec.id === id);
    if (r?.spec.queue || await ctx.store.hasDependents(id)) handOn.push(id);
  }
  await tasksEnded(ctx.store, handOn);
  return out;
}

/** When each queue was last scheduled by a waiter, per store (see settleWaiting). */
const scheduled = new WeakMap<object, Map<string, number>>();

/**
 * Tasks that are waited for (`wait`, `follow`), looked at together: settled
 * as by {@linkcode settleMany} (one bash process for all), and so is what
 * each of them waits on, which nothing else may ever look at (after a
 * restart of the machine, nothing runs to hand a queue's slots on or to
 * resolve a dependent task): the tasks it runs after, and theirs, are
 * settled (a lost one is recorded, which resolves the tasks after it), and
 * the queues of those waiting in one are scheduled (slots of lost tasks
 * freed, what fits started; once a second at most per queue and store). A
 * reader that may not act only looks. Returns the tasks as settled (a final
 * record the store could not take included); the waiters read theirs again.
 */
export async function settleWaiting(ctx: Ctx, records: TaskRecords[]): Promise<TaskRecords[]> {
  const out = await settleMany(ctx, records);
  const pending = out.filter((r) => !r.final && !r.started);
  if (pending.length === 0 || !mayAct(ctx)) return out;
  const queues = new Set<string>();
  const seen: Deps = new Map(pending.map((r) => [r.spec.id, r])); // each task looked at once
  let waiting = pending;
  while (waiting.length > 0) {
    const deps: TaskRecords[] = [];
    for (const w of waiting) {
      if (w.final || w.started) continue;
      if (waitsForDependencies(w)) {
        for (const id of w.spec.after) {
          if (seen.has(id)) continue;
          const d = await depRecord(ctx, id, seen);
          if (d && d !== "damaged" && !d.final) deps.push(d);
        }
      } else if (w.spec.queue !== null && w.launchedAt === undefined) {
        queues.add(w.spec.queue);
      }
    }
    waiting = await settleMany(ctx, deps);
  }
  let last = scheduled.get(ctx.store);
  if (!last) scheduled.set(ctx.store, last = new Map());
  // (This process's clock, which a step of the wall clock does not move.)
  const now = performance.now();
  const due = [...queues].filter((q) => !(now - (last.get(q) ?? -Infinity) < LIVENESS_CHECK_MS));
  for (const q of due) last.set(q, now);
  await scheduleQueues(ctx.store, due);
  return out;
}

/** The error of a task whose start record was never written whole, none of whose processes is left. */
export const UNWRITTEN_START_ERROR = "lost: its start record was never written whole (the disk " +
  "was full as it started, or its supervisor died then), and none of its processes is left";

/**
 * A task whose start record cannot be read: which processes are its is not
 * known, but the token they carry tells whether any is left. With none, it
 * is recorded lost, and can then be read, removed and cleaned as any other
 * (it was "damaged" for every verb, for good: a store on a full disk left
 * such tasks). True when it has a final record now.
 */
export async function settleDamagedStart(ctx: Ctx, e: DamagedRecordError): Promise<boolean> {
  if (e.record !== "start" || !e.token || !mayAct(ctx)) return false;
  const [alive] = await tokensAlive([e.token]);
  if (alive) return false;
  const won = await commitUnlessFull(ctx, e.id, unheard("failed", UNWRITTEN_START_ERROR, "lost"));
  if (won === undefined) return false;
  if (won) {
    ctx.hub.notify();
    // (Its spawn record says whether it held a slot or others run after it;
    // the hand-on looks at the queues itself.)
    await tasksEnded(ctx.store, [e.id]);
  }
  return true;
}

/**
 * The store's read of a task, for a verb that looks at it or acts on it: one
 * whose start record cannot be read and none of whose processes is left is
 * recorded lost first (see {@linkcode settleDamagedStart}), then read.
 */
export async function readSettled(ctx: Ctx, id: string): Promise<TaskRecords | undefined> {
  try {
    return await ctx.store.read(id);
  } catch (e) {
    if (!(e instanceof DamagedRecordError) || !(await settleDamagedStart(ctx, e))) throw e;
    return await ctx.store.read(id);
  }
}

/** {@linkcode requireTask}, read through {@linkcode readSettled}. */
export function requireSettledRead(ctx: Ctx, id: string): Promise<TaskRecords> {
  return requireTask(ctx, id, (id) => readSettled(ctx, id));
}

/**
 * Claims a task's final record (the store's `commitFinal`), or
 * undefined when the store cannot take it now (a full disk, a store we may
 * only read): the caller then reads the task as ended all the same, and a
 * later look records it.
 */
export async function commitUnlessFull(
  ctx: Ctx,
  id: string,
  record: FinalRecord,
): Promise<boolean | undefined> {
  try {
    return await ctx.store.commitFinal(id, record);
  } catch (e) {
    if (e instanceof StoreError) return undefined;
    throw e;
  }
}

/**
 * The final record of a started task whose supervisor heard its shell exit
 * but wrote no record (killed just then, or the disk was full): the exit it
 * heard, at the time it heard it. Undefined when it heard none.
 */
async function heardEnd(ctx: Ctx, r: TaskRecords): Promise<FinalRecord | undefined> {
  if (!r.started) return undefined;
  const note = await ctx.store.endNote(r.spec.id, r.started.taskPid).catch(() => undefined);
  if (!note) return undefined;
  const code = note.exitCode;
  return {
    status: code === 0 ? "completed" : "failed",
    exitCode: code,
    signal: null,
    error: code === 0 ? null : `exited with code ${code}`,
    finishedAt: note.at,
    by: "exit",
  };
}

/** The error of a task killed on request whose supervisor was gone before it could record it. */
const KILLED_UNRECORDED = "killed on request (recorded after its supervisor was gone)";

/** The final record, made now, of a task whose end nobody heard. */
function unheard(status: "failed" | "killed", error: string, by: string): FinalRecord {
  return { status, exitCode: null, signal: null, error, finishedAt: Date.now(), by };
}

/**
 * Records a task as lost, unless its supervisor finished it meanwhile — or
 * heard how it ended (then that is recorded).
 */
async function markLost(
  ctx: Ctx,
  r: TaskRecords,
  error: string,
  lost: string[],
): Promise<TaskRecords> {
  const id = r.spec.id;
  const fresh = await ctx.store.read(id);
  if (!fresh || fresh.final) return fresh ?? r;
  // Someone asked to kill it, and was told it was killed (its supervisor
  // could not record it: a full disk): killed, as that asker was told.
  const record = await heardEnd(ctx, fresh) ??
    (await ctx.store.killRequested(id).catch(() => false)
      ? unheard("killed", KILLED_UNRECORDED, "kill")
      : unheard("failed", error, "lost"));
  const won = await commitUnlessFull(ctx, id, record);
  if (won === undefined) return { ...fresh, final: record }; // lost all the same
  if (won) {
    ctx.hub.notify();
    lost.push(id);
  }
  return (await ctx.store.read(id)) ?? r;
}

/** The sweep under way for each manager: one at a time, joined by those who ask meanwhile. */
const underWay = new WeakMap<Ctx, Promise<void>>();

/**
 * Looks at every task that may not have ended or been announced: announces
 * the finished ones (again is harmless) and drops them from the active set,
 * and records the lost ones. A sweep asked for while one is under way is
 * that one (each looks at every running task's processes: a bash each).
 */
export function sweep(ctx: Ctx): Promise<void> {
  let running = underWay.get(ctx);
  if (!running) {
    running = sweepNow(ctx).finally(() => underWay.delete(ctx));
    underWay.set(ctx, running);
  }
  return running;
}

async function sweepNow(ctx: Ctx): Promise<void> {
  const store = ctx.store;
  const open: TaskRecords[] = [];
  for (const id of await store.activeIds()) {
    let r: TaskRecords | undefined;
    try {
      r = await store.read(id);
    } catch (e) {
      if (!(e instanceof DamagedRecordError)) throw e;
      continue; // damaged: reported by list, not delivered
    }
    if (!r) {
      await store.deactivate(id);
    } else if (r.final) {
      // (Told already by its supervisor, as most are: one line a task, not two.)
      if (!(await store.announced(id))) await store.announce(id);
      await store.deactivate(id);
    } else {
      open.push(r);
    }
  }
  await settleMany(ctx, open);
}
