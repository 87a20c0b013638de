/**
 * Found while writing the issue-10 tests: kill() right after spawnShell()
 * returned recorded the task as killed, and the task ran on. The task's
 * process group exists only once the task has called setsid(2), a moment
 * after its fork; the supervisor reported the task started before that, and
 * a group kill in that moment found no group ("nothing left to kill").
 *
 * Now the supervisor records (and reports) the start only once the task's
 * group exists, so a kill at any moment after spawnShell() reaches it.
 */

import assert from "node:assert/strict";
import { processesWithToken, taskToken } from "./_helpers/correctness.ts";
import { HEAVY, procStat, readStartedRaw, withStore } from "./_helpers/reliability.ts";

const ROUNDS = HEAVY ? 300 : 60;

Deno.test(`kill at spawn: ${ROUNDS} tasks killed the moment spawnShell() returns are killed, and nothing of them runs on`, async () => {
  await withStore("kill-at-spawn", async (tasks, dir) => {
    const ranOn: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = await tasks.spawnShell("sleep 2; echo ran-on");
      const k = await tasks.kill(t.id, { graceMs: 0 });
      ids.push(t.id);
      assert.equal(k.status, "killed");
      // Resolved: nothing of the task is alive — no member of its group carries
      // its token, and its pid is not the task's any more (by start time; a
      // pid freed by now may already be another process's).
      const token = taskToken(dir, t.id)!;
      const taskStart = readStartedRaw(dir, t.id)!.taskStart;
      const alive = processesWithToken(token).filter((p) => procStat(p)?.pgrp === t.pid);
      const leader = procStat(t.pid!);
      if (leader && leader.state !== "Z" && leader.start === taskStart && !alive.includes(t.pid!)) {
        alive.push(t.pid!);
      }
      if (alive.length > 0) ranOn.push(`${t.id} (alive: ${alive.join(" ")})`);
    }
    // And none of them gets to the end of its command.
    await new Promise((r) => setTimeout(r, 2200));
    for (const id of ids) {
      if ((await tasks.readOutput(id)).includes("ran-on")) ranOn.push(`${id} printed ran-on`);
    }
    assert.deepEqual(ranOn, [], `alive after kill() resolved: ${ranOn.join(", ")}`);
  });
});
