/**
 * `bgtask kill`, `wait` (and its exit codes), `completions`, `rm` and `clean`,
 * run as subprocesses under the minimal permissions.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type TaskInfo, TaskManager } from "../mod.ts";
import { exists, until } from "./_helpers/common.ts";
import { childOptions, cli, cliArgs, cliJson, gate, start, withStore } from "./cli_helpers.ts";

Deno.test("wait, pause, resume and kill of 100 tasks at once hold under a limit of 128 open files (each look or kill had a bash of its own at once)", async () => {
  await withStore(async (dir) => {
    const tasks = new TaskManager({ dir });
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push((await tasks.spawnShell("sleep 300")).id);
    const limited = async (args: string[]) => {
      const out = await new Deno.Command("bash", {
        args: ["-c", 'ulimit -n 128 && exec "$0" "$@"', Deno.execPath(), ...cliArgs(dir, args)],
        ...childOptions(),
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    const waited = await limited(["wait", "--timeout", "0", ...ids]);
    assert.equal(waited.code, 124, waited.stderr);
    for (const verb of ["pause", "resume"]) {
      const r = await limited([verb, ...ids]);
      assert.equal(r.code, 0, `${verb}: ${r.stderr}`);
    }
    const killed = await limited(["kill", "--all"]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.deepEqual(
      (await tasks.list()).filter((t) => t.status !== "killed").map((t) => t.id),
      [],
    );
  });
});

Deno.test("kill ends running tasks, leaves finished ones, and --json reports them", async () => {
  await withStore(async (dir) => {
    const a = await start(dir, "sleep 30 & sleep 30; wait");
    const b = await start(dir, "sleep 30");
    const done = await start(dir, "--wait", "true");
    const killed = await cli(dir, ["kill", "--grace", "100ms", a, b, done, "--json"]);
    assert.equal(killed.code, 0, killed.stderr);
    const infos = JSON.parse(killed.stdout) as TaskInfo[];
    assert.deepEqual(infos.map((t) => [t.id, t.status]), [
      [a, "killed"],
      [b, "killed"],
      [done, "completed"],
    ]);
    const human = await cli(dir, ["kill", a]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, new RegExp(`^${a} +killed `, "m"));
  });
});

Deno.test("kill ends a task whose start record is damaged (status cannot show it), beside one that reads fine", async () => {
  await withStore(async (dir) => {
    const a = await start(dir, "echo up; sleep 30");
    const b = await start(dir, "sleep 30");
    await until(() => exists(join(dir, "tasks", a, "started")), "the task to start");
    await Deno.writeTextFile(join(dir, "tasks", a, "started"), "garbage\n");
    const past = new Date(Date.now() - 10_000); // (a record just written may be being written)
    await Deno.utime(join(dir, "tasks", a, "started"), past, past);
    const status = await cli(dir, ["status", a]);
    assert.equal(status.code, 1);
    assert.match(status.stderr, /is damaged: .*started" cannot be read \(.*kill ends them\)/);
    const killed = await cli(dir, ["kill", "--grace", "100ms", a, b, "--json"]);
    assert.equal(killed.code, 0, killed.stderr);
    const infos = JSON.parse(killed.stdout) as TaskInfo[];
    assert.deepEqual(infos.map((t) => [t.id, t.status]).sort(), [[a, "killed"], [b, "killed"]]);
    // kill --all does not leave one out.
    const c = await start(dir, "echo up; sleep 30");
    await until(() => exists(join(dir, "tasks", c, "started")), "the task to start");
    await Deno.writeTextFile(join(dir, "tasks", c, "started"), "");
    await Deno.utime(join(dir, "tasks", c, "started"), past, past);
    const all = await cli(dir, ["kill", "--all", "--grace", "100ms", "--json"]);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual((JSON.parse(all.stdout) as TaskInfo[]).map((t) => [t.id, t.status]), [
      [c, "killed"],
    ]);
  });
});

Deno.test("kill --all ends every unfinished task of the store, queued ones too; wait --all waits for them", async () => {
  await withStore(async (dir, scratch) => {
    const g = join(scratch, "gate");
    const done = await start(dir, "--wait", "true");
    const quick = await start(dir, gate(g));
    await cli(dir, ["queue", "set", "held", "--parallel", "1"]);
    await cli(dir, ["queue", "pause", "held"]);
    const queued = await start(dir, "--queue", "held", "echo never");
    // wait --all: every task not ended yet, here the gated one and the queued one.
    const waiting = await cli(dir, ["wait", "--all", "--timeout", "0", "--json"]);
    assert.equal(waiting.code, 124, waiting.stderr);
    assert.deepEqual((JSON.parse(waiting.stdout) as TaskInfo[]).map((t) => t.id), [quick, queued]);
    // Run from a task, --all leaves that task out (it would wait for itself).
    const inner = [Deno.execPath(), ...cliArgs(dir, ["wait", "--all", "--timeout", "0", "--json"])]
      .map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(" ");
    // As the command itself, in a script or `bash -c` (a grandchild: its process group
    // says so), and behind job control (a group of its own: the task id in its
    // environment says so), under the minimal permissions (no --allow-env for that id).
    const quoted = inner.replaceAll("'", `'\\''`);
    for (
      const [command, code] of [
        [`${inner} 2>/dev/null`, 124], // (bash execs it: the task's code is its)
        [`bash -c '${quoted} 2>/dev/null; true'; true`, 0],
        [`set -m; bash -c '${quoted} 2>/dev/null; true'; true`, 0],
      ] as const
    ) {
      const self = await start(dir, command);
      assert.equal((await cli(dir, ["wait", self])).code, code, command);
      const seen = (await cli(dir, ["logs", self])).stdout;
      assert.deepEqual((JSON.parse(seen) as TaskInfo[]).map((t) => t.id), [quick, queued], command);
    }
    const slow = await start(dir, "sleep 300 & sleep 300; wait");
    const killed = await cli(dir, ["kill", "--all", "--grace", "100ms", "--json"]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.deepEqual(
      (JSON.parse(killed.stdout) as TaskInfo[]).map((t) => [t.id, t.status]),
      [[quick, "killed"], [queued, "killed"], [slow, "killed"]],
    );
    assert.equal((await cliJson<TaskInfo>(dir, ["status", done])).status, "completed");
    // Nothing left: an empty table, exit 0; --all takes no ids.
    const again = await cli(dir, ["kill", "--all"]);
    assert.deepEqual([again.code, again.stdout], [
      0,
      "ID  STATUS  EXIT  STARTED  DURATION  TASK\n",
    ]);
    const mixed = await cli(dir, ["kill", "--all", done]);
    assert.deepEqual([mixed.code, mixed.stderr], [
      2,
      "bgtask: --all is every unfinished task: give no ids or --queue with it\n",
    ]);
  });
});

Deno.test("kill interrupted by a Ctrl-C during its grace still sends SIGKILL when the grace is over", async () => {
  await withStore(async (dir, scratch) => {
    const termed = join(scratch, "termed");
    // Ignores SIGTERM (says so once it got it): only SIGKILL ends it.
    const id = await start(dir, `trap ": > '${termed}'" TERM; while true; do sleep 0.05; done`);
    // A kill at a terminal: its own process group, as a shell's job, so the
    // test can send the Ctrl-C to the whole group as the terminal would.
    const killer = new Deno.Command(Deno.execPath(), {
      // (A grace long enough for the Ctrl-C to come inside it on a loaded machine.)
      args: cliArgs(dir, ["kill", "--grace", "5s", id]),
      ...childOptions(),
      detached: true,
    }).spawn();
    await until(() => exists(termed), "the task to get SIGTERM");
    Deno.kill(-killer.pid, "SIGINT");
    const status = await killer.output();
    assert.notEqual(status.code, 0, "the kill itself was interrupted");
    // Nobody is left to call: the escalation goes on by itself.
    await until(
      async () => (await cliJson<TaskInfo>(dir, ["status", id])).status === "killed",
      `${id} to be killed after its grace`,
      20_000,
    );
  });
});

/** The path of the real bash (the one a wrapper first on PATH hands on to). */
async function realBash(): Promise<string> {
  const out = await new Deno.Command("bash", { args: ["-c", 'printf %s "$BASH"'] }).output();
  return new TextDecoder().decode(out.stdout);
}

