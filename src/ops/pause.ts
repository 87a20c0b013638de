/**
 * Pausing and resuming a task: SIGSTOP and SIGCONT to its whole process
 * group, from any process sharing the store. The pause record keeps the
 * paused time, which the watchdog leaves out of the timeout. A task is never
 * left stopped while a process of it holds a lock of the store (see
 * signalGroup).
 *
 * @module
 */

import { TaskStateError } from "../errors.ts";
import { requireTransition, statusOf, type TaskRecords } from "../lifecycle.ts";
import { requireRunBash } from "../permissions.ts";
import { bootClockMs, signalGroup } from "../supervisor/run.ts";
import type { TaskInfo } from "../types.ts";
import type { PausedRecord } from "../store/records.ts";
import { type Ctx, infoOf, requireTask } from "./context.ts";
import { settle } from "./settle.ts";

async function current(ctx: Ctx, id: string, what: string): Promise<TaskRecords> {
  requireRunBash(what, ctx.store.location);
  return await settle(ctx, await requireTask(ctx, id));
}

/** See {@linkcode TaskManager.pause}. */
export async function pause(ctx: Ctx, id: string): Promise<TaskInfo> {
  const what = `Cannot pause task ${id}`;
  const r = await current(ctx, id, what);
  requireTransition(id, statusOf(r), "pause");
  // (Stopped in its kill's grace, it would read as paused while it is killed.)
  if (await ctx.store.killRequested(id)) {
    throw new TaskStateError(id, `${what}: it is being killed (a kill's grace is running out)`);
  }
  const running = { id, started: r.started!, token: r.spec.token, pty: r.pty };
  // The record first, the stop after: a pause cut short between the two (its
  // process SIGKILLed) leaves a task that reads paused and runs, which a
  // resume sets right; the other way round, it left one stopped that read
  // running, which resume refused. (Not recorded, a full disk or a
  // read-only store: nothing is stopped, and the error says why.)
  const totalMs = r.paused?.totalMs ?? 0;
  // (And on the boot clock, as the watchdog counts the timeout: see bootClockMs.)
  await ctx.store.writePaused(id, { totalMs, since: Date.now(), sinceBoot: await bootClockMs() });
  let stopped: boolean;
  try {
    // (Never left stopped holding a lock of the store: see signalGroup.)
    stopped = await signalGroup(running, "STOP", what, ctx.store);
  } catch (e) {
    await ctx.store.writePaused(id, { totalMs, since: 0 }).catch(() => {});
    throw e;
  }
  if (!stopped) {
    await ctx.store.writePaused(id, { totalMs, since: 0 }).catch(() => {});
    throw new TaskStateError(id, `${what}: it has just ended`);
  }
  // A resume from elsewhere between our record and our stop (it read our
  // record, continued the group, and recorded it running): the stop came
  // after its continue, and is undone. (A resume continues again after its
  // record, for the stop that lands between the two.)
  const now = await requireTask(ctx, id);
  if (!now.final && !(now.paused && now.paused.since > 0)) {
    await signalGroup(running, "CONT", what).catch(() => {});
  }
  return await infoOf(ctx, now);
}

/**
 * How long the pause `p` has lasted: on the boot clock, as the watchdog
 * counts the timeout (a step of the wall clock meanwhile changes nothing);
 * by the wall clock for a pause a build before it recorded.
 */
async function pausedFor(p: PausedRecord): Promise<number> {
  const ms = p.sinceBoot === undefined ? Date.now() - p.since : (await bootClockMs()) - p.sinceBoot;
  return Math.max(0, ms);
}

/** See {@linkcode TaskManager.resume}. */
export async function resume(ctx: Ctx, id: string): Promise<TaskInfo> {
  const what = `Cannot resume task ${id}`;
  const r = await current(ctx, id, what);
  requireTransition(id, statusOf(r), "resume");
  // The group continued first, the record after (as pause, the other way
  // round): cut short between the two, the task runs and reads paused, and
  // a resume again sets it right.
  const group = { id, started: r.started!, token: r.spec.token, pty: r.pty };
  await signalGroup(group, "CONT", what);
  try {
    await ctx.store.writePaused(id, {
      totalMs: r.paused!.totalMs + await pausedFor(r.paused!),
      since: 0,
    });
  } catch (e) {
    // Not recorded (a full disk, a read-only store): stopped again, as its
    // record says, and the error says why it was not resumed.
    await signalGroup(group, "STOP", what).catch(() => {});
    throw e;
  }
  // Again: a pause from elsewhere that wrote its record before ours may
  // have stopped the group after our continue (it sees our record and
  // continues it too, unless it looked before our write).
  await signalGroup(group, "CONT", what);
  return await infoOf(ctx, await requireTask(ctx, id));
}
