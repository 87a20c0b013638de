/**
 * Kills asked for together (a `kill --all`, `killQueue`, a `Promise.all` of
 * `kill()`): one bash makes them, each task still ends whole, with its own
 * grace, and each caller is told as soon as its own task is gone.
 */

import { assert, assertEquals } from "./_helpers/assert.ts";
import {
  childrenOf,
  controlRuns,
  exists,
  groupMembers,
  procStat,
  supervisorPid,
  until,
  withStore,
  withTestFault,
} from "./_helpers/common.ts";
import { childOptions, cliArgs } from "./cli_helpers.ts";
import { sleep } from "../src/timers.ts";

Deno.test("kills asked together are made by one bash; each task ends whole, strays included", async () => {
  await withStore(async (tasks) => {
    // Each with a child in its group and a job in a group of its own (a stray).
    const spawned = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        tasks.spawnShell(
          `set -m; sleep 300 & set +m; sleep 300 & echo "up ${i}"; wait`,
        )),
    );
    for (const t of spawned) {
      await until(async () => (await tasks.readOutput(t.id)).startsWith("up"), `${t.id} up`);
    }
    // (The job's group is its own: a child of the task's shell in another group.)
    const strays = spawned.map((t) =>
      childrenOf(t.pid!).filter((p) => procStat(p)?.pgrp !== t.pid)
    );
    assert(strays.every((s) => s.length > 0), "each task has a stray of its own");
    const [ended, runs] = await controlRuns(
      "kills",
      () => Promise.all(spawned.map((t) => tasks.kill(t.id))),
    );
    assertEquals(runs, [12], "one bash for the 12 kills");
    assertEquals(ended.map((t) => t.status), spawned.map(() => "killed"));
    for (const t of spawned) assertEquals(groupMembers(t.pid!), [], t.id);
    for (const pid of strays.flat()) {
      const s = procStat(pid);
      assert(s === undefined || s.state === "Z", `stray ${pid} outlived the kill`);
    }
  });
});

Deno.test("kills made together: each task gets its own grace, and each caller is told when its own task is gone", async () => {
  await withStore(async (tasks) => {
    const stubborn = await tasks.spawnShell("trap '' TERM; echo up; sleep 300", {
      graceMs: 2_000,
    });
    const quick = await tasks.spawnShell("echo up; exec sleep 300");
    for (const t of [stubborn, quick]) {
      await until(async () => (await tasks.readOutput(t.id)) === "up\n", `${t.id} up`);
    }
    const order: string[] = [];
    const t0 = performance.now();
    const [[a, b], runs] = await controlRuns(
      "kills",
      () =>
        Promise.all([stubborn, quick].map(async (t) => {
          const info = await tasks.kill(t.id);
          order.push(t.id);
          return { info, ms: performance.now() - t0 };
        })),
    );
    assertEquals(runs, [2], "one bash for both");
    assertEquals([a.info.status, b.info.status], ["killed", "killed"]);
    // The stubborn one's own grace (2 s, from its spawn) before SIGKILL; the
    // quick one told at its end, not the other's.
    assertEquals(order, [quick.id, stubborn.id]);
    assert(a.ms >= 2_000, `SIGKILL came after ${a.ms} ms, before the task's 2 s grace`);
    assert(a.info.error?.includes("after 2000 ms"), a.info.error ?? "");
    assertEquals(groupMembers(stubborn.pid!), []);
  });
});

Deno.test("the same task killed twice at once: one kill, both told", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("echo up; sleep 300");
    await until(async () => (await tasks.readOutput(t.id)) === "up\n", "up");
    const [ended, runs] = await controlRuns(
      "kills",
      () => Promise.all([tasks.kill(t.id), tasks.kill(t.id)]),
    );
    assertEquals(ended.map((i) => i.status), ["killed", "killed"]);
    assertEquals(runs, [1], "one bash, given the task once");
    assertEquals(groupMembers(t.pid!), []);
  });
});

