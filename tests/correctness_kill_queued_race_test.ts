/**
 * A kill of a waiting task racing its start: between kill() reading the task
 * (waiting, not launched) and writing anything, its queue hands it a slot and
 * its supervisor starts it. The kill must not record "it never ran" for a
 * task that runs, and nothing of it may run on.
 *
 * The race is made certain by a store whose first write for that task (in
 * kill) first lets the scheduler start the task and waits for its start
 * record: the real scheduler and supervisor, only their timing is forced.
 */

import assert from "node:assert/strict";
import type { FinalRecord } from "../src/store/records.ts";
import { FsStore } from "../src/store/fs_store.ts";
import { kill, killQueue } from "../src/ops/kill.ts";
import { ctxOn } from "./_helpers/ctx.ts";
import { exists, gate, groupMembers, until } from "./_helpers/common.ts";
import { withStore } from "./_helpers/reliability.ts";

/** A store that, once armed, runs `race` before its first write for task `id`. */
class RacingStore extends FsStore {
  armed?: { id: string; race: () => Promise<void> };

  async #fire(id: string): Promise<void> {
    const a = this.armed;
    if (a?.id !== id) return;
    this.armed = undefined;
    await a.race();
  }

  override async claimLaunch(id: string): Promise<boolean> {
    await this.#fire(id);
    return await super.claimLaunch(id);
  }

  override async commitFinal(id: string, record: FinalRecord): Promise<boolean> {
    await this.#fire(id);
    return await super.commitFinal(id, record);
  }

  override async requestKill(id: string, graceMs: number, delegate?: boolean): Promise<boolean> {
    await this.#fire(id);
    return await super.requestKill(id, graceMs, delegate);
  }
}

Deno.test("kill of a waiting task that its queue starts at that instant: killed as a running task, never recorded as not run, nothing left", async () => {
  await withStore("kill-queued-race", async (tasks, dir) => {
    await tasks.setQueue("one", { parallel: 1 });
    const goA = `${dir}/a`;
    const a = await tasks.spawnShell(gate(goA), { queue: "one" });
    await until(async () => (await tasks.getStatus(a.id))?.status === "running", "a to start");
    // b waits for a's slot; once started it would run until its own gate opens.
    const ranB = `${dir}/b-ran`;
    const b = await tasks.spawnShell(`: > '${ranB}'; ${gate(`${dir}/never`)}`, { queue: "one" });
    assert.equal((await tasks.getStatus(b.id))?.status, "queued");

    const store = new RacingStore(tasks.dir);
    store.armed = {
      id: b.id,
      race: async () => {
        // a ends: its supervisor hands the slot to b, whose supervisor starts it.
        await Deno.writeTextFile(goA, "");
        await until(() => exists(ranB), "b's command to run", 30_000);
      },
    };
    const ctx = ctxOn(store);
    const killed = await kill(ctx, b.id, { graceMs: 1000 });
    assert.equal(killed.status, "killed");
    assert.doesNotMatch(
      killed.error ?? "",
      /never ran/,
      "b ran: its record must not say otherwise",
    );
    assert.ok(killed.startedAt !== null, "b's start is recorded");
    // Nothing of b runs on.
    const pid = killed.pid!;
    await until(() => groupMembers(pid).length === 0, "b's processes to be gone", 10_000);
    assert.equal((await tasks.getStatus(b.id))?.status, "killed");
  });
});

Deno.test("killQueue: a slot freed while its waiting tasks are being killed starts none of them", async () => {
  await withStore("kill-queue-none-starts", async (tasks, dir) => {
    await tasks.setQueue("one", { parallel: 1 });
    const goA = `${dir}/a`;
    const a = await tasks.spawnShell(gate(goA), { queue: "one" });
    await until(async () => (await tasks.getStatus(a.id))?.status === "running", "a to start");
    const waiting = [];
    for (let i = 0; i < 6; i++) {
      waiting.push((await tasks.spawnShell(`echo ran ${i}`, { queue: "one" })).id);
    }
    const store = new RacingStore(tasks.dir);
    // While the first waiting task is being killed, a ends and its supervisor
    // would hand its slot to the next in line.
    store.armed = {
      id: waiting[0],
      race: async () => {
        await Deno.writeTextFile(goA, "");
        await until(async () => (await store.read(a.id))?.final, "a to end", 30_000);
      },
    };
    const ctx = ctxOn(store);
    const ended = await killQueue(ctx, "one", { graceMs: 1000 });
    // a is among them: it had not ended when the queue's tasks were looked up.
    assert.deepEqual(ended.map((t) => t.id), [a.id, ...waiting]);
    for (const id of waiting) {
      const t = (await tasks.getStatus(id))!;
      assert.deepEqual([t.status, t.startedAt, t.error], [
        "killed",
        null,
        "killed on request before it started (it never ran)",
      ], id);
      assert.equal(await tasks.readOutput(id), "", `${id} never ran`);
    }
    assert.equal((await tasks.getStatus(a.id))?.status, "completed");
    // The queue runs what comes next.
    const next = await tasks.spawnShell("echo next", { queue: "one" });
    assert.equal((await tasks.wait(next.id)).status, "completed");
  });
});
