/**
 * Found by CI (the pid-reuse stress, once in ~550 tests): a task that ran
 * `exit 143` was recorded "killed by signal SIGTERM". bash's `wait` gives 143
 * for both; the supervisor tells them apart by bash's note on how the job
 * ended, which its CHLD trap writes (`jobs -l`). When the task ended in the
 * instant before the supervisor's `wait` for it (after the last point where
 * bash runs a pending trap), bash ran the trap only after that `wait`, which
 * had dropped the job from its table: the note came without the task.
 *
 * Now nothing waits for the task before its note is written: the supervisor
 * waits for its watchdog, which the trap tells once the task's note shows its
 * end (or which leaves by itself on finding the task gone), and collects the
 * task after.
 *
 * That instant cannot be hit on demand, so the test stretches it
 * (`BGTASK_TEST_FAULT=late-wait:STORE`): the words of the supervisor's wait
 * take a second or so to expand, with no trap run meanwhile; the task ends
 * then. (The watchdog, which would leave within that second on finding the
 * task gone, waits for the test's word: a real instant is far shorter.)
 */

import assert from "node:assert/strict";
import { withStore } from "./_helpers/reliability.ts";
import { exists, gate, until, withTestFault } from "./_helpers/common.ts";

const CASES = [
  ["exit 143", ["failed", 143, null]],
  ["kill -TERM $$", ["failed", null, "SIGTERM"]],
  ["exit 0", ["completed", 0, null]],
] as const;

/** One task ending in the stretched instant, in a store of its own (the fault is the store's). */
async function endBeforeWait(command: string): Promise<unknown[]> {
  let result: unknown[] = [];
  await withStore("end-before-wait", async (tasks, dir) => {
    const task = await withTestFault(
      "late-wait",
      dir,
      () => tasks.spawnShell(`${gate(`${dir}/fault-go`)}; ${command}`),
    );
    await until(() => exists(`${dir}/fault-at-wait`), "the supervisor at its wait", 15_000);
    await Deno.writeTextFile(`${dir}/fault-go`, "");
    // Ended, and collected by bash at once, while the wait's words expand.
    await until(() => !exists(`/proc/${task.pid}`), "the task's end", 15_000);
    await until(() => exists(`${dir}/fault-in-wait`), "the supervisor in its wait", 15_000);
    await Deno.writeTextFile(`${dir}/fault-wd-go`, "");
    const ended = await tasks.wait(task.id, { signal: AbortSignal.timeout(15_000) });
    result = [ended.status, ended.exitCode, ended.signal];
  });
  return result;
}

Deno.test("end before wait: tasks that end the instant their supervisor goes to wait are recorded as they ended (exit 143 is not SIGTERM)", async () => {
  const results = await Promise.all(CASES.map(([command]) => endBeforeWait(command)));
  assert.deepEqual(results, CASES.map(([, expected]) => expected));
});
