/**
 * A program that handles Ctrl-C (or SIGTERM, SIGHUP) itself, to close its
 * manager or finish its work: the signal reaches its whole process group,
 * bgtask's short-lived helper bash included, and the calls under way must
 * not fail because of it.
 *
 * @module
 */

import { assert, assertEquals } from "./_helpers/assert.ts";
import { CHILD_DEADLINE_MS, ROOT, scriptFile, withStore } from "./_helpers/common.ts";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

Deno.test("a program that handles Ctrl-C, SIGTERM and SIGHUP itself: its calls under way do not fail when they reach its whole group, a storm of them too", async () => {
  await withStore(async (tasks, dir) => {
    const stop = `${dir}/stop`;
    const script = await scriptFile(`
      const { TaskManager } = await import(MOD);
      const [dir, stop] = Deno.args;
      const tasks = new TaskManager({ dir });
      const heard = { SIGINT: 0, SIGTERM: 0, SIGHUP: 0 };
      for (const s of Object.keys(heard)) Deno.addSignalListener(s, () => heard[s]++);
      const t = await tasks.spawnShell("sleep 600");
      console.log(t.id);
      let calls = 0;
      const errors = [];
      for (;;) {
        try {
          // (Each looks at the running task's processes: a bash each time.)
          await Promise.all([tasks.getStatus(t.id), tasks.list({ status: "running" })]);
          calls++;
        } catch (e) {
          errors.push(String(e));
        }
        try {
          Deno.lstatSync(stop);
          break;
        } catch {
          // go on
        }
      }
      console.log(JSON.stringify({ calls, errors, heard }));
      Deno.exit(0);
    `);
    try {
      // A group of its own (its own session), which the test signals as a
      // terminal's Ctrl-C signals its foreground group.
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, dir, stop],
        cwd: ROOT,
        detached: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(CHILD_DEADLINE_MS),
      }).spawn();
      const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!text.includes("\n")) {
        const { value, done } = await out.read();
        if (done) break;
        text += value;
      }
      const id = text.trim();
      assert(/^b\d+$/.test(id), `the child's first line: ${JSON.stringify(text)}`);
      // Paced, then a storm (Ctrl-C held down): a helper bash ended before
      // its trap is run again, and a storm ended each new one as well.
      for (let i = 0; i < 45; i++) {
        Deno.kill(-child.pid, SIGNALS[i % 3]);
        await new Promise((r) => setTimeout(r, 15)); // (pacing: the helpers run meanwhile)
      }
      for (let i = 0; i < 400; i++) {
        Deno.kill(-child.pid, SIGNALS[i % 3]);
        await new Promise((r) => setTimeout(r, 1));
      }
      await Deno.writeTextFile(stop, "");
      for (;;) {
        const { value, done } = await out.read();
        if (done) break;
        text += value;
      }
      const [status, stderr] = await Promise.all([
        child.status,
        new Response(child.stderr).text(),
      ]);
      assertEquals([status.code, status.signal], [0, null], stderr);
      const result = JSON.parse(text.split("\n")[1]) as {
        calls: number;
        errors: string[];
        heard: Record<string, number>;
      };
      assertEquals(result.errors, []);
      assert(result.calls > 0, `no call was made: ${text}`);
      for (const s of SIGNALS) assert(result.heard[s] > 0, `${s} was not heard: ${text}`);
      // Its task, in a session of its own, was not reached.
      assertEquals((await tasks.getStatus(id))?.status, "running");
    } finally {
      await Deno.remove(script);
    }
  });
});
