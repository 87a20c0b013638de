/**
 * Queues without a daemon (issue 12): the limit holds with many spawners and
 * while it changes, first in first out, tasks start with every Deno process
 * gone, a dead task's slot is recovered, and every verb knows queued tasks.
 * Tasks record when they really ran (tests/_helpers/intervals.ts).
 */

import assert from "node:assert/strict";
import { type TaskManager, TaskStateError } from "../mod.ts";
import { idNumber, intervals, maxOverlap, timed } from "./_helpers/intervals.ts";
import {
  expectSuccess,
  HEAVY,
  IS_ROOT,
  pool,
  readStartedRaw,
  startDeno,
  until,
  untilTaskProcessesGone,
  withStore,
  writeScript,
} from "./_helpers/reliability.ts";
import { childrenOf, exists, isAlive, procStat, supervisorPid } from "./_helpers/common.ts";
import { FsStore } from "../src/store/fs_store.ts";
import { launchDetached } from "../src/supervisor/run.ts";

const SPAWNERS = 8;
const PER_SPAWNER = HEAVY ? 50 : 12;

async function waitAll(tasks: TaskManager, ids: string[]) {
  return await pool(ids, 8, (id) => tasks.wait(id, { signal: AbortSignal.timeout(120_000) }));
}

Deno.test(`queue: ${SPAWNERS} processes × ${PER_SPAWNER} tasks into a queue of 3: never more than 3 at once, all complete`, async () => {
  await withStore("queue-limit", async (tasks, dir) => {
    const rec = `${dir}/rec`;
    await Deno.mkdir(rec);
    await tasks.setQueue("ci", { parallel: 3 });
    const go = `${dir}/go`;
    const script = await writeScript(
      dir,
      "spawner",
      `import { TaskManager } from __MOD__;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       while (true) { try { Deno.statSync(${
        JSON.stringify(go)
      }); break; } catch { await new Promise((r) => setTimeout(r, 5)); } }
       const ids = [];
       for (let i = 0; i < ${PER_SPAWNER}; i++) {
         ids.push((await tasks.spawnShell(${
        JSON.stringify(timed(rec, "sleep 0.02"))
      }, { queue: "ci" })).id);
       }
       console.log(JSON.stringify(ids));`,
    );
    const children = Array.from({ length: SPAWNERS }, () => startDeno(script, ["-A"]));
    await Deno.writeTextFile(go, "");
    const ids = (await Promise.all(children.map((c, i) => expectSuccess(c, `spawner ${i}`))))
      .flatMap((out) => JSON.parse(out) as string[]);
    assert.equal(new Set(ids).size, SPAWNERS * PER_SPAWNER);
    const done = await waitAll(tasks, ids);
    const bad = done.filter((t) => t.status !== "completed");
    assert.deepEqual(bad.map((t) => `${t.id} ${t.status} ${t.error}`), [], "every task completed");
    const ran = intervals(rec);
    assert.equal(ran.length, ids.length);
    assert.ok(maxOverlap(ran) <= 3, `at most 3 ran at once, saw ${maxOverlap(ran)}`);
    assert.ok(maxOverlap(ran) >= 2, "the queue ran tasks side by side");
  });
});

Deno.test("queue: first in, first out by id, with several processes spawning into it", async () => {
  await withStore("queue-fifo", async (tasks, dir) => {
    const rec = `${dir}/rec`;
    await Deno.mkdir(rec);
    // One at a time (the default of a queue never set): the start order is the queue's order.
    const script = await writeScript(
      dir,
      "spawner",
      `import { TaskManager } from __MOD__;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const ids = [];
       for (let i = 0; i < 6; i++) ids.push((await tasks.spawnShell(${
        JSON.stringify(timed(rec))
      }, { queue: "one" })).id);
       console.log(JSON.stringify(ids));`,
    );
    const ids = (await Promise.all(
      Array.from({ length: 4 }, (_, i) => expectSuccess(startDeno(script, ["-A"]), `spawner ${i}`)),
    )).flatMap((out) => JSON.parse(out) as string[]);
    await waitAll(tasks, ids);
    const order = intervals(rec).map((i) => i.id);
    assert.deepEqual(order, [...order].sort((a, b) => idNumber(a) - idNumber(b)));
    assert.equal(maxOverlap(intervals(rec)), 1);
  });
});

