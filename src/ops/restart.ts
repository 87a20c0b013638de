/**
 * Restarting: a new task with what the old one was started with.
 *
 * @module
 */

import { TaskStateError } from "../errors.ts";
import { isFinal, statusOf } from "../lifecycle.ts";
import type { TaskInfo } from "../types.ts";
import { type Ctx, requireTask } from "./context.ts";
import { CwdError, newToken, spawnSpec } from "./spawn.ts";

/**
 * See {@linkcode TaskManager.restart}: the same command, description, cwd,
 * env, limits, stdin and queue; not its dependencies (they have ended).
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
  try {
    return await spawnSpec(ctx, {
      ...spec,
      id: "b0",
      createdAt: Date.now(),
      after: [],
      afterPolicy: "success",
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
