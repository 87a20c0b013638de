/**
 * A spawner whose environment exports SHELLOPTS (`set -o pipefail; export
 * SHELLOPTS`, a common idiom): the task's bash must not get job control
 * from bgtask's own (on for the moment of the fork), or it puts each of its
 * jobs in a group of its own, where a kill or a timeout cannot reach them.
 * And an `env` naming a variable bash keeps read-only is refused, saying how.
 */

import assert from "node:assert/strict";
import { until, withStore } from "./_helpers/common.ts";
import { childEnv, cli, cliArgs, withStore as withCliStore } from "./cli_helpers.ts";

Deno.test("an exported SHELLOPTS gives the task no job control: its jobs stay in its group, and a kill ends them", async () => {
  await withCliStore(async (dir) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: cliArgs(dir, [
        "run",
        // The job's group, read by the task itself; then a wait that only a kill ends.
        'sleep 300 & read -r _ _ _ _ pg _ </proc/$!/stat; echo "flags=$- self=$$ job=$pg"; wait',
      ]),
      clearEnv: true,
      env: childEnv({ SHELLOPTS: "braceexpand:hashall:interactive-comments:pipefail" }),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const id = new TextDecoder().decode(out.stdout).trim();
    const line = /^flags=(\S*) self=(\d+) job=(\d+)$/m;
    const m = await until(
      async () => (await cli(dir, ["logs", id])).stdout.match(line),
      "the line",
    );
    assert.ok(!m[1].includes("m"), `the task's bash has job control: ${m[1]}`);
    assert.equal(m[3], m[2], "the task's job is in a group of its own");
    const killed = await cli(dir, ["kill", id]);
    assert.equal(killed.code, 0, killed.stderr);
    // withStore fails the test if any process of the task is left.
  });
});

Deno.test("env naming SHELLOPTS, BASHOPTS or another bash read-only variable is refused, saying how to set options", async () => {
  await withStore(async (tasks) => {
    for (const name of ["SHELLOPTS", "BASHOPTS", "UID"]) {
      await assert.rejects(
        () => tasks.spawnShell("true", { env: { [name]: "x" } }),
        (e: Error) => {
          assert.ok(e instanceof TypeError);
          assert.match(e.message, new RegExp(`env names ${name}, which bash keeps read-only`));
          if (name.endsWith("OPTS")) assert.match(e.message, /set -o pipefail/);
          return true;
        },
      );
    }
    assert.deepEqual(await tasks.list(), [], "a refused spawn uses no id");
  });
});