/**
 * A `bash` first on the CLI's PATH (`--allow-run=bash` and the launch both
 * find it there): it notes each call's arguments in `calls`, one line each,
 * and the first call (a spawn's launcher) waits for `go` before it becomes
 * the real bash, so that a test can catch a spawn under way. Returns the
 * CLI's environment.
 */
async function bashOnPath(
  folder: string,
): Promise<{ env: Record<string, string>; calls: string; go: string }> {
  await Deno.mkdir(folder, { recursive: true });
  const real = await realBash();
  const calls = join(folder, "calls");
  const go = join(folder, "go");
  await Deno.writeTextFile(
    join(folder, "bash"),
    `#!${real}\n` +
      `[ -e '${calls}' ] && held= || held=1\n` +
      `printf '%s\\n' "$*" >> '${calls}'\n` +
      `[ -n "$held" ] && { ${gate(go)}; }\n` +
      `exec '${real}' "$@"\n`,
    { mode: 0o755 },
  );
  return { env: { PATH: `${folder}:${Deno.env.get("PATH")}` }, calls, go };
}

/** The lines of `calls` (none yet: none). */
function callsIn(calls: string): string[] {
  return exists(calls) ? Deno.readTextFileSync(calls).split("\n").filter((l) => l !== "") : [];
}

