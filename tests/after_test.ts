/**
 * Dependencies (issue 12): `after` waits for every listed task; policy
 * "success" fails a task unrun when one did not complete, "any" runs it after
 * any end; with a queue, a waiting task holds no slot. And restart.
 */

import assert from "node:assert/strict";
import { TaskStateError } from "../mod.ts";
import { intervals, timed } from "./_helpers/intervals.ts";
import { groupMembers, isAlive, readStartedRaw, until, withStore } from "./_helpers/reliability.ts";
import { gate } from "./_helpers/common.ts";

/** A deadline for one wait (made at each call: one made at load would run out for later tests). */
const T = () => ({ signal: AbortSignal.timeout(30_000) });

Deno.test("after: a chain runs in order, each once the one before completed", async () => {
  await withStore("after-chain", async (tasks, dir) => {
    const rec = `${dir}/rec`;
    await Deno.mkdir(rec);
    // (a runs until the spawns are checked: a 0.2 s sleep could end first on a loaded machine.)
    const a = await tasks.spawnShell(timed(rec, gate(`${dir}/go`)));
    const b = await tasks.spawnShell(timed(rec, "sleep 0.1"), { after: [a.id] });
    const c = await tasks.spawnShell(timed(rec), { after: [b.id] });
    assert.equal(b.status, "queued");
    assert.deepEqual(b.after, [a.id]);
    assert.equal(c.startedAt, null);
    await Deno.writeTextFile(`${dir}/go`, "");
    assert.equal((await tasks.wait(c.id, T())).status, "completed");
    const ran = intervals(rec);
    assert.deepEqual(ran.map((i) => i.id), [a.id, b.id, c.id]);
    assert.ok(ran[0].end <= ran[1].start && ran[1].end <= ran[2].start, "each after the last");
  });
});

Deno.test("after: every listed task must end; one that failed or was killed fails the task unrun", async () => {
  await withStore("after-success", async (tasks) => {
    const ok = await tasks.spawnShell("sleep 0.1");
    const bad = await tasks.spawnShell("sleep 0.1; exit 3");
    const slow = await tasks.spawnShell("sleep 300");
    const onBad = await tasks.spawnShell("echo ran", { after: [ok.id, bad.id] });
    const onKilled = await tasks.spawnShell("echo ran", { after: [ok.id, slow.id] });
    const failed = await tasks.wait(onBad.id, T());
    assert.equal(failed.status, "failed");
    assert.equal(failed.reason, "dependency");
    assert.match(failed.error ?? "", new RegExp(`${bad.id} failed`));
    assert.equal(failed.startedAt, null);
    assert.equal(await tasks.readOutput(onBad.id), "");
    assert.equal((await tasks.getStatus(onKilled.id))?.status, "queued", "still waits for b3");
    await tasks.kill(slow.id);
    const second = await tasks.wait(onKilled.id, T());
    assert.equal(second.reason, "dependency");
    assert.match(second.error ?? "", new RegExp(`${slow.id} killed`));
  });
});

Deno.test('after: policy "any" runs once every listed task ended, however', async () => {
  await withStore("after-any", async (tasks) => {
    const bad = await tasks.spawnShell("exit 2");
    const slow = await tasks.spawnShell("sleep 300");
    const report = await tasks.spawnShell("echo report", {
      after: [bad.id, slow.id],
      afterPolicy: "any",
    });
    assert.equal(report.afterPolicy, "any");
    await tasks.wait(bad.id, T());
    assert.equal((await tasks.getStatus(report.id))?.status, "queued");
    await tasks.kill(slow.id);
    assert.equal((await tasks.wait(report.id, T())).status, "completed");
    assert.equal(await tasks.readOutput(report.id), "report\n");
  });
});

