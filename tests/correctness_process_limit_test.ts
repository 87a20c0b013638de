/**
 * The process limit: at the most processes a user (ulimit -u) or a cgroup
 * (pids.max) may have, bash retries a fork for 15 s and then gives up. A
 * task that uses up the limit must still be timed out on time (its watchdog
 * must not fork to wait or to look), a supervisor that cannot fork its task
 * must record why the task did not start, and a spawn refused by the kernel
 * must name the limit. Each test runs its processes in a pids cgroup of its
 * own; without one (not root, no pids controller) they are skipped, saying so.
 */

import { assert, assertEquals } from "./_helpers/assert.ts";
import { CHILD_DEADLINE_MS, scriptFile, until, withStore } from "./_helpers/common.ts";
import { childOptions, cliArgs } from "./cli_helpers.ts";

/** Where pids cgroups are made (v1's controller, or v2's root with pids enabled), or why none can be. */
function pidsRoot(): { root: string } | { skip: string } {
  const has = (path: string, word: string) => {
    try {
      return Deno.readTextFileSync(path).split(/\s+/).includes(word);
    } catch {
      return false;
    }
  };
  if (Deno.uid() !== 0) return { skip: "making a cgroup needs root" };
  try {
    if (Deno.statSync("/sys/fs/cgroup/pids/cgroup.procs").isFile) {
      return { root: "/sys/fs/cgroup/pids" };
    }
  } catch {
    // not cgroup v1
  }
  if (has("/sys/fs/cgroup/cgroup.subtree_control", "pids")) return { root: "/sys/fs/cgroup" };
  return { skip: "no pids cgroup controller to use (v1's, or v2's enabled at the root)" };
}

const PIDS = pidsRoot();
const IGNORE = "skip" in PIDS;
if ("skip" in PIDS) console.warn(`correctness_process_limit_test: skipped: ${PIDS.skip}`);

/** The pids in the cgroup. */
function members(cg: string): number[] {
  return Deno.readTextFileSync(`${cg}/cgroup.procs`).split("\n").filter(Boolean).map(Number);
}

/** Runs `fn` with a new pids cgroup allowing `max` processes; removes it once it is empty. */
async function withCgroup(max: number, fn: (cg: string) => Promise<void>): Promise<void> {
  const cg = `${(PIDS as { root: string }).root}/bgtask-test-${Deno.pid}-${crypto.randomUUID()}`;
  Deno.mkdirSync(cg);
  try {
    Deno.writeTextFileSync(`${cg}/pids.max`, String(max));
    await fn(cg);
  } finally {
    // The tasks' processes are gone once withStore has settled the store (it
    // runs after): give the cgroup room, wait for it to empty, remove it.
    Deno.writeTextFileSync(`${cg}/pids.max`, "max");
    await until(() => members(cg).length === 0, `the cgroup ${cg} to empty`, 30_000)
      .finally(() => Deno.removeSync(cg));
  }
}

/** The bash words that move bash into the cgroup, then exec the rest. */
function inCgroup(cg: string, command: string[]): string[] {
  return ["-c", 'echo "$$" >"$0" && exec "$@"', `${cg}/cgroup.procs`, ...command];
}

/**
 * `bgtask run ARGS` in the cgroup (so that the task's supervisor and watchdog
 * are in it too), with `env`; the id it printed.
 */
async function runInCgroup(
  cg: string,
  dir: string,
  args: string[],
  env?: Record<string, string>,
): Promise<string> {
  const run = await new Deno.Command("bash", {
    args: inCgroup(cg, [Deno.execPath(), ...cliArgs(dir, ["run", ...args])]),
    ...childOptions(env),
    signal: AbortSignal.timeout(CHILD_DEADLINE_MS),
  }).output();
  assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
  return new TextDecoder().decode(run.stdout).trim();
}

Deno.test({
  name:
    "process limit: a task that uses up its cgroup's processes is timed out on time (its watchdog does not fork)",
  ignore: IGNORE,
  fn: async () => {
    await withStore(async (tasks, dir) => {
      await withCgroup(300, async (cg) => {
        const id = await runInCgroup(cg, dir, ["--timeout", "5s", "while :; do sleep 100 & done"]);
        // The CLI has left (its threads counted): the task meets the limit within a few forks.
        const now = Number(Deno.readTextFileSync(`${cg}/pids.current`));
        Deno.writeTextFileSync(`${cg}/pids.max`, String(now + 10));
        const info = await tasks.wait(id, { signal: AbortSignal.timeout(90_000) });
        assertEquals([info.status, info.reason], ["failed", "timeout"]);
        // Bash says so when a fork fails: without it the task never met the limit.
        const output = await tasks.readOutput(id);
        assert(output.includes("fork: retry"), `the task did not reach the limit: ${output}`);
        // A watchdog that forks waits out bash's 15 s of retries first (30 s were seen).
        const late = Date.parse(info.finishedAt!) - Date.parse(info.startedAt!) - 5000;
        assert(late < 10_000, `recorded ${late} ms after its timeout`);
      });
    });
  },
});