Deno.test("queue: a task whose dependencies end takes its place by id among those waiting, not the end of the line", async () => {
  await withStore("queue-after-order", async (tasks, dir) => {
    const rec = `${dir}/rec`;
    await Deno.mkdir(rec);
    const go = `${dir}/go`;
    await tasks.setQueue("ord", { parallel: 1 });
    await tasks.pauseQueue("ord");
    const a = await tasks.spawnShell(`until [ -e "${go}" ]; do sleep 0.02; done`);
    const x = await tasks.spawnShell(timed(rec), { queue: "ord", after: [a.id] });
    const y1 = await tasks.spawnShell(timed(rec), { queue: "ord" });
    const y2 = await tasks.spawnShell(timed(rec), { queue: "ord" });
    await Deno.writeTextFile(go, "");
    await tasks.wait(a.id);
    // x is ready once its dependency's supervisor has put it in line.
    await until(
      () => Deno.readTextFileSync(`${dir}/queues/ord/list`).split("\n").includes(x.id),
      `${x.id} in line`,
    );
    await tasks.resumeQueue("ord");
    await waitAll(tasks, [x.id, y1.id, y2.id]);
    assert.deepEqual(intervals(rec).map((i) => i.id), [x.id, y1.id, y2.id]);
  });
});

Deno.test("queue: garbled settings read as none (1 at a time, not paused) by the scheduler and the store alike: the queue runs on (it stalled for good, shown as free)", async () => {
  await withStore("queue-conf-garbled", async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 1 });
    const conf = `${dir}/queues/q/conf`;
    const garblings = ["zzz\n", "5x 0\n", "0 0\n", "2 7\n", "2 0 1\n", "-3 0\n"];
    // Not the one form either (the scheduler read them as 2, the store as none).
    garblings.push(" 2 0\n", "2  0\n", "2\t0\n", "2 0 \n", "2 0\n\n", "9999999999999999 0\n");
    for (const garbled of garblings) {
      const first = await tasks.spawnShell("sleep 300", { queue: "q" });
      const next = await tasks.spawnShell("true", { queue: "q" });
      await until(async () => (await tasks.getStatus(first.id))?.status === "running", "to run");
      await Deno.writeTextFile(conf, garbled);
      const [info] = await tasks.getQueues();
      assert.deepEqual([info.parallel, info.paused], [1, false], JSON.stringify(garbled));
      assert.equal((await tasks.getStatus(next.id))?.status, "queued", JSON.stringify(garbled));
      // Its slot freed by the task that ends: the scheduler starts the next.
      await tasks.kill(first.id, { graceMs: 0 });
      const done = await tasks.wait(next.id, { signal: AbortSignal.timeout(30_000) });
      assert.equal(done.status, "completed", JSON.stringify(garbled));
      await tasks.setQueue("q", { parallel: 1 }); // written whole again
      assert.equal(await Deno.readTextFile(conf), "1 0\n");
    }
  });
});

