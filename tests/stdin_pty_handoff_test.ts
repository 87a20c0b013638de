/**
 * A terminal's input reaches its program through a kernel worker thread, some
 * time after script(1) has written it: the look for a program waiting for
 * input must not take a program that sleeps in the read it was just answered
 * in for one asking again (an agent answered a prompt twice under load).
 *
 * The worker is held off for real: busy loops at a real-time priority on
 * every CPU (at most 0.3 s), above which only the test's child, the
 * task's script and the look (a real-time priority higher still) run. Needs
 * chrt (util-linux) and the right to real-time priorities (root); skipped,
 * saying why, without them.
 */

import { assert, assertEquals } from "./_helpers/assert.ts";
import { runDeno, untilOutput, withStore } from "./_helpers/common.ts";

/** Why real-time priorities cannot be used here; undefined when they can. */
async function realtimeMissing(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("chrt", {
      args: ["-f", "1", "true"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (out.success) return undefined;
    return `chrt -f cannot start a real-time process here (${
      new TextDecoder().decode(out.stderr).trim()
    })`;
  } catch {
    return "chrt (util-linux) is not on PATH";
  }
}

const rtMissing = await realtimeMissing();
if (rtMissing) console.log(`skipping the terminal hand-off test: ${rtMissing}`);

Deno.test({
  name:
    "pty: an answer the kernel has not yet handed to the program is not read as the program asking again",
  ignore: rtMissing !== undefined,
  async fn() {
    await withStore(async (tasks, dir) => {
      // (After its answer it never reads again: any "waiting" after it is wrong.)
      const t = await tasks.spawnShell('read -r a; echo "got=$a"; sleep 30', { stdin: "pty" });
      await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(15_000) });
      // The child: real-time (and the task's script with it), then busy
      // loops on every CPU below it; the answer, then a look while the
      // kernel's worker cannot run. It tells whether the program still slept
      // in its read, not yet handed the answer, before the look (else this
      // test would show nothing), and what the look said.
      const child = await runDeno(
        ["-A"],
        `import { TaskManager } from MOD;
         const dir = ${JSON.stringify(dir)}, id = ${JSON.stringify(t.id)};
         const run = (cmd, ...args) => new Deno.Command(cmd, { args, stdout: "null", stderr: "null" });
         const tasks = new TaskManager({ dir });
         const script = Deno.readTextFileSync(dir + "/tasks/" + id + "/started").split(" ")[2];
         const reader = Deno.readTextFileSync(dir + "/tasks/" + id + "/pty").split(" ")[0];
         const calm = (pid) => {
           const s = Deno.readTextFileSync("/proc/" + pid + "/status");
           return s.match(/^State:\\s*(\\S)/m)[1] + " " + s.match(/^voluntary_ctxt_switches:\\s*(\\d+)/m)[1];
         };
         if (!(await run("chrt", "-a", "-f", "-p", "20", String(Deno.pid)).output()).success ||
             !(await run("chrt", "-f", "-p", "20", script).output()).success) {
           throw new Error("chrt -p failed");
         }
         const stop = dir + "/hogs-stop";
         const hogs = [];
         // every CPU this process may run on (Cpus_allowed_list: "0-1,4")
         const cpus = Deno.readTextFileSync("/proc/self/status").match(/^Cpus_allowed_list:\\s*(\\S+)/m)[1]
           .split(",").flatMap((r) => { const [a, b = a] = r.split("-").map(Number); return Array.from({ length: b - a + 1 }, (_, i) => a + i); });
         for (const cpu of cpus) {
           hogs.push(run("chrt", "-f", "10", "taskset", "-c", String(cpu), "bash", "-c",
             'echo > "$1"; t=\${EPOCHREALTIME/./}; until [[ -e $2 ]] || ((\${EPOCHREALTIME/./} - t > 300000)); do :; done',
             "hog", dir + "/hog-" + cpu, stop).spawn());
         }
         const up = () => cpus.every((cpu) => { try { Deno.statSync(dir + "/hog-" + cpu); return true; } catch { return false; } });
         const deadline = Date.now() + 5000;
         while (!up() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
         const before = calm(reader), scriptBefore = calm(script);
         await tasks.writeStdin(id, "hello\\r");
         // script (real-time too) takes the answer from its FIFO, writes it to
         // the terminal and sleeps again: it has run, and sleeps
         const moved = Date.now() + 2000;
         while (Date.now() < moved && (calm(script) === scriptBefore || !calm(script).startsWith("S"))) {
           await new Promise((r) => setTimeout(r, 1));
         }
         const pending = up() && calm(reader) === before && calm(script) !== scriptBefore;
         const waiting = (await tasks.getStatus(id)).waitingForInput;
         Deno.writeTextFileSync(stop, "");
         for (const h of hogs) await h.status;
         console.log(JSON.stringify({ pending, waiting }));`,
      );
      assertEquals(child.code, 0, child.stderr);
      const seen = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
      assert(seen.pending, "the answer was still on its way to the program when the look began");
      assertEquals(seen.waiting, false, "a program answered is not waiting for input");
      await untilOutput(tasks, t.id, "got=hello");
      await tasks.kill(t.id, { graceMs: 0 });
    });
  },
});
