/**
 * Issue 10, fault 3: reads that exhaust memory. bgtask 0.1's readOutput()
 * read the whole file (a 600 MB output: an exception after 1.27 GB of RSS),
 * and tailOutput() on an output without newlines gathered all of it.
 *
 * Now readOutput() and tailOutput() throw an OutputTooLargeError above their
 * bound (16 MiB unless given, at most 64 MiB) that says how to read in
 * pieces, and the CLI's `logs` streams. Each read runs in a child process of
 * its own whose peak RSS (VmHWM) is measured.
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { mib } from "./_helpers/correctness.ts";
import { HEAVY, reapStore, ROOT, withTempDir } from "./_helpers/reliability.ts";

const CHILD = new URL("./_helpers/bounded_read_child.ts", import.meta.url).pathname;
/** Peak RSS allowed for one library read (an idle Deno with bgtask loaded takes ~42 MiB). */
const PEAK_LIMIT = 100 * 1024 * 1024;
/**
 * Peak RSS allowed while the CLI streams: it copies 128 KiB at a time, which
 * V8 collects young (with 1 MiB chunks it let ~64 MiB of them pile up before
 * collecting: 125-128 MiB for 600 MiB and 2 GiB; with 128 KiB, ~70 MiB).
 */
const CLI_PEAK_LIMIT = 100 * 1024 * 1024;
const MB600 = 600 * 1024 * 1024;
const GIB = 1024 * 1024 * 1024;
/** (The whole output: in pieces; the last lines: its end, from an offset.) */
const PIECES =
  /read it in pieces with readOutputChunk\(\{ offset \}\) or follow\(\)|read its end with readOutputChunk\(\{ offset: outputBytes - N \}\)/;

interface ChildResult {
  peak: number;
  /** How many bytes it wrote to stdout. */
  stdoutBytes: number;
  ok: boolean;
  length?: number;
  head?: string;
  errorName?: string;
  message?: string;
}

/** Runs one read in a child process and returns what it got and its peak RSS. */
async function measure(dir: string, op: string, id: string, arg?: string): Promise<ChildResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CHILD, dir, op, id, ...(arg === undefined ? [] : [arg])],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The CLI's output is counted as it streams, never held.
  let stdoutBytes = 0;
  const counting = (async () => {
    for await (const chunk of child.stdout) stdoutBytes += chunk.length;
  })();
  const errText = new Response(child.stderr).text();
  const [status, , err] = await Promise.all([child.status, counting, errText]);
  const lines = err.trim().split("\n");
  assert.equal(status.code, 0, lines.join("\n"));
  return { ...JSON.parse(lines.at(-1)!), stdoutBytes };
}

/**
 * Two finished tasks with large outputs, written by the tasks themselves:
 * `big` is "first\n", zeros up to 600 MiB, then "\nlast\n"; `flat` is 1 GiB
 * and more without a newline. The zeros are a sparse extension of the
 * task's own output (instant); with BGTASK_HEAVY=1 they are written byte by byte.
 */
async function largeOutputs(tasks: TaskManager): Promise<{ big: string; flat: string }> {
  const fill = (size: string) =>
    HEAVY
      ? `head -c $(( ${size} - $(stat -L -c %s /proc/$$/fd/1) )) /dev/zero`
      : `truncate -s ${size} /dev/stdout`;
  const big = await tasks.spawnShell(`echo first; ${fill(String(MB600))}; echo; echo last`, {
    maxOutputBytes: 0,
  });
  const flat = await tasks.spawnShell(`printf start; ${fill(String(GIB))}; printf end`, {
    maxOutputBytes: 0,
  });
  for (const t of [big, flat]) {
    const info = await tasks.wait(t.id, { signal: AbortSignal.timeout(120_000) });
    assert.equal(info.status, "completed", JSON.stringify(info));
  }
  assert.equal((await Deno.stat((await tasks.getStatus(big.id))!.outputFile)).size, MB600 + 6);
  assert.equal((await Deno.stat((await tasks.getStatus(flat.id))!.outputFile)).size, GIB + 3);
  return { big: big.id, flat: flat.id };
}

function assertBounded(r: ChildResult, what: string, limit = PEAK_LIMIT): void {
  console.log(`${what}: peak RSS ${mib(r.peak)}`);
  assert.ok(r.peak < limit, `${what} took ${mib(r.peak)} of memory at its peak`);
}

function assertTooLarge(r: ChildResult, what: string): void {
  assert.equal(r.ok, false, `${what} returned ${r.length} characters instead of refusing`);
  assert.equal(r.errorName, "OutputTooLargeError", `${what}: ${r.errorName}: ${r.message}`);
  assert.match(r.message!, PIECES, `${what} says how to read in pieces`);
}

Deno.test("bounded reads: readOutput and tailOutput on 600 MiB and 1 GiB outputs refuse with OutputTooLargeError, peak RSS < 100 MB; the CLI's logs streams them in bounded memory", async () => {
  await withTempDir("bounded", async (dir) => {
    const tasks = new TaskManager({ dir });
    try {
      const { big, flat } = await largeOutputs(tasks);

      // readOutput: the default bound (16 MiB), and the largest allowed (64 MiB).
      let r = await measure(dir, "readOutput", big);
      assertTooLarge(r, "readOutput(600 MiB)");
      assert.match(r.message!, /would need 600\.0 MiB, over the limit of 16\.0 MiB/);
      assertBounded(r, "readOutput(600 MiB)");
      r = await measure(dir, "readOutput", big, String(64 * 1024 * 1024));
      assertTooLarge(r, "readOutput(600 MiB, maxBytes 64 MiB)");
      assertBounded(r, "readOutput(600 MiB, maxBytes 64 MiB)");

      // tailOutput: 1 GiB without a newline, and the 600 MiB line before "last".
      r = await measure(dir, "tailOutput", flat, "5");
      assertTooLarge(r, "tailOutput(1 GiB without newlines, 5)");
      assertBounded(r, "tailOutput(1 GiB without newlines, 5)");
      r = await measure(dir, "tailOutput", big, "2");
      assertTooLarge(r, "tailOutput(600 MiB, 2)");
      assertBounded(r, "tailOutput(600 MiB, 2)");
      // What fits is read from the end only.
      r = await measure(dir, "tailOutput", big, "1");
      assert.deepEqual([r.ok, r.head], [true, "last\n"], JSON.stringify(r));
      assertBounded(r, "tailOutput(600 MiB, 1)");

      // The CLI streams: `logs` copies all 600 MiB, `logs -n 5` finds its start reading backwards.
      const cases: [string[], number][] = [
        [["logs", big], MB600 + 6],
        [["logs", "-n", "1", big], 5],
        [["logs", "-n", "5", big], MB600 + 6],
      ];
      if (HEAVY) cases.push([["logs", "-n", "5", flat], GIB + 3]);
      for (const [args, bytes] of cases) {
        r = await measure(dir, "cli", big, JSON.stringify(args));
        const what = `bgtask ${args.join(" ")}`;
        assert.deepEqual([r.ok, r.length], [true, 0], `${what}: ${r.message}`);
        assert.equal(r.stdoutBytes, bytes, `${what} wrote ${r.stdoutBytes} bytes`);
        assertBounded(r, what, CLI_PEAK_LIMIT);
      }
    } finally {
      await reapStore(dir, 3000);
    }
  });
});