Deno.test("queue: raising the limit starts more at once; lowering it lets running tasks finish first", async () => {
  await withStore("queue-change", async (tasks, dir) => {
    // The tasks run until a gate opens (they once slept 0.3 s, which a loaded machine
    // could take to start the next one: the test then saw no overlap at all).
    const rec = `${dir}/rec`;
    const gate = `${dir}/gate`;
    await Deno.mkdir(rec);
    await tasks.setQueue("q", { parallel: 2 });
    const ids = [];
    const work = `while [ ! -e '${gate}' ]; do sleep 0.01; done`;
    for (let i = 0; i < 16; i++) {
      ids.push((await tasks.spawnShell(timed(rec, work), { queue: "q" })).id);
    }
    await until(() => intervals(rec).length >= 2, "the first two to start");
    await tasks.setQueue("q", { parallel: 4 });
    await until(() => intervals(rec).length >= 4, "two more to start");
    await tasks.setQueue("q", { parallel: 1 });
    const lowered = Date.now() * 1000;
    await Deno.writeTextFile(gate, "");
    await waitAll(tasks, ids);
    const ran = intervals(rec);
    assert.equal(maxOverlap(ran), 4);
    // Once lowered to 1, a task that starts runs alone.
    const late = ran.filter((i) => i.start > lowered);
    assert.equal(late.length, 12);
    for (const t of late) {
      const others = ran.filter((o) => o !== t && o.start < t.end && t.start < o.end);
      assert.deepEqual(others.map((o) => o.id), [], `${t.id} ran alone`);
    }
  });
});

Deno.test("queue: with every Deno process killed right after queueing, all tasks still run, 3 at a time", async () => {
  await withStore("queue-nobody", async (tasks, dir) => {
    const rec = `${dir}/rec`;
    await Deno.mkdir(rec);
    const script = await writeScript(
      dir,
      "spawner",
      `import { TaskManager } from __MOD__;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       await tasks.setQueue("bg", { parallel: 3 });
       const ids = [];
       for (let i = 0; i < 50; i++) {
         ids.push((await tasks.spawnShell(${
        JSON.stringify(timed(rec, "sleep 0.05"))
      }, { queue: "bg" })).id);
       }
       await Deno.writeTextFile(${JSON.stringify(`${dir}/spawned.json`)}, JSON.stringify(ids));
       Deno.kill(Deno.pid, "SIGKILL");`,
    );
    const out = await startDeno(script, ["-A"]).output();
    assert.equal(out.signal, "SIGKILL", new TextDecoder().decode(out.stderr));
    const ids = JSON.parse(await Deno.readTextFile(`${dir}/spawned.json`)) as string[];
    // Only watch the files the tasks write: looking at the queue through
    // bgtask could nudge it, and the point is that nothing has to.
    await until(
      () => intervals(rec).filter((i) => i.end < Infinity).length === 50,
      "all 50",
      60_000,
    );
    assert.ok(maxOverlap(intervals(rec)) <= 3);
    const done = await waitAll(tasks, ids);
    assert.ok(done.every((t) => t.status === "completed"));
  });
});