Deno.test('after: policy "success" fails the task unrun as soon as one dependency did not complete, while the others still run', async () => {
  await withStore("after-fail-fast", async (tasks, dir) => {
    const go = `${dir}/go`;
    const bad = await tasks.spawnShell("exit 3");
    const slow = await tasks.spawnShell(gate(go));
    const deploy = await tasks.spawnShell("echo deployed", { after: [slow.id, bad.id] });
    const report = await tasks.spawnShell("echo report", {
      after: [slow.id, bad.id],
      afterPolicy: "any",
    });
    // (As pueue fails it: it could never run. Before: "queued" until slow ended.)
    const failed = await tasks.wait(deploy.id, T());
    assert.equal(failed.reason, "dependency");
    assert.match(failed.error ?? "", new RegExp(`${bad.id} failed`));
    assert.equal((await tasks.getStatus(slow.id))?.status, "running", "the other runs on");
    assert.equal((await tasks.getStatus(report.id))?.status, "queued", '"any" waits for every one');
    await Deno.writeTextFile(go, "");
    assert.equal((await tasks.wait(report.id, T())).status, "completed");
    assert.equal(await tasks.readOutput(deploy.id), "", "never ran");
  });
});

Deno.test("after with a queue: tasks whose dependency ends join the queue in id order (b2 before b10)", async () => {
  await withStore("after-queue-order", async (tasks, dir) => {
    const rec = `${dir}/rec`;
    await Deno.mkdir(rec);
    const go = `${dir}/go`;
    await tasks.setQueue("one", { parallel: 1 });
    const build = await tasks.spawnShell(gate(go));
    const shards = [];
    for (let i = 0; i < 11; i++) {
      shards.push((await tasks.spawnShell(timed(rec), { queue: "one", after: [build.id] })).id);
    }
    assert.ok(shards.some((id) => id.length > 2), "ids of two digits among them");
    await Deno.writeTextFile(go, "");
    for (const id of shards) assert.equal((await tasks.wait(id, T())).status, "completed");
    const ran = intervals(rec).sort((a, b) => a.start - b.start).map((i) => i.id);
    assert.deepEqual(ran, shards, "first in, first out by id");
  });
});

Deno.test("after: a dependency that already ended counts at once; a failed dependency cascades", async () => {
  await withStore("after-cascade", async (tasks) => {
    const done = await tasks.spawnShell("true");
    await tasks.wait(done.id, T());
    const now = await tasks.spawnShell("echo now", { after: [done.id] });
    assert.equal((await tasks.wait(now.id, T())).status, "completed");
    const broken = await tasks.spawnShell("exit 1");
    const b = await tasks.spawnShell("true", { after: [broken.id] });
    const c = await tasks.spawnShell("true", { after: [b.id] });
    const d = await tasks.spawnShell("echo d", { after: [c.id], afterPolicy: "any" });
    assert.equal((await tasks.wait(b.id, T())).reason, "dependency");
    assert.equal((await tasks.wait(c.id, T())).reason, "dependency");
    assert.equal((await tasks.wait(d.id, T())).status, "completed", "any: runs after a failure");
  });
});

Deno.test("after: a running task whose folder is deleted by hand: what runs after it is resolved at the next look (removed: did not complete)", async () => {
  await withStore("after-vanished", async (tasks, dir) => {
    const a = await tasks.spawnShell("echo up; sleep 30");
    const b = await tasks.spawnShell("echo b", { after: [a.id] });
    const c = await tasks.spawnShell("echo c", { after: [a.id], afterPolicy: "any" });
    await until(async () => (await tasks.readOutput(a.id)) === "up\n", "the task to run");
    const started = readStartedRaw(dir, a.id)!;
    await Deno.remove(`${dir}/tasks/${a.id}`, { recursive: true });
    // Its watchdog ends its tree (nobody could reach it any more) ...
    await until(
      () => !isAlive(started.supervisorPid) && groupMembers(started.taskPid).length === 0,
      "the removed task's processes to end",
    );
    // ... and nobody handed its end on: a look at what runs after it does.
    const failed = await tasks.wait(b.id, T());
    assert.equal(failed.status, "failed");
    assert.equal(failed.reason, "dependency");
    assert.match(failed.error ?? "", new RegExp(`${a.id} removed`));
    assert.equal((await tasks.wait(c.id, T())).status, "completed");
    assert.equal(await tasks.readOutput(c.id), "c\n");
  });
});