Deno.test("run interrupted once its spawn has begun (Ctrl-C, SIGTERM) lets it finish, prints the id, says so, and ends by the signal (128+N)", async () => {
  await withStore(async (dir, scratch) => {
    // (Last: at a terminal, `bgtask run … | tee`, the same Ctrl-C ends the reader.)
    const cases = [
      ["SIGINT", 130, true, false],
      ["SIGTERM", 143, false, false],
      ["SIGINT", 130, true, true],
    ] as const;
    for (const [k, [signal, code, group, readerGone]] of cases.entries()) {
      const bash = await bashOnPath(join(scratch, String(k)));
      // A run at a terminal: a process group of its own, as a shell's job, so
      // that the Ctrl-C goes to the whole group as the terminal sends it.
      const run = new Deno.Command(Deno.execPath(), {
        ...childOptions(bash.env),
        args: cliArgs(dir, ["run", "echo ran"]),
        detached: true,
      }).spawn();
      const dec = new TextDecoder();
      const stdout = readerGone
        ? run.stdout.cancel().then(() => "")
        : new Response(run.stdout).arrayBuffer().then((b) => dec.decode(b));
      const stderrText = new Response(run.stderr).arrayBuffer().then((b) => dec.decode(b));
      // The launcher runs (held): the spawn has begun, its records are made.
      await until(() => callsIn(bash.calls).some((c) => / start /.test(c)), "the launch");
      Deno.kill(group ? -run.pid : run.pid, signal);
      await Deno.writeTextFile(bash.go, "");
      const out = await run.status;
      const stderr = await stderrText;
      // It held the signal until the id was out, then ended by it (a script's loop stops).
      assert.equal(out.signal, signal, "ended by the signal once the id was out");
      assert.equal(out.code, code, stderr);
      const id = readerGone
        ? /: (b\d+) \(bgtask kill/.exec(stderr)?.[1] ?? ""
        : (await stdout).trim();
      assert.match(id, /^b\d+$/, `the id, as usual: ${JSON.stringify(await stdout)}`);
      assert.equal(
        stderr,
        `bgtask: interrupted (${signal}) while starting the task, which was started all the ` +
          `same: ${id} (bgtask kill ${id} ends it)\n`,
      );
      // The task did run, under the id printed.
      const done = await cli(dir, ["wait", id]);
      assert.equal(done.code, 0, done.stderr);
      assert.equal((await cli(dir, ["logs", id])).stdout, "ran\n");
    }
  });
});

Deno.test("run --wait --json interrupted while it waits, off a terminal: the message names the task, which runs on; exit 130", async () => {
  await withStore(async (dir, scratch) => {
    const bash = await bashOnPath(join(scratch, "wait"));
    await Deno.writeTextFile(bash.go, ""); // nothing held
    const go = join(scratch, "task-go");
    const run = new Deno.Command(Deno.execPath(), {
      ...childOptions(bash.env),
      args: cliArgs(dir, ["run", "--wait", "--json", gate(go)]),
      detached: true,
    }).spawn();
    // The wait's first look at the task's processes: the wait is under way.
    await until(() => callsIn(bash.calls).some((c) => / alive /.test(c)), "the wait's first look");
    Deno.kill(-run.pid, "SIGINT");
    const out = await run.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 130, stderr);
    // With --json nothing is printed before the end: the message is where the id is.
    assert.equal(new TextDecoder().decode(out.stdout), "");
    assert.equal(stderr, "bgtask: stopped waiting (SIGINT); still running on: b1\n");
    assert.equal((await cliJson<TaskInfo>(dir, ["status", "b1"])).status, "running");
    await Deno.writeTextFile(go, "");
    assert.equal((await cli(dir, ["wait", "b1"])).code, 0);
  });
});

Deno.test("run --wait whose helper bash the Ctrl-C ended first still stops as interrupted (exit 130), not as a fault", async () => {
  // A Ctrl-C reaches the whole group: the wait's helper bash (its look at the
  // task's processes) dies of it too, and that death may be heard before the
  // signal's handler runs. Here it is, for sure: the helper ends itself with
  // SIGINT and the CLI gets its SIGINT 0.3 s later.
  await withStore(async (dir, scratch) => {
    const folder = join(scratch, "bin");
    await Deno.mkdir(folder);
    const real = await realBash();
    const fired = join(scratch, "fired");
    await Deno.writeTextFile(
      join(folder, "bash"),
      `#!${real}\n` +
        `case " $* " in *" alive "*)\n` +
        `  if mkdir '${fired}' 2>/dev/null; then\n` +
        `    [ -n "$SIGNAL_PARENT" ] && ( sleep 0.3; kill -INT "$PPID" ) </dev/null >/dev/null 2>&1 &\n` +
        `    kill -INT $$\n` +
        `  fi ;;\n` +
        `esac\n` +
        `exec '${real}' "$@"\n`,
      { mode: 0o755 },
    );
    const go = join(scratch, "task-go");
    const out = await new Deno.Command(Deno.execPath(), {
      ...childOptions({ PATH: `${folder}:${Deno.env.get("PATH")}`, SIGNAL_PARENT: "1" }),
      args: cliArgs(dir, ["run", "--wait", "--json", gate(go)]),
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(exists(fired), "the helper was ended by SIGINT");
    assert.equal(out.code, 130, stderr);
    assert.equal(stderr, "bgtask: stopped waiting (SIGINT); still running on: b1\n");
    assert.equal((await cliJson<TaskInfo>(dir, ["status", "b1"])).status, "running");
    // A helper a signal ended before its first command (which makes it
    // ignore such signals) had done nothing: it is run again.
    const path = { PATH: `${folder}:${Deno.env.get("PATH")}` };
    await Deno.remove(fired);
    const once = await cli(dir, ["list"], { env: path });
    assert.ok(exists(fired), "the helper was ended by SIGINT");
    assert.equal(once.code, 0, once.stderr);
    assert.match(once.stdout, /^b1 +running /m);
    // A verb without a handler whose helpers a signal ends every time (sent
    // to them alone, say): reported as that interruption, 128 + N.
    await Deno.writeTextFile(
      join(folder, "bash"),
      `#!${real}\n` +
        `case " $* " in *" alive "*) kill -INT $$ ;; esac\n` +
        `exec '${real}' "$@"\n`,
      { mode: 0o755 },
    );
    const list = await cli(dir, ["list"], { env: path });
    assert.equal(list.code, 130, list.stderr);
    assert.match(
      list.stderr,
      /^bgtask: cannot check whether a task is alive: interrupted \(SIGINT ended its bash/,
    );
    await Deno.writeTextFile(go, "");
    assert.equal((await cli(dir, ["wait", "b1"])).code, 0);
  });
});

Deno.test("wait and run --wait exit with the task's code even when their reader has gone", async () => {
  await withStore(async (dir, scratch) => {
    const g = join(scratch, "gate");
    const id = await start(dir, `${gate(g)}; exit 4`);
    // A reader that goes away at once (| head -c 0): the table cannot be written.
    const closed = (args: string[]) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: cliArgs(dir, args),
        ...childOptions(),
      }).spawn();
      child.stdout.cancel();
      return child;
    };
    const waiter = closed(["wait", id]);
    const runner = closed(["run", "--wait", `${gate(g)}; exit 5`]);
    await Deno.writeTextFile(g, "");
    const [w, r] = await Promise.all([waiter.output(), runner.output()]);
    assert.equal(w.code, 4, new TextDecoder().decode(w.stderr));
    assert.equal(r.code, 5, "run --wait waited for its task though its id could not be printed");
  });
});

