/**
 * Found by a walk through crashes (the machine restarted; a spawner killed
 * in the middle of a spawn):
 *
 * - After a restart, `wait` (and `follow`) on a task waiting in a queue, or
 *   for the tasks it runs after, hung for ever: they looked only at the
 *   awaited task, which has no process to find dead, and nothing else ran to
 *   free the lost tasks' slots or resolve the waiting one. `list` or
 *   `getQueues` was needed first.
 * - A spawner killed between recording a queued task and putting it in line
 *   left it "queued" for ever, in no line; one killed before resolving a
 *   task that runs after tasks already ended left it waiting for ever.
 *
 * Now whoever waits settles what the task waits on too (lost tasks recorded,
 * queues scheduled), a queued task its queue never took in is recorded as
 * lost (checked under the queue's lock, 30 s after its spawn), and a task
 * whose dependencies all ended more than 5 s ago is resolved by whoever
 * looks at it.
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { runDeno } from "./_helpers/common.ts";
import { ageSpec, crashStore, MOD_URL, until, withStore } from "./_helpers/reliability.ts";

/** A deadline for each wait (a hang fails the test instead of the suite). */
const deadline = () => ({ signal: AbortSignal.timeout(20_000) });

/**
 * What a restart of the machine does to a store's one running task: every
 * process of the store gone at once (stopped first, so that none acts on
 * another's end).
 */
function crash(dir: string): void {
  const pids = crashStore(dir);
  assert.ok(pids.length >= 3, `supervisor, watchdog and task expected, found ${pids}`);
}

Deno.test("crash recovery: after a restart, waiting for a queued task frees the lost task's slot and runs it", async () => {
  await withStore("crash-queue", async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 1 });
    const first = await tasks.spawnShell("sleep 60", { queue: "q" });
    const next = await tasks.spawnShell("echo ran", { queue: "q" });
    await until(
      async () => (await tasks.getStatus(first.id))?.pid,
      "the first to start",
    );
    crash(dir);
    // A process after the restart waits, and does nothing else.
    const after = new TaskManager({ dir });
    const done = await after.wait(next.id, deadline());
    assert.equal(done.status, "completed");
    assert.equal(await after.readOutput(next.id), "ran\n");
    assert.equal((await after.getStatus(first.id))?.status, "failed");
  });
});

Deno.test("crash recovery: after a restart, waiting for the end of a chain after a lost task returns: not run", async () => {
  await withStore("crash-after", async (tasks, dir) => {
    const first = await tasks.spawnShell("sleep 60");
    const second = await tasks.spawnShell("echo ran", { after: [first.id] });
    const third = await tasks.spawnShell("echo ran", { after: [second.id] });
    await until(async () => (await tasks.getStatus(first.id))?.pid, "the first to start");
    crash(dir);
    const after = new TaskManager({ dir });
    // follow ends too (it waited for ever before), at the end of the chain.
    const followed = [];
    const limit = deadline();
    for await (const piece of after.follow(third.id, limit)) followed.push(piece);
    assert.ok(!limit.signal.aborted, "follow ended at the task's end, not at the deadline");
    assert.deepEqual(followed, []);
    for (const t of [second, third]) {
      const done = await after.wait(t.id, deadline());
      assert.equal(done.status, "failed");
      assert.match(done.error ?? "", /^not run: a task it runs after did not complete/);
    }
  });
});

Deno.test("crash recovery: a reader that may only read waits without starting anything", async () => {
  await withStore("crash-read-only", async (tasks, dir) => {
    // Found by a review: wait() on a queued task scheduled its queue (bash) even where it
    // may not run bash or write (NotCapable), and could start tasks from a reader.
    await tasks.setQueue("q", { parallel: 1 });
    const first = await tasks.spawnShell("sleep 1", { queue: "q" });
    const next = await tasks.spawnShell("echo ran", { queue: "q" });
    const read = await runDeno(
      [`--allow-read=${dir}`, "--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR"],
      `import { TaskManager } from ${JSON.stringify(MOD_URL)};
const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
console.log((await tasks.wait(${JSON.stringify(next.id)})).status);`,
    );
    assert.equal(read.stderr, "");
    assert.equal(read.stdout, "completed\n");
    assert.equal((await tasks.getStatus(first.id))?.status, "completed");
  });
});

Deno.test("crash recovery: a queued task its spawner never put in line is lost, not queued for ever", async () => {
  await withStore("crash-stray", async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 1 });
    await tasks.pauseQueue("q");
    const t = await tasks.spawnShell("echo ran", { queue: "q" });
    // What a spawner killed between recording the task and putting it in
    // line leaves, 30 s on: the line without it, a spawn record that old.
    Deno.writeTextFileSync(`${dir}/queues/q/list`, "");
    Deno.writeTextFileSync(`${dir}/queues/q/head`, "0\n");
    ageSpec(dir, t.id, 31_000);
    const after = new TaskManager({ dir });
    const info = await after.getStatus(t.id);
    assert.equal(info?.status, "failed");
    assert.equal(info?.error, "lost: its spawner ended before the task joined its queue");
    // A queued task its queue knows is not touched, however old.
    const known = await after.spawnShell("echo ran", { queue: "q" });
    ageSpec(dir, known.id, 31_000);
    assert.equal((await new TaskManager({ dir }).getStatus(known.id))?.status, "queued");
    await after.kill(known.id);
  });
});