Deno.test("after: removing a task removes the record of who ran after it", async () => {
  await withStore("after-deps-removed", async (tasks, dir) => {
    const a = await tasks.spawnShell("true");
    const b = await tasks.spawnShell("true", { after: [a.id] });
    await tasks.wait(b.id, T());
    assert.ok(Deno.statSync(`${dir}/deps/${a.id}`).isDirectory);
    await tasks.remove(a.id);
    assert.throws(() => Deno.statSync(`${dir}/deps/${a.id}`), Deno.errors.NotFound);
    assert.equal((await tasks.getStatus(b.id))?.status, "completed");
  });
});

Deno.test("after: unknown ids are refused at spawn, and nothing is created", async () => {
  await withStore("after-unknown", async (tasks) => {
    await assert.rejects(
      tasks.spawnShell("true", { after: ["b9"] }),
      (e: Error) => e instanceof TypeError && /b9, which is not a task/.test(e.message),
    );
    await assert.rejects(tasks.spawnShell("true", { after: ["nope"] }), /not a task id/);
    await assert.rejects(
      tasks.spawnShell("true", { after: [], afterPolicy: "some" as "any" }),
      /afterPolicy must be "success" or "any"/,
    );
    assert.deepEqual(await tasks.list(), []);
  });
});

Deno.test("afterPolicy without after is refused; an empty after takes one; restarts still work", async () => {
  await withStore("after-policy-alone", async (tasks) => {
    // As the CLI refuses --after-any without --after: a forgotten `after`
    // would have started the task at once, the policy ignored.
    for (const afterPolicy of ["any", "success"] as const) {
      await assert.rejects(
        tasks.spawnShell("true", { afterPolicy }),
        (e: Error) =>
          e instanceof TypeError &&
          /afterPolicy applies to the tasks in after, and after is not given: give after/
            .test(e.message),
      );
    }
    assert.deepEqual(await tasks.list(), [], "nothing created");
    // A computed list of dependencies may come out empty: the task just runs.
    const none = await tasks.spawnShell("true", { after: [], afterPolicy: "any" });
    assert.equal((await tasks.wait(none.id, T())).status, "completed");
    // A restart of a task without dependencies has none, and says nothing of a policy: it starts.
    const plain = await tasks.spawnShell("true");
    await tasks.wait(plain.id, T());
    for (const old of [none, plain]) {
      const again = await tasks.restart(old.id);
      assert.equal((await tasks.wait(again.id, T())).status, "completed");
    }
  });
});

Deno.test("after within one queue: the task that ran after the one ending takes the slot before a later id", async () => {
  // A terminal-user walk: b2 (after b1, both in queue sq, 1 at a time) was
  // passed by b3, queued later: the slot b1 freed went on before b2 joined
  // the line (pueue starts the lowest ready id).
  await withStore("after-same-queue", async (tasks, dir) => {
    const rec = `${dir}/rec`;
    await Deno.mkdir(rec);
    await tasks.setQueue("sq", { parallel: 1 });
    const first = await tasks.spawnShell(gate(`${dir}/go`), { queue: "sq" });
    const next = await tasks.spawnShell(timed(rec), { queue: "sq", after: [first.id] });
    const later = await tasks.spawnShell(timed(rec), { queue: "sq" });
    await Deno.writeTextFile(`${dir}/go`, "");
    for (const t of [next, later]) assert.equal((await tasks.wait(t.id, T())).status, "completed");
    const ran = intervals(rec).sort((a, b) => a.start - b.start).map((i) => i.id);
    assert.deepEqual(ran, [next.id, later.id], "by id, as pueue");
  });
});