Deno.test("completions whose reader has gone gives the tasks back: the next call reports them", async () => {
  await withStore(async (dir, scratch) => {
    // No store yet: an empty list all the same (JSON for jq), and nothing is made.
    assert.deepEqual(await cliJson<TaskInfo[]>(join(scratch, "none"), ["completions"]), []);
    assert.ok(!exists(join(scratch, "none")));
    assert.equal((await cli(dir, ["completions", "--consumer", "x"])).code, 0); // registered
    const ids = [await start(dir, "--wait", "true"), await start(dir, "--wait", "echo two")];
    const gone = new Deno.Command(Deno.execPath(), {
      args: cliArgs(dir, ["completions", "--consumer", "x", "--json"]),
      ...childOptions(),
    }).spawn();
    gone.stdout.cancel(); // | head -c 0
    assert.equal((await gone.output()).code, 0);
    const again = await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "x"]);
    assert.deepEqual(again.map((t) => t.id), ids);
    assert.deepEqual(await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "x"]), []);
  });
});

Deno.test("wait exits with the task's code: 0, N, 128+signal, 124, 125, 143", async () => {
  await withStore(async (dir, scratch) => {
    const [ok, seven, usr1, timedOut, capped, toKill, blocked] = await Promise.all([
      start(dir, "true"),
      start(dir, "exit 7"),
      start(dir, "kill -USR1 $$"),
      start(dir, "--timeout", "100ms", "sleep 30"),
      start(dir, "--max-output", "1k", "yes"),
      start(dir, "sleep 30"),
      start(dir, gate(join(scratch, "never"))),
    ]);
    await cli(dir, ["kill", "--grace", "0", toKill]);
    const codes = await Promise.all(
      [ok, seven, usr1, timedOut, capped, toKill].map(async (id) =>
        (await cli(dir, ["wait", id])).code
      ),
    );
    assert.deepEqual(codes, [0, 7, 128 + 10, 124, 125, 143]);

    const waitTimeout = await cli(dir, ["wait", "--timeout", "150ms", blocked]);
    assert.equal(waitTimeout.code, 124);
    assert.match(waitTimeout.stdout, new RegExp(`^${blocked} +running`, "m"));
    assert.match(
      waitTimeout.stderr,
      new RegExp(`^bgtask: stopped waiting after 150ms; still running: ${blocked}\\n$`),
    );

    const [several, reordered, same, partly, json] = await Promise.all([
      cli(dir, ["wait", ok, seven, usr1]),
      cli(dir, ["wait", usr1, seven]),
      cli(dir, ["wait", ok, ok]),
      cli(dir, ["wait", seven, blocked, "--timeout", "0"]),
      cli(dir, ["wait", ok, seven, "--json"]),
    ]);
    // Several ids: the first non-zero code in the order given.
    assert.equal(several.code, 7);
    assert.equal(reordered.code, 138);
    assert.equal(same.code, 0);
    // 124 wins when one task is still running at the deadline.
    assert.equal(partly.code, 124);
    assert.deepEqual((JSON.parse(json.stdout) as TaskInfo[]).map((t) => t.exitCode), [0, 7]);
    assert.equal(json.stderr, "", "no spinner when stderr is a pipe");
  });
});

Deno.test("completions delivers each finished task once; --json parses back", async () => {
  await withStore(async (dir, scratch) => {
    await start(dir, "--wait", "true");
    await cli(dir, ["run", "--wait", "exit 2"]);
    await start(dir, gate(join(scratch, "never")));
    const first = await cli(dir, ["completions", "--json"]);
    assert.equal(first.code, 0);
    assert.deepEqual((JSON.parse(first.stdout) as TaskInfo[]).map((t) => t.id), ["b1", "b2"]);
    const second = await cli(dir, ["completions", "--json"]);
    assert.deepEqual(JSON.parse(second.stdout), []);
    await cli(dir, ["kill", "b3", "--grace", "0"]);
    const human = await cli(dir, ["completions"]);
    assert.match(human.stdout, /^ID +STATUS.*\nb3 +killed /);
  });
});

