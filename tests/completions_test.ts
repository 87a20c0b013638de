import { assert, assertEquals } from "./_helpers/assert.ts";
import { TaskManager } from "../mod.ts";
import {
  livenessLooks,
  minimalFlags,
  runDeno,
  scriptFile,
  until,
  withStore,
} from "./_helpers/common.ts";

Deno.test("drainCompletions returns each finished task once, across restarts", async () => {
  await withStore(async (tasks, dir) => {
    // Completions come in the order they were announced: b1's is in before b2
    // starts (two tasks started together may be announced in either order).
    const a = await tasks.spawnShell("true");
    await tasks.wait(a.id);
    await until(
      () => Deno.readTextFileSync(`${dir}/completions.log`) === "b1\n",
      "b1's completion in the log",
    );
    const b = await tasks.spawnShell("exit 1");
    const c = await tasks.spawnShell("sleep 300");
    await tasks.wait(b.id);
    const first = await tasks.drainCompletions();
    assertEquals(first.map((t) => [t.id, t.status]), [["b1", "completed"], ["b2", "failed"]]);
    assertEquals(await tasks.drainCompletions(), []);
    // A restarted manager does not see them again, but sees the kill.
    await tasks.kill(c.id, { graceMs: 100 });
    const again = new TaskManager({ dir });
    assertEquals((await again.drainCompletions()).map((t) => [t.id, t.status]), [[
      "b3",
      "killed",
    ]]);
    assertEquals(await again.drainCompletions(), []);
  });
});

Deno.test("each finished task is one line of the completion log, whoever sweeps after its supervisor told it (every task was two)", async () => {
  await withStore(async (tasks, dir) => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await tasks.spawnShell(i === 2 ? "exit 3" : "true")).id);
    for (const id of ids) await tasks.wait(id);
    const lines = () => Deno.readTextFileSync(`${dir}/completions.log`).split("\n").slice(0, -1);
    await until(() => lines().length === 5, "every task's line in the log");
    // Told: its line, then a byte in its active marker (a sweep between the
    // two tells it again, which is harmless, and not what this test is about).
    const told = (id: string) => {
      try {
        return Deno.statSync(`${dir}/active/${id}`).size > 0;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return true;
        throw e;
      }
    };
    await until(() => ids.every(told), "every task marked told");
    // Sweeps (a drain, an iterator, another consumer's drain) find them told already.
    assertEquals((await tasks.drainCompletions()).map((t) => t.id).sort(), [...ids].sort());
    assertEquals(await tasks.drainCompletions({ consumer: "other" }), []);
    await tasks.peekCompletions();
    assertEquals(lines().sort(), [...ids].sort());
    assertEquals([...Deno.readDirSync(`${dir}/active`)], [], "the active set dropped them");
  });
});

Deno.test("peekCompletions shows a task as soon as wait() returns, before its line reaches the log", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell("true");
    await tasks.wait(t.id);
    // Its supervisor records the end, then tells the log, then marks it told
    // (a byte in its active marker): a look in between (made here by
    // emptying the log, never read yet, and the marker) still shows it.
    const marker = `${dir}/active/${t.id}`;
    await until(() => Deno.statSync(marker).size > 0, "the task marked told");
    Deno.writeTextFileSync(`${dir}/completions.log`, "");
    Deno.writeTextFileSync(marker, "");
    assertEquals((await tasks.peekCompletions()).map((i) => i.id), [t.id]);
    assertEquals((await tasks.drainCompletions()).map((i) => i.id), [t.id]);
    assertEquals(await tasks.peekCompletions(), []);
  });
});