Deno.test("after with a queue: a task waiting for its dependencies holds no slot and blocks nobody", async () => {
  await withStore("after-queue", async (tasks, dir) => {
    const rec = `${dir}/rec`;
    await Deno.mkdir(rec);
    const gate = `${dir}/gate`;
    const build = await tasks.spawnShell(`while [ ! -e '${gate}' ]; do sleep 0.01; done`);
    const deploy = await tasks.spawnShell(timed(rec), { queue: "one", after: [build.id] });
    const other = await tasks.spawnShell(timed(rec), { queue: "one" });
    assert.equal((await tasks.wait(other.id, T())).status, "completed", "not blocked by deploy");
    assert.equal((await tasks.getStatus(deploy.id))?.status, "queued");
    await Deno.writeTextFile(gate, "");
    assert.equal((await tasks.wait(deploy.id, T())).status, "completed");
    assert.deepEqual(intervals(rec).map((i) => i.id), [other.id, deploy.id]);
  });
});

Deno.test("after with a queue nobody made yet: the queue is made at the spawn, and the task joins it and runs", async () => {
  await withStore("after-new-queue", async (tasks, dir) => {
    const gate = `${dir}/gate`;
    const build = await tasks.spawnShell(`while [ ! -e '${gate}' ]; do sleep 0.01; done`);
    const deploy = await tasks.spawnShell("echo deployed", { queue: "fresh", after: [build.id] });
    assert.deepEqual(
      (await tasks.getQueues()).map((q) => [q.name, q.queued]),
      [["fresh", 1]],
      "waiting for its dependency, it is counted in its queue",
    );
    await Deno.writeTextFile(gate, "");
    assert.equal((await tasks.wait(deploy.id, T())).status, "completed");
    assert.equal(await tasks.readOutput(deploy.id), "deployed\n");
    assert.deepEqual((await tasks.getQueues()).map((q) => q.name), ["fresh"]);
  });
});

Deno.test("restart: a new task with the same command, cwd, env, limits and queue; restartOf names the old", async () => {
  await withStore("restart", async (tasks, dir) => {
    const first = await tasks.spawnShell('echo "$X $PWD"; exit 4', {
      cwd: dir,
      env: { X: "x1" },
      timeoutMs: 60_000,
      maxOutputBytes: 4096,
      description: "flaky",
      queue: "r",
    });
    assert.equal((await tasks.wait(first.id, T())).exitCode, 4);
    const again = await tasks.restart(first.id);
    assert.notEqual(again.id, first.id);
    assert.equal(again.restartOf, first.id);
    assert.equal(again.description, "flaky");
    assert.equal(again.queue, "r");
    assert.equal(again.timeoutMs, 60_000);
    assert.equal(again.maxOutputBytes, 4096);
    assert.equal((await tasks.wait(again.id, T())).exitCode, 4);
    assert.equal(await tasks.readOutput(again.id), `x1 ${dir}\n`);
    const running = await tasks.spawnShell("sleep 300");
    await assert.rejects(tasks.restart(running.id), TaskStateError);
    await tasks.kill(running.id);
  });
});

