/**
 * Found in a spawn loop (once in ~4,000 spawns of `true`): a supervisor sat
 * in bash's `wait` (wait4) after its task had been reaped and noted "Done",
 * waiting for its one other child, the watchdog, which waits for the
 * supervisor to close its pipe: the task never ended for anyone.
 *
 * The supervisor now waits for its watchdog by design, and tells it from its
 * CHLD trap that the task ended; when the task ends in the instant before
 * that wait, bash runs the trap only once the wait is over, and the word does
 * not come. The watchdog leaves when it finds the task reaped and its pipe
 * still open on two looks in a row: the supervisor's wait ends, and it
 * records the task. bash's timing cannot be caused on demand, so the
 * supervisor takes its shape on a test's request
 * (`BGTASK_TEST_FAULT=missed-end:STORE`: the trap never tells the watchdog).
 */

import assert from "node:assert/strict";
import { withStore } from "./_helpers/reliability.ts";
import { withTestFault } from "./_helpers/common.ts";

Deno.test("missed end: a supervisor waiting on its watchdog after its task was reaped still records the task", async () => {
  await withStore("missed-end", async (tasks, dir) => {
    // For this store's supervisors only.
    const ids: string[] = [];
    await withTestFault("missed-end", dir, async () => {
      for (const cmd of ["true", "exit 3", "kill -TERM $$"]) {
        ids.push((await tasks.spawnShell(cmd)).id);
      }
    });
    // The watchdog looks every 250 ms (1 s without an output cap): leaving takes two looks.
    const ended = await Promise.all(
      ids.map((id) => tasks.wait(id, { signal: AbortSignal.timeout(15_000) })),
    );
    assert.deepEqual(
      ended.map((t) => [t.status, t.exitCode, t.signal]),
      [["completed", 0, null], ["failed", 3, null], ["failed", null, "SIGTERM"]],
    );
  });
});
