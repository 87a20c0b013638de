/**
 * Kills asked for together (a `kill --all`, `killQueue`, a `Promise.all` of
 * `kill()`): one bash makes them, each task still ends whole, with its own
 * grace, and each caller is told as soon as its own task is gone.
 */

import { assert, assertEquals } from "./_helpers/assert.ts";
import {
  childrenOf,
  controlRuns,
  groupMembers,
  procStat,
  until,
  withStore,
} from "./_helpers/common.ts";

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
