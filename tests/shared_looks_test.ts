/**
 * Looks at tasks' processes asked for at once in one process are made
 * together: a server answering many status requests at once runs one bash
 * look at a time, not one each (a library pass: 1,000 concurrent getStatus
 * calls had 1,000 bash processes at once; 50 waits for input took 1.5 cores).
 */

import assert from "node:assert/strict";
import { isAlive, until, withStore } from "./_helpers/common.ts";

/**
 * This process's live children now (their pids), from every thread's list:
 * not those that have exited and wait for Deno to reap them (on a loaded
 * machine it reaps late, and two looks read as four). With `verb`, only the
 * control bash processes running that verb (a look is `alive`): a sweep's
 * other checks (whether a process or a token is alive, who this process is)
 * may run beside a look on a loaded machine (a CI run saw three at once).
 */
function children(verb?: string): number[] {
  const out: number[] = [];
  for (const t of Deno.readDirSync(`/proc/${Deno.pid}/task`)) {
    try {
      const text = Deno.readTextFileSync(`/proc/${Deno.pid}/task/${t.name}/children`).trim();
      if (text) out.push(...text.split(" ").map(Number).filter(isAlive));
    } catch {
      // (a thread that just ended)
    }
  }
  if (verb === undefined) return out;
  return out.filter((pid) => {
    try {
      return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes(`\0bgtask\0${verb}\0`);
    } catch {
      return false; // (gone meanwhile)
    }
  });
}

Deno.test("concurrent getStatus, list and input waits share their looks: at most two bash processes at once", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("sleep 300", { stdin: "pipe" });
    // (Its launcher leaves about when the spawn returns.)
    await until(() => children().length === 0, "the launcher to leave");
    let most = 0;
    const sample = setInterval(() => most = Math.max(most, children("alive").length), 1);
    try {
      const infos = await Promise.all([
        ...Array.from({ length: 300 }, () => tasks.getStatus(t.id)),
        ...Array.from({ length: 100 }, () => tasks.list({ status: "running" })),
      ]);
      assert.equal(infos.length, 400);
      assert.equal((await tasks.getStatus(t.id))?.status, "running");
      const stop = new AbortController();
      const waits = Array.from(
        { length: 20 },
        () => tasks.wait(t.id, { until: "input", signal: stop.signal }).catch(() => {}),
      );
      await new Promise((r) => setTimeout(r, 500));
      stop.abort();
      await Promise.all(waits);
    } finally {
      clearInterval(sample);
    }
    // (One look under way, and the one asked meanwhile, made once it ends.)
    assert.ok(most >= 1, "no look was seen: the sample does not see them");
    assert.ok(most <= 2, `${most} looks at once`);
    await tasks.kill(t.id);
  });
});
