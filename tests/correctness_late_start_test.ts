/**
 * A task whose start takes longer than the start deadline (30 s) while a
 * process of it is still starting it: at the process limit bash retries
 * each fork for 15 s, and a start makes up to three (the launcher's of the
 * supervisor, the watchdog, the command). Any look at the store recorded it
 * "lost: the task never reported that it started" at 30 s; its supervisor
 * then found that final record and left without running it. Now a late
 * task is lost only once no process carrying its token is left (a task whose
 * start nobody carries on is lost as before: correctness_abandoned_spawn_test,
 * queue_test).
 *
 * The tests hold a supervisor before its start (`slow-start`: until the test
 * makes STORE/fault-go) and age the task's records by 31 s.
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { exists, withTestFault } from "./_helpers/common.ts";
import { ageSpec, until, withStore } from "./_helpers/reliability.ts";

const AGE_MS = 31_000;

/**
 * Makes a task's launch and its queue slot 31 s old: the times of its
 * launch marker (a line for its claimer, one for the launcher it forked),
 * and the queue's entries "ID@MS" its scheduler prunes by.
 */
function ageLaunch(dir: string, id: string): void {
  const marker = `${dir}/tasks/${id}/launched`;
  const lines = Deno.readTextFileSync(marker).trim().split("\n");
  const aged = lines.map((l) => l.replace(/^\d+/, (ms) => String(Number(ms) - AGE_MS)));
  Deno.writeTextFileSync(marker, aged.join("\n") + "\n");
  const running = `${dir}/queues/q/running`;
  const entries = Deno.readTextFileSync(running);
  const slots = entries.replace(/@(\d+)/g, (_, ms) => `@${Number(ms) - AGE_MS}`);
  assert.notEqual(slots, entries);
  Deno.writeTextFileSync(running, slots);
}

Deno.test("late start: a task whose supervisor is still starting it 30 s on is not recorded lost, and runs", async () => {
  await withStore("late-start", async (tasks, dir) => {
    const spawning = withTestFault("slow-start", dir, () => tasks.spawnShell("echo ran"));
    // Its supervisor is held before it starts the command (the spawn waits with it), its
    // spawn record read. (CI, once: aged as soon as it existed, the record was rewritten
    // in place under the launcher reading it, and the spawn failed "report: error spec".)
    await until(() => exists(`${dir}/fault-at-start`), "the supervisor held before the start");
    ageSpec(dir, "b1", AGE_MS);
    // Another process's look, past the deadline.
    const look = await new TaskManager({ dir }).getStatus("b1");
    assert.equal(look?.error, null, `recorded: ${look?.error}`);
    assert.equal(look?.status, "queued"); // (no start recorded yet)
    await Deno.writeTextFile(`${dir}/fault-go`, "");
    const t = await spawning;
    const done = await tasks.wait(t.id, { signal: AbortSignal.timeout(20_000) });
    assert.equal(done.status, "completed");
    assert.equal(await tasks.readOutput(t.id), "ran\n");
  });
});

/**
 * A task its queue launched (resumeQueue's bash: it claims the launch, forks
 * the launcher and leaves), held by the test's `fault` before it runs, its
 * launch aged: another process's look must leave it its slot, and it runs
 * once let go. `marker` checks the launch marker first.
 */
async function launchedLate(fault: string, marker: (lines: string[]) => void): Promise<void> {
  await withStore(`late-start-${fault}`, async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 1 });
    await tasks.pauseQueue("q");
    const t = await tasks.spawnShell("echo ran", { queue: "q" });
    await withTestFault(fault, dir, () => tasks.resumeQueue("q"));
    marker(Deno.readTextFileSync(`${dir}/tasks/${t.id}/launched`).trim().split("\n"));
    ageLaunch(dir, t.id);
    // Another process looks at the queue (its scheduler prunes the slots
    // deeply) and at the task.
    const other = new TaskManager({ dir });
    const [q] = await other.getQueues();
    assert.equal(q.running + q.queued, 1);
    const look = await other.getStatus(t.id);
    assert.equal(look?.error, null, `recorded: ${look?.error}`);
    await Deno.writeTextFile(`${dir}/fault-go`, "");
    const done = await tasks.wait(t.id, { signal: AbortSignal.timeout(20_000) });
    assert.equal(done.status, "completed");
    assert.equal(await tasks.readOutput(t.id), "ran\n");
  });
}

Deno.test("late start: a task its queue launched, still being started 30 s on, keeps its slot and runs", async () => {
  // Its supervisor waits for fault-go (it carries the task's token).
  await launchedLate("slow-start", (lines) => assert.ok(lines.length > 0));
});

Deno.test("late start: a launcher forked by a scheduler that has left, slow to exec (it carries the task's token only then), keeps its slot and runs", async () => {
  // The launcher waits for fault-go before it execs into the task's
  // supervisor: nobody carries the task's token yet, and its claimer is
  // gone, but the marker names the launcher (a line after the claimer's).
  await launchedLate("slow-exec", (lines) => assert.equal(lines.length, 2));
});
