/**
 * `bgtask logs`: raw bytes, --tail, --offset, --follow, and a closed pipe.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { TaskInfo } from "../mod.ts";
import {
  cli,
  cliJson,
  countReads,
  gate,
  minimalFlags,
  spawnCli,
  start,
  withStore,
} from "./cli_helpers.ts";
import { until } from "./_helpers/common.ts";
import { naiveTailStart } from "./_helpers/tail_reference.ts";

Deno.test("logs writes raw bytes; --tail and --offset choose where to start", async () => {
  await withStore(async (dir) => {
    const raw = await start(dir, "printf 'x\\xff\\x00\\xc3'; printf '\\n'");
    const seq = await start(dir, "seq 1 5");
    const noEol = await start(dir, "printf 'a\\nb\\nc'");
    await cli(dir, ["wait", raw, seq, noEol]);
    const [bytes, tail2, tail0, offset, tailNoEol, big] = await Promise.all([
      cli(dir, ["logs", raw]),
      cli(dir, ["logs", seq, "--tail", "2"]),
      cli(dir, ["logs", seq, "-n", "0"]),
      cli(dir, ["logs", seq, "--offset", "4"]),
      cli(dir, ["logs", noEol, "--tail", "2"]),
      cli(dir, ["logs", seq, "--tail", "100"]),
    ]);
    assert.deepEqual([...bytes.bytes], [0x78, 0xff, 0x00, 0xc3, 0x0a]);
    assert.equal(tail2.stdout, "4\n5\n");
    assert.equal(tail0.stdout, "");
    assert.equal(offset.stdout, "3\n4\n5\n");
    assert.equal(tailNoEol.stdout, "b\nc");
    assert.equal(big.stdout, "1\n2\n3\n4\n5\n");
    for (const r of [bytes, tail2, tail0, offset, tailNoEol, big]) assert.equal(r.code, 0);
  });
});

Deno.test("logs --offset past the end of the output says so on stderr (exit 0); at the end it says nothing", async () => {
  await withStore(async (dir, scratch) => {
    const seq = await start(dir, "--wait", "seq 1 5"); // 10 bytes
    const [past, end, pastFollow] = await Promise.all([
      cli(dir, ["logs", seq, "--offset", "1k"]),
      cli(dir, ["logs", seq, "--offset", "10"]),
      cli(dir, ["logs", "-f", seq, "--offset", "11"]),
    ]);
    for (const r of [past, pastFollow]) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "");
    }
    assert.equal(
      past.stderr,
      `bgtask: --offset 1k is past the end of the output of ${seq}: it has 10 bytes, so nothing ` +
        "was shown\n",
    );
    assert.match(pastFollow.stderr, /^bgtask: --offset 11 is past the end .*: it has 10 bytes,/);
    // The very end is where a reader that read it all goes on from: no note.
    assert.deepEqual([end.code, end.stdout, end.stderr], [0, "", ""]);
    // A task still running may write that far yet: "so far".
    const go = join(scratch, "go");
    const running = await start(dir, `echo hi; ${gate(go)}`);
    await until(
      async () => (await cliJson<TaskInfo>(dir, ["status", running])).outputBytes === 3,
      "its first line",
    );
    const early = await cli(dir, ["logs", running, "--offset", "4"]);
    assert.equal(early.code, 0);
    assert.match(early.stderr, /: it has 3 bytes so far, so nothing was shown\n$/);
    await Deno.writeTextFile(go, "");
  });
});

Deno.test("logs --follow streams output while the task runs and ends with it", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const id = await start(dir, `echo first; ${gate(go)}; echo second`);
    const child = spawnCli(dir, ["logs", "--follow", id]);
    const reader = child.stdout.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    while (!seen.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
    }
    assert.equal(seen, "first\n");
    // The first line arrived while the task is provably still running (its gate is closed).
    const status = JSON.parse((await cli(dir, ["status", id, "--json"])).stdout) as TaskInfo;
    assert.equal(status.status, "running");
    await Deno.writeTextFile(go, "");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
    }
    const [{ code }, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    assert.equal(seen, "first\nsecond\n");
    assert.equal(code, 0);
    assert.equal(stderr, "");
  });
});

Deno.test("logs ends quietly when its reader closes the pipe", async () => {
  await withStore(async (dir) => {
    const id = await start(dir, "--wait", "seq 1 300000");
    const child = spawnCli(dir, ["logs", id]);
    const reader = child.stdout.getReader();
    await reader.read();
    await reader.cancel();
    const [{ code }, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
    assert.equal(code, 0);
    assert.equal(stderr, "");
  });
});

Deno.test("wait --match returns once a line matches, with it, while the task runs on; 1 when the task ended without one, 124 at the deadline, 2 for a bad pattern", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    // A server that says it is ready, then stays quiet: a `logs -f | grep -q` could not end.
    const server = await start(
      dir,
      `echo starting; ${gate(go)}; echo "ready to accept connections on 5432"; exec sleep 300`,
    );
    const waiting = spawnCli(dir, ["wait", "--match", "ready to accept .* on (\\d+)", server]);
    await Deno.writeTextFile(go, "");
    const out = await waiting.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout), "ready to accept connections on 5432\n");
    const info = JSON.parse((await cli(dir, ["status", server, "--json"])).stdout) as TaskInfo;
    assert.equal(info.status, "running", "the task runs on");

    const quiet = await start(dir, "echo hello");
    const ended = await cli(dir, ["wait", "--match", "ready", quiet]);
    assert.equal(ended.code, 1);
    assert.doesNotMatch(ended.stderr, /note: started without/);
    // Started without the install's V8 flag: noted.
    const noted = await cli(dir, ["wait", "--match", "ready", quiet], {
      flags: [
        "--v8-flags=--no-enable-experimental-regexp-engine-on-excessive-backtracks",
        ...minimalFlags(dir),
      ],
    });
    assert.match(noted.stderr, /^bgtask: note: started without --v8-flags=--enable-experimental-/);
    assert.match(
      ended.stderr,
      new RegExp(`${quiet} \\(completed\\) ended without a line matching /ready/`),
    );
    // --timeout 0 is a check of what is written (it looked at nothing: always 124).
    for (
      const [id, pattern, code] of [
        [server, "ready", 0],
        [server, "never", 124],
        [quiet, "hello", 0],
        [quiet, "HELLO", 1],
        [quiet, "never", 1],
      ] as const
    ) {
      const now = await cli(dir, ["wait", "--match", pattern, "--timeout", "0", id]);
      assert.equal(now.code, code, `${id} /${pattern}/: ${now.stderr}`);
    }
    // In any case with -i (as grep -i; the error for (?i:…) says so); slashes are text.
    assert.equal((await cli(dir, ["wait", "-i", "--match", "HELLO", quiet])).code, 0);
    const inline = await cli(dir, ["wait", "--match", "(?i:HELLO)", quiet]);
    assert.match(inline.stderr, /give --ignore-case \(-i\) for any case instead/);
    // An ended task's output is searched to its end, past one read (256 KiB).
    const long = await start(dir, "--wait", "seq 1 100000; echo DONE");
    assert.equal((await cli(dir, ["wait", "--match", "^DONE$", "--timeout", "0", long])).code, 0);
    assert.equal((await cli(dir, ["wait", "--match", "NEVER", "--timeout", "0", long])).code, 1);
    const path = await start(dir, "--wait", "echo GET /api/health 200");
    assert.equal((await cli(dir, ["wait", "--match", "/api/health", path])).code, 0);
    // --json: the tasks, each with the line that matched and the offset past it (or null).
    const json = await cli(dir, ["wait", "--match", "on (\\d+)", "--json", server, quiet]);
    assert.equal(json.code, 1, "the quiet one ended without");
    const shown = JSON.parse(json.stdout) as (TaskInfo & { match: unknown })[];
    assert.deepEqual(shown.map((t) => [t.id, t.status, t.match]), [
      [server, "running", { line: "ready to accept connections on 5432", offset: 45 }],
      [quiet, "completed", null],
    ]);
    const late = await cli(dir, ["wait", "--match", "never", "--timeout", "200ms", server]);
    assert.equal(late.code, 124);
    assert.match(late.stderr, new RegExp(`no line matching /never/ yet from ${server}`));
    const bad = await cli(dir, ["wait", "--match", "(", server]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--match: "\(" is not a regular expression/);
    // A huge pattern is refused before any match, naming --match, quoting none of it.
    const huge = await cli(dir, ["wait", "--match", "(a|b)".repeat(20_000), server]);
    assert.equal(huge.code, 2);
    assert.match(
      huge.stderr,
      /^bgtask: --match: the pattern is 100,000 characters long, over the limit of 4,096: /,
    );
    assert(huge.stderr.length < 400, huge.stderr.slice(0, 400));
    assert.equal((await cli(dir, ["kill", server])).code, 0);
  });
});

Deno.test("logs --tail is byte-exact on long lines and across its read steps (64 KiB, doubling to 1 MiB)", async () => {
  await withStore(async (dir, scratch) => {
    // 3 MiB of x, newlines just around the ends of the steps back, and a last newline.
    const b = new Uint8Array(3 * 1024 * 1024 + 7).fill(0x78);
    const edges = [
      1,
      ...[64, 192, 448, 960, 1984, 3008].flatMap((k) => [-1, 0, 1].map((d) => k * 1024 + d)),
    ];
    for (const d of edges) b[b.length - d] = 0x0a;
    const file = join(scratch, "out");
    await Deno.writeFile(file, b);
    const id = await start(dir, "--wait", `cat '${file}'`);
    const counts = [1, 2, 3, 4, 5, 9, 10, 18, 19, 20];
    const runs = await Promise.all(counts.map((n) => cli(dir, ["logs", id, "--tail", String(n)])));
    for (const [k, r] of runs.entries()) {
      const want = b.subarray(naiveTailStart(b, counts[k]));
      // (Not the bytes themselves: a difference would print megabytes.)
      assert.deepEqual(
        [counts[k], r.code, r.bytes.length, equalBytes(r.bytes, want)],
        [counts[k], 0, want.length, true],
      );
    }
  });
});

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

Deno.test("logs --tail on one long line opens the output about as often as logs does (once more), not once a 64 KiB step", async () => {
  await withStore(async (dir) => {
    const id = await start(dir, "--wait", "head -c 3145733 /dev/zero | tr '\\0' x");
    const whole = await countReads(dir, "/output$", ["logs", id]);
    const tail = await countReads(dir, "/output$", ["logs", id, "--tail", "10"]);
    assert.equal(whole.bytes.length, 3145733);
    assert.equal(equalBytes(tail.bytes, whole.bytes), true);
    // The scan back opens the file once (it was once a 64 KiB step: 48 more here).
    assert.ok(
      tail.reads <= whole.reads + 1,
      `opens: ${tail.reads} with --tail, ${whole.reads} without`,
    );
  });
});

Deno.test("logs of a task whose final record is damaged prints its output and says so on stderr; rm removes it", async () => {
  await withStore(async (dir) => {
    const id = await start(dir, "seq 1 3");
    await cli(dir, ["wait", id]);
    await Deno.writeTextFile(join(dir, "tasks", id, "final.json"), "{garbage");
    for (const args of [[], ["--tail", "1"], ["--follow"]]) {
      const r = await cli(dir, ["logs", id, ...args]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        args.length ? (args[0] === "--tail" ? "3\n" : "1\n2\n3\n") : "1\n2\n3\n",
      );
      assert.match(r.stderr, /is damaged: .*final\.json" cannot be read \(it has ended/);
    }
    const rm = await cli(dir, ["rm", id]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await cli(dir, ["status", id])).code, 1);
  });
});

Deno.test("wait --match says the pattern with its control characters escaped: in the error of a task that ended without the line, and of a pattern that is no regular expression", async () => {
  await withStore(async (dir) => {
    const quiet = await start(dir, "echo hello");
    const pattern = "ready\x1b]52;c;UFdO\x07\x1b\\[6n\u009b6n\u{e0041}";
    const ended = await cli(dir, ["wait", "--match", pattern, quiet]);
    assert.equal(ended.code, 1, ended.stderr);
    assert.match(
      ended.stderr,
      /ended without a line matching \/ready\\x1b\]52;c;UFdO\\x07\\x1b\\\[6n\\x9b6n\\u\{e0041\}\//,
    );
    const bad = await cli(dir, ["wait", "--match", "(\x1b[6n\u009b6n", quiet]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /is not a regular expression/);
    for (const r of [ended, bad]) {
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(r.stderr, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u{e0000}-\u{e007f}]/u, r.stderr);
    }
  });
});

Deno.test("wait --match -i finds non-ASCII letters in any case, as the library's /…/i does: every partner of a letter (Σ σ ς), and ranges of other scripts", async () => {
  await withStore(async (dir) => {
    const greek = await start(dir, "--wait", "echo 'οδος 1'");
    const cyrillic = await start(dir, "--wait", "echo 'ПРИВЕТ МИР'");
    for (
      const [id, pattern, line] of [
        [greek, "ΟΔΟΣ", "οδος 1"],
        [cyrillic, "[а-я]+ мир", "ПРИВЕТ МИР"],
      ]
    ) {
      const r = await cli(dir, ["wait", "-i", "--match", pattern, "--timeout", "0", id]);
      assert.equal(r.code, 0, `/${pattern}/i: ${r.stderr}`);
      assert.equal(r.stdout, `${line}\n`);
    }
  });
});