Deno.test("an id removed by rm or clean is said to be removed (status, logs, wait, rm, run --after); one never issued is no task", async () => {
  await withStore(async (dir) => {
    const gone = await start(dir, "--wait", "true");
    const cleaned = await start(dir, "--wait", "true");
    assert.equal((await cli(dir, ["rm", gone])).code, 0);
    assert.equal((await cli(dir, ["clean", "--include-unread"])).code, 0);
    const removed = (id: string) =>
      `bgtask: task ${id} was removed, with its records, by rm (remove) or clean`;
    for (const id of [gone, cleaned]) {
      for (const verb of ["status", "logs", "wait", "rm", "kill", "restart"]) {
        const r = await cli(dir, [verb, id]);
        assert.deepEqual(
          [r.code, r.stdout, r.stderr],
          [1, "", `${removed(id)}\n`],
          `${verb} ${id}`,
        );
      }
      const after = await cli(dir, ["run", "--after", id, "true"]);
      assert.deepEqual([after.code, after.stderr], [
        1,
        `bgtask: --after ${id}: that task was removed (by bgtask rm or clean); give tasks still ` +
        "in the store (see bgtask list)\n",
      ]);
    }
    // Several ids: the first that names no task, in the order given.
    const both = await cli(dir, ["rm", "b99", gone]);
    assert.equal(both.stderr, 'bgtask: no task "b99" in the store\n');
    const order = await cli(dir, ["wait", gone, "b99"]);
    assert.equal(order.stderr, `${removed(gone)}\n`);
  });
});

Deno.test("rm removes finished tasks and refuses running ones", async () => {
  await withStore(async (dir, scratch) => {
    const done = await start(dir, "--wait", "true");
    const running = await start(dir, gate(join(scratch, "never")));
    const removed = await cli(dir, ["rm", done, "--json"]);
    assert.equal(removed.code, 0);
    assert.deepEqual((JSON.parse(removed.stdout) as TaskInfo[]).map((t) => t.id), [done]);
    assert.equal((await cli(dir, ["status", done])).code, 1);

    const refused = await cli(dir, ["rm", running]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`^bgtask: cannot remove task ${running}: .*running`));
    assert.equal(refused.stderr.split("\n").length, 2);

    // One refusal does not keep the others.
    const other = await start(dir, "--wait", "true");
    const mixed = await cli(dir, ["rm", running, other]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stdout, new RegExp(`^${other} +completed`, "m"));
    assert.equal((await cli(dir, ["status", other])).code, 1);
    // Ids are never reused.
    assert.equal(await start(dir, "true"), "b4");
  });
});

Deno.test('clean --help explains a "kept" that a plain bgtask completions caused: the default consumer counts', async () => {
  await withStore(async (dir) => {
    await start(dir, "--wait", "true"); // (a store: a plain completions reads one)
    assert.equal((await cli(dir, ["completions"])).code, 0); // registers "default"
    await start(dir, "--wait", "true");
    const kept = await cli(dir, ["clean"]);
    assert.match(
      kept.stderr,
      /^bgtask: kept 1 finished task not yet read by completion consumer default /,
    );
    // What that note names, the help says where it comes from.
    const help = (await cli(dir, ["clean", "--help"])).stdout.replace(/\s+/g, " ");
    assert.match(help, /"default" too, once anyone has run a plain bgtask completions/);
    assert.match(help, /kept until the next plain bgtask completions, or a day without one/);
  });
});

Deno.test("rm takes what a completion consumer has not read and says which consumer will not hear of it", async () => {
  await withStore(async (dir) => {
    assert.equal((await cli(dir, ["completions", "--consumer", "agent"])).code, 0);
    await start(dir, "--wait", "true");
    await start(dir, "--wait", "true");
    const one = await cli(dir, ["rm", "b1"]);
    assert.deepEqual([one.code, one.stderr], [
      0,
      "bgtask: removed b1 before completion consumer agent was told of its end: it never will " +
      "be (bgtask clean keeps such a task until it is read)\n",
    ]);
    await start(dir, "--wait", "true");
    assert.equal((await cli(dir, ["completions", "--consumer", "late", "--peek"])).code, 0);
    await start(dir, "--wait", "true");
    const many = await cli(dir, ["rm", "b2", "b3", "b4", "--json"]);
    assert.equal(many.code, 0);
    assert.equal(
      many.stderr,
      "bgtask: removed b2, b3, b4 before completion consumers agent, late were told of their " +
        "end: they never will be (bgtask clean keeps such a task until it is read)\n",
    );
    // All read: nothing said.
    await start(dir, "--wait", "true");
    for (const c of ["agent", "late"]) {
      assert.equal((await cli(dir, ["completions", "--consumer", c])).code, 0);
    }
    assert.deepEqual(await cli(dir, ["rm", "b5"]).then((r) => [r.code, r.stderr]), [0, ""]);
  });
});

