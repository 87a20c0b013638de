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
import { aliveMany, type Probe, resolveTask, tasksEnded } from "../supervisor/run.ts";
import { START_DEADLINE_MS } from "../timing.ts";
import type { Ctx } from "./context.ts";

/** The error of a task whose processes vanished. */
export const LOST_ERROR = "lost: its processes ended without recording an exit " +
  "(killed from outside, the machine restarted, or the disk was full when it ended)";
/** The error of a task that should have started and never did. */
export const NEVER_STARTED_ERROR = "lost: the task never reported that it started";

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

/** True when one of these tasks is gone from the store (`seen`: what was found before). */
async function anyVanished(
  ctx: Ctx,
  ids: string[],
  seen: Map<string, boolean>,
): Promise<boolean> {
  for (const id of ids) {
    let vanished = seen.get(id);
    if (vanished === undefined) {
      try {
        vanished = !(await ctx.store.read(id));
      } catch (e) {
        if (!(e instanceof DamagedRecordError)) throw e;
        vanished = false; // damaged: there, still
      }
      seen.set(id, vanished);
    }
    if (vanished) return true;
  }
  return false;
}

/** Many tasks at once: one bash process checks every running one. */
export async function settleMany(ctx: Ctx, records: TaskRecords[]): Promise<TaskRecords[]> {
  const out = [...records];
  const check: number[] = [];
  const now = Date.now();
  const lost: string[] = [];
  const orphans: number[] = [];
  const gone = new Map<string, boolean>(); // each dependency looked at once
  for (let i = 0; i < out.length; i++) {
    const r = out[i];
    if (r.final) continue;
    if (r.started) check.push(i);
    else if (waitsForDependencies(r)) {
      if (await anyVanished(ctx, r.spec.after, gone)) orphans.push(i);
    } else {
      // Started by its spawner (immediate) or by a scheduler (launched): it
      // should have written its started record by now.
      const since = isImmediate(r.spec) ? r.spec.createdAt : r.launchedAt;
      if (since !== undefined && since < now - START_DEADLINE_MS) {
        out[i] = await markLost(ctx, r, NEVER_STARTED_ERROR, lost);
      }
    }
  }
  for (const i of orphans) {
    // A task it runs after was removed before its end was handed on (its
    // folder deleted by hand while it ran): nobody else would resolve this
    // one, which would wait for ever. A removed dependency did not complete.
    await resolveTask(ctx.store, out[i].spec.id);
    out[i] = (await ctx.store.read(out[i].spec.id)) ?? out[i];
  }
  if (check.length > 0) {
    const alive = await aliveMany(check.map((i) => probe(ctx, out[i])));
    for (let k = 0; k < check.length; k++) {
      const { alive: yes, waitingForInput } = alive[k];
      if (!yes) out[check[k]] = await markLost(ctx, out[check[k]], LOST_ERROR, lost);
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

/** Records a task as lost, unless its supervisor finished it meanwhile. */
async function markLost(
  ctx: Ctx,
  r: TaskRecords,
  error: string,
  lost: string[],
): Promise<TaskRecords> {
  const id = r.spec.id;
  const fresh = await ctx.store.read(id);
  if (!fresh || fresh.final) return fresh ?? r;
  const record: FinalRecord = {
    status: "failed",
    exitCode: null,
    signal: null,
    error,
    finishedAt: Date.now(),
    by: "lost",
  };
  const won = await commitUnlessFull(ctx, id, record);
  if (won === undefined) return { ...fresh, final: record }; // lost all the same
  if (won) {
    ctx.hub.notify();
    lost.push(id);
  }
  return (await ctx.store.read(id)) ?? r;
}

/**
 * Looks at every task that may not have ended or been announced: announces
 * the finished ones (again is harmless) and drops them from the active set,
 * and records the lost ones.
 */
export async function sweep(ctx: Ctx): Promise<void> {
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
      await store.announce(id);
      await store.deactivate(id);
    } else {
      open.push(r);
    }
  }
  await settleMany(ctx, open);
}
