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