Deno.test("a kill asked while its task is being launched (its queue's slot taken, its start not yet recorded) returns once the task is killed", async () => {
  await withStore(async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 1 });
    await tasks.pauseQueue("q");
    const t = await tasks.spawnShell("sleep 300", { queue: "q" });
    // Launched now; its supervisor (this store's only: a fault) waits for fault-go.
    await withTestFault("slow-start", dir, () => tasks.resumeQueue("q"));
    const folder = `${dir}/tasks/${t.id}`;
    assert(exists(`${folder}/launched`) && !exists(`${folder}/started`), "launched, not started");
    // kill() finds it being launched and waits (up to 2 s) for its start; the
    // start comes meanwhile. (Half a second for kill() to read it first: a
    // slower read finds it started, and the test passes without the wait.)
    const killing = tasks.kill(t.id);
    await sleep(500);
    await Deno.writeTextFile(`${dir}/fault-go`, "");
    const patience = new AbortController();
    const k = await Promise.race([
      killing,
      sleep(20_000, patience.signal).then(() => "still waiting after 20 s", () => ""),
    ]);
    patience.abort();
    assertEquals(typeof k === "string" ? k : k.status, "killed");
  });
});

Deno.test("a kill --all interrupted by a Ctrl-C goes on when the tasks it was told of first have ended: SIGKILL after the grace", async () => {
  await withStore(async (tasks, dir) => {
    const termed = `${dir}/termed`;
    // One ends a second after its SIGTERM (its end is told to a kill that has
    // gone); one ignores SIGTERM: only the SIGKILL after the grace ends it.
    const late = await tasks.spawnShell(
      `trap ': > ${termed}; sleep 1; exit 5' TERM; echo up; sleep 300 & wait`,
    );
    const deaf = await tasks.spawnShell("trap '' TERM; echo up; sleep 300");
    for (const t of [late, deaf]) {
      await until(async () => (await tasks.readOutput(t.id)) === "up\n", `${t.id} up`);
    }
    // Their supervisors gone (and their watchdogs, in their groups): only the
    // kill can end them.
    for (const t of [late, deaf]) Deno.kill(-supervisorPid(dir, t.id), "SIGKILL");
    // At a terminal: a process group of its own, which the Ctrl-C reaches.
    const killer = new Deno.Command(Deno.execPath(), {
      args: cliArgs(dir, ["kill", "--all", "--grace", "3s"]),
      ...childOptions(),
      detached: true,
    }).spawn();
    await until(() => exists(termed), "SIGTERM to reach the tasks");
    Deno.kill(-killer.pid, "SIGINT");
    assertEquals((await killer.output()).code, 130);
    await until(() => groupMembers(deaf.pid!).length === 0, `${deaf.id} SIGKILLed`, 15_000);
    assertEquals(groupMembers(late.pid!), []);
  });
});

Deno.test("a task whose leader left its group does not hold up the kills made with it", async () => {
  await withStore(async (tasks) => {
    // The leader joins a group its child made (setpgid to another group, as
    // a job-control shell's child may): no group of its own, so a kill waits
    // 5 s for the leader to make it (group_made), then ends it by its session.
    const odd = await tasks.spawnShell(
      `exec perl -e 'pipe(my $r, my $w); my $kid = fork();
        if (!$kid) { setpgrp(0, 0); close $r; print $w "x"; close $w; sleep 300; exit 0 }
        close $w; <$r>; setpgrp(0, $kid) or die "setpgrp: $!"; $| = 1; print "up\\n"; sleep 300'`,
    );
    const plain = await tasks.spawnShell("echo up; exec sleep 300");
    for (const t of [odd, plain]) {
      await until(async () => (await tasks.readOutput(t.id)) === "up\n", `${t.id} up`);
    }
    const joined = procStat(odd.pid!)!.pgrp;
    assert(joined !== odd.pid, "the leader left its group");
    // The plain task's kill returns at its own end, while the other's leader
    // is still given its time: nothing of that task was signalled yet.
    let oddAtPlainsEnd: number[] = [];
    const ended = await Promise.all([
      tasks.kill(odd.id, { graceMs: 0 }),
      tasks.kill(plain.id, { graceMs: 0 }).then((info) => {
        oddAtPlainsEnd = groupMembers(joined);
        return info;
      }),
    ]);
    assertEquals(ended.map((t) => t.status), ["killed", "killed"]);
    assertEquals(oddAtPlainsEnd.length, 2, `${odd.id}'s two processes, untouched`);
    assertEquals([groupMembers(joined), groupMembers(plain.pid!)], [[], []]);
  });
});
