/**
 * A process whose working directory is gone (deleted: an agent's server
 * started in a worktree removed since; or, for a user who is not root, one
 * it cannot enter, see correctness_non_root_test.ts) still runs bgtask.
 * Every bash bgtask starts used to inherit that directory, and Deno fails to
 * start a child there: every spawn, and every liveness look of `list`,
 * `wait` or `kill`, failed with "failed resolving cwd". They start in `/`
 * now; a task runs in the directory its spawn record names, and a spawn
 * without one says what to do.
 *
 * The library runs in a child process: a working directory is the whole
 * process's, and `deno test --parallel` runs other test files beside this one.
 */

import { assertEquals } from "./_helpers/assert.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

const CHILD = `
import { TaskManager } from "${MOD}";
const [store, gone, there] = Deno.args;
const tasks = new TaskManager({ dir: store });
Deno.chdir(gone);
Deno.removeSync(gone);
const out = {};
// (It runs until the look is over: a 0.3 s sleep was the whole margin on a slow machine.)
const t = await tasks.spawnShell("pwd; until [ -e go ]; do sleep 0.02; done; echo done", { cwd: there });
// A look at a running task runs a bash liveness check; a kill runs bash to end the tree.
out.listed = (await tasks.list()).find((x) => x.id === t.id)?.status;
Deno.writeTextFileSync(there + "/go", "");
out.ended = (await tasks.wait(t.id, { signal: AbortSignal.timeout(30_000) })).status;
out.output = await tasks.readOutput(t.id);
const k = await tasks.spawnShell("sleep 30", { cwd: there });
out.killed = (await tasks.kill(k.id)).status;
try {
  await tasks.spawnShell("pwd");
  out.refused = "not refused";
} catch (e) {
  out.refused = e.constructor.name + ": " + e.message;
}
await tasks.close();
console.log(JSON.stringify(out));
`;

Deno.test("a spawner whose working directory was deleted: tasks with a cwd start, looks at and kills of running tasks work, and a spawn without one is refused with the fix", async () => {
  const root = await Deno.makeTempDir({ prefix: "bgtask-gone-" });
  try {
    const [store, gone, there] = ["store", "gone", "there"].map((n) => `${root}/${n}`);
    await Deno.mkdir(gone);
    await Deno.mkdir(there);
    // Under the documented permissions (Deno's own check of --allow-run=bash
    // also tripped over the missing directory).
    await Deno.writeTextFile(`${root}/child.ts`, CHILD);
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-run=bash",
        `--allow-read=${root}`,
        `--allow-write=${root}`,
        `${root}/child.ts`,
        store,
        gone,
        there,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    assertEquals(r.code, 0, err);
    const out = JSON.parse(new TextDecoder().decode(r.stdout));
    assertEquals(out, {
      listed: "running",
      ended: "completed",
      output: `${there}\ndone\n`,
      killed: "killed",
      refused: "TypeError: Cannot spawn task: this process's working directory no longer " +
        "exists, so the task has none to start in: give it one (cwd; --cwd DIR on the command line)",
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
