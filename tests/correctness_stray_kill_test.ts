/**
 * Deno (2.9) sends SIGKILL to a referenced child's pid after it has reaped
 * the child. The pid is free by then: on a machine that reuses pids quickly
 * the signal lands on whoever got it next — under the pid-reuse stress, a
 * task (recorded "killed by signal SIGKILL") or a supervisor before it
 * reported the start ("bash exited with code 0 without starting the task").
 * bgtask runs its bash processes unreferenced (src/supervisor/bash.ts), so
 * this process signals nothing but what it means to.
 *
 * The test counts the kill(2) calls of a Deno process that spawns, waits,
 * lists and kills tasks, with strace (skipped, saying so, without it).
 */

import assert from "node:assert/strict";
import { hasStrace } from "./_helpers/common.ts";
import { withTempDir } from "./_helpers/reliability.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

const strace = await hasStrace();

Deno.test({
  name: `the library sends no signal to a pid it did not mean to (no SIGKILL to reaped children)${
    strace ? "" : " (skipped: strace is not installed)"
  }`,
  ignore: !strace,
  async fn() {
    await withTempDir("stray-kill", async (dir) => {
      const script = `${dir}/script.ts`;
      await Deno.writeTextFile(
        script,
        `import { TaskManager } from ${JSON.stringify(MOD)};
         const tasks = new TaskManager({ dir: ${JSON.stringify(`${dir}/store`)} });
         for (let i = 0; i < 5; i++) await tasks.wait((await tasks.spawnShell("true")).id);
         const t = await tasks.spawnShell("sleep 30");
         await tasks.list();
         await tasks.kill(t.id, { graceMs: 0 });
         await tasks.close();
         console.log("done");`,
      );
      // -f follows Deno's threads (and its children, whose group kills are meant).
      const out = await new Deno.Command("strace", {
        args: [
          "-f",
          "-qq",
          "-e",
          "trace=kill,tgkill,tkill,pidfd_send_signal",
          "-e",
          "signal=none",
          "-o",
          `${dir}/trace`,
          Deno.execPath(),
          "run",
          "-A",
          script,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.match(stdout, /done/);
      const trace = await Deno.readTextFile(`${dir}/trace`);
      // Deno's kill-on-drop is SIGKILL to one pid; bgtask's bash sends
      // SIGKILL only to process groups (-PGID), and only past a grace.
      const stray = trace.split("\n").filter((l) => /\bkill\(\d+, SIGKILL\)/.test(l));
      assert.deepEqual(stray, [], "kill(PID, SIGKILL) calls");
    });
  },
});
