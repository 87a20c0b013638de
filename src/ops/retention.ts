/**
 * Retention: removing finished tasks, one by one or in bulk. Removing what
 * someone else removed a moment ago counts as removed.
 *
 * @module
 */

import { TaskNotFoundError, TaskStateError } from "../errors.ts";
import { isFinal } from "../lifecycle.ts";
import type { CleanOptions, TaskInfo } from "../types.ts";
import { type Ctx, infoOf, nonNegativeInt, notFound, requireTask } from "./context.ts";
import { list, statusSet } from "./list.ts";
import { settle } from "./settle.ts";

/** See {@linkcode TaskManager.remove}. */
export async function remove(ctx: Ctx, id: string): Promise<TaskInfo> {
  const r = await settle(ctx, await requireTask(ctx, id));
  if (!r.final) {
    // Not finished when we looked, and gone now: someone else removed it meanwhile.
    if (!(await ctx.store.read(id))) throw notFound(id);
    const state = r.started ? (r.paused?.since ? "paused" : "running") : "queued";
    const fix = state === "queued" ? "kill it first, and it never runs" : "kill it first";
    throw new TaskStateError(id, `Cannot remove task ${id}: it is still ${state} (${fix})`);
  }
  const info = await infoOf(ctx, r);
  await ctx.store.remove(id);
  return info;
}

/** See {@linkcode TaskManager.clean}. */
export async function clean(ctx: Ctx, options: CleanOptions): Promise<TaskInfo[]> {
  const what = "Cannot clean tasks";
  const olderThanMs = nonNegativeInt(options.olderThanMs, "olderThanMs", what) ?? 0;
  const wanted = statusSet(options.status, what);
  const cutoff = Date.now() - olderThanMs;
  const removed: TaskInfo[] = [];
  for (const t of await list(ctx, {})) {
    if (!isFinal(t.status) || t.finishedAt === null) continue;
    if (wanted && !wanted.has(t.status)) continue;
    if (Date.parse(t.finishedAt) > cutoff) continue;
    try {
      removed.push(await remove(ctx, t.id));
    } catch (e) {
      if (!(e instanceof TaskNotFoundError)) throw e; // removed meanwhile by someone else
    }
  }
  return removed;
}
