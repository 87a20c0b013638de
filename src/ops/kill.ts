/**
 * Killing: ask the supervisor to record the task as killed, end the whole
 * process group, and come back with the record once nothing of it is left.
 * A task that never started is recorded killed at once.
 *
 * @module
 */

import { isImmediate, type TaskRecords } from "../lifecycle.ts";
import { DamagedRecordError } from "../store/fs_store.ts";
import type { FinalRecord } from "../store/records.ts";
import { aliveMany, killGroup, tasksEnded } from "../supervisor/run.ts";
import {
  KILL_DELEGATED_WAIT_MS,
  KILL_RECORD_POLL_MS,
  LAUNCH_PATIENCE_MS,
  LAUNCHING_POLL_MS,
  LAUNCHING_WAIT_MS,
  START_DEADLINE_MS,
} from "../timing.ts";
import type { KillOptions, TaskInfo } from "../types.ts";
import { sleep } from "../timers.ts";
import { type Ctx, infoOf, nonNegativeInt, requireTask } from "./context.ts";
import { commitUnlessFull } from "./settle.ts";
import { DEFAULT_GRACE_MS } from "./spawn.ts";
import { checkOptionNames, OPTION_NAMES } from "../options.ts";

/**
 * A task whose supervisor has not written `started` yet, but will soon: an
 * immediate task just spawned, or one a scheduler just launched (its queue
 * handed it a slot, or the tasks it runs after ended).
 */
function launching(r: TaskRecords): boolean {
  if (r.final || r.started) return false;
  const since = isImmediate(r.spec) ? r.spec.createdAt : r.launchedAt;
  return since !== undefined && since > Date.now() - START_DEADLINE_MS;
}

/** Ends a task's whole tree; see {@linkcode TaskManager.kill}. */
export async function kill(ctx: Ctx, id: string, options: KillOptions): Promise<TaskInfo> {
  checkOptionNames(options, OPTION_NAMES.kill, "Cannot kill task");
  const graceMs = nonNegativeInt(options.graceMs, "graceMs", "Cannot kill task") ??
    DEFAULT_GRACE_MS;
  let r: TaskRecords;
  try {
    r = await requireTask(ctx, id);
  } catch (e) {
    // Only an unreadable start record hides processes that may run; any
    // other damage (an ended task's record, its spawn record) is reported.
    if (!(e instanceof DamagedRecordError) || e.record !== "start") throw e;
    return await killDamaged(ctx, id, graceMs, e);
  }
  // A task being launched right now has no `started` record for a moment.
  for (let waited = 0; launching(r) && waited < LAUNCHING_WAIT_MS; waited += LAUNCHING_POLL_MS) {
    await sleep(LAUNCHING_POLL_MS);
    r = await requireTask(ctx, id);
  }
  if (r.final) return await infoOf(ctx, r);
  const record: FinalRecord = {
    status: "killed",
    exitCode: null,
    signal: null,
    error: `killed on request (SIGTERM; SIGKILL if anything was left after ${graceMs} ms)`,
    finishedAt: Date.now(),
    by: "kill",
  };
  if (!r.started && r.launchedAt === undefined && !isImmediate(r.spec)) {
    // Waiting in a queue or for its dependencies: it never runs. (A scheduler
    // that starts it at this instant finds our record and stops.)
    record.error = "killed on request before it started (it never ran)";
    if (await ctx.store.commitFinal(id, record)) {
      ctx.hub.notify();
      await tasksEnded(ctx.store, [id]);
    }
    return await infoOf(ctx, await requireTask(ctx, id));
  }
  // Started (or being started): its supervisor records "killed" once the tree
  // is gone, so nobody reads the record while the tree still runs, and all its
  // last words are in the output by then.
  await ctx.store.requestKill(id, graceMs);
  // Read again after our write: a supervisor that was starting the task
  // either sees our request before it runs the command, or has written
  // `started` by now (it looks for a request after that write).
  r = await requireTask(ctx, id);
  if (r.started && !r.final) {
    await killGroup({ started: r.started, token: r.spec.token, pty: r.pty }, graceMs);
  }
  return await infoOf(ctx, await recorded(ctx, id, record));
}

/**
 * A task whose records cannot all be read (its start record damaged: which
 * processes are its is unknown here): its watchdog, which knows them, is
 * asked to end the tree, and its supervisor records the kill. Without a
 * record in time (nobody acted: its supervisor and watchdog are gone too),
 * the damage is reported.
 */
async function killDamaged(
  ctx: Ctx,
  id: string,
  graceMs: number,
  damage: DamagedRecordError,
): Promise<TaskInfo> {
  await ctx.store.requestKill(id, graceMs, true);
  const deadline = Date.now() + graceMs + KILL_DELEGATED_WAIT_MS;
  await using w = ctx.hub.watch();
  for (;;) {
    w.mark();
    try {
      const r = await requireTask(ctx, id);
      if (r.final) return await infoOf(ctx, r);
    } catch (e) {
      if (!(e instanceof DamagedRecordError)) throw e;
    }
    if (Date.now() > deadline) {
      throw new DamagedRecordError(
        id,
        `${damage.message}; asked to end it, nothing answered: end its processes by hand ` +
          `(they have BGTASK_TASK_ID=${id} in their environment), then remove its folder`,
      );
    }
    await w.sleep(KILL_RECORD_POLL_MS);
  }
}

/**
 * The task's records once it has a final one: its supervisor's (who knows
 * the tree is gone), or ours if the supervisor is gone too.
 */
async function recorded(ctx: Ctx, id: string, record: FinalRecord): Promise<TaskRecords> {
  await using w = ctx.hub.watch();
  // A launch nobody carries out (its launcher died after claiming it) is not
  // waited for long: a supervisor that comes later finds the kill and stops.
  const patience = Date.now() + LAUNCH_PATIENCE_MS;
  for (;;) {
    w.mark();
    const r = await requireTask(ctx, id);
    if (r.final) return r;
    const alive = r.started
      ? (await aliveMany([{ started: r.started, token: r.spec.token, pty: r.pty }]))[0].alive
      : launching(r) && Date.now() < patience;
    if (!alive) {
      const final = { ...record, finishedAt: Date.now() };
      const won = await commitUnlessFull(ctx, id, final);
      if (won === undefined) return { ...r, final }; // nothing of it is left: killed all the same
      if (won) {
        ctx.hub.notify();
        if (!isImmediate(r.spec) || await ctx.store.hasDependents(id)) {
          await tasksEnded(ctx.store, [id]);
        }
      }
      continue;
    }
    await w.sleep(KILL_RECORD_POLL_MS);
  }
}
