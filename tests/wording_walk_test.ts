/**
 * A new user's walk that read every help text and error as a contract and
 * followed each remedy: a remedy that could not work (Deno's permission
 * flags given to bgtask, a larger maxBytes than there is), totals that were
 * a chunk's, a paused queue left unnamed, help that said another rule than
 * the one applied, errors with no fix, advice for a flag the verb does not
 * need, and silent surprises (a pty's line cut at 4095 bytes, bgtask's own
 * variable overridden, a token the server could not read).
 */

import assert from "node:assert/strict";
import { OutputTooLargeError, TaskManager } from "../mod.ts";
import { join } from "node:path";
import { childOptions, cli, cliArgs, start, withStore } from "./cli_helpers.ts";
import { exists, until } from "./_helpers/common.ts";
import { statusBlock } from "../src/mcp/format.ts";
import { startHttp } from "./_helpers/mcp_http.ts";

/** The line a run of the CLI printed on stderr (the one starting "bgtask: "). */
function line(stderr: string): string {
  return stderr.split("\n").find((l) => l.startsWith("bgtask: ")) ?? stderr;
}

Deno.test("walk: Deno's permission flags given to bgtask are said to be Deno's, with where they go", async () => {
  await withStore(async (dir) => {
    for (
      const [args, typed] of [
        [[`--allow-read=${dir}`, "list"], `--allow-read=${dir}`],
        [["list", "--allow-write"], "--allow-write"],
        [["-A", "list"], "-A"],
        [["run", "--allow-all", "true"], "--allow-all"],
        [["--deny-net", "list"], "--deny-net"],
      ] as const
    ) {
      const r = await cli(dir, [...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        line(r.stderr),
        /: that is a permission flag of Deno's, not an option of bgtask: give it to deno, before the script /,
        r.stderr,
      );
      assert.ok(line(r.stderr).includes(`(deno run ${typed} … cli.ts …)`), r.stderr);
      assert.ok(line(r.stderr).includes(`install it again with it (deno install -g -f ${typed} `));
    }
  });
});

Deno.test("walk: an OutputTooLargeError names a larger maxBytes only when one can hold the read", async () => {
  const MiB = 1024 * 1024;
  const over = new OutputTooLargeError("b1", "the output", 70 * MiB, 16 * MiB);
  assert.ok(!over.message.includes("maxBytes"), over.message);
  const under = new OutputTooLargeError("b1", "the output", 20 * MiB, 16 * MiB);
  assert.match(under.message, /, or pass a larger maxBytes \(at most 64 MiB\)$/);
  const dir = await Deno.makeTempDir({ prefix: "bgtask-walk-" });
  try {
    const tasks = new TaskManager({ dir });
    // 66.8 MiB without a newline, its last line asked for with the largest bound.
    const t = await tasks.wait((await tasks.spawnShell("head -c 70000000 /dev/zero")).id);
    await assert.rejects(tasks.tailOutput(t.id, 1, { maxBytes: 64 * MiB }), (e: Error) => {
      assert.ok(e instanceof OutputTooLargeError, String(e));
      assert.ok(!e.message.includes("larger maxBytes"), e.message);
      assert.ok(!e.message.includes("fewer lines"), e.message);
      assert.match(e.message, /read its end with readOutputChunk\(\{ offset: outputBytes - N \}\)/);
      return true;
    });
    // Its end, read as the message says.
    const end = await tasks.readOutputBytes(t.id, { offset: t.outputBytes - 10 });
    assert.equal(end.length, 10);
    await assert.rejects(tasks.tailOutput(t.id, 3, { maxBytes: MiB }), (e: Error) => {
      assert.match(
        e.message,
        /, ask for fewer lines, or pass a larger maxBytes \(at most 64 MiB\)$/,
      );
      return true;
    });
    await tasks.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("walk: a queued task held by a paused queue: wait's timeout, send, pause and resume name queue resume (or queue pause)", async () => {
  await withStore(async (dir) => {
    assert.equal((await cli(dir, ["queue", "set", "pz", "--parallel", "1"])).code, 0);
    assert.equal((await cli(dir, ["queue", "pause", "pz"])).code, 0);
    const held = await start(dir, "--queue", "pz", "--stdin", "pipe", "cat");
    const wait = await cli(dir, ["wait", "--timeout", "300ms", held]);
    assert.equal(wait.code, 124, wait.stderr);
    // Said as the wait begins, and again as it stops.
    assert.equal(
      wait.stderr,
      `bgtask: note: queued: ${held}, and queue pz is paused: bgtask queue resume pz (the wait ` +
        `goes on)\nbgtask: stopped waiting after 300ms; still queued: ${held}; queue pz is ` +
        "paused: bgtask queue resume pz\n",
    );
    const send = await cli(dir, ["send", held, "hi"]);
    assert.deepEqual([send.code, send.stderr], [
      1,
      `bgtask: cannot write to the stdin of task ${held}: it has not started yet (it is queued); ` +
      `its queue pz is paused: bgtask queue resume pz; bgtask wait ${held} --until input waits ` +
      "until it runs and asks, then send again\n",
    ]);
    const pause = await cli(dir, ["pause", held]);
    assert.equal(pause.code, 1);
    assert.match(
      line(pause.stderr),
      /; its queue pz is paused already: it does not start until bgtask queue resume pz$/,
    );
    const resume = await cli(dir, ["resume", held]);
    assert.equal(resume.code, 1);
    assert.match(line(resume.stderr), /; its queue pz is paused: bgtask queue resume pz$/);
    // Its queue resumed, that remedy works: it runs, and takes input.
    assert.equal((await cli(dir, ["queue", "resume", "pz"])).code, 0);
    assert.equal((await cli(dir, ["wait", "--until", "input", "--timeout", "30s", held])).code, 0);
    assert.equal((await cli(dir, ["send", "--eof", held, "hi"])).code, 0);
    assert.equal((await cli(dir, ["wait", "--timeout", "30s", held])).code, 0);
    // In a queue that runs, behind a task that takes its one slot: queue pause holds it.
    assert.equal((await cli(dir, ["queue", "set", "q2", "--parallel", "1"])).code, 0);
    const first = await start(dir, "--queue", "q2", "sleep 300");
    const behind = await start(dir, "--queue", "q2", "true");
    const hold = await cli(dir, ["pause", behind]);
    assert.equal(hold.code, 1);
    assert.match(
      line(hold.stderr),
      /\(only a running task can be paused\); to hold it with the rest of its queue's line: bgtask queue pause q2$/,
    );
    assert.equal((await cli(dir, ["kill", first, behind])).code, 0);
  });
});

Deno.test("walk: help says what the rules are: --match's counts, a lookaround's parentheses, what --forget and --all are", async () => {
  await withStore(async (dir) => {
    const help = await cli(dir, ["wait", "--help"]);
    assert.match(
      help.stdout.replace(/\s+/g, " "),
      /counts over 16 on a group \(nested ones multiplied\) or over 1024 on one character or class\)/,
    );
    // As the help says: a{17} on one character runs, a{1025} is refused.
    const ran = await start(dir, "--wait", "printf 'aaaaaaaaaaaaaaaaa\\n'");
    assert.equal((await cli(dir, ["wait", "--match", "a{17}", ran])).code, 0);
    assert.equal((await cli(dir, ["wait", "--match", "a{1025}", ran])).code, 2);
    const look = await cli(dir, ["wait", "--match", "(?<=a)b", ran]);
    assert.equal(
      line(look.stderr),
      'bgtask: --match: "(?<=a)b" uses a lookaround, (?<=…), which could take hours on one long ' +
        "line of output: match the text itself, or filter in two steps",
    );
    const forget = await cli(dir, ["completions", "--peek", "--forget", "--consumer", "c"]);
    assert.equal(forget.code, 2);
    assert.equal(
      line(forget.stderr),
      "bgtask: --peek and --forget do not go together: --peek shows what is there and takes " +
        "nothing, --forget drops the consumer (--consumer NAME) and lists nothing (to list, then " +
        "forget: run them one after the other)",
    );
    for (
      const [args, is] of [
        [["pause", "--all", "--queue", "pz"], "every running task"],
        [["resume", "--all", ran], "every paused task"],
        [["kill", "--all", ran], "every unfinished task"],
      ] as const
    ) {
      const r = await cli(dir, [...args]);
      assert.deepEqual([r.code, line(r.stderr)], [
        2,
        `bgtask: --all is ${is}: give no ids or --queue with it`,
      ]);
    }
  });
});

Deno.test("walk: a task that ended without running started never (MCP task_status as the CLI); a --max-output limit is named by that flag", async () => {
  await withStore(async (dir) => {
    const tasks = new TaskManager({ dir });
    await tasks.pauseQueue("held");
    const t = await tasks.spawnShell("true", { queue: "held" });
    const killed = await tasks.kill(t.id);
    assert.equal(killed.startedAt, null);
    const block = statusBlock(killed, 0);
    assert.match(block, /^started: never$/m, block);
    assert.doesNotMatch(block, /not yet/);
    await tasks.close();
    const capped = await cli(dir, ["run", "--max-output", "10", "--wait", "seq 1 100"]);
    assert.equal(capped.code, 125, capped.stderr);
    const status = await cli(dir, ["status", capped.stdout.trim()]);
    assert.match(status.stdout, /^error: +output passed the limit of 10 bytes \(--max-output\)$/m);
  });
});

Deno.test("walk: wait stopped by a signal off a terminal says which tasks run on, then ends by it, as run --wait does", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const id = await start(dir, `while [ ! -e '${go}' ]; do sleep 0.02; done`);
    // A bash on PATH that notes each call: the wait's first look at the task.
    const bin = join(scratch, "bin");
    await Deno.mkdir(bin);
    const calls = join(scratch, "calls");
    const real = new TextDecoder().decode(
      (await new Deno.Command("bash", { args: ["-c", "command -v bash"] }).output()).stdout,
    ).trim();
    await Deno.writeTextFile(
      join(bin, "bash"),
      `#!${real}\nprintf '%s\\n' "$*" >> '${calls}'\nexec '${real}' "$@"\n`,
      { mode: 0o755 },
    );
    for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
      await Deno.remove(calls).catch(() => {});
      for (const args of [["wait", id], ["wait", "--match", "never printed", id]]) {
        // Its own group, as a shell's job is, with no terminal.
        const wait = new Deno.Command(Deno.execPath(), {
          ...childOptions({ PATH: `${bin}:${Deno.env.get("PATH")}` }),
          args: cliArgs(dir, args),
          detached: true,
          signal: AbortSignal.timeout(30_000),
        }).spawn();
        // (The first look is the one that finds the task; the wait's own come after.)
        await until(
          () => exists(calls) && Deno.readTextFileSync(calls).split(" alive ").length > 2,
          "the wait's first look",
        );
        Deno.kill(-wait.pid, signal);
        const out = await wait.output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, code, `${args.join(" ")}: ${stderr}`);
        assert.match(
          line(stderr),
          new RegExp(
            `^bgtask: stopped waiting \\(${signal}\\); (still running on: ${id}|the tasks run on)$`,
          ),
          stderr,
        );
        await Deno.remove(calls).catch(() => {});
      }
    }
    await Deno.writeTextFile(go, "");
    assert.equal((await cli(dir, ["wait", id])).code, 0);
  });
});

