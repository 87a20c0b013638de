/**
 * `bgtask completions --wait` and `--follow`: told when tasks finish without
 * polling, each task once per consumer, nothing taken that was not printed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { TaskInfo } from "../mod.ts";
import { untilWatching } from "./_helpers/common.ts";
import { cli, cliJson, gate, mistakeProblems, spawnCli, start, withStore } from "./cli_helpers.ts";

/** Reads `child`'s stdout up to its `n`th newline (or its end). */
async function readLines(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  state: { text: string },
  n: number,
): Promise<string[]> {
  const decoder = new TextDecoder();
  while (state.text.split("\n").length - 1 < n) {
    const { value, done } = await reader.read();
    if (done) break;
    state.text += decoder.decode(value, { stream: true });
  }
  return state.text.split("\n").slice(0, n);
}

/** Registers `consumer` (a peek is a use), so that it hears of what ends from now on. */
async function register(dir: string, consumer: string): Promise<void> {
  assert.deepEqual(
    await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", consumer, "--peek"]),
    [],
  );
}

Deno.test("completions --wait returns the moment a task finishes, with it; 124 at its --timeout", async () => {
  await withStore(async (dir, scratch) => {
    await register(dir, "w");
    const go = join(scratch, "go");
    const id = await start(dir, `${gate(go)}; exit 5`);
    // (30 days: past 2^31 ms, which a plain AbortSignal.timeout takes for 0; a pueue user's pass.)
    const waiting = spawnCli(dir, [
      "completions",
      "--wait",
      "--consumer",
      "w",
      "--timeout",
      "30d",
      "--json",
    ]);
    // Once it watches the store (only a wait does), the task may end.
    await untilWatching(waiting.pid, "the wait to begin");
    await Deno.writeTextFile(go, "");
    const out = await waiting.output();
    const decoder = new TextDecoder();
    assert.equal(out.code, 0, decoder.decode(out.stderr));
    const got = JSON.parse(decoder.decode(out.stdout)) as TaskInfo[];
    assert.deepEqual(got.map((t) => [t.id, t.status, t.exitCode]), [[id, "failed", 5]]);
    // Taken: a second wait finds nothing by its deadline.
    const late = await cli(dir, ["completions", "--wait", "--consumer", "w", "--timeout", "200ms"]);
    assert.equal(late.code, 124);
    assert.equal(late.stdout, "");
    assert.equal(late.stderr, "bgtask: no task finished within 200ms\n");
    const lateJson = await cli(dir, [
      "completions",
      "--wait",
      "--timeout",
      "0",
      "--json",
      "--consumer",
      "w",
    ]);
    assert.equal(lateJson.code, 124);
    assert.equal(lateJson.stdout, "[]\n");
    assert.match(lateJson.stderr, /no finished task to report \(--timeout 0 looks once/);
    // --timeout 0 with something to report: it is printed, exit 0.
    const quick = await start(dir, "--wait", "true");
    const now = await cli(dir, ["completions", "--wait", "--timeout", "0", "--consumer", "w"]);
    assert.equal(now.code, 0, now.stderr);
    assert.match(now.stdout, new RegExp(`^ID .*\\n${quick}  completed `));
  });
});

Deno.test("completions --follow prints each task as it finishes, once; Ctrl-C ends it (130) having taken only what it printed", async () => {
  await withStore(async (dir, scratch) => {
    await register(dir, "f");
    const goA = join(scratch, "a");
    const goB = join(scratch, "b");
    const a = await start(dir, "--description", "first", gate(goA));
    const b = await start(dir, `${gate(goB)}; exit 3`);
    const follow = spawnCli(dir, ["completions", "--follow", "--consumer", "f"]);
    const reader = follow.stdout.getReader();
    const state = { text: "" };
    await Deno.writeTextFile(goA, "");
    const [first] = await readLines(reader, state, 1);
    assert.match(first, new RegExp(`^${a}  completed  0  \\S+  first$`));
    // The second arrives while the follower runs on (b was still gated when a's line came).
    await Deno.writeTextFile(goB, "");
    const lines = await readLines(reader, state, 2);
    assert.match(lines[1], new RegExp(`^${b}  failed  3  \\S+  `));
    follow.kill("SIGINT");
    const rest = await readLines(reader, state, 3);
    const [{ code }, stderr] = await Promise.all([
      follow.status,
      new Response(follow.stderr).text(),
    ]);
    assert.equal(code, 130);
    assert.equal(stderr, "");
    assert.equal(rest[2], "", "nothing more was printed");
    // Each task once: nothing the follower printed is pending, and what ends later is.
    assert.deepEqual(
      await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "f", "--peek"]),
      [],
    );
    const c = await start(dir, "--wait", "true");
    const after = await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "f"]);
    assert.deepEqual(after.map((t) => t.id), [c]);
  });
});

