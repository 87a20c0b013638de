/**
 * Found while running the full suite under load: limits_test's output-cap
 * test read 478 MiB instead of the 100,000-byte cap. The watchdog wrote its
 * final record ("failed: output passed the limit", or "timed out") before it
 * ended the task's group and cut the output back to the cap, so a waiter
 * woke to a record whose tree still ran and whose output was still growing.
 *
 * Now the watchdog ends the group and truncates first, and writes the
 * record after (the order the queue work on main adopted too). Here the
 * tasks ignore SIGTERM, so the grace before SIGKILL makes the old window
 * a second long.
 */

import assert from "node:assert/strict";
import { processesWithToken, taskToken } from "./_helpers/correctness.ts";
import { procStat, withStore } from "./_helpers/reliability.ts";

/** Live members of the task's group that carry its token (its supervisor and watchdog are not in it). */
function treeAlive(dir: string, id: string, pgid: number): number[] {
  const token = taskToken(dir, id)!;
  return processesWithToken(token).filter((p) => procStat(p)?.pgrp === pgid);
}

Deno.test("limits: when wait() reports a cap or a timeout, the tree is gone and the output is cut to the cap", async () => {
  await withStore("limit-order", async (tasks, dir) => {
    const capped = await tasks.spawnShell("trap '' TERM; while :; do echo abcdefgh; done", {
      maxOutputBytes: 100_000,
      graceMs: 1000,
    });
    const timed = await tasks.spawnShell("trap '' TERM; sleep 30 & wait", {
      timeoutMs: 300,
      graceMs: 1000,
    });
    const [c, t] = await Promise.all([tasks.wait(capped.id), tasks.wait(timed.id)]);
    // Read at once, as a waiter would.
    const cappedAlive = treeAlive(dir, capped.id, capped.pid!);
    const timedAlive = treeAlive(dir, timed.id, timed.pid!);
    const size = (await Deno.stat(capped.outputFile)).size;
    assert.equal(c.reason, "max-output", JSON.stringify(c));
    assert.equal(t.reason, "timeout", JSON.stringify(t));
    assert.deepEqual(cappedAlive, [], "the capped task's tree still ran when wait() resolved");
    assert.deepEqual(timedAlive, [], "the timed-out task's tree still ran when wait() resolved");
    assert.equal(size, 100_000, "the output is cut to the cap when wait() resolves");
    assert.equal(await tasks.readOutput(capped.id), "abcdefgh\n".repeat(11_112).slice(0, 100_000));
  });
});
