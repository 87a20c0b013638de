/**
 * A task that waits (in a queue, for its dependencies) is started by another
 * process — the supervisor of a task that ends — yet runs with the
 * environment and umask of the process that spawned it, recorded at the
 * spawn: through the CLI under the minimal permissions (read by a bash) and
 * through the library with `--allow-env` (read by Deno). Tasks are held by
 * gate files: the waiting ones are started by the first one's supervisor.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { minimalFlags, runDeno, withStore } from "./_helpers/common.ts";
import { childEnv, cli, cliArgs, gate, withStore as withCliStore } from "./cli_helpers.ts";

/** `bgtask run …` with `env` added to the child's environment and this umask; returns the id. */
async function runWith(
  dir: string,
  env: Record<string, string>,
  umask: string,
  ...args: string[]
): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `umask ${umask}; exec "$0" "$@"`,
      Deno.execPath(),
      ...cliArgs(dir, ["run", ...args]),
    ],
    clearEnv: true,
    env: childEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return text.trim();
}

Deno.test("a queued or dependent task runs with its spawner's environment and umask, not its starter's (CLI, minimal permissions)", async () => {
  await withCliStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    assert.equal((await cli(dir, ["queue", "set", "shards", "--parallel", "1"])).code, 0);
    const first = await runWith(
      dir,
      { SHARD: "1" },
      "022",
      "--queue",
      "shards",
      `${gate(go)}; echo "shard=$SHARD"; umask`,
    );
    // Started by the first one's supervisor once it ends (its slot, then its dependents).
    const second = await runWith(
      dir,
      { SHARD: "2" },
      "077",
      "--queue",
      "shards",
      'echo "shard=$SHARD"; umask',
    );
    const dependent = await runWith(
      dir,
      { FOO: "third" },
      "027",
      "--after",
      first,
      'echo "foo=$FOO shard=${SHARD-unset}"; umask',
    );
    await Deno.writeTextFile(go, "");
    const waited = await cli(dir, ["wait", first, second, dependent]);
    assert.equal(waited.code, 0, waited.stderr);
    const out = async (id: string) => (await cli(dir, ["logs", id])).stdout;
    assert.equal(await out(first), "shard=1\n0022\n");
    assert.equal(await out(second), "shard=2\n0077\n");
    assert.equal(await out(dependent), "foo=third shard=unset\n0027\n");

    // A restart is a spawn from the process that restarts: its environment.
    const again = await new Deno.Command(Deno.execPath(), {
      args: cliArgs(dir, ["restart", second]),
      clearEnv: true,
      env: childEnv({ SHARD: "9" }),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(again.code, 0, new TextDecoder().decode(again.stderr));
    const restarted = new TextDecoder().decode(again.stdout).match(/b\d+/)?.[0];
    assert.ok(restarted, new TextDecoder().decode(again.stdout));
    assert.equal((await cli(dir, ["wait", restarted])).code, 0);
    assert.equal((await out(restarted)).split("\n")[0], "shard=9");
  });
});

Deno.test("a queued task runs with the environment its spawner had at the spawn (library, --allow-env)", async () => {
  await withStore(async (tasks, dir) => {
    const go = join(dir, "go");
    const name = "BGTASK_TEST_INHERIT";
    await tasks.setQueue("q", { parallel: 1 });
    try {
      Deno.env.set(name, "one");
      const first = await tasks.spawnShell(`${gate(go)}; echo "$${name}"`, { queue: "q" });
      Deno.env.set(name, "two");
      const second = await tasks.spawnShell(`echo "$${name}"`, { queue: "q" });
      Deno.env.delete(name);
      const unset = await tasks.spawnShell(`echo "\${${name}-unset}"`, { queue: "q" });
      await Deno.writeTextFile(go, "");
      for (const t of [first, second, unset]) await tasks.wait(t.id);
      assert.equal(await tasks.readOutput(first.id), "one\n");
      assert.equal(await tasks.readOutput(second.id), "two\n");
      assert.equal(await tasks.readOutput(unset.id), "unset\n");
    } finally {
      Deno.env.delete(name);
    }
  });
});