/**
 * A task into a queue with a free slot: the CLI launches it and leaves at once;
 * `fault` holds its launcher (slow-launch: before it forks the supervisor) or
 * its supervisor (slow-start: before it forks the watchdog and the task) until
 * that process is alone in the cgroup, which then allows no process more.
 */
async function cannotFork(fault: "slow-launch" | "slow-start", room = 0): Promise<void> {
  await withStore(async (tasks, dir) => {
    await withCgroup(300, async (cg) => {
      const id = await runInCgroup(cg, dir, ["--queue", "q", "echo ran"], {
        BGTASK_TEST_FAULT: `${fault}:${dir}`,
      });
      // Alone in the cgroup, waiting (its first nap has made the pipe it naps
      // on: a fork): not one process more may start.
      const napping = (pid: number) =>
        [...Deno.readDirSync(`/proc/${pid}/fd`)].some((fd) => {
          try {
            return Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`).startsWith("pipe:");
          } catch {
            return false;
          }
        });
      await until(() => {
        const left = members(cg);
        return left.length === 1 && napping(left[0]);
      }, `the ${fault === "slow-start" ? "supervisor" : "launcher"} alone in the cgroup, waiting`);
      // (room: processes it may still start, the watchdog's fork for one.)
      Deno.writeTextFileSync(`${cg}/pids.max`, String(1 + room));
      Deno.writeFileSync(`${dir}/fault-go`, new Uint8Array());
      const info = await tasks.wait(id, { signal: AbortSignal.timeout(90_000) });
      assertEquals([info.status, info.reason, info.startedAt], ["failed", "start", null]);
      assertEquals(
        info.error,
        "cannot start: no process could be created: the process limit was reached " +
          "(ulimit -u, or a cgroup's pids.max)",
      );
      assertEquals(await tasks.readOutput(id), "");
    });
  });
}

Deno.test({
  name:
    "process limit: a supervisor that cannot fork the task records that it could not start, and why",
  ignore: IGNORE,
  fn: () => cannotFork("slow-start"),
});

Deno.test({
  name:
    "process limit: a supervisor that forks its watchdog but not the task records that it could not start, and why (both waited for each other: the task hung queued)",
  ignore: IGNORE,
  fn: () => cannotFork("slow-start", 1),
});

Deno.test({
  name:
    "process limit: a launcher that cannot fork the supervisor records that the task could not start, and why (it left no word: lost 30 s later)",
  ignore: IGNORE,
  fn: () => cannotFork("slow-launch"),
});

Deno.test({
  name: "process limit: a spawn the kernel refuses names the limit, and leaves no task",
  ignore: IGNORE,
  fn: async () => {
    await withStore(async (_tasks, dir) => {
      await withCgroup(300, async (cg) => {
        const script = await scriptFile(`
          import { TaskManager } from MOD;
          const dir = Deno.args[0];
          const tasks = new TaskManager({ dir });
          // What the spawn and the list below do, once first: the threads Deno makes for
          // them on first use exist before the limit leaves room for none. (Its file
          // operations run on a pool of threads it grows on demand and keeps 10 s: 64 at
          // once leave enough of them idle for the spawn's.)
          await tasks.list();
          await Promise.all(
            Array.from({ length: 64 }, () => Deno.readTextFile("/proc/self/stat")),
          );
          new Deno.Command("true").outputSync();
          await new Deno.Command("true").output();
          console.log("ready");
          // (Polled with timers: a file watch or an async read may need a thread more.)
          while (!(() => { try { return Deno.statSync(dir + "/go"); } catch { return null; } })()) {
            await new Promise((r) => setTimeout(r, 10));
          }
          try {
            await tasks.spawnShell("echo hi");
            console.log("spawned");
          } catch (e) {
            console.log((e as Error).message);
          }
          console.log(JSON.stringify(await tasks.list()));
        `);
        const child = new Deno.Command("bash", {
          args: inCgroup(cg, [Deno.execPath(), "run", "-A", script, dir]),
          ...childOptions(),
          signal: AbortSignal.timeout(CHILD_DEADLINE_MS),
        }).spawn();
        try {
          const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
          let out = "";
          while (!out.includes("ready\n")) {
            const { value, done } = await lines.read();
            assert(!done, `the script ended before it was ready: ${out}`);
            out += value;
          }
          // Its threads are all made: not one process (or thread) more may start.
          Deno.writeTextFileSync(`${cg}/pids.max`, Deno.readTextFileSync(`${cg}/pids.current`));
          Deno.writeFileSync(`${dir}/go`, new Uint8Array());
          for (;;) {
            const { value, done } = await lines.read();
            if (done) break;
            out += value;
          }
          const [, message, list] = out.split("\n");
          const err = await new Response(child.stderr).text();
          assert(list !== undefined, `the script said: ${out}\n${err}`);
          assertEquals(
            message,
            "Cannot spawn task: no process could be created: the process limit was reached " +
              "(ulimit -u, or a cgroup's pids.max) (os error 11); end some processes, or raise the limit",
          );
          assertEquals(list, "[]");
        } finally {
          await child.status;
          await child.stderr.cancel().catch(() => {});
          await Deno.remove(script);
        }
      });
    });
  },
});
