/**
 * Found by a race walk: kill() of a queued task at the instant its queue
 * handed it a slot recorded it killed and returned while its command went on
 * for a few milliseconds: a task launched by a scheduler, whose supervisor
 * had not written `started` yet, counted as not running (only a task just
 * spawned counted as being started).
 *
 * Now a launched task counts as being started too, so kill() waits for its
 * supervisor (which finds the request and ends the command) and returns only
 * once nothing of it runs. The supervisor takes a while to start on a test's
 * request (`BGTASK_TEST_FAULT=slow-start`: 0.5 s), as on a loaded machine.
 */

import assert from "node:assert/strict";
import { processesWithToken, taskToken } from "./_helpers/correctness.ts";
import { procStat, withStore } from "./_helpers/reliability.ts";

Deno.test("kill at launch: a queued task killed as its queue launches it has stopped when kill() returns", async () => {
  Deno.env.set("BGTASK_TEST_FAULT", "slow-start");
  try {
    await withStore("kill-at-launch", async (tasks, dir) => {
      await tasks.setQueue("q", { parallel: 1 });
      await tasks.pauseQueue("q");
      const ticks = `${dir}/ticks`;
      const t = await tasks.spawnShell(`while :; do echo tick >>'${ticks}'; sleep 0.01; done`, {
        queue: "q",
      });
      await tasks.resumeQueue("q"); // launched now; its supervisor starts 0.5 s later
      const folder = `${dir}/tasks/${t.id}`;
      assert.ok(Deno.statSync(`${folder}/launched`).isFile);
      assert.throws(() => Deno.statSync(`${folder}/started`), Deno.errors.NotFound);
      const k = await tasks.kill(t.id, { graceMs: 100 });
      assert.equal(k.status, "killed");
      // Nothing of its group runs (its supervisor may still be leaving).
      assert.ok(k.pid, "killed after it started (the supervisor saw the request after the start)");
      const group = processesWithToken(taskToken(dir, t.id)!).filter((p) =>
        procStat(p)?.pgrp === k.pid
      );
      assert.deepEqual(group, []);
      const size = () => Deno.statSync(ticks).size;
      const atReturn = (() => {
        try {
          return size();
        } catch {
          return 0; // never ran
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(atReturn === 0 ? 0 : size(), atReturn, "ticks written after kill() returned");
    });
  } finally {
    Deno.env.delete("BGTASK_TEST_FAULT");
  }
});
