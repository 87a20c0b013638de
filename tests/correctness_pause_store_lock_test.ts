/**
 * A pause never leaves a lock of the store held by a stopped process of the
 * task. A task that runs bgtask itself (a CI script that queues its shards
 * with `bgtask run --queue Q` in a loop) was stopped, 1 pause in 3 to 7,
 * while its bgtask held the queue's lock: the queue's hand-off stopped, and
 * `bgtask queue`, `list --queue`, another `run --queue Q` waited the whole
 * pause. Here the task takes the queue's real lock file with flock(1), as
 * queue.sh does, and holds it most of the time.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { TaskStateError } from "../mod.ts";
import { groupMembers, procStat } from "./_helpers/common.ts";
import { until, withStore } from "./_helpers/reliability.ts";

/** True when nobody holds the lock on `path` (a flock(1) that does not wait for it). */
async function lockFree(path: string): Promise<boolean> {
  const out = await new Deno.Command("flock", { args: ["-n", "-E", "7", path, "true"] }).output();
  if (out.code !== 0 && out.code !== 7) throw new Error(`flock failed: ${out.code}`);
  return out.code === 0;
}

function states(pgid: number): string[] {
  return groupMembers(pgid).map((pid) => procStat(pid)?.state ?? "?");
}

Deno.test("a pause of a task that holds a queue's lock most of the time stops it only once it has let go", async () => {
  await withStore("pause-store-lock", async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 1 });
    const lock = join(dir, "queues", "q", "lock");
    const t = await tasks.spawnShell(`while :; do flock '${lock}' sleep 0.3; sleep 0.02; done`);
    try {
      for (let round = 1; round <= 3; round++) {
        // Paused while the task holds the lock. (Before: stopped holding it,
        // every round, and nobody could take it until the resume.)
        await until(async () => !(await lockFree(lock)), "the task to hold the queue's lock");
        assert.equal((await tasks.pause(t.id)).status, "paused");
        await until(() => states(t.pid!).every((s) => s === "T"), "every member to be stopped");
        assert.ok(
          await lockFree(lock),
          `round ${round}: the queue's lock is held by the paused task`,
        );
        assert.equal((await tasks.getStatus(t.id))?.status, "paused");
        assert.equal((await tasks.resume(t.id)).status, "running");
      }
    } finally {
      await tasks.kill(t.id, { graceMs: 500 });
    }
  });
});

Deno.test("a pause of a task that never lets go of a queue's lock is refused, and the task is left running", async () => {
  await withStore("pause-store-lock-kept", async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 1 });
    const lock = join(dir, "queues", "q", "lock");
    const t = await tasks.spawnShell(`flock '${lock}' sleep 300`);
    try {
      await until(async () => !(await lockFree(lock)), "the task to hold the queue's lock");
      await assert.rejects(
        tasks.pause(t.id),
        (e) => e instanceof TaskStateError && /held a lock of the store/.test(e.message),
      );
      assert.equal((await tasks.getStatus(t.id))?.status, "running");
      await until(() => states(t.pid!).every((s) => s !== "T"), "every member to run");
    } finally {
      await tasks.kill(t.id, { graceMs: 500 });
    }
  });
});
