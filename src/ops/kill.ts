/**
 * Killing: the final record first (so the task's own exit can never
 * overwrite it), then the whole process group, and back only when nothing of
 * it is left.
 *
 * @module
 */

import { isImmediate, type TaskRecords } from "../lifecycle.ts";
import { killGroup, tasksEnded } from "../supervisor/run.ts";
import { LAUNCHING_POLL_MS, LAUNCHING_WAIT_MS, START_DEADLINE_MS } from "../timing.ts";
import type { KillOptions, TaskInfo } from "../types.ts";
import { sleep } from "../watch.ts";
import { type Ctx, infoOf, nonNegativeInt, requireTask } from "./context.ts";
import { DEFAULT_GRACE_MS } from "./spawn.ts";

/** An immediate task whose supervisor has not written `started` yet, but will soon. */
function launching(r: TaskRecords): boolean {
  return !r.final && !r.started && isImmediate(r.spec) &&
    r.spec.createdAt > Date.now() - START_DEADLINE_MS;
}

/** Ends a task's whole tree; see {@linkcode TaskManager.kill}. */
export async function kill(ctx: Ctx, id: string, options: KillOptions): Promise<TaskInfo> {
  const graceMs = nonNegativeInt(options.graceMs, "graceMs", "Cannot kill task") ??
    DEFAULT_GRACE_MS;
  let r = await requireTask(ctx, id);
  // A task being launched right now has no `started` record for a moment.
  for (let waited = 0; launching(r) && waited < LAUNCHING_WAIT_MS; waited += LAUNCHING_POLL_MS) {
    await sleep(LAUNCHING_POLL_MS);
    r = await requireTask(ctx, id);
  }
  if (r.final) return await infoOf(ctx, r);
  const won = await ctx.store.commitFinal(id, {
    status: "killed",
    exitCode: null,
    signal: null,
    error: `killed on request (SIGTERM, then SIGKILL after ${graceMs} ms)`,
    finishedAt: Date.now(),
    by: "kill",
  });
  if (won) {
    ctx.hub.notify();
    // Read again after our write: a supervisor that was starting the task
    // either sees our record before it runs the command, or has written
    // `started` by now (it re-checks for a final record after that write).
    r = await requireTask(ctx, id);
    if (r.started) {
      await killGroup({ started: r.started, token: r.spec.token, pty: r.pty }, graceMs);
    } else if (!isImmediate(r.spec)) {
      // It never ran, and no supervisor will hand on after it: do it here.
      await tasksEnded(ctx.store, [id]);
    }
  }
  return await infoOf(ctx, await requireTask(ctx, id));
}
