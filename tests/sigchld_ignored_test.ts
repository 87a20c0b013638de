/**
 * A caller that ignores SIGCHLD: the disposition is inherited through exec,
 * and the kernel then reaps the Deno process's children itself, so Deno's
 * wait for them fails with ECHILD. `bgtask run` printed an uncaught "No
 * child processes (os error 10)" and exited 1 with the task started; every
 * look (status, list, logs, kill, …) failed with those words alone; and
 * `spawnShell` ended its host with a rejection no try/catch could catch.
 * The parent here is perl, ignoring SIGCHLD and exec-ing Deno.
 */

import assert from "node:assert/strict";
import { cli, type CliResult, withStore } from "./cli_helpers.ts";
import {
  CHILD_DEADLINE_MS,
  gate,
  sameV8,
  scriptFile,
  withStore as withLibStore,
} from "./_helpers/common.ts";

/** A parent that ignores SIGCHLD and execs the rest of its arguments. */
const IGNORING = ["-e", '$SIG{CHLD} = "IGNORE"; exec @ARGV or die "exec: $!"'];

async function hasPerl(): Promise<boolean> {
  try {
    return (await new Deno.Command("perl", { args: ["-e", "1"] }).output()).success;
  } catch {
    return false;
  }
}
const noPerl = !(await hasPerl());

/** `bgtask --dir <dir> ...args`, started by a parent that ignores SIGCHLD. */
function ignoringCli(dir: string, args: string[]): Promise<CliResult> {
  return cli(dir, args, { via: ["perl", ...IGNORING] });
}

Deno.test({
  name: "the CLI started with SIGCHLD ignored: run prints the id, and every verb works",
  ignore: noPerl,
  fn: () =>
    withStore(async (dir) => {
      const ok = (r: CliResult, what: string) =>
        assert.equal(r.code, 0, `${what}: ${r.code} ${r.stdout} ${r.stderr}`);
      const run = await ignoringCli(dir, ["run", "echo hi; exit 5"]);
      ok(run, "run");
      assert.equal(run.stdout, "b1\n");
      assert.equal(run.stderr, "");
      const wait = await ignoringCli(dir, ["wait", "b1"]);
      assert.equal(wait.code, 5, wait.stderr);
      ok(await ignoringCli(dir, ["status", "b1"]), "status");
      const logs = await ignoringCli(dir, ["logs", "b1"]);
      ok(logs, "logs");
      assert.equal(logs.stdout, "hi\n");
      const sleeper = await ignoringCli(dir, ["run", "sleep 30"]);
      ok(sleeper, "run");
      const id = sleeper.stdout.trim();
      ok(await ignoringCli(dir, ["list"]), "list");
      ok(await ignoringCli(dir, ["pause", id]), "pause");
      ok(await ignoringCli(dir, ["resume", id]), "resume");
      ok(await ignoringCli(dir, ["kill", id]), "kill");
      const status = await ignoringCli(dir, ["status", id, "--json"]);
      ok(status, "status");
      assert.equal(JSON.parse(status.stdout).status, "killed");
    }),
});

Deno.test({
  name: "the module in a host that ignores SIGCHLD: spawnShell returns the task; looks say why " +
    "they fail and what to do, and work once the host handles SIGCHLD",
  ignore: noPerl,
  // (The store is settled by this process, which handles SIGCHLD: a task a
  // failed script left waiting at its gate is killed.)
  fn: () =>
    withLibStore(async (_, dir) => {
      const script = `
        import { TaskManager } from MOD;
        const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
        // Running until the gate is made: a look at it needs its processes (bash).
        const task = await tasks.spawnShell(${JSON.stringify(`${gate(`${dir}/go`)}; exit 5`)});
        console.log("spawned " + task.id);
        try {
          await tasks.getStatus(task.id);
          console.log("look worked");
        } catch (e) {
          console.log("look failed: " + e.message);
        }
        Deno.addSignalListener("SIGCHLD", () => {});
        await Deno.writeTextFile(${JSON.stringify(`${dir}/go`)}, "");
        const done = await tasks.wait(task.id);
        console.log("ended " + done.exitCode);
        await tasks.close();
      `;
      // (As runDeno runs a script, with the ignoring parent in front of Deno.)
      const file = await scriptFile(script);
      try {
        const out = await new Deno.Command("perl", {
          args: [...IGNORING, Deno.execPath(), "run", "--no-prompt", ...sameV8([]), "-A", file],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          signal: AbortSignal.timeout(CHILD_DEADLINE_MS),
        }).output();
        const stdout = new TextDecoder().decode(out.stdout);
        const stderr = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, `${stdout}\n${stderr}`);
        const lines = stdout.trim().split("\n");
        assert.equal(lines[0], "spawned b1");
        // Whether the look fails is Deno's timing, not ours: a helper bash that
        // has ended (and been reaped by the kernel) when Deno first asks after
        // it gives "No child processes"; one still running then is told of on
        // its pidfd, and its exit is reported (a loaded machine: 5 of 8 runs).
        // Failed, it must say why and what to do.
        if (lines[1] !== "look worked") {
          assert.match(
            lines[1],
            /^look failed: Cannot check whether a task is alive: this process ignores SIGCHLD \(inherited from the program that started it\), .*\(os error 10\); start it with SIGCHLD at its default \(env --default-signal=CHLD deno …\), or have it handle SIGCHLD before it calls bgtask: Deno\.addSignalListener\("SIGCHLD", \(\) => \{\}\)$/,
          );
        }
        assert.equal(lines[2], "ended 5");
      } finally {
        await Deno.remove(file);
      }
    }),
});
