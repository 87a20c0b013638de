/**
 * Restarting: a new task with what the old one was started with.
 *
 * @module
 */

import { TaskStateError } from "../errors.ts";
import { idNumber } from "../ids.ts";
import { isFinal, statusOf, type TaskRecords } from "../lifecycle.ts";
import type { TaskInfo } from "../types.ts";
import { type Ctx, requireTask } from "./context.ts";
import { CwdError, newToken, spawnSpec } from "./spawn.ts";

/**
 * Each of `deps`, or its newest restart where it was restarted (a restart
 * of a restart too): the task that now does what it did. Restarts are newer
 * than what they restart, so only the tasks after the oldest dependency are
 * read (one that cannot be, damaged, is passed over: it restarts nothing
 * that can be known). A dependency removed since, with no restart, is left
 * out: it ended before it was removed, and nothing of it can be waited for
 * (as `clean --status completed` removes a finished build). But one the
 * task needs completed that is known to have failed or been killed stops
 * the restart: the new task would only end unrun, as it would beside that
 * dependency still in the store, and nothing can restart a removed one.
 */
async function newestRestarts(ctx: Ctx, r: TaskRecords): Promise<string[]> {
  const { id: task, after: deps, afterPolicy } = r.spec;
  const chainOf = new Map(deps.map((d) => [d, d])); // a task → the dependency it restarts
  const newest = new Map(deps.map((d) => [d, d]));
  const oldest = Math.min(...deps.map(idNumber));
  const later = (await ctx.store.ids()).filter((i) => idNumber(i) > oldest)
    .sort((a, b) => idNumber(a) - idNumber(b));
  for (const id of later) {
    const of = (await ctx.store.read(id).catch(() => undefined))?.spec.restartOf;
    const dep = of ? chainOf.get(of) : undefined;
    if (dep === undefined) continue;
    chainOf.set(id, dep);
    newest.set(dep, id);
  }
  const out: string[] = [];
  for (const d of new Set(deps.map((d) => newest.get(d)!))) {
    if (await ctx.store.read(d).catch(() => "damaged")) {
      out.push(d);
      continue;
    }
    const ended = afterPolicy === "success" ? await ctx.store.removedEnding(d) : undefined;
    if (ended === "failed" || ended === "killed") {
      throw new TaskStateError(
        task,
        `Cannot restart task ${task}: it runs after ${d} has completed, and ${d} ${
          ended === "failed" ? "failed" : "was killed"
        } and was removed since, so the new task would never run (a removed task cannot be ` +
          `restarted): start its command anew, with the --after it needs now or none`,
      );
    }
  }
  return out;
}

/**
 * See {@linkcode TaskManager.restart}: the same command, description, cwd,
 * env, limits, stdin, queue and dependencies (each one's newest restart).
 */
export async function restart(ctx: Ctx, id: string): Promise<TaskInfo> {
  const r = await requireTask(ctx, id);
  const status = statusOf(r);
  if (!isFinal(status)) {
    throw new TaskStateError(
      id,
      `Cannot restart task ${id}: it is still ${status} (restart a task that has ended)`,
    );
  }
  const { spec } = r;
  if (spec.command === "") {
    throw new TaskStateError(id, `Cannot restart task ${id}: it was never created whole`);
  }
  // Where it ran: a task of bgtask 0.1 spawned without a cwd recorded none
  // (`"cwd": null`), only its start record says (its spawner's directory).
  const cwd = spec.cwd || r.started?.cwd || "";
  if (cwd === "") {
    throw new TaskStateError(
      id,
      `Cannot restart task ${id}: where it ran was never recorded (it never started); start its ` +
        `command anew: bgtask run --cwd DIR`,
    );
  }
  const after = spec.after.length > 0 ? await newestRestarts(ctx, r) : [];
  const { legacy: _, ...fresh } = spec; // (a new task is this version's)
  try {
    return await spawnSpec(ctx, {
      ...fresh,
      cwd,
      id: "b0",
      createdAt: Date.now(),
      after,
      restartOf: id,
      token: newToken(),
    }, spec.command);
  } catch (e) {
    // Not the caller's argument: the task's own directory went since.
    if (!(e instanceof CwdError)) throw e;
    throw new TaskStateError(
      id,
      `Cannot restart task ${id}: ${e.problem} ` +
        `(a restart runs where the task ran; to run its command elsewhere, start it anew ` +
        `with another cwd: bgtask run --cwd DIR)`,
    );
  }
}