Deno.test("queue: a task started by the supervisor before it gets the spawner's umask and LC_ALL", async () => {
  await withStore("queue-env", async (tasks, dir) => {
    const gate = `${dir}/gate`;
    const probe = 'umask; echo "${LC_ALL-unset}"';
    const script = await writeScript(
      dir,
      "spawner",
      `import { TaskManager } from __MOD__;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const a = await tasks.spawnShell(${
        JSON.stringify(`${probe}; until [ -e "${gate}" ]; do sleep 0.02; done`)
      }, { queue: "one" });
       const b = await tasks.spawnShell(${JSON.stringify(probe)}, { queue: "one" });
       console.log(JSON.stringify([a.id, b.id, b.status]));`,
    );
    // The spawner runs with umask 027 and LC_ALL=POSIX (a supervisor runs with 077 and C).
    const child = new Deno.Command("bash", {
      args: [
        "-c",
        'umask 027; LC_ALL=POSIX exec "$0" run -A --quiet "$1"',
        Deno.execPath(),
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const [a, b, bStatus] = JSON.parse(await expectSuccess(child, "spawner")) as string[];
    assert.equal(bStatus, "queued"); // a holds the only slot: b is started by a's supervisor
    Deno.writeTextFileSync(gate, "");
    assert.equal(
      (await tasks.wait(b, { signal: AbortSignal.timeout(20_000) })).status,
      "completed",
    );
    assert.equal(await tasks.readOutput(a), "0027\nPOSIX\n");
    assert.equal(await tasks.readOutput(b), "0027\nPOSIX\n");
  });
});

Deno.test("queue: a slot held by a task whose supervisor was SIGKILLed is handed on", async () => {
  await withStore("queue-recover", async (tasks, dir) => {
    // The task ends on its own once the test says so: after its supervisor died.
    const go = `${dir}/go`;
    const a = await tasks.spawnShell('until [ -e "$GO" ]; do sleep 0.02; done', {
      queue: "solo",
      env: { GO: go },
    });
    const b = await tasks.spawnShell("echo next", { queue: "solo" });
    assert.equal(b.status, "queued");
    const s = await until(() => readStartedRaw(dir, a.id), "a's started record");
    assert.equal((await tasks.getStatus(a.id))?.status, "running");
    Deno.kill(s.supervisorPid, "SIGKILL");
    await until(() => !isAlive(s.supervisorPid), "a's supervisor to die");
    Deno.writeTextFileSync(go, "");
    const lost = await tasks.wait(a.id, { signal: AbortSignal.timeout(20_000) });
    assert.equal(lost.status, "failed");
    assert.equal(lost.reason, "lost");
    const next = await tasks.wait(b.id, { signal: AbortSignal.timeout(20_000) });
    assert.equal(next.status, "completed");
    assert.equal(await tasks.readOutput(b.id), "next\n");
  });
});

Deno.test("queue: a slot held by a task whose whole tree died unseen is freed when someone looks", async () => {
  await withStore("queue-look", async (tasks, dir) => {
    const a = await tasks.spawnShell("sleep 300", { queue: "solo" });
    const b = await tasks.spawnShell("echo next", { queue: "solo" });
    const s = await until(() => readStartedRaw(dir, a.id), "a's started record");
    // Supervisor, watchdog and task: everything of it, SIGKILLed at once.
    for (const e of Deno.readDirSync("/proc")) {
      const st = /^\d+$/.test(e.name) ? procStat(e.name) : undefined;
      if (st && (st.pgrp === s.taskPid || st.pgrp === procStat(s.supervisorPid)?.pgrp)) {
        Deno.kill(Number(e.name), "SIGKILL");
      }
    }
    await until(() => !isAlive(s.supervisorPid) && !isAlive(s.taskPid), "a's processes to die");
    const [q] = await tasks.getQueues(); // looking at the queue recovers the slot
    assert.equal(q.name, "solo");
    assert.equal((await tasks.getStatus(a.id))?.reason, "lost");
    assert.equal(
      (await tasks.wait(b.id, { signal: AbortSignal.timeout(20_000) })).status,
      "completed",
    );
  });
});

Deno.test("queue: kill, remove, wait, follow and completions know queued tasks", async () => {
  await withStore("queue-verbs", async (tasks) => {
    await tasks.pauseQueue("held");
    const a = await tasks.spawnShell("echo a", { queue: "held" });
    const b = await tasks.spawnShell("echo b", { queue: "held" });
    const c = await tasks.spawnShell("echo c; echo c2", { queue: "held" });
    assert.equal(a.status, "queued");
    assert.equal(a.startedAt, null);
    assert.equal(a.pid, null);
    // kill of a queued task: it never runs.
    const killed = await tasks.kill(a.id);
    assert.equal(killed.status, "killed");
    assert.equal(killed.startedAt, null);
    // remove of a queued task removes it.
    await tasks.remove(b.id);
    assert.equal(await tasks.getStatus(b.id), undefined);
    // follow waits for the start, then streams; wait and completions as for any task.
    const followed = (async () => {
      let all = "";
      for await (const text of tasks.follow(c.id)) all += text;
      return all;
    })();
    const waited = tasks.wait(c.id, { signal: AbortSignal.timeout(20_000) });
    await tasks.resumeQueue("held");
    assert.equal((await waited).status, "completed");
    assert.equal(await followed, "c\nc2\n");
    assert.equal((await tasks.getStatus(a.id))?.status, "killed", "the killed one never ran");
    const delivered = (await tasks.drainCompletions()).map((t) => t.id).sort();
    assert.deepEqual(delivered, [a.id, c.id].sort());
  });
});

Deno.test("queue: remove of a queued task whose start a scheduler has just claimed refuses it as starting, and never kills it", async () => {
  await withStore("queue-rm-race", async (tasks, dir) => {
    await tasks.pauseQueue("held");
    const b = await tasks.spawnShell("echo ran", { queue: "held" });
    // A scheduler's first step, as on a slot freed this instant: it claims
    // the start (then launches it). A remove read the task as queued just
    // before; it used to kill it, and the task ran for a moment, unasked.
    const store = new FsStore(dir, "option");
    assert.ok(await store.claimLaunch(b.id));
    await assert.rejects(
      () => tasks.remove(b.id),
      (e) =>
        e instanceof TaskStateError &&
        /^Cannot remove task b1: it is still starting \(kill it first\)$/.test(e.message),
    );
    assert.equal(exists(`${dir}/tasks/${b.id}/kill`), false, "no kill was asked");
    // The scheduler's second step: the launch. The task runs to its end.
    const spec = (await store.read(b.id))!.spec;
    launchDetached(store, spec);
    const done = await tasks.wait(b.id, { signal: AbortSignal.timeout(20_000) });
    assert.equal(done.status, "completed");
    assert.equal(await tasks.readOutput(b.id), "ran\n");
    await tasks.remove(b.id);
  });
});

Deno.test("queue: pauseQueue stops new starts, the running ones go on", async () => {
  await withStore("queue-pause", async (tasks, dir) => {
    const rec = `${dir}/rec`;
    await Deno.mkdir(rec);
    const gate = `${dir}/gate`;
    const first = await tasks.spawnShell(
      timed(rec, `while [ ! -e '${gate}' ]; do sleep 0.01; done`),
      { queue: "p" },
    );
    const second = await tasks.spawnShell(timed(rec), { queue: "p" });
    await tasks.pauseQueue("p");
    await Deno.writeTextFile(gate, "");
    assert.equal((await tasks.wait(first.id)).status, "completed");
    assert.equal((await tasks.getStatus(second.id))?.status, "queued");
    const [q] = await tasks.getQueues();
    assert.deepEqual(q, { name: "p", parallel: 1, paused: true, running: 0, queued: 1 });
    await tasks.resumeQueue("p");
    assert.equal((await tasks.wait(second.id)).status, "completed");
  });
});

Deno.test("queue: removing a task that ended before its supervisor handed its slot on frees the slot", async () => {
  await withStore("queue-rm-slot", async (tasks, dir) => {
    // Found by a race walk: removed in that moment, the folder was gone when
    // the supervisor came to hand on (it does so only while its folder is
    // the store's), and the slot stayed taken: the queue stopped for good.
    await tasks.setQueue("q", { parallel: 1 });
    const a = await tasks.spawnShell("sleep 60", { queue: "q" });
    const c = await tasks.spawnShell("echo ran", { queue: "q" });
    const pid = await until(
      async () => (await tasks.getStatus(a.id))?.pid,
      "a to start",
    );
    // Its supervisor and watchdog held still, its task ended, its end recorded as the
    // supervisor records it: the moment before the hand-on.
    // (By kinship and name, not by command line: a watchdog's `$(wc -c …)` subshell
    // has its watchdog's, for the milliseconds it lives.)
    // (The watchdog names itself once its body is parsed, which under load
    // came after the task's start was recorded.)
    const supervisor = supervisorPid(dir, a.id);
    const watchdogs = await until(() => {
      const named = childrenOf(supervisor).filter((p) => {
        try {
          return Deno.readTextFileSync(`/proc/${p}/comm`).trim() === `bgtask ${a.id} wd`;
        } catch {
          return false; // gone
        }
      });
      return named.length > 0 ? named : undefined;
    }, "the watchdog to name itself");
    const helpers = [supervisor, ...watchdogs];
    assert.equal(helpers.length, 2, `supervisor and watchdog: ${helpers}`);
    for (const p of helpers) Deno.kill(p, "SIGSTOP");
    assert.ok(pid > 1);
    Deno.kill(-pid, "SIGKILL");
    await Deno.writeTextFile(
      `${dir}/tasks/${a.id}/final.json`,
      `{"status":"failed","exitCode":null,"signal":"SIGKILL","error":"killed by signal SIGKILL",` +
        `"finishedAt":${Date.now()},"by":"signal"}\n`,
    );
    await tasks.remove(a.id);
    for (const p of helpers) Deno.kill(p, "SIGCONT");
    // Nobody waits for c, or looks at the queue: it starts all the same.
    await until(() => exists(`${dir}/tasks/${c.id}/started`), "c to start");
    assert.equal((await tasks.wait(c.id)).status, "completed");
  });
});

Deno.test("queue: a pause and a new limit set at the same time both hold (neither undoes the other)", async () => {
  await withStore("queue-set-race", async (tasks) => {
    // Found by a race walk: each read the settings outside the queue's lock and wrote
    // them back under it, so the one that wrote last put the other's old value back.
    for (let i = 2; i < 12; i++) {
      await Promise.all([tasks.pauseQueue("q"), tasks.setQueue("q", { parallel: i })]);
      const [q] = await tasks.getQueues();
      assert.deepEqual([q.parallel, q.paused], [i, true], `round ${i}`);
      await Promise.all([tasks.setQueue("q", { parallel: 1 }), tasks.resumeQueue("q")]);
      const [r] = await tasks.getQueues();
      assert.deepEqual([r.parallel, r.paused], [1, false], `round ${i}, back`);
    }
  });
});

Deno.test("queue: timeouts count from the real start, not from queueing", async () => {
  await withStore("queue-timeout", async (tasks, dir) => {
    const go = `${dir}/go`;
    const first = await tasks.spawnShell(`while [ ! -e '${go}' ]; do sleep 0.02; done`, {
      queue: "t",
    });
    const timeoutMs = 3000;
    const second = await tasks.spawnShell("true", { queue: "t", timeoutMs });
    // Queued for longer than its whole timeout (the time passing is the point here).
    await until(
      () => Date.now() - Date.parse(second.createdAt) > timeoutMs + 200,
      "its timeout to pass while it is queued",
      timeoutMs + 10_000,
    );
    assert.equal((await tasks.getStatus(second.id))?.status, "queued");
    await Deno.writeTextFile(go, "");
    assert.equal((await tasks.wait(first.id)).status, "completed");
    const done = await tasks.wait(second.id);
    assert.equal(done.status, "completed", done.error ?? "");
  });
});

Deno.test("queue: bad queue names and limits are refused clearly", async () => {
  await withStore("queue-bad", async (tasks) => {
    await assert.rejects(
      tasks.setQueue("a/b", { parallel: 2 }),
      /queue "a\/b" is not a valid name/,
    );
    await assert.rejects(
      tasks.setQueue("ok", { parallel: 0 }),
      /parallel must be a whole number ≥ 1/,
    );
    await assert.rejects(
      tasks.spawnShell("true", { queue: "" }),
      /queue "" is not a valid name/,
    );
    assert.deepEqual(await tasks.list(), []);
  });
});

Deno.test("queue: removeQueue refuses a queue with unfinished tasks, then removes it; its finished tasks stay", async () => {
  await withStore("queue-remove", async (tasks, dir) => {
    const gate = `${dir}/gate`;
    await tasks.setQueue("rq", { parallel: 1 });
    const running = await tasks.spawnShell(`while [ ! -e '${gate}' ]; do sleep 0.01; done`, {
      queue: "rq",
    });
    const queued = await tasks.spawnShell("echo queued", { queue: "rq" });
    // Waiting for its dependency, it is in no line yet: it still counts.
    const later = await tasks.spawnShell("echo later", { queue: "rq", after: [running.id] });
    await assert.rejects(
      tasks.removeQueue("rq"),
      (e: unknown) =>
        e instanceof TaskStateError && e.id === running.id &&
        e.message === `Cannot remove queue "rq": 3 of its tasks ${running.id}, ${queued.id}, ` +
            `${later.id} have not ended (kill them or wait for them first)`,
    );
    assert.deepEqual((await tasks.getQueues()).map((q) => q.name), ["rq"], "refused: untouched");
    await Deno.writeTextFile(gate, "");
    for (const t of [running, queued, later]) {
      assert.equal(
        (await tasks.wait(t.id, { signal: AbortSignal.timeout(20_000) })).status,
        "completed",
      );
    }
    assert.equal(await tasks.removeQueue("rq"), true);
    assert.deepEqual(await tasks.getQueues(), []);
    assert.equal(await tasks.removeQueue("rq"), false, "a second removal finds none");
    assert.deepEqual((await tasks.list({ queue: "rq" })).map((t) => t.id), [
      running.id,
      queued.id,
      later.id,
    ]);
    // Naming it again makes a new queue, one task at a time until set.
    const again = await tasks.spawnShell("echo again", { queue: "rq" });
    assert.equal((await tasks.wait(again.id)).status, "completed");
    assert.deepEqual(await tasks.getQueues(), [
      { name: "rq", parallel: 1, paused: false, running: 0, queued: 0 },
    ]);
    await assert.rejects(tasks.removeQueue("a/b"), /queue "a\/b" is not a valid name/);
  });
});

Deno.test("queue: a queue first named by a task that waits for others exists at once: listed, paused, not removed", async () => {
  await withStore("queue-deferred", async (tasks, dir) => {
    const gate = `${dir}/gate`;
    const first = await tasks.spawnShell(`while [ ! -e '${gate}' ]; do sleep 0.01; done`);
    const later = await tasks.spawnShell("echo later", { queue: "fresh", after: [first.id] });
    assert.deepEqual(await tasks.getQueues(), [
      { name: "fresh", parallel: 1, paused: false, running: 0, queued: 1 },
    ]);
    await assert.rejects(
      tasks.removeQueue("fresh"),
      (e: unknown) => e instanceof TaskStateError && e.id === later.id,
    );
    await tasks.pauseQueue("fresh");
    await Deno.writeTextFile(gate, "");
    assert.equal((await tasks.wait(first.id)).status, "completed");
    // Ready now, it joins its paused queue and does not start.
    assert.equal((await tasks.getStatus(later.id))?.status, "queued");
    await tasks.resumeQueue("fresh");
    assert.equal(
      (await tasks.wait(later.id, { signal: AbortSignal.timeout(20_000) })).status,
      "completed",
    );
  });
});

/** Whether `chattr +i` works on a folder in the temp dir (root, and a file system that has it). */
async function canMakeImmutable(): Promise<string | undefined> {
  if (!IS_ROOT) return "not running as root";
  const probe = await Deno.makeTempDir({ prefix: "bgtask-chattr-probe-" });
  try {
    const set = await new Deno.Command("chattr", { args: ["+i", probe], stderr: "piped" }).output()
      .catch(() => undefined);
    if (!set?.success) return "chattr +i is not available here";
    await new Deno.Command("chattr", { args: ["-i", probe] }).output();
    return undefined;
  } finally {
    await Deno.remove(probe).catch(() => {});
  }
}
const noChattr = await canMakeImmutable();

Deno.test({
  name: `queue: a task whose start cannot be claimed (no file can be made) stays first in line${
    noChattr ? ` (skipped: ${noChattr})` : ""
  }`,
  ignore: noChattr !== undefined,
  fn: () =>
    withStore("queue-unclaimable", async (tasks, dir) => {
      const gate = `${dir}/gate`;
      const first = await tasks.spawnShell(`while [ ! -e '${gate}' ]; do sleep 0.01; done`, {
        queue: "u",
      });
      const second = await tasks.spawnShell("echo second", { queue: "u" });
      const folder = `${dir}/tasks/${second.id}`;
      // Nothing can be made in its folder (as on a full disk, where the claim fails).
      const chattr = (flag: string) =>
        new Deno.Command("chattr", { args: [flag, folder] }).output();
      assert.ok((await chattr("+i")).success);
      try {
        await Deno.writeTextFile(gate, "");
        assert.equal((await tasks.wait(first.id)).status, "completed");
        // Its supervisor has handed its slot on (tried to) once it is gone.
        await untilTaskProcessesGone(dir, first.id);
        assert.equal((await tasks.getStatus(second.id))?.status, "queued");
        assert.ok(!exists(`${folder}/launched`), "not claimed");
      } finally {
        await chattr("-i");
      }
      // The next look at the queue starts it: it was not passed over.
      await tasks.getQueues();
      const done = await tasks.wait(second.id, { signal: AbortSignal.timeout(20_000) });
      assert.equal(done.status, "completed");
      assert.equal(await tasks.readOutput(second.id), "second\n");
    }),
});

Deno.test("queue: a start claimed by a scheduler that could not say when (an empty marker) counts from the marker's time", async () => {
  await withStore("queue-empty-marker", async (tasks, dir) => {
    await tasks.pauseQueue("m");
    const t = await tasks.spawnShell("echo never", { queue: "m" });
    // What a scheduler leaves that claimed the start on a full disk and was then killed.
    const marker = `${dir}/tasks/${t.id}/launched`;
    Deno.writeFileSync(marker, new Uint8Array(0), { createNew: true, mode: 0o600 });
    const old = new Date(Date.now() - 120_000);
    Deno.utimeSync(marker, old, old);
    // Not queued for ever: launched two minutes ago and never started.
    const info = await tasks.getStatus(t.id);
    assert.equal(info?.status, "failed");
    assert.equal(info?.reason, "lost");
    assert.match(info?.error ?? "", /never reported that it started/);
  });
});

Deno.test("a queue's line garbled by hand: the tasks it held are put back in line and run, not recorded lost", async () => {
  await withStore("queue-garbled", async (tasks, dir) => {
    await tasks.setQueue("g", { parallel: 1 });
    const gate = `${dir}/go`;
    const first = await tasks.spawnShell(`while [ ! -e '${gate}' ]; do sleep 0.02; done`, {
      queue: "g",
    });
    const waiting = [
      (await tasks.spawnShell("echo b", { queue: "g" })).id,
      (await tasks.spawnShell("echo c", { queue: "g" })).id,
    ];
    await Deno.writeFile(
      `${dir}/queues/g/list`,
      new Uint8Array([...new TextEncoder().encode("garbage"), 0, 0xff, 0x0a]),
    );
    await Deno.writeTextFile(gate, "");
    assert.equal((await tasks.wait(first.id)).status, "completed");
    // (They were recorded "lost: its spawner ended before the task joined its queue", 30 s on.)
    const ended = await waitAll(tasks, waiting);
    assert.deepEqual(ended.map((t) => [t.status, t.error]), [
      ["completed", null],
      ["completed", null],
    ]);
    assert.equal(await tasks.readOutput(waiting[1]), "c\n");
  });
});
