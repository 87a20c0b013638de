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
 * request (`BGTASK_TEST_FAULT=slow-start:STORE`: until the test creates
 * STORE/fault-go), as on a loaded machine.
 */

import assert from "node:assert/strict";
import { processesWithToken, taskToken } from "./_helpers/correctness.ts";
import { exists, withTestFault } from "./_helpers/common.ts";
import { FsStore } from "../src/store/fs_store.ts";
import { specFor } from "../src/ops/spawn.ts";
import { procStat, storeProcesses, until, withStore } from "./_helpers/reliability.ts";

Deno.test("kill at launch: a queued task killed as its queue launches it has stopped when kill() returns", async () => {
  await withStore("kill-at-launch", async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 1 });
    await tasks.pauseQueue("q");
    const ticks = `${dir}/ticks`;
    const t = await tasks.spawnShell(`while :; do echo tick >>'${ticks}'; sleep 0.01; done`, {
      queue: "q",
    });
    // Launched now (for this store's supervisors only: a fault); its supervisor waits for fault-go.
    await withTestFault("slow-start", dir, () => tasks.resumeQueue("q"));
    const folder = `${dir}/tasks/${t.id}`;
    assert.ok(Deno.statSync(`${folder}/launched`).isFile);
    assert.throws(() => Deno.statSync(`${folder}/started`), Deno.errors.NotFound);
    // The kill is asked for while the supervisor is starting; then it may go on.
    const killing = tasks.kill(t.id, { graceMs: 100 });
    await until(() => exists(`${folder}/kill`), "the kill request");
    await Deno.writeTextFile(`${dir}/fault-go`, "");
    const k = await killing;
    assert.equal(k.status, "killed", k.error ?? "");
    const startedAtReturn = exists(`${folder}/started`);
    // Nothing of its group runs (its supervisor may still be leaving).
    if (k.pid !== null) {
      const group = processesWithToken(taskToken(dir, t.id)!).filter((p) =>
        procStat(p)?.pgrp === k.pid
      );
      assert.deepEqual(group, []);
    }
    // And once every process of the store has left: a task not started when kill()
    // returned never started (on a loaded machine its supervisor may find the request
    // before it starts the task), and nothing was written after kill() returned.
    const ticked = () => exists(ticks) ? Deno.statSync(ticks).size : 0;
    const atReturn = ticked();
    await until(() => storeProcesses(dir).length === 0, "the task's supervisor to leave");
    if (!startedAtReturn) {
      assert.ok(!exists(`${folder}/started`), "started after kill() returned");
    }
    assert.equal(ticked(), atReturn, "ticks written after kill() returned");
  });
});

Deno.test("kill at launch: a task whose launch nobody carries out is killed without waiting out the start deadline", async () => {
  await withStore("kill-at-launch-orphan", async (tasks, dir) => {
    // Its launcher died after claiming the launch (the marker written, no supervisor):
    // kill() waits a few seconds for a supervisor, then records the kill itself.
    await tasks.setQueue("q", { parallel: 1 });
    await tasks.pauseQueue("q");
    const t = await tasks.spawnShell("echo ran", { queue: "q" });
    await Deno.writeTextFile(`${dir}/tasks/${t.id}/launched`, `${Date.now()}\n`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("kill() still waiting after 20 s")), 20_000);
    });
    try {
      const k = await Promise.race([tasks.kill(t.id), hung]);
      assert.equal(k.status, "killed");
    } finally {
      clearTimeout(timer);
    }
  });
});

Deno.test("remove of a task being started at once is refused as a running one is: it is starting, not queued", async () => {
  await withStore("remove-at-launch", async (tasks, dir) => {
    // The records a spawner writes before its launcher starts the task (made by
    // hand: no launcher follows, so the moment lasts).
    const store = new FsStore(dir);
    const id = await store.claimId();
    await store.create(specFor(id, "sleep 300", {}));
    assert.equal((await tasks.getStatus(id))?.status, "queued");
    await assert.rejects(
      tasks.remove(id),
      (e: Error) =>
        e.name === "TaskStateError" &&
        e.message === `Cannot remove task ${id}: it is still starting (kill it first)`,
    );
  });
});
