import { assert, assertEquals, assertMatch, assertRejects } from "./_helpers/assert.ts";
import { type TaskInfo, TaskNotFoundError } from "../mod.ts";
import { livenessLooks, minimalFlags, runDeno, withStore } from "./_helpers/common.ts";
import { waitExitCode, waitForTasks } from "../src/cli/wait_tasks.ts";
import { taskWait } from "../src/mcp/tools/task_wait.ts";
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

Deno.test("the CLI's wait takes the snapshots of the tasks left at its timeout in one liveness look, not one a task", async () => {
  await withStore(async (tasks) => {
    const known: TaskInfo[] = [];
    for (let i = 0; i < 6; i++) known.push(await tasks.spawnShell("sleep 60"));
    const done = await tasks.wait((await tasks.spawnShell("exit 3")).id);
    const order = [known[0], done, ...known.slice(1)];
    const [outcome, looks] = await livenessLooks(() => waitForTasks(tasks, order, 100));
    assertEquals(outcome.timedOut, true);
    assertEquals(outcome.tasks.map((t) => t.id), order.map((t) => t.id));
    assertEquals(outcome.tasks.map((t) => t.status), order.map((t) => t.status));
    assertEquals(waitExitCode(outcome), 124);
    // Each look covers every task left (a look a task cost a bash process each: 20 s for 300).
    assert(looks.length >= 1 && looks.length <= 2, `looks: ${looks}`);
    assert(looks.every((n) => n === known.length), `tasks per look: ${looks}`);
    // A task removed meanwhile is said so, as before.
    await tasks.kill(known[5].id, { graceMs: 0 });
    await tasks.remove(known[5].id);
    await assertRejects(() => waitForTasks(tasks, known, 100), TaskNotFoundError, /was removed/);
  });
});

Deno.test("MCP task_wait reads its tasks, and their snapshots at its timeout, in one liveness look each, not one a task", async () => {
  await withStore(async (tasks) => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await tasks.spawnShell("sleep 60")).id);
    const call = {
      signal: new AbortController().signal,
      answered: Promise.resolve(true),
      progress: () => {},
    };
    const session = { tasks, consumer: "mcp-test", registered: Promise.resolve() };
    const [result, looks] = await livenessLooks(() =>
      taskWait.run(session, { ids, mode: "all", timeout_s: 0.1 }, call)
    );
    assertMatch(result.content[0].text, new RegExp(`^Timed out after .*${ids.join(", ")}`));
    // Before the wait, and after it (a look a task cost a bash process each).
    assert(looks.length >= 2 && looks.length <= 3, `looks: ${looks}`);
    assert(looks.every((n) => n === ids.length), `tasks per look: ${looks}`);
    // An unknown id is said so, as before.
    const unknown = await taskWait.run(session, { ids: [ids[0], "b99"], timeout_s: 0.1 }, call)
      .catch((e) => e);
    assertEquals(unknown instanceof TaskNotFoundError, true, String(unknown));
  });
});

Deno.test("list({ ids }) reads only those tasks, oldest first, each once; unknown and removed ids are left out, malformed ones refused", async () => {
  await withStore(async (tasks) => {
    const a = await tasks.spawnShell("sleep 60");
    const b = await tasks.wait((await tasks.spawnShell("exit 2")).id);
    const c = await tasks.wait((await tasks.spawnShell("true")).id);
    await tasks.remove(c.id);
    const got = await tasks.list({ ids: [b.id, "b999", a.id, b.id, c.id] });
    assertEquals(got.map((t) => [t.id, t.status]), [[a.id, "running"], [b.id, "failed"]]);
    assertEquals(await tasks.list({ ids: [] }), []);
    assertEquals((await tasks.list({ ids: [a.id, b.id], status: "failed" })).map((t) => t.id), [
      b.id,
    ]);
    await assertRejects(
      () => tasks.list({ ids: [a.id, "../etc"] }),
      TypeError,
      /^Cannot list tasks: ids holds "\.\.\/etc", which is not a task id/,
    );
    await assertRejects(
      () => tasks.list({ ids: "b1" as never }),
      TypeError,
      /^Cannot list tasks: ids must be an array of task ids/,
    );
  });
});
