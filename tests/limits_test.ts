import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { groupMembers, minimalFlags, runDeno, until, withStore } from "./_helpers/common.ts";

Deno.test("timeoutMs ends the whole tree: failed, and the error says after how long", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("sleep 300 & trap '' TERM; sleep 300", {
      timeoutMs: 300,
      graceMs: 200,
    });
    const info = await tasks.wait(t.id);
    assertEquals(info.status, "failed");
    assertEquals(info.exitCode, null);
    assertEquals(info.error, "timed out after 300 ms (timeoutMs)");
    assertEquals(info.reason, "timeout");
    assertEquals(info.timeoutMs, 300);
    await until(() => groupMembers(t.pid!).length === 0, "the group to be gone");
  });
});

Deno.test("the timeout and the output cap are enforced after the spawner has exited", async () => {
  await withStore(async (tasks, dir) => {
    const r = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const a = await tasks.spawnShell("sleep 300", { timeoutMs: 300 });
       const b = await tasks.spawnShell("sleep 0.3; yes", { maxOutputBytes: 50000 });
       console.log(a.id, b.id);`,
    );
    assertEquals(r.code, 0, r.stderr);
    const [a, b] = r.stdout.trim().split(" ");
    const ia = await tasks.wait(a);
    assertEquals(ia.status, "failed");
    assert(ia.error?.includes("timed out"), ia.error ?? "");
    const ib = await tasks.wait(b);
    assertEquals(ib.status, "failed");
    assertEquals(ib.error, "output passed the limit of 50000 bytes (maxOutputBytes)");
    assertEquals(groupMembers(ia.pid!), []);
    assertEquals(groupMembers(ib.pid!), []);
  });
});

Deno.test("the output cap keeps exactly what came before it", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("yes abc", { maxOutputBytes: 100_000 });
    const info = await tasks.wait(t.id);
    assertEquals(info.status, "failed");
    assertEquals(info.maxOutputBytes, 100_000);
    assertEquals(info.reason, "max-output");
    const out = await tasks.readOutput(t.id);
    assertEquals(out.length, 100_000);
    assertEquals(out, "abc\n".repeat(25_000));
  });
});

Deno.test("the output cap holds for a task that writes past it and ends before the supervisor's next look", async () => {
  await withStore(async (tasks) => {
    // Each ends within a few milliseconds: the watchdog looks every 250 ms.
    for (const command of ["head -c 5000000 /dev/zero", "head -c 5000000 /dev/zero; exit 3"]) {
      const t = await tasks.spawnShell(command, { maxOutputBytes: 100_000 });
      const info = await tasks.wait(t.id);
      assertEquals([info.status, info.reason, info.exitCode], ["failed", "max-output", null]);
      assertEquals(info.error, "output passed the limit of 100000 bytes (maxOutputBytes)");
      assertEquals(info.outputBytes, 100_000);
    }
    // A task that opens its output again by name (">/dev/stderr" truncates it) is judged by
    // the file, which is under the cap: completed, and nothing is added to it.
    const reopened = await tasks.spawnShell(
      "head -c 1500 /dev/zero | tr '\\0' x; echo oops >/dev/stderr",
      { maxOutputBytes: 1000 },
    );
    assertEquals((await tasks.wait(reopened.id)).status, "completed");
    assertEquals(await tasks.readOutput(reopened.id), "oops\n");
    // One that writes past the cap only through a file it opened again by name, and ends
    // before any look: its writes moved no offset the supervisor reads, the file's size
    // tells (it was completed, its output shown cut at the cap as if that were all of it).
    for (const command of ["head -c 5000 /dev/zero >>/dev/stdout", "seq 2000 >/dev/stdout"]) {
      const t = await tasks.spawnShell(command, { maxOutputBytes: 1000 });
      const info = await tasks.wait(t.id);
      assertEquals([info.status, info.reason, info.outputBytes], ["failed", "max-output", 1000]);
      assertEquals((await Deno.stat(info.outputFile)).size, 1000);
    }
    // Under the cap, to the byte: completed as usual.
    const exact = await tasks.spawnShell("head -c 100000 /dev/zero", { maxOutputBytes: 100_000 });
    assertEquals((await tasks.wait(exact.id)).status, "completed");
  });
});

Deno.test("the output cap holds for a running task that writes only through a file it opened again by name", async () => {
  await withStore(async (tasks) => {
    // ">>/dev/stdout" opens the output anew: its writes move an offset of their own, not
    // the one the supervisor's checks read, so the watchdog's looks at the file's size are
    // what catch them: one that writes and goes quiet, one that keeps writing a little,
    // and one that writes past the cap that way, then goes on writing as usual (each
    // append moves the supervisor's offset to the file's end). (The quiet one sleeps
    // 30 s: the cap ends it long before; 1.5 s was the whole window for the watchdog's
    // looks on a loaded machine.)
    for (
      const command of [
        "exec >>/dev/stdout 2>&1; head -c 50000000 /dev/zero; sleep 30",
        "exec >>/dev/stdout 2>&1; for i in $(seq 600); do head -c 1000 /dev/zero; sleep 0.1; done",
        "head -c 50000 /dev/zero >>/dev/stdout; for i in $(seq 600); do echo .; sleep 0.05; done",
      ]
    ) {
      const t = await tasks.spawnShell(command, { maxOutputBytes: 5_000 });
      const info = await tasks.wait(t.id, { signal: AbortSignal.timeout(30_000) });
      assertEquals([info.status, info.reason, info.outputBytes], ["failed", "max-output", 5_000]);
    }
  });
});

Deno.test("signals are recorded truthfully; a plain exit 139 is an exit code", async (t) => {
  await withStore(async (tasks) => {
    const cases: [string, number | null, string | null][] = [
      ["kill -SEGV $$", null, "SIGSEGV"],
      ["kill -TERM $$", null, "SIGTERM"],
      ["kill -KILL $$", null, "SIGKILL"],
      ["exit 139", 139, null],
      ["exit 143", 143, null],
      ["exit 1", 1, null],
      ["sh -c 'kill -ABRT $$'", null, "SIGABRT"],
    ];
    for (const [command, exitCode, signal] of cases) {
      await t.step(command, async () => {
        const task = await tasks.spawnShell(command);
        const info = await tasks.wait(task.id);
        assertEquals(info.status, "failed");
        assertEquals([info.exitCode, info.signal], [exitCode, signal]);
        assertEquals(info.reason, signal ? "signal" : "exit");
        assert(info.error !== null && !info.error.includes("-1"), info.error ?? "");
      });
    }
  });
});

Deno.test("a task ended by a limit's signal says which limit (SIGXFSZ: ulimit -f; SIGXCPU: ulimit -t)", async () => {
  await withStore(async (tasks, dir) => {
    // A real file-size limit: the write past 1 KiB gets SIGXFSZ.
    const big = await tasks.spawnShell(
      `ulimit -f 1; exec head -c 5000 /dev/zero > ${JSON.stringify(`${dir}/big`)}`,
    );
    const a = await tasks.wait(big.id);
    assertEquals([a.status, a.signal, a.reason], ["failed", "SIGXFSZ", "signal"]);
    assertEquals(
      a.error,
      "killed by signal SIGXFSZ: a file it wrote reached the file-size limit (ulimit -f); " +
        "raise it to let it finish",
    );
    // The CPU-time limit's signal, sent as the kernel would (a real limit
    // would spend a second of CPU on a shared machine).
    const cpu = await tasks.spawnShell("kill -XCPU $$");
    const b = await tasks.wait(cpu.id);
    assertEquals([b.status, b.signal, b.reason], ["failed", "SIGXCPU", "signal"]);
    assertEquals(
      b.error,
      "killed by signal SIGXCPU: it used up its CPU-time limit (ulimit -t); raise it to let it " +
        "finish",
    );
    // A real CPU-time limit as bash sets it (soft and hard at once): the kernel's SIGKILL,
    // which no signal's name tells from another's kill -9 (it was said as a bare SIGKILL).
    const hard = await tasks.wait(
      (await tasks.spawnShell("ulimit -t 1; exec bash -c 'while :; do :; done'")).id,
      { signal: AbortSignal.timeout(60_000) },
    );
    assertEquals([hard.status, hard.signal], ["failed", "SIGKILL"]);
    assertMatch(
      hard.error ?? "",
      /^killed by signal SIGKILL: not by bgtask; .* hard CPU-time limit \(bash's ulimit -t/,
    );
    // Other signals keep their plain words.
    const segv = await tasks.wait((await tasks.spawnShell("kill -SEGV $$")).id);
    assertEquals(segv.error, "killed by signal SIGSEGV");
  });
});

Deno.test("a command and environment over the kernel's limit together are refused at the spawn, using no id", async () => {
  await withStore(async (tasks) => {
    const big = "x".repeat(60_000);
    const env = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`V${i}`, big]));
    let message = "";
    try {
      await tasks.spawnShell("echo hi", { env });
    } catch (e) {
      message = `${(e as Error).name}: ${(e as Error).message}`;
    }
    assert(
      /^TypeError: Cannot spawn task: env and the command take \d+ bytes together, over the kernel's limit/
        .test(message),
      message,
    );
    // No id was used by the refused spawn.
    assertEquals((await tasks.spawnShell("true")).id, "b1");
  });
});

Deno.test("readers never see output past the cap, though a fast writer passes it before the task is ended", async () => {
  await withStore(async (tasks) => {
    // 5 MB in one burst: written long before the watchdog's next look.
    const t = await tasks.spawnShell("sleep 0.3; yes | head -c 5000000; sleep 1", {
      maxOutputBytes: 10_240,
    });
    const streamed: Uint8Array[] = [];
    const following = (async () => {
      for await (const b of tasks.followBytes(t.id)) streamed.push(b);
    })();
    const sizes: number[] = [];
    const tails: number[] = [];
    let info = await tasks.getStatus(t.id);
    while (info?.status === "running") {
      sizes.push(info.outputBytes);
      tails.push((await tasks.readOutputBytes(t.id, { offset: 10_000, maxBytes: 1 << 20 })).length);
      info = await tasks.getStatus(t.id);
    }
    await following;
    const total = streamed.reduce((n, b) => n + b.length, 0);
    assertEquals(info?.reason, "max-output");
    assertEquals(total, 10_240, "a follower stops at the cap");
    assert(sizes.every((n) => n <= 10_240), `outputBytes past the cap: ${Math.max(...sizes)}`);
    assert(tails.every((n) => n <= 240), `a read past the cap: ${Math.max(...tails)} bytes`);
    const kept = await tasks.readOutputBytes(t.id, { maxBytes: 1 << 20 });
    assertEquals(kept.length, 10_240);
    assertEquals(new TextDecoder().decode(kept), "y\n".repeat(5_120));
    assertEquals((await tasks.readOutput(t.id)).length, 10_240);
  });
});