Deno.test("clean keeps what a completion consumer has not read, says so and how to let it go; --include-unread takes it, and so does forgetting the consumer", async () => {
  await withStore(async (dir) => {
    assert.equal((await cli(dir, ["completions", "--consumer", "agent"])).code, 0);
    await start(dir, "--wait", "true");
    const kept = await cli(dir, ["clean", "--json"]);
    assert.equal(kept.code, 0);
    assert.deepEqual(JSON.parse(kept.stdout), []);
    assert.equal(
      kept.stderr,
      "bgtask: kept 1 finished task not yet read by completion consumer agent (b1); " +
        "--include-unread removes them too, and bgtask completions --consumer NAME --forget " +
        "forgets a consumer (one unused for a day is not waited for; forgetting one a running " +
        "bgtask mcp session reads, mcp-…, loses it the notices of tasks that end before it " +
        "reads again)\n",
    );
    const all = await cli(dir, ["clean", "--include-unread", "--json"]);
    assert.deepEqual((JSON.parse(all.stdout) as TaskInfo[]).map((t) => t.id), ["b1"]);
    assert.equal(all.stderr, "");
    // A consumer used once, then forgotten from the command line, keeps nothing.
    await start(dir, "--wait", "true");
    const forgot = await cli(dir, ["completions", "--consumer", "agent", "--forget"]);
    assert.deepEqual([forgot.code, forgot.stderr], [
      0,
      "bgtask: forgot consumer agent: its unread tasks no longer keep clean off them\n",
    ]);
    const again = await cli(dir, ["completions", "--consumer", "agent", "--forget"]);
    assert.equal(again.code, 1);
    const clean = await cli(dir, ["clean", "--json"]);
    assert.deepEqual((JSON.parse(clean.stdout) as TaskInfo[]).map((t) => t.id), ["b2"]);
    assert.equal((await cli(dir, ["completions", "--forget"])).code, 2);
  });
});

Deno.test("clean removes finished tasks by status and age, never running ones", async () => {
  await withStore(async (dir, scratch) => {
    await start(dir, "--wait", "true");
    await cli(dir, ["run", "--wait", "exit 1"]);
    await start(dir, gate(join(scratch, "never")));
    const young = await cli(dir, ["clean", "--older-than", "1h", "--json"]);
    assert.deepEqual(JSON.parse(young.stdout), []);
    const failed = await cli(dir, ["clean", "--status", "failed", "--json"]);
    assert.equal(failed.code, 0);
    assert.deepEqual((JSON.parse(failed.stdout) as TaskInfo[]).map((t) => t.id), ["b2"]);
    const rest = await cli(dir, ["clean"]);
    assert.equal(rest.code, 0);
    assert.match(rest.stdout, /^b1 +completed/m);
    const left = JSON.parse((await cli(dir, ["list", "--json"])).stdout) as TaskInfo[];
    assert.deepEqual(left.map((t) => [t.id, t.status]), [["b3", "running"]]);
  });
});

Deno.test("clean --keep N leaves the N that finished last, --queue Q only that queue's; bad values are usage errors naming the flag", async () => {
  await withStore(async (dir) => {
    for (const q of ["ci", "ci", "", "ci", ""]) {
      await cli(dir, ["run", "--wait", ...(q ? ["--queue", q] : []), "true"]);
    }
    const ids = (r: { stdout: string }) => (JSON.parse(r.stdout) as TaskInfo[]).map((t) => t.id);
    assert.deepEqual(ids(await cli(dir, ["clean", "--queue", "ci", "--keep", "1", "--json"])), [
      "b1",
      "b2",
    ]);
    assert.deepEqual(ids(await cli(dir, ["clean", "--keep", "2", "--json"])), ["b3"]);
    const bad = await cli(dir, ["clean", "--keep", "-1"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid number "-1" for --keep/);
    const badQueue = await cli(dir, ["clean", "--queue", "a b"]);
    assert.equal(badQueue.code, 2);
    assert.match(badQueue.stderr, /"a b".*--queue|--queue.*"a b"|queue "a b" is not a valid name/);
    // A queue or a store that is not there is said so (exit 1), as wait/kill --queue do.
    const noQueue = await cli(dir, ["clean", "--queue", "nosuch"]);
    assert.equal(noQueue.code, 1, noQueue.stderr);
    assert.match(noQueue.stderr, /nosuch/);
    const noStore = await cli(`${dir}-typo`, ["clean", "--queue", "ci"]);
    assert.equal(noStore.code, 1, noStore.stderr);
    assert.match(noStore.stderr, /no store at/);
    // Without --queue, as list and queue: nothing to do, exit 0, but a mistyped --dir is noted.
    for (const verb of [["clean"], ["queue"], ["list"]]) {
      const typo = await cli(`${dir}-typo`, verb);
      assert.equal(typo.code, 0, typo.stderr);
      assert.match(typo.stderr, /^bgtask: note: no store at ".*-typo": nothing has run there/);
    }
    // A verb of ids on a mistyped --dir says there is no store there (it
    // said only that the id is no task), and a queue's pause says so before
    // the remedy that would make a store there; nothing is made.
    for (const verb of [["status", "b1"], ["logs", "b1"], ["rm", "b1"], ["status", "last"]]) {
      const typo = await cli(`${dir}-typo`, verb);
      assert.equal(typo.code, 1, typo.stderr);
      assert.match(typo.stderr, /no store at ".*-typo" \(nothing has run there\); check --dir/);
    }
    const pauseTypo = await cli(`${dir}-typo`, ["queue", "pause", "ci"]);
    assert.equal(pauseTypo.code, 1, pauseTypo.stderr);
    assert.match(pauseTypo.stderr, /^bgtask: no store at ".*-typo": nothing has run there/);
    assert.equal(await exists(`${dir}-typo`), false, "no store made");
    // A queue removed whose finished tasks still name it: theirs to clean (a pueue user's pass).
    assert.equal((await cli(dir, ["queue", "set", "gone", "--parallel", "1"])).code, 0);
    assert.equal((await cli(dir, ["run", "--wait", "--queue", "gone", "true"])).code, 0);
    const rm = await cli(dir, ["queue", "rm", "gone"]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(ids(await cli(dir, ["clean", "--queue", "gone", "--json"])), ["b6"]);
    const left = JSON.parse((await cli(dir, ["list", "--json"])).stdout) as TaskInfo[];
    assert.deepEqual(left.map((t) => t.id), ["b4", "b5"]);
  });
});

/**
 * What a process ended by the Ctrl-C sent to its group printed, and how it
 * ended; with `readerGone`, its stdout's reader had gone first (at a
 * terminal, `bgtask clean | tail`: the same Ctrl-C ends the reader too).
 */
async function interruptedGroup(
  child: Deno.ChildProcess,
  readerGone: boolean,
  ready: () => boolean,
): Promise<{ stdout: string; stderr: string; code: number; signal: Deno.Signal | null }> {
  const dec = new TextDecoder();
  const stdout = readerGone
    ? child.stdout.cancel().then(() => "")
    : new Response(child.stdout).arrayBuffer().then((b) => dec.decode(b));
  const stderr = new Response(child.stderr).arrayBuffer().then((b) => dec.decode(b));
  await until(ready, "the work to be under way", 20_000);
  Deno.kill(-child.pid, "SIGINT");
  const status = await child.status;
  return { stdout: await stdout, stderr: await stderr, code: status.code, signal: status.signal };
}

/** `n` finished tasks of `true`, and a count of the task folders in the store. */
async function finished(dir: string, n: number) {
  const tasks = new TaskManager({ dir });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await tasks.spawnShell("true")).id);
  for (const id of ids) await tasks.wait(id);
  return { ids, folders: () => [...Deno.readDirSync(join(dir, "tasks"))].length };
}