Deno.test("completions --follow --json: one object a line; a reader that closes the pipe leaves what it did not get for the next reader", async () => {
  await withStore(async (dir, scratch) => {
    await register(dir, "j");
    const go = join(scratch, "go");
    const follow = spawnCli(dir, ["completions", "--follow", "--json", "--consumer", "j"]);
    const reader = follow.stdout.getReader();
    const a = await start(dir, "--wait", "echo a");
    const [line] = await readLines(reader, { text: "" }, 1);
    assert.deepEqual((JSON.parse(line) as TaskInfo).id, a);
    await reader.cancel(); // as `| head -n 1` does
    const b = await start(dir, `${gate(go)}; echo b`);
    await Deno.writeTextFile(go, "");
    const [{ code }, stderr] = await Promise.all([
      follow.status,
      new Response(follow.stderr).text(),
    ]);
    assert.equal(code, 0);
    assert.equal(stderr, "");
    const next = await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "j"]);
    assert.deepEqual(next.map((t) => t.id), [b], "b was given back, a was not");
  });
});

Deno.test("completions: --wait, --follow, --peek and --forget are refused together; --timeout only with --wait", async () => {
  await withStore(async (dir) => {
    for (
      const [args, message] of [
        [["--peek", "--wait"], /--peek and --wait do not go together/],
        [["--wait", "--follow"], /--wait and --follow do not go together/],
        [["--follow", "--forget", "--consumer", "x"], /--follow and --forget do not go together/],
        [["--timeout", "5s"], /--timeout goes with --wait/],
        [["--follow", "--timeout", "5s"], /--timeout goes with --wait .*timeout 10m bgtask/],
        [["--wait", "--timeout", "soon"], /--timeout/],
      ] as const
    ) {
      const r = await cli(dir, ["completions", ...args]);
      assert.deepEqual(mistakeProblems(r), [], `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, message);
    }
  });
});

Deno.test("clean forgets a named consumer unused for 30 days and says so on stderr", async () => {
  await withStore(async (dir) => {
    for (const c of ["sess-old", "sess-new"]) {
      assert.equal((await cli(dir, ["completions", "--consumer", c, "--peek"])).code, 0);
    }
    const monthAgo = new Date(Date.now() - 31 * 24 * 3600_000);
    Deno.utimeSync(join(dir, "consumers", "sess-old", "cursor"), monthAgo, monthAgo);
    const r = await cli(dir, ["clean"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "bgtask: forgot completion consumer sess-old, unused for 30 days\n");
    assert.deepEqual([...Deno.readDirSync(join(dir, "consumers"))].map((e) => e.name), [
      "sess-new",
    ]);
  });
});

Deno.test("completions --consumer on a store folder that does not exist says it is made for the consumer, as it is (the note said nothing had run there)", async () => {
  await withStore(async (_dir, scratch) => {
    const typo = join(scratch, "no-store-yet");
    for (const extra of [[], ["--peek"]]) {
      const r = await cli(typo, ["completions", "--consumer", "ci", ...extra]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stderr,
        `bgtask: note: no store at "${typo}" yet: made now, and consumer ci is told of the ` +
          "tasks that finish there from now on (check --dir or BGTASK_DIR)\n",
      );
      assert.ok((await Deno.stat(typo)).isDirectory, "made, as said");
      await Deno.remove(typo, { recursive: true });
    }
    // The default consumer makes nothing: the note says nothing has run there.
    const plain = await cli(typo, ["completions"]);
    assert.match(plain.stderr, /nothing has run there/);
    await assert.rejects(Deno.stat(typo), Deno.errors.NotFound);
  });
});
