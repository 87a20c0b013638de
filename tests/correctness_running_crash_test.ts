/**
 * Found by a chaos pass: a process killed while it rewrote a queue's
 * `running` (the tasks holding its slots) left it empty: the rewrite was in
 * place (truncate, then write), at every look at the queue, and the next
 * spawn or hand-off started tasks past the queue's limit.
 *
 * Now `running` is only appended to (a launch adds its entry) and replaced
 * whole by a rename once many of its entries are of tasks that ended. The
 * kill is made to land on the write with strace's fault injection (skipped,
 * saying so, without strace).
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { gate, hasStrace, MOD } from "./_helpers/common.ts";
import { until, withTempDir } from "./_helpers/reliability.ts";

const strace = await hasStrace();

Deno.test({
  name: `queue: a look killed as it would write the queue's running tasks leaves the limit holding${
    strace ? "" : " (skipped: strace is not installed)"
  }`,
  ignore: !strace,
  async fn() {
    await withTempDir("running-crash", async (dir) => {
      const store = `${dir}/store`;
      const tasks = new TaskManager({ dir: store });
      const hold = `${dir}/hold`;
      try {
        await tasks.setQueue("q", { parallel: 1 });
        const a = await tasks.spawnShell(gate(hold), { queue: "q" });
        const b = await tasks.spawnShell("echo b", { queue: "q" });
        await until(async () => (await tasks.getStatus(a.id))?.status === "running", "a's start");
        // A look at the queue (it schedules it), SIGKILLed at its first write to `running`.
        const look = `${dir}/look.ts`;
        await Deno.writeTextFile(
          look,
          `import { TaskManager } from ${JSON.stringify(MOD)};
           await new TaskManager({ dir: ${JSON.stringify(store)} }).getQueues();`,
        );
        const out = await new Deno.Command("strace", {
          args: [
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-P",
            `${store}/queues/q/running`,
            "-e",
            "trace=write,pwrite64,writev",
            "-e",
            "inject=write,pwrite64,writev:signal=SIGKILL:when=1",
            Deno.execPath(),
            "run",
            "-A",
            "--quiet",
            look,
          ],
          stdout: "null",
          stderr: "null",
          signal: AbortSignal.timeout(60_000),
        }).output();
        assert.ok(out.code === 0 || out.code === 1, `the look: ${out.code}`);
        // Whatever the look did: a still holds the slot, and the next spawn waits in line.
        const c = await tasks.spawnShell("echo c", { queue: "q" });
        const status = async (id: string) => (await tasks.getStatus(id))?.status;
        assert.deepEqual(
          [await status(a.id), await status(b.id), await status(c.id)],
          ["running", "queued", "queued"],
        );
        assert.equal((await tasks.getQueues()).find((q) => q.name === "q")?.running, 1);
        await Deno.writeTextFile(hold, "");
        for (const t of [a, b, c]) {
          const end = await tasks.wait(t.id, { signal: AbortSignal.timeout(20_000) });
          assert.equal(end.status, "completed");
        }
      } finally {
        await Deno.writeTextFile(hold, "");
        await tasks.close();
      }
    });
  },
});