for (const readerGone of [false, true]) {
  Deno.test(
    `clean interrupted (Ctrl-C) stops between two removals: it ${
      readerGone
        ? "says so, though the same Ctrl-C ended its stdout's reader,"
        : "shows what it removed"
    } and ends by SIGINT (130); the rest stay whole`,
    async () => {
      await withStore(async (dir) => {
        const { ids, folders } = await finished(dir, 60);
        // At a terminal: a group of its own, which the Ctrl-C reaches whole.
        const clean = new Deno.Command(Deno.execPath(), {
          ...childOptions(),
          args: cliArgs(dir, ["clean", "--include-unread", "--json"]),
          detached: true,
        }).spawn();
        const out = await interruptedGroup(clean, readerGone, () => folders() < ids.length);
        // It stopped between two removals, said so, then ended by the signal.
        assert.equal(out.signal, "SIGINT", "ended by the signal once it had stopped");
        assert.equal(out.code, 130, out.stderr);
        const gone = ids.length - folders();
        if (!readerGone) {
          const removed = (JSON.parse(out.stdout) as TaskInfo[]).map((t) => t.id);
          assert.deepEqual(removed, ids.slice(0, gone));
        }
        assert.ok(gone > 0 && gone < ids.length, `${gone} removed`);
        assert.equal(
          out.stderr,
          `bgtask: interrupted (SIGINT) after removing ${gone} task${
            gone === 1 ? "" : "s"
          }; bgtask clean again removes the rest\n`,
        );
        // Every task left is whole: it lists, with no warning.
        const left = await cli(dir, ["list", "--json"]);
        assert.equal(left.stderr, "");
        assert.deepEqual((JSON.parse(left.stdout) as TaskInfo[]).map((t) => t.id), ids.slice(gone));
      });
    },
  );

  Deno.test(
    `rm interrupted (Ctrl-C) stops between two tasks: it ${
      readerGone
        ? "names those not done, though the same Ctrl-C ended its stdout's reader,"
        : "shows those removed, names those not done,"
    } and ends by SIGINT (130)`,
    async () => {
      await withStore(async (dir) => {
        const { ids, folders } = await finished(dir, 60);
        const rm = new Deno.Command(Deno.execPath(), {
          ...childOptions(),
          args: cliArgs(dir, ["rm", "--json", ...ids]),
          detached: true,
        }).spawn();
        const out = await interruptedGroup(rm, readerGone, () => folders() < ids.length);
        assert.equal(out.signal, "SIGINT", "ended by the signal once it had stopped");
        assert.equal(out.code, 130, out.stderr);
        const left = ids.slice(ids.length - folders());
        assert.ok(left.length > 0 && left.length < ids.length, `${left.length} left`);
        if (!readerGone) {
          const removed = (JSON.parse(out.stdout) as TaskInfo[]).map((t) => t.id);
          assert.deepEqual(removed, ids.slice(0, ids.length - left.length));
        }
        assert.equal(
          out.stderr,
          `bgtask: interrupted (SIGINT); not done: ${left.join(" ")} (bgtask rm ${
            left.join(" ")
          } does them)\n`,
        );
      });
    },
  );
}

