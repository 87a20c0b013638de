/**
 * A terminal's input reaches its program through a kernel worker thread, some
 * time after script(1) has written it: the look for a program waiting for
 * input must not take a program that sleeps in the read it was just answered
 * in for one asking again (an agent answered a prompt twice under load). Its
 * output reaches script through such a worker too: a program seen waiting
 * must have its prompt in the output (an agent was shown none).
 *
 * The worker is held off for real: busy loops at a real-time priority on
 * every CPU (at most 0.3 s), above which only the test's child, the
 * task's script (and program) and the look (a real-time priority higher
 * still) run. Needs chrt (util-linux) and the right to real-time priorities
 * (root); skipped, saying why, without them. The kernel may still run its
 * worker in that time (since Linux 6.12 ordinary threads get 50 ms of
 * every second under real-time load): an attempt where it did shows
 * nothing, and is made again with a new task, up to 4 times (what each
 * attempt saw must hold in all of them; where the moment never came, the
 * test says so in its output).
 */

import { assert, assertEquals } from "./_helpers/assert.ts";
import { runDeno, untilOutput, withStore } from "./_helpers/common.ts";
import type { TaskManager } from "../mod.ts";

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
if (rtMissing) console.log(`skipping the terminal hand-off tests: ${rtMissing}`);

/** Attempts made for the moment to test (see the top). */
const ATTEMPTS = 4;

/**
 * The child's code: it makes itself, the task's script and the pids in
 * `alsoRealtime` (an expression) real-time, runs `before`, starts the busy
 * loops on every CPU below them, runs `during`, which sets `result`, stops
 * the loops and prints `result` as JSON. `dir`, `id`, `tasks`, `script`,
 * `reader` (the terminal's session leader), `output()`, `calm(pid)` (state
 * and voluntary switches) and `reads(pid)` (asleep reading a terminal) are
 * there for them.
 */
function child(dir: string, id: string, alsoRealtime: string, before: string, during: string) {
  return `import { TaskManager } from MOD;
    const dir = ${JSON.stringify(dir)}, id = ${JSON.stringify(id)};
    const run = (cmd, ...args) => new Deno.Command(cmd, { args, stdout: "null", stderr: "null" });
    const tasks = new TaskManager({ dir });
    const script = Deno.readTextFileSync(dir + "/tasks/" + id + "/started").split(" ")[2];
    const reader = Deno.readTextFileSync(dir + "/tasks/" + id + "/pty").split(" ")[0];
    const output = () => Deno.readTextFileSync(dir + "/tasks/" + id + "/output");
    const calm = (pid) => {
      const s = Deno.readTextFileSync("/proc/" + pid + "/status");
      return s.match(/^State:\\s*(\\S)/m)[1] + " " + s.match(/^voluntary_ctxt_switches:\\s*(\\d+)/m)[1];
    };
    // (n_tty_read sleeps in wait_woken)
    const reads = (pid) => ["n_tty_read", "wait_woken"].includes(Deno.readTextFileSync("/proc/" + pid + "/wchan"));
    const tick = () => new Promise((r) => setTimeout(r, 1));
    for (const pid of [String(Deno.pid), script, ...${alsoRealtime}]) {
      if (!(await run("chrt", "-a", "-f", "-p", "20", pid).output()).success) throw new Error("chrt -p failed");
    }
    ${before}
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
    while (!up() && Date.now() < deadline) await tick();
    let result;
    ${during}
    Deno.writeTextFileSync(stop, "");
    for (const h of hogs) await h.status;
    console.log(JSON.stringify(result));`;
}

/**
 * Runs `attempt` (a new task each time) until the moment to test came
 * (`pending`), up to ATTEMPTS times; checks `holds` on every attempt.
 */
async function untilPending<T extends { pending: boolean }>(
  tasks: TaskManager,
  attempt: () => Promise<T>,
  holds: (seen: T) => void,
): Promise<void> {
  const seen: T[] = [];
  for (let i = 0; i < ATTEMPTS && !seen.some((s) => s.pending); i++) {
    const s = await attempt();
    holds(s);
    seen.push(s);
  }
  if (!seen.some((s) => s.pending)) {
    console.log(
      `the kernel's worker ran in all ${ATTEMPTS} attempts: the moment to test never came`,
    );
  }
  for (const t of await tasks.list()) {
    if (t.status === "running") await tasks.kill(t.id, { graceMs: 0 });
  }
}

