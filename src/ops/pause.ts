/**
 * Pausing and resuming a task: SIGSTOP and SIGCONT to its whole process
 * group, from any process sharing the store. The pause record keeps the
 * paused time, which the watchdog leaves out of the timeout.
 *
 * @module
 */

import { TaskStateError } from "../errors.ts";
import { requireTransition, statusOf, type TaskRecords } from "../lifecycle.ts";
import { requireRunBash } from "../permissions.ts";
import { signalGroup } from "../supervisor/run.ts";
import type { TaskInfo } from "../types.ts";
import { type Ctx, infoOf, requireTask } from "./context.ts";
import { settle } from "./settle.ts";

async function current(ctx: Ctx, id: string, what: string): Promise<TaskRecords> {
  requireRunBash(what);
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
  const running = { started: r.started!, token: r.spec.token, pty: r.pty };
  if (!(await signalGroup(running, "STOP", what))) {
    throw new TaskStateError(id, `${what}: it has just ended`);
  }
  try {
    await ctx.store.writePaused(id, { totalMs: r.paused?.totalMs ?? 0, since: Date.now() });
  } catch (e) {
    // Not recorded (a full disk, a read-only store): a task left stopped
    // would read as running, resume would refuse it, and its timeout would
    // count the stop. It runs on, and the error says why it was not paused.
    await signalGroup(running, "CONT", what).catch(() => {});
    throw e;
  }
  return await infoOf(ctx, await requireTask(ctx, id));
}

/** See {@linkcode TaskManager.resume}. */
export async function resume(ctx: Ctx, id: string): Promise<TaskInfo> {
  const what = `Cannot resume task ${id}`;
  const r = await current(ctx, id, what);
  requireTransition(id, statusOf(r), "resume");
  const since = r.paused!.since;
  await ctx.store.writePaused(id, {
    totalMs: r.paused!.totalMs + Math.max(0, Date.now() - since),
    since: 0,
  });
  await signalGroup({ started: r.started!, token: r.spec.token, pty: r.pty }, "CONT", what);
  return await infoOf(ctx, await requireTask(ctx, id));
}