Deno.test("kill interrupted during its grace (Ctrl-C) says the kill goes on, ends by SIGINT (130), and the task still ends", async () => {
  await withStore(async (dir, scratch) => {
    const termed = join(scratch, "termed");
    const go = join(scratch, "go");
    // Got SIGTERM: says so, and ends only once the test lets it, so the kill is
    // still in its grace when the Ctrl-C comes, however slow the machine (a grace
    // of 1 s was the whole margin: under load the look for the kill's bash took
    // longer, the kill was over, and the Ctrl-C found no handler).
    const id = await start(
      dir,
      `trap ": > '${termed}'; ${gate(go)}; exit 0" TERM; while true; do sleep 0.05; done`,
    );
    const killing = new Deno.Command(Deno.execPath(), {
      ...childOptions(),
      args: cliArgs(dir, ["kill", "--grace", "60s", id]),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await until(() => exists(termed), "the task to get SIGTERM");
    killing.kill("SIGINT");
    const [status, stderr] = await Promise.all([
      killing.status,
      new Response(killing.stderr).text(),
      killing.stdout.cancel(),
    ]);
    assert.deepEqual([status.code, status.signal], [130, "SIGINT"], stderr);
    assert.match(stderr, new RegExp(`interrupted; the kill of ${id} goes on without this command`));
    // The task ends within the grace: recorded as killed all the same (the kill stands).
    await Deno.writeTextFile(go, "");
    await until(
      async () => (await cliJson<TaskInfo>(dir, ["status", id, "--json"])).status === "killed",
      "the task to be killed all the same",
    );
  });
});

Deno.test("last names the newest task wherever a verb takes an id (send: only its id, not its text); an empty store says there is none", async () => {
  await withStore(async (dir) => {
    const none = await cli(dir, ["status", "last"]);
    assert.deepEqual(
      [none.code, none.stderr],
      [
        1,
        `bgtask: no task: last is the newest task, and there is no store at "${dir}" (nothing ` +
        "has run there); check --dir or BGTASK_DIR\n",
      ],
    );
    // A store there, with no task in it.
    assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "1"])).code, 0);
    const empty = await cli(dir, ["status", "last"]);
    assert.deepEqual(
      [empty.code, empty.stderr],
      [
        1,
        "bgtask: no task in the store (last is the newest task: none was run there, or all " +
        "were removed)\n",
      ],
    );
    await start(dir, "--wait", "echo first");
    const second = await start(dir, "--stdin", "pipe", "read -r w; echo got $w");
    assert.equal((await cliJson<TaskInfo>(dir, ["status", "last", "--json"])).id, second);
    assert.equal((await cli(dir, ["send", "last", "last"])).code, 0);
    const waited = await cli(dir, ["wait", "last", "--json"]);
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal((await cli(dir, ["logs", "last"])).stdout, "got last\n");
    // Elsewhere than an id, last is a word like any other: a command, a queue.
    assert.equal(await start(dir, "--wait", "echo", "last"), "b3");
    assert.equal((await cli(dir, ["logs", "last"])).stdout, "last\n");
    // run --after last: after the newest task (tsp -d).
    const next = await cliJson<TaskInfo>(dir, ["run", "--after", "b1,last", "--json", "true"]);
    assert.deepEqual(next.after, ["b1", "b3"]);
    assert.equal((await cli(dir, ["wait", next.id])).code, 0);
  });
});

Deno.test("comma lists of ids work wherever ids go (wait, kill, pause, resume, restart, rm, with last too), as run --after's do", async () => {
  // A pueue user's pass: `wait b1,b2`, `kill b1,b2`, `restart 1,2` were `"b1,b2" is not a task id`.
  await withStore(async (dir) => {
    const a = await start(dir, "sleep 300");
    const b = await start(dir, "sleep 300");
    const paused = await cliJson<TaskInfo[]>(dir, ["pause", `${a},${b}`]);
    assert.deepEqual(paused.map((t) => [t.id, t.status]), [[a, "paused"], [b, "paused"]]);
    const resumed = await cliJson<TaskInfo[]>(dir, ["resume", `${a.slice(1)},last`]);
    assert.deepEqual(resumed.map((t) => [t.id, t.status]), [[a, "running"], [b, "running"]]);
    const killed = await cliJson<TaskInfo[]>(dir, ["kill", "--grace", "0", `${a},${b}`]);
    assert.deepEqual(killed.map((t) => [t.id, t.status]), [[a, "killed"], [b, "killed"]]);
    const waited = await cli(dir, ["wait", `${a},last`, "--json"]);
    assert.equal(waited.code, 143, waited.stderr);
    assert.deepEqual(JSON.parse(waited.stdout).map((t: TaskInfo) => t.id), [a, b]);
    const again = await cliJson<TaskInfo[]>(dir, ["restart", "1,2"]);
    assert.deepEqual(again.map((t) => t.restartOf), [a, b]);
    await cli(dir, ["kill", "--grace", "0", again.map((t) => t.id).join(",")]);
    const removed = await cliJson<TaskInfo[]>(dir, ["rm", `${a},${b}`, "b3,b4"]);
    assert.deepEqual(removed.map((t) => t.id), [a, b, "b3", "b4"]);
    // One id where one goes: a list of two is refused as two ids are.
    const two = await cli(dir, ["status", "b1,b2"]);
    assert.deepEqual(
      [two.code, two.stderr],
      [
        2,
        "bgtask: too many task ids for bgtask status: it takes one, got 2 (see bgtask status --help)\n",
      ],
    );
  });
});
