import { assert, assertEquals, assertRejects } from "./_helpers/assert.ts";
import { TaskNotFoundError } from "../mod.ts";
import { FsStore } from "../src/store/fs_store.ts";
import {
  exists,
  groupMembers,
  isAlive,
  minimalFlags,
  procStat,
  runDeno,
  settleStore,
  supervisorPid,
  until,
  withStore,
} from "./_helpers/common.ts";

Deno.test("kill() ends every process in the task's group, children and grandchildren", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell(
      "sleep 300 & sleep 300 & bash -c 'sleep 300 & wait' & echo ready; wait",
    );
    await until(async () => (await tasks.readOutput(t.id)) === "ready\n", "ready");
    await until(() => groupMembers(t.pid!).length >= 5, "the whole tree to start");
    const sup = supervisorPid(dir, t.id);
    const info = await tasks.kill(t.id);
    assertEquals(groupMembers(t.pid!), []);
    assertEquals(info.status, "killed");
    assertEquals(info.reason, "killed");
    assertEquals(info.exitCode, null);
    assert(info.error?.startsWith("killed on request"), info.error ?? "");
    // The supervisor sees its shell die and finishes; the record stays "killed".
    await until(() => !isAlive(sup), "the supervisor to exit");
    assertEquals(await tasks.getStatus(t.id), info);
  });
});

Deno.test("kill() ends a task whose environment names bgtask's own variables (a copied environment)", async () => {
  const marks = await Deno.makeTempDir({ prefix: "bgtask-kill-env-" });
  try {
    await withStore(async (tasks) => {
      // As a program inside a task that passes its whole environment on would.
      const env = { BGTASK_INVOCATION: "0123456789abcdef", BGTASK_TASK_ID: "b999" };
      for (const stdin of ["null", "pty"] as const) {
        // (A kill that cannot find the group waits for the task's own end, 20 s later, and
        // the trap never runs.)
        const t = await tasks.spawnShell(
          `trap ': > "${marks}/${stdin}"; exit 143' TERM HUP; echo "$BGTASK_TASK_ID"; ` +
            "sleep 20 & wait",
          { env, stdin },
        );
        await until(async () => (await tasks.readOutput(t.id)).includes(t.id), `${stdin}: up`);
        // (A grace that only bounds a failure: the kill returns once the trap has ended
        // the tree. 100 ms was the time the trap had to run on a loaded machine.)
        const info = await tasks.kill(t.id, { graceMs: 10_000 });
        assertEquals([info.status, groupMembers(t.pid!)], ["killed", []], stdin);
        const out = await tasks.readOutput(t.id);
        assert(out.startsWith(t.id), `its own id, not the copied one: ${out}`);
        assert(exists(`${marks}/${stdin}`), `${stdin}: the kill reached it`);
      }
    });
  } finally {
    await Deno.remove(marks, { recursive: true });
  }
});

Deno.test("kill() SIGKILLs a tree that ignores SIGTERM after the grace period", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(
      "trap '' TERM; bash -c \"trap '' TERM; sleep 300\" & echo ready; wait",
    );
    await until(async () => (await tasks.readOutput(t.id)) === "ready\n", "ready");
    const start = Date.now();
    const info = await tasks.kill(t.id, { graceMs: 300 });
    assert(Date.now() - start >= 300, "waited for the grace period first");
    assertEquals(info.status, "killed");
    assertEquals(groupMembers(t.pid!), []);
  });
});

Deno.test("kill() gives a child that outlives its shell the kill's grace and one SIGTERM", async () => {
  // The task's shell (`… & wait`) dies at the first SIGTERM while its child
  // shuts down slowly: the child must get that one SIGTERM (many programs
  // take a second one as "stop now") and the kill's grace, not the grace the
  // task was spawned with (2 s here), before any SIGKILL.
  await withStore(async (tasks, dir) => {
    const terms = `${dir}/terms`;
    const t = await tasks.spawnShell(
      `bash -c 'trap "echo TERM >>${terms}" TERM; echo ready; while :; do sleep 0.05; done' & wait`,
    );
    await until(async () => (await tasks.readOutput(t.id)) === "ready\n", "ready");
    const graceMs = 5000;
    const start = Date.now();
    const info = await tasks.kill(t.id, { graceMs });
    const took = Date.now() - start;
    assertEquals(info.status, "killed");
    assertEquals(groupMembers(t.pid!), []);
    assertEquals(await Deno.readTextFile(terms), "TERM\n", "one SIGTERM reached the child");
    assert(
      took >= graceMs,
      `the child had the kill's grace (${graceMs} ms) before SIGKILL: ${took} ms`,
    );
  });
});

