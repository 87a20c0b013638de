import { assert, assertEquals, assertMatch, assertRejects } from "./_helpers/assert.ts";
import { OutputTooLargeError, TaskNotFoundError } from "../mod.ts";
import { runDeno, until, withStore } from "./_helpers/common.ts";
import { lastLinesStart, MAX_STEP } from "../src/tail.ts";
import { naiveTailStart } from "./_helpers/tail_reference.ts";

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

/**
 * An output whose newlines sit at these distances from its end (1: the
 * last byte), filled with `x`, of `size` bytes.
 */
function newlinesFromEnd(size: number, distances: number[]): Uint8Array {
  const b = new Uint8Array(size).fill(0x78);
  for (const d of distances) if (d <= size) b[size - d] = 0x0a;
  return b;
}

/** Newlines just around the ends of the tail scan's steps (64 KiB, doubling to 1 MiB). */
const STEP_EDGES = [64, 192, 448, 960, 1984, 3008].flatMap((k) => {
  const at = k * 1024;
  return [at - 1, at, at + 1];
});

Deno.test("lastLinesStart: where the last lines begin, byte-exact across its growing steps, in few reads", async () => {
  const outputs = [
    new Uint8Array(),
    new Uint8Array([0x0a]),
    new Uint8Array(3 * 1024 * 1024 + 5).fill(0x78), // one long line, no newline
    newlinesFromEnd(3 * 1024 * 1024 + 7, STEP_EDGES),
    newlinesFromEnd(3 * 1024 * 1024 + 7, [1, ...STEP_EDGES]), // and a last newline
    newlinesFromEnd(2 * 1024 * 1024, [2 * 1024 * 1024, 1]), // a newline as the first byte
  ];
  for (const b of outputs) {
    let reads = 0;
    let bytesRead = 0;
    const read = (offset: number, length: number) => {
      reads++;
      bytesRead += length;
      return Promise.resolve(b.slice(offset, offset + length));
    };
    for (let n = 0; n <= STEP_EDGES.length + 2; n++) {
      reads = bytesRead = 0;
      const start = await lastLinesStart(read, b.length, n);
      const what = `size ${b.length}, ${n} lines`;
      assertEquals(start, naiveTailStart(b, n), what);
      // What it read: the lines, and at most one step more; in steps that grow to MAX_STEP.
      assert(bytesRead <= b.length - start + MAX_STEP, `${what}: read ${bytesRead}`);
      assert(reads <= 5 + Math.ceil(bytesRead / MAX_STEP), `${what}: ${reads} reads`);
    }
    // Never before the floor: -1 when the lines begin before it.
    const start = naiveTailStart(b, 2);
    for (const floor of [0, start - 1, start, start + 1].filter((f) => f >= 0 && f < b.length)) {
      const got = await lastLinesStart(read, b.length, 2, floor);
      assertEquals(got, floor <= start - 1 || (floor === start && start === 0) ? start : -1);
    }
  }
});

Deno.test("tailOutput is byte-exact on long lines and across its read steps, and refuses past maxBytes", async () => {
  await withStore(async (tasks, dir) => {
    const b = newlinesFromEnd(3 * 1024 * 1024 + 7, STEP_EDGES);
    const file = `${dir}/../${dir.split("/").pop()}-out`;
    await Deno.writeFile(file, b);
    try {
      const t = await tasks.wait((await tasks.spawnShell(`cat '${file}'`)).id);
      assertEquals(t.outputBytes, b.length);
      const text = (start: number) => new TextDecoder().decode(b.subarray(start));
      const max = 4 * 1024 * 1024;
      for (const n of [1, 2, 3, 4, 9, 10, 18, 19, 20]) {
        const got = await tasks.tailOutput(t.id, n, { maxBytes: max });
        const start = naiveTailStart(b, n);
        // (Not the texts: a difference would print megabytes.)
        assertEquals([n, got.length, got === text(start)], [n, b.length - start, true]);
      }
      // Newlines 65,535, 65,536 and 65,537 bytes from the end: with a bound of
      // 65,535 bytes, 2 lines fit just, 3 do not (their start is not looked for further).
      const edge = 64 * 1024 - 1;
      for (const n of [1, 2]) {
        const got = await tasks.tailOutput(t.id, n, { maxBytes: edge });
        assertEquals(got === text(naiveTailStart(b, n)), true, `${n} lines`);
      }
      assertEquals(b.length - naiveTailStart(b, 2), edge);
      const e = await assertRejects(
        () => tasks.tailOutput(t.id, 3, { maxBytes: edge }),
        OutputTooLargeError,
        /the last 3 lines of task b1 would need more than its limit/,
      );
      assertEquals(e.bytes, edge + 1);
      // The whole output, one byte over the bound: exactly how much it would need.
      await assertRejects(
        () => tasks.tailOutput(t.id, 30, { maxBytes: b.length - 1 }),
        OutputTooLargeError,
        /would need 3\.0 MiB, over the limit/,
      );
    } finally {
      await Deno.remove(file);
    }
  });
});