Deno.test("a waiting task's recorded environment is only its environment: names the supervisor uses change nothing, bytes stay bytes, the starter's functions and variables do not leak, and the record is emptied at the start", async () => {
  await withCliStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const cwd = await Deno.makeTempDir({ dir: scratch });
    assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "1"])).code, 0);
    // The starter: its supervisor starts the others. Its spawner exports a
    // function and a variable that must not reach them.
    // Its spawner's names that the supervisor's own code uses, and bash's
    // own variables, must not change what the others do either.
    await runWith(
      dir,
      {
        "BASH_FUNC_f_starter%%": "() {  echo starter\n}",
        STARTER_ONLY: "1",
        // Names of locals of the supervisor's code (they hide these globals).
        rc: "LEAK",
        names: "LEAK",
        line: "LEAK",
        tok: "1",
        rcwd: "1",
        id: "1",
        BASH_XTRACEFD: "1",
        BASHOPTS: "xpg_echo",
      },
      "022",
      "--queue",
      "q",
      gate(go),
    );
    // Names the supervisor's own code uses, and a value that is not UTF-8.
    const hostile = {
      s_command: "echo HIJACKED",
      tok: "bogus",
      BASH: "/bin/sh",
      rcwd: "/etc",
      cmd: "echo PTY-HIJACK",
      id: "zzz",
      TERM: "dumb",
    };
    const runBytes = async (...args: string[]) => {
      const out = await new Deno.Command("bash", {
        args: [
          "-c",
          `export BIN=$'\\xff\\xfe'; exec "$0" "$@"`,
          Deno.execPath(),
          ...cliArgs(dir, ["run", "--queue", "q", "--cwd", cwd, ...args]),
        ],
        clearEnv: true,
        env: childEnv(hostile),
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return new TextDecoder().decode(out.stdout).trim();
    };
    const probe = 'echo "ran pwd=$PWD"; printf %s "$BIN" | od -An -tx1; ' +
      'declare -F f_starter || echo "no function"; echo "starter=${STARTER_ONLY-unset}"; ' +
      'echo "token=$BGTASK_INVOCATION id=$BGTASK_TASK_ID"; shopt xpg_echo; ' +
      "env | grep -c =LEAK; true";
    const plain = await runBytes(probe);
    const onPty = await runBytes("--stdin", "pty", `echo "term=$TERM"; ${probe}`);
    await Deno.writeTextFile(go, "");
    assert.equal((await cli(dir, ["wait", plain, onPty])).code, 0);
    const token = (id: string) =>
      Deno.readTextFileSync(join(dir, "tasks", id, "spec")).match(/\0token=([0-9a-f]+)\0/)?.[1];
    for (const id of [plain, onPty]) {
      const out = (await cli(dir, ["logs", id])).stdout.replaceAll("\r", "");
      assert.match(out, new RegExp(`^ran pwd=${cwd}$`, "m"), out);
      assert.match(out, /^ ff fe$/m, out);
      assert.match(out, /^no function$/m, out);
      assert.match(out, /^starter=unset$/m, out);
      assert.match(out, /^0$/m, `no name of the starter's hidden by a local leaks: ${out}`);
      assert.match(out, new RegExp(`^token=${token(id)} id=${id}$`, "m"), out);
      assert.match(out, /^xpg_echo\s+off$/m, out);
      assert.doesNotMatch(out, /HIJACK/);
      assert.equal(
        Deno.statSync(join(dir, "tasks", id, "environ")).size,
        0,
        "emptied at the start",
      );
    }
    // A dumb terminal type is replaced, as for a task that starts at once.
    assert.match((await cli(dir, ["logs", onPty])).stdout, /^term=xterm-256color\r?$/m);
  });
});

Deno.test("a waiting task's recorded environment is emptied when it ends without starting (killed while queued, failed for a dependency)", async () => {
  await withCliStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "1"])).code, 0);
    const first = await runWith(
      dir,
      { SECRET: "hunter2" },
      "022",
      "--queue",
      "q",
      `${gate(go)}; exit 1`,
    );
    const queued = await runWith(dir, { SECRET: "hunter2" }, "022", "--queue", "q", "true");
    const dependent = await runWith(dir, { SECRET: "hunter2" }, "022", "--after", first, "true");
    const environ = (id: string) => Deno.readTextFileSync(join(dir, "tasks", id, "environ"));
    assert.match(environ(queued), /SECRET=hunter2/, "recorded while it waits");
    assert.equal((await cli(dir, ["kill", queued])).code, 0);
    await Deno.writeTextFile(go, "");
    await cli(dir, ["wait", first, dependent]);
    const status = JSON.parse((await cli(dir, ["status", dependent, "--json"])).stdout);
    assert.equal(status.reason, "dependency");
    assert.equal(environ(queued), "", "killed before it started");
    assert.equal(environ(dependent), "", "failed unrun");
  });
});