Deno.test({
  name:
    "pty: an answer the kernel has not yet handed to the program is not read as the program asking again",
  ignore: rtMissing !== undefined,
  async fn() {
    await withStore(async (tasks, dir) => {
      const attempt = async () => {
        // (After its answer it never reads again: any "waiting" after it is wrong.)
        const t = await tasks.spawnShell('read -r a; echo "got=$a"; sleep 30', { stdin: "pty" });
        await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(15_000) });
        // The answer, then a look while the kernel's worker cannot run. The
        // child tells whether the program still slept in its read, not yet
        // handed the answer, before the look, and what the look said.
        const c = await runDeno(
          ["-A"],
          child(
            dir,
            t.id,
            "[]",
            "",
            `const before = calm(reader), scriptBefore = calm(script);
             await tasks.writeStdin(id, "hello\\r");
             // script (real-time too) takes the answer from its FIFO, writes it to
             // the terminal and sleeps again: it has run, and sleeps
             const moved = Date.now() + 2000;
             while (Date.now() < moved && (calm(script) === scriptBefore || !calm(script).startsWith("S"))) await tick();
             const pending = up() && calm(reader) === before && calm(script) !== scriptBefore;
             result = { pending, waiting: (await tasks.getStatus(id)).waitingForInput };`,
          ),
        );
        assertEquals(c.code, 0, c.stderr);
        await untilOutput(tasks, t.id, "got=hello");
        return JSON.parse(c.stdout.trim().split("\n").at(-1)!);
      };
      await untilPending(tasks, attempt, (seen) => {
        assertEquals(seen.waiting, false, "a program answered is not waiting for input");
      });
    });
  },
});

Deno.test({
  name:
    "pty: a program seen waiting for input has its prompt in the output, even while the kernel has not yet handed it on",
  ignore: rtMissing !== undefined,
  async fn() {
    await withStore(async (tasks, dir) => {
      const attempt = async () => {
        // Its second prompt is printed once the test says so (the file "go").
        const go = `${dir}/go-${crypto.randomUUID()}`;
        const t = await tasks.spawnShell(
          `read -r a; until [[ -e ${
            JSON.stringify(go)
          } ]]; do sleep 0.01; done; printf 'second> '; read -r b; echo "got=$b"`,
          { stdin: "pty" },
        );
        await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(15_000) });
        // The first answer (its program real-time too); once it has left
        // that read, the busy loops; then the program prints its prompt and
        // reads, and the look comes while the kernel's worker cannot hand
        // the prompt on to script. The child tells whether the prompt was
        // still on its way when the program was seen reading, and what the
        // look said and what the output held then.
        const c = await runDeno(
          ["-A"],
          child(
            dir,
            t.id,
            "[reader]",
            `await tasks.writeStdin(id, "first\\r");
             const left = Date.now() + 5000;
             while (Date.now() < left && reads(reader)) await tick();`,
            `Deno.writeTextFileSync(${JSON.stringify(go)}, "");
             const asks = Date.now() + 2000;
             while (Date.now() < asks && !reads(reader)) await tick();
             const pending = up() && reads(reader) && !output().includes("second> ");
             const waiting = (await tasks.getStatus(id)).waitingForInput;
             result = { pending, waiting, shown: output().includes("second> ") };`,
          ),
        );
        assertEquals(c.code, 0, c.stderr);
        await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(15_000) });
        await untilOutput(tasks, t.id, "second> ");
        await tasks.writeStdin(t.id, "two\r");
        await untilOutput(tasks, t.id, "got=two");
        return JSON.parse(c.stdout.trim().split("\n").at(-1)!);
      };
      await untilPending(tasks, attempt, (seen) => {
        assert(!seen.waiting || seen.shown, "a program seen waiting has its prompt in the output");
      });
    });
  },
});