Deno.test("killing a finished task changes nothing; an unknown id rejects naming it", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("exit 2");
    const done = await tasks.wait(t.id);
    assertEquals(await tasks.kill(t.id), done);
    await assertRejects(() => tasks.kill("b77"), TaskNotFoundError, /"b77"/);
    await assertRejects(() => tasks.kill("../b1"), TaskNotFoundError, /"\.\.\/b1"/);
  });
});

Deno.test("kill() works from another process sharing the store", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell("sleep 300 & wait");
    await until(() => groupMembers(t.pid!).length >= 2, "the tree to start");
    const r = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const info = await new TaskManager({ dir: ${JSON.stringify(dir)} }).kill("${t.id}");
       console.log(info.status);`,
    );
    assertEquals(r.stdout.trim(), "killed", r.stderr);
    assertEquals(groupMembers(t.pid!), []);
    assertEquals((await tasks.wait(t.id)).status, "killed");
  });
});

Deno.test("a second kill with a shorter grace, after the first asker died: the record gives the grace that held", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell("trap '' TERM; sleep 300 & wait");
    await until(() => groupMembers(t.pid!).length >= 2, "the tree to start");
    // The first asker gives an hour and dies once its request is made.
    const r = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       tasks.kill("${t.id}", { graceMs: 3_600_000 });
       const path = ${JSON.stringify(`${dir}/tasks/${t.id}/kill`)};
       for (let i = 0; i < 500; i++) {
         try { Deno.statSync(path); Deno.exit(0); } catch { await new Promise((r) => setTimeout(r, 10)); }
       }
       Deno.exit(3);`,
    );
    assertEquals(r.code, 0, r.stderr);
    assert(groupMembers(t.pid!).length >= 2, "SIGTERM is ignored: the tree still runs");
    const info = await tasks.kill(t.id, { graceMs: 0 });
    assertEquals(info.status, "killed");
    assertEquals(groupMembers(t.pid!), []);
    assert(/after 0 ms\)$/.test(info.error ?? ""), info.error ?? "");
    assertEquals(await tasks.getStatus(t.id), info);
  });
});

Deno.test("a kill whose asker died before it could signal the tree is finished by the task's watchdog once the grace is long past", async () => {
  await withStore(async (tasks, dir) => {
    // A `kill --all` SIGKILLed (or out of open files) between its requests and its
    // signals: before, the tree ran on, and was recorded "killed" whenever it ended.
    const t = await tasks.spawnShell("trap '' TERM; sleep 300 & wait");
    await until(() => groupMembers(t.pid!).length >= 2, "the tree to start");
    // The request, as kill() writes it first, and no signal (its asker died then).
    await new FsStore(dir).requestKill(t.id, 200);
    const info = await tasks.wait(t.id, { signal: AbortSignal.timeout(60_000) });
    assertEquals(info.status, "killed");
    assertEquals(
      info.error,
      "killed on request (SIGTERM; SIGKILL if anything was left after 200 ms)",
    );
    assertEquals(groupMembers(t.pid!), []);
  });
});

