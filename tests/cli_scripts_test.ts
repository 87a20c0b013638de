/**
 * The CLI in bash scripts and CI jobs: what a script around it relies on
 * (a Ctrl-C that stops the script, a store that is not there, failures a
 * wait leaves out, a stdout that cannot be written).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, until } from "./_helpers/common.ts";
import { childOptions, cli, cliArgs, withStore } from "./cli_helpers.ts";

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A bash function `bgtask` that runs the CLI on `dir`, to put before a script. */
function bgtaskFunction(dir: string): string {
  const command = [Deno.execPath(), ...cliArgs(dir, [])].map(shellQuote).join(" ");
  return `bgtask() { ${command} "$@"; }\n`;
}

/** The pids of `pid`'s children. */
function children(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)
      .filter((k) => k !== "").map(Number);
  } catch {
    return []; // gone
  }
}

Deno.test("a Ctrl-C that stops run --wait in a bash loop ends the CLI by SIGINT, so the loop stops (not exit 130, which bash takes as handled)", async () => {
  await withStore(async (dir) => {
    const script = bgtaskFunction(dir) +
      `for i in 1 2 3; do bgtask run --wait 'sleep 100'; done; echo reached-end\n`;
    const bash = new Deno.Command("bash", { args: ["-c", script], ...childOptions() }).spawn();
    const output = Promise.all([
      new Response(bash.stdout).text(),
      new Response(bash.stderr).text(),
    ]);
    try {
      // The first run has begun its spawn (the signals are heeded from before it).
      await until(() => exists(join(dir, "tasks", "b1")), "the first task");
      const [cli] = await until(() => children(bash.pid), "the CLI's pid");
      // As a terminal sends it: to the shell and to its foreground command.
      Deno.kill(bash.pid, "SIGINT");
      Deno.kill(cli, "SIGINT");
      // Either bash ends, or the loop goes on to a second run (it did, before).
      const went = await Promise.race([
        bash.status.then((s) => ({ ended: s })),
        until(() => exists(join(dir, "tasks", "b2")), "bash's end or a second task", 30_000)
          .then(() => ({ ended: undefined })),
      ]);
      assert.ok(went.ended, "the loop went on to a second bgtask run after the Ctrl-C");
      assert.equal(went.ended.signal, "SIGINT", "bash ends by SIGINT: its child died of it");
      const [stdout, stderr] = await output;
      assert.equal(stdout, "b1\n", "the id, and not reached-end");
      // (Heard while the spawn finished, or in the wait: either names the task that runs on.)
      assert.match(stderr, /^bgtask: (stopped waiting|interrupted) \(SIGINT\)[^\n]* b1\b.*\n$/);
    } finally {
      // Whatever the outcome: the CLIs of the loop too (withStore kills the tasks).
      for (const pid of children(bash.pid)) Deno.kill(pid, "SIGKILL");
      try {
        bash.kill("SIGKILL");
      } catch {
        // ended
      }
      await bash.status;
      await output;
    }
  });
});

Deno.test("--all and --queue on a store that does not exist fail (exit 1) naming the path and the fix; list says so on stderr and exits 0; neither makes the store", async () => {
  await withStore(async (_dir, scratch) => {
    const typo = join(scratch, "typo-store");
    const why = `no store at "${typo}": nothing has run there; check --dir or BGTASK_DIR`;
    for (
      const args of [
        ["wait", "--all"],
        ["wait", "--queue", "ci"],
        ["kill", "--all"],
        ["kill", "--queue", "ci"],
        ["pause", "--all"],
        ["resume", "--queue", "ci"],
      ]
    ) {
      const r = await cli(typo, args);
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", `bgtask: ${why}\n`], args.join(" "));
    }
    const list = await cli(typo, ["list", "--json"]);
    assert.deepEqual([list.code, list.stdout, list.stderr], [0, "[]\n", `bgtask: note: ${why}\n`]);
    assert.equal(exists(typo), false, "reading never creates the store");
  });
});