Deno.test("restart keeps the dependencies, each one replaced by its newest restart; a failed one not restarted fails it unrun", async () => {
  await withStore("restart-after", async (tasks, dir) => {
    const flag = `${dir}/fixed`;
    // A shard that fails until it is fixed, and a deploy after it.
    const shard = await tasks.spawnShell(`[ -e '${flag}' ]`);
    const deploy = await tasks.spawnShell("echo deployed", { after: [shard.id] });
    assert.equal((await tasks.wait(deploy.id, T())).reason, "dependency");
    // Restarted alone, the deploy runs after the same failed shard: unrun again.
    const alone = await tasks.restart(deploy.id);
    assert.deepEqual(alone.after, [shard.id]);
    const unrun = await tasks.wait(alone.id, T());
    assert.equal(unrun.reason, "dependency", "not deployed past a failed shard");
    assert.equal(await tasks.readOutput(alone.id), "");
    // The shard fixed and restarted (twice: the newest counts), then the deploy.
    await Deno.writeTextFile(flag, "");
    const go = `${dir}/go`;
    const again = await tasks.restart(shard.id);
    await tasks.wait(again.id, T());
    const newest = await tasks.restart(again.id);
    assert.equal(newest.restartOf, again.id);
    const slow = await tasks.spawnShell(gate(go), { description: "unrelated" });
    // A damaged task among the later ones restarts nothing that can be known: passed over.
    const junk = await tasks.spawnShell("true");
    await tasks.wait(junk.id, T());
    await Deno.writeTextFile(`${dir}/tasks/${junk.id}/spec`, "garbage");
    const redeploy = await tasks.restart(unrun.id);
    assert.deepEqual(redeploy.after, [newest.id], "the shard's newest restart");
    assert.equal(redeploy.afterPolicy, "success");
    assert.equal((await tasks.wait(redeploy.id, T())).status, "completed");
    assert.equal(await tasks.readOutput(redeploy.id), "deployed\n");
    await Deno.writeTextFile(go, "");
    await tasks.wait(slow.id, T());
  });
});

Deno.test("restart of a task killed while it waited for a running dependency waits for it again", async () => {
  await withStore("restart-waiting", async (tasks, dir) => {
    const go = `${dir}/go`;
    const build = await tasks.spawnShell(gate(go));
    const deploy = await tasks.spawnShell("echo deployed", { after: [build.id] });
    await tasks.kill(deploy.id);
    const again = await tasks.restart(deploy.id);
    assert.deepEqual(again.after, [build.id]);
    assert.equal((await tasks.getStatus(again.id))?.status, "queued", "not run past its build");
    await Deno.writeTextFile(go, "");
    assert.equal((await tasks.wait(again.id, T())).status, "completed");
    // A dependency removed since (clean --status completed) is left out: it ran at once.
    await tasks.remove(build.id);
    const alone = await tasks.restart(again.id);
    assert.deepEqual(alone.after, []);
    assert.equal((await tasks.wait(alone.id, T())).status, "completed");
  });
});

Deno.test("restart of a task whose dependency failed or was killed and was removed since is refused; policy any leaves it out", async () => {
  await withStore("restart-removed-failed", async (tasks) => {
    const build = await tasks.spawnShell("exit 1");
    const stopped = await tasks.spawnShell("sleep 30");
    const deploy = await tasks.spawnShell("echo deployed", { after: [build.id] });
    const report = await tasks.spawnShell("echo reported", {
      after: [stopped.id],
      afterPolicy: "any",
    });
    const late = await tasks.spawnShell("echo late", { after: [stopped.id] });
    await tasks.kill(stopped.id);
    for (const t of [deploy, report, late]) await tasks.wait(t.id, T());
    await tasks.remove(build.id);
    await tasks.remove(stopped.id);
    // Not deployed past a build that failed because the build is gone.
    await assert.rejects(
      () => tasks.restart(deploy.id),
      (e: Error) =>
        e instanceof TaskStateError && e.message.includes(`${build.id} failed and was removed`),
    );
    await assert.rejects(
      () => tasks.restart(late.id),
      (e: Error) => e instanceof TaskStateError && e.message.includes("was killed and was removed"),
    );
    assert.equal((await tasks.list()).filter((t) => t.restartOf).length, 0, "nothing started");
    // "any" ran after however it ended: left out, it runs.
    const again = await tasks.restart(report.id);
    assert.deepEqual(again.after, []);
    assert.equal((await tasks.wait(again.id, T())).status, "completed");
  });
});