Deno.test("kill() refused for want of --allow-run=bash changes nothing: no request is left for the watchdog to carry out", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell("sleep 300");
    const r = await runDeno(
      [`--allow-read=${dir}`, `--allow-write=${dir}`],
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       try { await tasks.kill("${t.id}"); Deno.exit(0); }
       catch (e) { console.log(e.message); Deno.exit(e instanceof Deno.errors.NotCapable ? 4 : 5); }`,
    );
    assertEquals(r.code, 4, r.stdout + r.stderr);
    assert(r.stdout.includes("--allow-run=bash"), r.stdout);
    assert(!exists(`${dir}/tasks/${t.id}/kill`), "no kill request left");
    assertEquals((await tasks.getStatus(t.id))?.status, "running");
    await tasks.kill(t.id);
  });
});

Deno.test("a task killed while it is finishing: the first final state wins and never changes", async () => {
  await withStore(async (tasks, dir) => {
    const outcomes = new Set<string>();
    for (let i = 0; i < 15; i++) {
      const t = await tasks.spawnShell(`sleep 0.0${i % 4}`);
      const killed = await tasks.kill(t.id, { graceMs: 100 });
      assert(["killed", "completed"].includes(killed.status), killed.status);
      outcomes.add(killed.status);
      const sup = supervisorPid(dir, t.id);
      await until(() => !isAlive(sup), "the supervisor to exit");
      assertEquals(await tasks.getStatus(t.id), killed);
    }
    assert(outcomes.size >= 1);
  });
});

Deno.test("the task's pid leads its process group as soon as spawnShell() returns", async () => {
  await withStore(async (tasks) => {
    for (let i = 0; i < 20; i++) {
      const t = await tasks.spawnShell("sleep 300");
      // A caller may signal the group at once (it made itself a session leader before).
      Deno.kill(-t.pid!, "SIGKILL");
      const done = await tasks.wait(t.id);
      assertEquals(done.signal, "SIGKILL", `round ${i}`);
      assertEquals(groupMembers(t.pid!), []);
    }
  });
});

Deno.test("a killed task is recorded only once its tree is gone: waiters and followers get its last words", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(
      "trap 'sleep 0.2; echo last words; exit 0' TERM; echo up; while :; do sleep 0.01; done",
    );
    const waited = tasks.wait(t.id);
    const followed = (async () => {
      let all = "";
      for await (const text of tasks.follow(t.id)) all += text;
      return all;
    })();
    while (!(await tasks.readOutput(t.id)).includes("up")) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // (The trap's last words come within the grace however slow the machine; the
    // kill returns once they are written and the tree is gone.)
    const killed = await tasks.kill(t.id, { graceMs: 30_000 });
    assertEquals(killed.status, "killed");
    const seen = await waited;
    assertEquals(seen, killed);
    assertEquals(groupMembers(t.pid!), [], "nothing of the tree when the record appeared");
    // (bash may note the SIGTERM of its `sleep` in between.)
    const all = await followed;
    assert(all.startsWith("up\n") && all.endsWith("last words\n"), all);
  });
});

Deno.test("kill and timeouts find a process whose command name holds a newline", async () => {
  await withStore(async (tasks, dir) => {
    // Found by a security walk: the line of /proc/PID/stat was cut at the
    // newline, the process was never found, kill hung and a timeout left it running.
    const bin = `${dir}/sl\np`;
    await Deno.copyFile("/bin/sleep", bin);
    await Deno.chmod(bin, 0o755);
    const first = await tasks.spawnShell(`exec '${bin}' 60`);
    await until(() => procStat(first.pid!)?.state !== undefined, "the task to run");
    // (bgtask 0.1's kill never returned here: the test fails instead of hanging.)
    const killed = await Promise.race([
      tasks.kill(first.id, { graceMs: 0 }),
      new Promise<never>((_, reject) => {
        const t = setTimeout(() => reject(new Error("kill did not return in 20 s")), 20_000);
        Deno.unrefTimer(t);
      }),
    ]);
    assertEquals(killed.status, "killed");
    assert(!isAlive(first.pid!), "killed");
    const second = await tasks.spawnShell(`exec '${bin}' 60`, { timeoutMs: 300 });
    const info = await tasks.wait(second.id, { signal: AbortSignal.timeout(20_000) });
    assertEquals(info.reason, "timeout");
    assert(!isAlive(second.pid!), "ended by its timeout");
  });
});

Deno.test("kill and timeouts work when the spawner's environment exports SHELLOPTS with noglob", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-shellopts-" });
  try {
    // Found by a security walk: every bash bgtask ran inherited noglob, and
    // its scan of /proc/[0-9]* found no process to signal.
    const out = await runDeno(
      ["-A"],
      `
      import { TaskManager } from MOD;
      const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
      const a = await tasks.spawnShell("sleep 60", { timeoutMs: 300 });
      const b = await tasks.spawnShell("sleep 60");
      const timedOut = await tasks.wait(a.id, { signal: AbortSignal.timeout(20_000) });
      const killed = await tasks.kill(b.id, { graceMs: 0 });
      console.log(JSON.stringify([timedOut.reason, a.pid, killed.status, b.pid]));
    `,
      { env: { SHELLOPTS: "braceexpand:hashall:interactive-comments:noglob" } },
    );
    assertEquals(out.code, 0, out.stderr);
    const [reason, a, status, b] = JSON.parse(out.stdout);
    assertEquals([reason, status], ["timeout", "killed"]);
    assert(!isAlive(a) && !isAlive(b), "both tasks' processes are gone");
  } finally {
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kill without a grace gives the task the one it was spawned with (as its timeout and close() do); a grace given wins", async () => {
  await withStore(async (tasks) => {
    const own = await tasks.spawnShell("sleep 300", { graceMs: 300 });
    const given = await tasks.spawnShell("sleep 300", { graceMs: 300 });
    const plain = await tasks.spawnShell("sleep 300");
    const queued = await tasks.spawnShell("sleep 300", { queue: "g", graceMs: 700 });
    const grace = (t: { error: string | null }) => /after (\d+) ms\)$/.exec(t.error ?? "")?.[1];
    assertEquals(grace(await tasks.kill(own.id)), "300");
    assertEquals(grace(await tasks.kill(given.id, { graceMs: 100 })), "100");
    assertEquals(grace(await tasks.kill(plain.id)), "2000");
    await until(
      async () => (await tasks.getStatus(queued.id))?.status === "running",
      `${queued.id} to start`,
    );
    const [k] = await tasks.killQueue("g");
    assertEquals([k.status, grace(k)], ["killed", "700"]);
  });
});