Deno.test("three processes draining one store at once deliver each completion exactly once", async () => {
  await withStore(async (tasks, dir) => {
    const script = await scriptFile(
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const seen = [];
       // Until the test says stop (120 s only guards against a hang: 20 s could pass
       // before the last spawns on a loaded machine, their ends then drained by nobody).
       const deadline = Date.now() + 120_000;
       while (Date.now() < deadline) {
         for (const t of await tasks.drainCompletions()) seen.push(t.id);
         try { await Deno.stat(${JSON.stringify(dir)} + "/stop"); break; } catch { /* go on */ }
         await new Promise((r) => setTimeout(r, 5));
       }
       for (const t of await tasks.drainCompletions()) seen.push(t.id);
       console.log(JSON.stringify(seen));`,
    );
    try {
      const drainers = Array.from({ length: 3 }, () =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", ...minimalFlags(dir), script],
          stdout: "piped",
          stderr: "piped",
        }).output());
      const spawned = [];
      for (let i = 0; i < 30; i++) spawned.push(await tasks.spawnShell(`sleep 0.0${i % 10}`));
      for (const t of spawned) await tasks.wait(t.id);
      await Deno.writeTextFile(`${dir}/stop`, "");
      const outs = await Promise.all(drainers);
      const seen = outs.flatMap((o) => {
        assertEquals(o.code, 0, new TextDecoder().decode(o.stderr));
        return JSON.parse(new TextDecoder().decode(o.stdout)) as string[];
      });
      assertEquals(seen.length, 30);
      assertEquals(new Set(seen).size, 30);
      assertEquals(await tasks.drainCompletions(), []);
    } finally {
      await Deno.remove(script);
    }
  });
});

Deno.test("completions() yields tasks of other processes as they finish, then stops on abort", async () => {
  await withStore(async (tasks, dir) => {
    const ac = new AbortController();
    const got: string[] = [];
    const consumer = (async () => {
      // (A deadline too: a completion that never comes fails the test, not hangs it.)
      const signal = AbortSignal.any([ac.signal, AbortSignal.timeout(60_000)]);
      for await (const t of tasks.completions({ signal })) {
        got.push(`${t.id}:${t.status}`);
        if (got.length === 3) ac.abort();
      }
    })();
    await tasks.spawnShell("true");
    const r = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const m = new TaskManager({ dir: ${JSON.stringify(dir)} });
       await m.spawnShell("sleep 0.1; exit 3");
       const k = await m.spawnShell("sleep 300");
       await m.kill(k.id, { graceMs: 100 });`,
    );
    assertEquals(r.code, 0, r.stderr);
    await consumer;
    assertEquals(got.sort(), ["b1:completed", "b2:failed", "b3:killed"]);
    // Delivered means delivered: nothing left for a drain.
    assertEquals(await tasks.drainCompletions(), []);
  });
});

Deno.test("an aborted completions() holds no watcher or timer (sanitizers stay quiet)", async () => {
  await withStore(async (tasks) => {
    const ac = new AbortController();
    const iter = tasks.completions({ signal: ac.signal });
    const next = iter.next();
    setTimeout(() => ac.abort(), 50);
    assertEquals((await next).done, true);
    // Breaking out of the loop early releases everything too.
    const t = await tasks.spawnShell("true");
    let seen = "";
    for await (const info of tasks.completions({ signal: AbortSignal.timeout(60_000) })) {
      seen = info.id;
      break;
    }
    assertEquals(seen, t.id);
  });
});

Deno.test("completions() never re-delivers what drainCompletions() delivered", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("true");
    await tasks.wait(t.id);
    assertEquals((await tasks.drainCompletions()).length, 1);
    const ac = new AbortController();
    const got = [];
    setTimeout(() => ac.abort(), 300);
    for await (const info of tasks.completions({ signal: ac.signal })) got.push(info);
    assertEquals(got, []);
    assert(ac.signal.aborted);
  });
});

Deno.test("a drain in a process that may not run bash still delivers (claimed as it scans: it cannot be told alive by others)", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell("true");
    await tasks.wait(t.id);
    const out = await runDeno(
      [`--allow-read=${dir}`, `--allow-write=${dir}`],
      `import { TaskManager } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
console.log((await tasks.drainCompletions()).map((t) => t.id).join(" "));`,
    );
    assertEquals([out.code, out.stdout.trim(), out.stderr], [0, t.id, ""]);
    assertEquals(await tasks.drainCompletions(), []);
  });
});

Deno.test("idle completions() iterators of one manager share their liveness sweeps (ten iterators made ten times the looks, each a bash)", async () => {
  await withStore(async (tasks) => {
    const running = [await tasks.spawnShell("sleep 60"), await tasks.spawnShell("sleep 60")];
    const stop = new AbortController();
    const [, looks] = await livenessLooks(async () => {
      const loops = Array.from({ length: 10 }, async (_, i) => {
        try {
          for await (const _t of tasks.completions({ consumer: `c${i}`, signal: stop.signal })) {
            // (nothing ends)
          }
        } catch { /* aborted */ }
      });
      // Their first sweeps, and those due after 1 s and 2.5 s.
      await new Promise((resolve) => setTimeout(resolve, 3200));
      stop.abort();
      await Promise.all(loops);
    });
    assert(looks.length <= 6, `looks: ${looks.length}`);
    for (const t of running) await tasks.kill(t.id, { graceMs: 0 });
  });
});
