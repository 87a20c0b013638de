/**
 * A task the kernel's out-of-memory killer ends: "killed by signal SIGKILL"
 * alone sends a person (or an agent) after a bug; the record says what most
 * likely happened, and what to do. A real OOM kill: the task moves itself
 * into a memory cgroup of this test's (32 MiB) and grows past it; a task
 * that SIGKILLs itself is told apart (nothing about memory).
 *
 * Needs root and a memory cgroup it can make (cgroup v1's memory hierarchy,
 * or v2 with the memory controller on at the root); skipped otherwise,
 * saying which.
 */

import { assertEquals, assertMatch } from "./_helpers/assert.ts";
import { withStore } from "./_helpers/common.ts";

/** A memory cgroup limited to `bytes`: its folder, or why none can be made here. */
function memoryCgroup(bytes: number): { dir: string } | { why: string } {
  if (Deno.uid() !== 0) return { why: "needs root, to make a memory cgroup" };
  const name = `bgtask-oom-test-${crypto.randomUUID().slice(0, 8)}`;
  const tries: [string, string][] = [
    ["/sys/fs/cgroup/memory", "memory.limit_in_bytes"], // v1
    ["/sys/fs/cgroup", "memory.max"], // v2
  ];
  for (const [root, limit] of tries) {
    try {
      if (!Deno.statSync(`${root}/cgroup.procs`).isFile) continue;
      const dir = `${root}/${name}`;
      Deno.mkdirSync(dir);
      try {
        Deno.writeTextFileSync(`${dir}/${limit}`, `${bytes}\n`);
        return { dir };
      } catch {
        Deno.removeSync(dir);
      }
    } catch {
      // Not this hierarchy.
    }
  }
  return { why: "no memory cgroup can be made here (neither cgroup v1's nor v2's)" };
}

const probe = memoryCgroup(32 << 20);
const skip = "why" in probe ? probe.why : undefined;
if ("dir" in probe) Deno.removeSync(probe.dir);

Deno.test({
  name: `a task ended by the kernel's OOM killer says so; one SIGKILLed otherwise does not${
    skip ? ` (skipped: ${skip})` : ""
  }`,
  ignore: skip !== undefined,
  async fn() {
    const cg = memoryCgroup(32 << 20);
    if (!("dir" in cg)) throw new Error(cg.why);
    try {
      await withStore(async (tasks) => {
        // tail keeps a "line" of /dev/zero whole: it grows until it is killed.
        const t = await tasks.spawnShell(
          `echo $$ > '${cg.dir}/cgroup.procs' && exec tail /dev/zero`,
        );
        const info = await tasks.wait(t.id, { signal: AbortSignal.timeout(60_000) });
        assertEquals([info.status, info.signal, info.reason], ["failed", "SIGKILL", "signal"]);
        assertMatch(
          info.error ?? "",
          /^killed by signal SIGKILL: most likely by the kernel's out-of-memory killer .*give it more memory/,
        );
        const self = await tasks.spawnShell("kill -KILL $$");
        const done = await tasks.wait(self.id, { signal: AbortSignal.timeout(60_000) });
        assertEquals([done.status, done.signal, done.error], [
          "failed",
          "SIGKILL",
          "killed by signal SIGKILL: not by bgtask; by another process (kill -9), or by the " +
          "kernel at a hard CPU-time limit (bash's ulimit -t sets one; ulimit -St sets the " +
          "soft one alone, whose SIGXCPU is named)",
        ]);
      });
    } finally {
      Deno.removeSync(cg.dir);
    }
  },
});