Deno.test("walk: a store that is a file, and a task whose output file is gone, name what to do", async () => {
  await withStore(async (dir, scratch) => {
    const file = join(scratch, "file");
    await Deno.writeTextFile(file, "");
    const r = await cli(file, ["list"], { flags: ["-A"] });
    assert.deepEqual([r.code, line(r.stderr)], [
      1,
      `bgtask: store "${file}" is not a folder: use another path, --dir DIR or BGTASK_DIR`,
    ]);
    const ran = await cli(dir, ["run", "--wait", "echo hi"]);
    assert.equal(ran.code, 0, ran.stderr);
    const id = ran.stdout.trim();
    await Deno.remove(join(dir, "tasks", id, "output"));
    const logs = await cli(dir, ["logs", id]);
    assert.equal(logs.code, 1);
    assert.match(
      line(logs.stderr),
      new RegExp(
        `: what it wrote cannot be read; bgtask restart ${id} runs its command again, and ` +
          `bgtask rm ${id} drops the task once it has ended$`,
      ),
    );
    // Both remedies work.
    assert.equal((await cli(dir, ["restart", id])).code, 0);
    assert.equal((await cli(dir, ["rm", id])).code, 0);
  });
});

Deno.test("walk: permission advice names only what the verb needs, the PATH fix first, and a deny flag to drop alone", async () => {
  await withStore(async (dir) => {
    await start(dir, "true");
    // A look needs no --allow-write; what it says is enough.
    const look = await cli(dir, ["list"], { flags: [] });
    assert.equal(look.code, 1);
    assert.match(
      line(look.stderr),
      new RegExp(`: missing permission, run again with --allow-run=bash --allow-read=${dir} \\(`),
    );
    const told = await cli(dir, ["list"], { flags: ["--allow-run=bash", `--allow-read=${dir}`] });
    assert.equal(told.code, 0, told.stderr);
    // Nor when the store is not found yet, for want of the environment.
    const found = await cli(dir, ["status", "b1"], {
      flags: [],
      noDir: true,
      env: { BGTASK_DIR: dir },
    });
    assert.match(
      line(found.stderr),
      /; then it needs --allow-run=bash and --allow-read on the store, if not given /,
    );
    // A verb that writes still names --allow-write (run named only --allow-read before).
    const write = await cli(dir, ["run", "true"], { flags: [] });
    assert.match(
      line(write.stderr),
      new RegExp(`run again with --allow-run=bash --allow-read=${dir} --allow-write=${dir} `),
    );
    // The flag simply missing, bash on PATH: no "if it was given" note.
    const missing = await cli(dir, ["run", "true"], {
      flags: [`--allow-read=${dir}`, `--allow-write=${dir}`],
    });
    assert.equal(missing.code, 1);
    assert.doesNotMatch(missing.stderr, /PATH/);
    // Given, with no bash on PATH: that first.
    const noBash = await cli(dir, ["run", "true"], {
      flags: ["--allow-run=bash", `--allow-read=${dir}`, `--allow-write=${dir}`],
      env: { PATH: "/nonexistent" },
    });
    assert.equal(noBash.code, 1);
    assert.match(
      line(noBash.stderr),
      /^bgtask: cannot spawn task: bash is not on this process's PATH, where Deno looks for the bash --allow-run=bash grants: start it with a PATH that has bash/,
    );
    // --allow-run --deny-run=bash: the deny to drop, no flag given already.
    const denied = await cli(dir, ["run", "true"], {
      flags: ["--allow-run", "--deny-run=bash", `--allow-read=${dir}`, `--allow-write=${dir}`],
    });
    assert.equal(denied.code, 1);
    assert.match(
      line(denied.stderr),
      /: missing permission, run again without any --deny-run flag that covers bash \(/,
    );
    assert.doesNotMatch(denied.stderr, /--allow-run=bash/);
    const dropped = await cli(dir, ["run", "true"], {
      flags: ["--allow-run", `--allow-read=${dir}`, `--allow-write=${dir}`],
    });
    assert.equal(dropped.code, 0, dropped.stderr);
  });
});

Deno.test("walk: silent surprises are said: a line cut by a terminal, bgtask's own variable in --env, a token the server may not read", async () => {
  await withStore(async (dir) => {
    const pty = await start(dir, "--stdin", "pty", 'read -r l; echo "got ${#l}"');
    assert.equal((await cli(dir, ["wait", "--until", "input", "--timeout", "30s", pty])).code, 0);
    const long = await cli(dir, ["send", pty, "x".repeat(5000)]);
    assert.equal(long.code, 0, long.stderr);
    assert.match(
      long.stderr,
      new RegExp(
        `^bgtask send: note: a line of it was 5,000 bytes, and the terminal of ${pty}, in line ` +
          "mode, keeps 4,095 bytes of a line \\(the rest was dropped",
      ),
    );
    assert.equal((await cli(dir, ["wait", "--timeout", "30s", pty])).code, 0);
    assert.match((await cli(dir, ["logs", pty])).stdout, /got 4095\r?\n$/);
    // A short line says nothing.
    const short = await start(dir, "--stdin", "pty", "read -r l");
    assert.equal((await cli(dir, ["wait", "--until", "input", "--timeout", "30s", short])).code, 0);
    assert.deepEqual(await cli(dir, ["send", short, "hello"]).then((r) => [r.code, r.stderr]), [
      0,
      "",
    ]);
    for (const name of ["BGTASK_TASK_ID", "BGTASK_INVOCATION"]) {
      const r = await cli(dir, ["run", "--env", `${name}=zz`, "true"]);
      assert.deepEqual([r.code, r.stdout], [2, ""]);
      assert.match(
        line(r.stderr),
        new RegExp(`^bgtask: --env "${name}": that variable is bgtask's own `),
      );
    }
    assert.equal((await cli(dir, ["list", "--json"])).stdout.match(/"id"/g)?.length, 2);
  });
  const dir = await Deno.makeTempDir({ prefix: "bgtask-walk-mcp-" });
  try {
    const env = { BGTASK_MCP_TOKEN: "a-token-set-in-the-environment" };
    const unread = await startHttp(dir, [], env);
    await unread.stop();
    assert.match(
      unread.stderr(),
      /the token from \S+mcp-token \(BGTASK_MCP_TOKEN may not be read, so a token set there is not used: --allow-env=BGTASK_MCP_TOKEN grants it\)\n/,
    );
    const read = await startHttp(dir, [], env, ["--allow-env=BGTASK_MCP_TOKEN"]);
    await read.stop();
    assert.match(read.stderr(), /the token from BGTASK_MCP_TOKEN\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
