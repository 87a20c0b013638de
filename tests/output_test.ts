import { assert, assertEquals, assertMatch, assertRejects } from "./_helpers/assert.ts";
import { OutputTooLargeError, TaskNotFoundError } from "../mod.ts";
import { runDeno, until, withStore } from "./_helpers/common.ts";

Deno.test("readOutputChunk returns only new output and the next offset", async () => {
  await withStore(async (tasks) => {
    const cwd = await Deno.makeTempDir();
    const t = await tasks.spawnShell(
      "echo first; while [ ! -e go ]; do sleep 0.01; done; echo second",
      { cwd },
    );
    try {
      const c1 = await until(async () => {
        const c = await tasks.readOutputChunk(t.id);
        return c.text ? c : undefined;
      }, "first output");
      assertEquals(c1, { text: "first\n", offset: 0, nextOffset: 6, done: false });
      const c2 = await tasks.readOutputChunk(t.id, { offset: c1.nextOffset });
      assertEquals(c2, { text: "", offset: 6, nextOffset: 6, done: false });
      await Deno.writeTextFile(`${cwd}/go`, "");
      await tasks.wait(t.id);
      const c3 = await tasks.readOutputChunk(t.id, { offset: 6 });
      assertEquals(c3, { text: "second\n", offset: 6, nextOffset: 13, done: true });
    } finally {
      await tasks.kill(t.id, { graceMs: 0 }).catch(() => {});
      await Deno.remove(cwd, { recursive: true });
    }
  });
});

Deno.test("readOutputChunk never returns half of a multi-byte character", async () => {
  await withStore(async (tasks) => {
    // "é" is 2 bytes, "€" 3, "😀" 4; the second half of each arrives later.
    const cwd = await Deno.makeTempDir();
    const t = await tasks.spawnShell(
      String
        .raw`printf 'a\xc3'; printf '\xa9\xe2\x82' ; while [ ! -e go ]; do sleep 0.01; done; printf '\xac\xf0\x9f\x98\x80z'`,
      { cwd },
    );
    try {
      await until(async () => (await Deno.stat(t.outputFile)).size === 5, "5 bytes");
      const c1 = await tasks.readOutputChunk(t.id);
      assertEquals(c1.text, "aé");
      assertEquals(c1.nextOffset, 3);
      await Deno.writeTextFile(`${cwd}/go`, "");
      await tasks.wait(t.id);
      // A tiny maxBytes cuts inside "😀": the chunk stops before it.
      const c2 = await tasks.readOutputChunk(t.id, { offset: c1.nextOffset, maxBytes: 5 });
      assertEquals(c2.text, "€");
      const c3 = await tasks.readOutputChunk(t.id, { offset: c2.nextOffset });
      assertEquals(c3, { text: "😀z", offset: 6, nextOffset: 11, done: true });
    } finally {
      await tasks.kill(t.id, { graceMs: 0 }).catch(() => {});
      await Deno.remove(cwd, { recursive: true });
    }
  });
});

Deno.test("a finished task's truncated trailing character is decoded lossily, not withheld", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(String.raw`printf 'ok\xe2\x82'`);
    await tasks.wait(t.id);
    const c = await tasks.readOutputChunk(t.id);
    assertEquals(c, { text: "ok\ufffd", offset: 0, nextOffset: 4, done: true });
  });
});

Deno.test("tailOutput returns the last N lines of a large output", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("seq 1 200000; printf 'no newline'");
    await tasks.wait(t.id);
    assertEquals(await tasks.tailOutput(t.id, 3), "199999\n200000\nno newline");
    assertEquals(await tasks.tailOutput(t.id, 0), "");
    const u = await tasks.spawnShell("printf 'a\\nb\\n'");
    await tasks.wait(u.id);
    assertEquals(await tasks.tailOutput(u.id, 1), "b\n");
    assertEquals(await tasks.tailOutput(u.id, 5), "a\nb\n");
    await assertRejects(() => tasks.tailOutput("b999", 1), TaskNotFoundError, /"b999"/);
  });
});

Deno.test("readOutputBytes returns raw bytes from an offset", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(String.raw`printf 'ab\xffcd'`);
    await tasks.wait(t.id);
    assertEquals(
      await tasks.readOutputBytes(t.id, { offset: 1, maxBytes: 3 }),
      new Uint8Array([0x62, 0xff, 0x63]),
    );
    assertEquals(await tasks.readOutputBytes(t.id, { offset: 99 }), new Uint8Array());
  });
});

Deno.test("the spawner's memory stays flat however much the task writes", async () => {
  await withStore(async (_tasks, dir) => {
    // 512 MiB of output through a task, awaited by a child Deno process that
    // reports its own peak RSS. Output never passes through the spawner.
    // (-A only so that the child may read its own /proc/self/status.)
    const r = await runDeno(
      ["-A"],
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const t = await tasks.spawnShell("head -c 512M /dev/zero", { maxOutputBytes: 0 });
       const done = await tasks.wait(t.id);
       const hwm = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\\s+(\\d+)/)![1];
       console.log(JSON.stringify({ status: done.status, peakKiB: Number(hwm) }));`,
    );
    assertEquals(r.code, 0, r.stderr);
    const { status, peakKiB } = JSON.parse(r.stdout);
    assertEquals(status, "completed");
    assertEquals((await Deno.stat(`${dir}/tasks/b1/output`)).size, 512 * 1024 * 1024);
    // A design that buffered the output would peak above 512 MiB.
    assert(peakKiB < 200 * 1024, `spawner peaked at ${peakKiB} KiB`);
  });
});

Deno.test("OutputTooLargeError reads well: the size over the limit, or only that it is over when the read stopped at the limit", () => {
  const whole = new OutputTooLargeError("b3", "the output", 588_895, 1000);
  assertMatch(
    whole.message,
    /^Cannot read output: the output of task b3 would need 588895 bytes, over the limit of 1000 bytes; read it in pieces/,
  );
  const tail = new OutputTooLargeError("b3", "the last 100000 lines", 65_536, 1000, true);
  assertMatch(
    tail.message,
    /^Cannot read output: the last 100000 lines of task b3 would need more than its limit of 1000 bytes; /,
  );
});