Deno.test("crash recovery: a task whose dependencies all ended long ago, never resolved, is resolved by a look", async () => {
  await withStore("crash-resolve", async (tasks, dir) => {
    const first = await tasks.spawnShell("true");
    await tasks.wait(first.id);
    // Its spawner died between recording it as running after `first` and
    // resolving it (first had ended already): as a hand-made record says.
    const next = await tasks.spawnShell("echo ran", { after: [first.id] });
    await tasks.wait(next.id);
    for (const f of ["final.json", "ready", "launched", "started", "output"]) {
      await Deno.remove(`${dir}/tasks/${next.id}/${f}`).catch(() => {});
    }
    // (Its recorded environment, which its start emptied, as it was before:
    // the spawner's umask and no variables.)
    await Deno.writeTextFile(`${dir}/tasks/${next.id}/environ`, "umask=0022\0");
    await Deno.remove(`${dir}/active/${next.id}`).catch(() => {});
    ageSpec(dir, next.id, 10_000);
    const after = new TaskManager({ dir });
    const done = await after.wait(next.id, deadline());
    assert.equal(done.status, "completed");
    assert.equal(await after.readOutput(next.id), "ran\n");
  });
});

Deno.test("crash recovery: a task that runs after one removed as it was spawned still runs after a completed one", async () => {
  await withStore("crash-removed-dep", async (tasks, dir) => {
    // Found by a race walk: `rm A` racing `run --after A` (A completed) failed the
    // new task "not run: … (A removed)". A removed task's tombstone now keeps how it ended.
    const first = await tasks.spawnShell("sleep 60");
    const next = await tasks.spawnShell("echo ran", { after: [first.id] });
    const pid = await until(
      async () => (await tasks.getStatus(first.id))?.pid,
      "the first to start",
    );
    // The moment of the race, made by hand: `first` completed and removed, and
    // `next` not yet recorded as running after it (so the removal hands nothing on).
    assert.ok(crashStore(dir).includes(pid));
    await Deno.writeTextFile(
      `${dir}/tasks/${first.id}/final.json`,
      `{"status":"completed","exitCode":0,"signal":null,"error":null,"finishedAt":${Date.now()},` +
        `"by":"exit"}\n`,
    );
    await Deno.remove(`${dir}/deps/${first.id}`, { recursive: true });
    await tasks.remove(first.id);
    const done = await new TaskManager({ dir }).wait(next.id, deadline());
    assert.equal(done.status, "completed");
    assert.equal(await tasks.readOutput(next.id), "ran\n");
  });
});

Deno.test("crash recovery: a supervisor SIGKILLed as its queue hands it the slot, before the start: the next look frees the slot within seconds, not 30", async () => {
  await withStore("crash-handoff", async (tasks, dir) => {
    const go = `${dir}/fault-go`;
    const hold = `${dir}/hold`;
    await Deno.writeTextFile(go, "");
    // Spawned by a child whose environment alone has the fault (the suite's files share
    // this process's): this store's supervisors wait for STORE/fault-go before the start.
    const spawned = await runDeno(
      ["-A"],
      `import { TaskManager } from ${JSON.stringify(MOD_URL)};
const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
await tasks.setQueue("q", { parallel: 1 });
const ids = [];
ids.push((await tasks.spawnShell("while [ ! -e '${hold}' ]; do sleep 0.02; done", { queue: "q" })).id);
for (const word of ["b", "c"]) ids.push((await tasks.spawnShell("echo " + word, { queue: "q" })).id);
console.log(ids.join(" "));`,
      { env: { BGTASK_TEST_FAULT: `slow-start:${dir}` } },
    );
    assert.equal(spawned.code, 0, spawned.stderr);
    const [a, b, c] = spawned.stdout.trim().split(" ");
    await until(async () => (await tasks.getStatus(a))?.status === "running", "a's start");
    // a ends; its supervisor becomes b's, which waits for fault-go: it is killed there.
    await Deno.remove(go);
    await Deno.writeTextFile(hold, "");
    const folder = Deno.realPathSync(`${dir}/tasks/${b}`);
    const supervisor = await until(() => {
      for (const e of Deno.readDirSync("/proc")) {
        if (!/^\d+$/.test(e.name)) continue;
        try {
          if (
            Deno.readTextFileSync(`/proc/${e.name}/comm`).trim() === `bgtask ${b}` &&
            Deno.readLinkSync(`/proc/${e.name}/cwd`) === folder
          ) return Number(e.name);
        } catch {
          // gone
        }
      }
      return undefined;
    }, "b's supervisor, waiting to start it");
    Deno.kill(supervisor, "SIGKILL");
    await Deno.writeTextFile(go, "");
    // Nobody is starting b any more: a look at the queue (as list and getQueues make)
    // records it lost and gives c the slot, long before the 30 s start deadline.
    const done = await until(
      async () => {
        await tasks.getQueues();
        const info = await tasks.getStatus(c);
        return info?.status === "completed" ? info : undefined;
      },
      "c to run",
      15_000,
    );
    assert.equal(done.status, "completed");
    const lost = await tasks.getStatus(b);
    assert.equal(lost?.status, "failed");
    assert.match(lost!.error!, /never reported that it started/);
  });
});