Deno.test("with a scoped --allow-env, a variable the spawner sets between spawns reaches each waiting task", async () => {
  await withStore(async (tasks, dir) => {
    const go = join(dir, "go");
    await tasks.setQueue("q", { parallel: 1 });
    const spawned = await runDeno(
      [...minimalFlags(dir), "--allow-env=SHARD,HOME,XDG_CACHE_HOME,BGTASK_DIR"],
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const ids = [];
       for (const shard of ["1", "2", "3"]) {
         Deno.env.set("SHARD", shard);
         ids.push((await tasks.spawnShell(${
        JSON.stringify(`${gate(go)}; echo "shard=$SHARD"`)
      }, { queue: "q" })).id);
       }
       console.log(ids.join(" "));`,
    );
    assert.equal(spawned.code, 0, spawned.stderr);
    await Deno.writeTextFile(go, "");
    const ids = spawned.stdout.trim().split(" ");
    for (const [i, id] of ids.entries()) {
      await tasks.wait(id);
      assert.equal(await tasks.readOutput(id), `shard=${i + 1}\n`, id);
    }
  });
});

Deno.test("a recorded environment left full after the task ended (a supervisor of an older bgtask knew no such record) is emptied by the next sweep of the active set", async () => {
  await withStore(async (tasks, dir) => {
    const go = join(dir, "go");
    await tasks.setQueue("q", { parallel: 1 });
    const first = await tasks.spawnShell(gate(go), { queue: "q" });
    const waiting = await tasks.spawnShell("true", { queue: "q" });
    const environ = join(dir, "tasks", waiting.id, "environ");
    const recorded = await Deno.readFile(environ);
    assert.ok(recorded.length > 0);
    await Deno.writeTextFile(go, "");
    await tasks.wait(first.id);
    await tasks.wait(waiting.id);
    // As an older supervisor leaves it: the record whole, the task still in the active set.
    await Deno.writeFile(environ, recorded);
    await Deno.writeFile(join(dir, "active", waiting.id), new Uint8Array());
    await tasks.drainCompletions(); // (a sweep of the active set)
    assert.equal(Deno.statSync(environ).size, 0);
  });
});

Deno.test("a task gets its spawner's exported functions, OLDPWD and SHLVL, whether it starts at once or waits, on a pipe or a terminal", async () => {
  await withCliStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "1"])).code, 0);
    const env = { "BASH_FUNC_bgt_fn%%": '() {  echo "fn-$1"\n}', OLDPWD: scratch, SHLVL: "4" };
    const probe = 'echo "o=${OLDPWD-unset} l=$SHLVL"; bgt_fn x';
    // What a bash started by that spawner shows (runWith's own bash in between, as for bgtask).
    const ref = await new Deno.Command("bash", {
      args: ["-c", `umask 022; exec bash -c '${probe}'`],
      clearEnv: true,
      env: childEnv(env),
      stdout: "piped",
    }).output();
    const want = new TextDecoder().decode(ref.stdout);
    assert.match(want, /^o=.+ l=\d+\nfn-x\n$/);
    await runWith(dir, {}, "022", "--queue", "q", gate(go));
    const ids: string[] = [];
    for (const tty of [[], ["--stdin", "pty"]]) {
      ids.push(await runWith(dir, env, "022", ...tty, probe));
      ids.push(await runWith(dir, env, "022", "--queue", "q", ...tty, probe));
    }
    const none = await runWith(dir, {}, "022", 'echo "o=${OLDPWD-unset}"');
    await Deno.writeTextFile(go, "");
    for (const id of [...ids, none]) assert.equal((await cli(dir, ["wait", id])).code, 0, id);
    const out = async (id: string) =>
      (await cli(dir, ["logs", id])).stdout.replaceAll("\r\n", "\n");
    for (const id of ids) assert.equal(await out(id), want, id);
    // (Not the task's folder, where bgtask's own cd would leave it.)
    assert.equal(await out(none), "o=unset\n");
  });
});

Deno.test("a task that waits runs with its spawner's resource limits and nice value, not its starter's (as one that starts at once does)", async () => {
  await withCliStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "1"])).code, 0);
    // The starter: its supervisor starts the waiting ones; its spawner is not limited.
    const starter = await runWith(dir, {}, "022", "--queue", "q", gate(go));
    const probe = 'echo "$(ulimit -Sn) $(ulimit -Hn) $(ulimit -St) $(nice) $0"';
    // A spawner with lower limits and a higher nice value than the starter's.
    const limited =
      `ulimit -S -n 300; ulimit -H -n 400; ulimit -S -t 5000; exec nice -n 4 "$0" "$@"`;
    const run = async (cmd: string, args: string[]) => {
      const out = await new Deno.Command("bash", {
        args: ["-c", limited, cmd, ...args],
        clearEnv: true,
        env: childEnv(),
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return new TextDecoder().decode(out.stdout);
    };
    // What a task it starts at once gets (Deno raises its own soft limit of open files to the hard one).
    const now = (await run(Deno.execPath(), cliArgs(dir, ["run", probe]))).trim();
    assert.equal((await cli(dir, ["wait", now])).code, 0);
    const want = (await cli(dir, ["logs", now])).stdout;
    assert.match(want, /^400 400 5000 \d+ bash\n$/);
    const ids: string[] = [];
    for (
      const how of [["--queue", "q"], ["--after", starter], ["--queue", "q", "--stdin", "pty"]]
    ) {
      ids.push((await run(Deno.execPath(), cliArgs(dir, ["run", ...how, probe]))).trim());
    }
    await Deno.writeTextFile(go, "");
    for (const id of ids) {
      assert.equal((await cli(dir, ["wait", id])).code, 0, id);
      const out = (await cli(dir, ["logs", id])).stdout.replaceAll("\r\n", "\n");
      assert.equal(out, want, id);
    }
  });
});

Deno.test("a waiting task's exported functions are imported by its command's bash, with bash's checks: trailing code in a value is refused, as for a task that starts at once; one named builtin changes nothing", async () => {
  await withCliStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const mark = join(scratch, "injected");
    assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "1"])).code, 0);
    await runWith(dir, {}, "022", "--queue", "q", gate(go));
    const env = {
      "BASH_FUNC_x%%": `() { :; }; touch '${mark}'`,
      "BASH_FUNC_builtin%%": "() {  echo fake builtin\n}",
      "BASH_FUNC_mine%%": "() {  echo mine\n}",
    };
    const probe = "echo ran; mine";
    const now = await runWith(dir, env, "022", probe);
    const later = await runWith(dir, env, "022", "--queue", "q", probe);
    await Deno.writeTextFile(go, "");
    for (const id of [now, later]) {
      assert.equal((await cli(dir, ["wait", id])).code, 0, id);
      const out = (await cli(dir, ["logs", id])).stdout;
      assert.match(out, /ran\nmine\n$/, `${id}: ${out}`);
      assert.doesNotMatch(out, /fake builtin/, id);
    }
    assert.equal(await Deno.stat(mark).then(() => true, () => false), false, "no code ran");
  });
});

Deno.test("a waiting task's exported functions reach it when a folder named env comes first on PATH (a Python venv)", async () => {
  await withCliStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    await Deno.mkdir(join(scratch, "venv", "env"), { recursive: true });
    assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "1"])).code, 0);
    await runWith(dir, {}, "022", "--queue", "q", gate(go));
    const env = {
      "BASH_FUNC_myfn%%": "() {  echo myfn-ok\n}",
      PATH: `${join(scratch, "venv")}:${Deno.env.get("PATH")}`,
    };
    const id = await runWith(dir, env, "022", "--queue", "q", "myfn");
    await Deno.writeTextFile(go, "");
    assert.equal((await cli(dir, ["wait", id])).code, 0, id);
    assert.equal((await cli(dir, ["logs", id])).stdout, "myfn-ok\n");
  });
});
