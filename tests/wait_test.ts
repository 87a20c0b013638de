import { assert, assertEquals, assertRejects } from "./_helpers/assert.ts";
import { TaskNotFoundError } from "../mod.ts";
import { minimalFlags, runDeno, withStore } from "./_helpers/common.ts";
import { crashStore } from "./_helpers/reliability.ts";
import { LOST_ERROR } from "../src/ops/settle.ts";

Deno.test("wait() resolves for a task started by another process", async () => {
  await withStore(async (tasks, dir) => {
    const r = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const t = await new TaskManager({ dir: ${
        JSON.stringify(dir)
      } }).spawnShell("sleep 0.2; exit 5");
       console.log(t.id);`,
    );
    const info = await tasks.wait(r.stdout.trim());
    assertEquals([info.status, info.exitCode], ["failed", 5]);
  });
});

Deno.test("wait() rejects for an unknown id and when its signal aborts", async () => {
  await withStore(async (tasks) => {
    await assertRejects(() => tasks.wait("b5"), TaskNotFoundError, /"b5"/);
    const t = await tasks.spawnShell("sleep 300");
    const ac = new AbortController();
    const waiting = tasks.wait(t.id, { signal: ac.signal });
    ac.abort(new Error("gave up"));
    await assertRejects(() => waiting, Error, /gave up/);
    await assertRejects(
      () => tasks.wait(t.id, { signal: AbortSignal.abort() }),
      DOMException,
    );
    const killed = await tasks.kill(t.id, { graceMs: 100 });
    // A finished task is returned even to an aborted waiter: there is nothing to wait for.
    assertEquals(await tasks.wait(t.id, { signal: AbortSignal.abort() }), killed);
  });
});

Deno.test("many concurrent waiters on one task all resolve with the same record", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("sleep 0.2; echo x");
    const results = await Promise.all(Array.from({ length: 50 }, () => tasks.wait(t.id)));
    assert(results.every((r) => r.status === "completed"));
    assertEquals(new Set(results.map((r) => JSON.stringify(r))).size, 1);
  });
});

Deno.test("waits share their liveness looks: when every process of three tasks is SIGKILLed at once, every wait and follow on them ends", async () => {
  await withStore(async (tasks, dir) => {
    const ts = [];
    for (let i = 0; i < 3; i++) ts.push(await tasks.spawnShell("sleep 60"));
    const deadline = AbortSignal.timeout(20_000);
    // Two waits on each task, and a follow of the last: one look covers them all.
    const waits = ts.flatMap((t) => [0, 1].map(() => tasks.wait(t.id, { signal: deadline })));
    const followed = (async () => {
      let text = "";
      for await (const chunk of tasks.follow(ts[2].id, { signal: deadline })) text += chunk;
      return text;
    })();
    // Nothing of them is left to record anything (stopped first, so that none acts on another's end).
    const pids = crashStore(dir);
    assert(pids.length >= 9, `3 × supervisor, watchdog and task expected, found ${pids}`);
    for (const info of await Promise.all(waits)) {
      assertEquals(info.status, "failed");
      assertEquals(info.error, LOST_ERROR);
    }
    assertEquals(await followed, "");
  });
});
