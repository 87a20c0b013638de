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
