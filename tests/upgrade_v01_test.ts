/**
 * A store upgraded from bgtask 0.1 while its tasks run: tasks started by
 * 0.1's own supervisor (tests/_helpers/v0_1.ts), handled by this version.
 */

import { assert, assertEquals } from "./_helpers/assert.ts";
import { groupMembers, until, withStore } from "./_helpers/common.ts";
import { spawnV01 } from "./_helpers/v0_1.ts";

Deno.test("kill() of a task 0.1 runs records it killed, its tree ended, also one that ignores SIGTERM", async () => {
  await withStore(async (tasks, dir) => {
    for (const command of ["echo ready; sleep 300", "trap '' TERM; echo ready; sleep 300 & wait"]) {
      const id = await spawnV01(dir, command);
      await until(async () => (await tasks.readOutput(id)) === "ready\n", "ready");
      const pid = (await tasks.getStatus(id))!.pid!;
      const info = await tasks.kill(id, { graceMs: 200 });
      assertEquals(
        [info.status, info.reason, groupMembers(pid)],
        ["killed", "killed", []],
        command,
      );
      assert(info.error?.startsWith("killed on request"), info.error ?? "");
      // 0.1's supervisor sees its shell die and tries to record the signal: the kill's record stays.
      await until(() => groupMembers(pid).length === 0, "the group to be gone");
      assertEquals((await tasks.list({ status: "killed" })).map((t) => t.id).includes(id), true);
      assertEquals((await tasks.getStatus(id))?.status, "killed");
    }
  });
});

Deno.test("kill() of a task 0.1 runs gives it the grace asked: SIGKILL before a task given a longer one, killed with it (its grace was its supervisor's pid, in ms)", async () => {
  await withStore(async (tasks, dir) => {
    const command = "trap '' TERM; echo ready; sleep 300 & wait";
    const old = await spawnV01(dir, command);
    const now = (await tasks.spawnShell(command)).id;
    for (const id of [old, now]) {
      await until(async () => (await tasks.readOutput(id)) === "ready\n", `${id} ready`);
    }
    // The 0.1 task has no token: split as words, its kill's fields moved one
    // place (the grace read the supervisor's pid: 9.8 s for pid 9868).
    const order: string[] = [];
    const kill = async (id: string, graceMs: number) => {
      assertEquals((await tasks.kill(id, { graceMs })).status, "killed", id);
      order.push(id);
    };
    await Promise.all([kill(old, 200), kill(now, 3_000)]);
    assertEquals(order, [old, now], "the 0.1 task's 200 ms, then the other's 3 s");
  });
});

Deno.test("restart() of a task 0.1 ran without a cwd runs where it ran", async () => {
  const where = await Deno.realPath(await Deno.makeTempDir({ prefix: "bgtask-v01-cwd-" }));
  try {
    await withStore(async (tasks, dir) => {
      // 0.1 recorded `"cwd": null`: the task ran in its spawner's directory.
      const id = await spawnV01(dir, "pwd", { spawnerCwd: where });
      assertEquals((await tasks.wait(id)).status, "completed");
      const again = await tasks.restart(id);
      assertEquals([again.cwd, (await tasks.wait(again.id)).status], [where, "completed"]);
      assertEquals(await tasks.readOutput(again.id), `${where}\n`);
    });
  } finally {
    await Deno.remove(where, { recursive: true });
  }
});
