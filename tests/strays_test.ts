/**
 * Strays: processes of a task that leave its process group without leaving
 * its session — coreutils' `timeout` (it calls setpgid unless --foreground),
 * the jobs of a shell with job control (`set -m`). A kill, a timeout, a pause
 * and the end of the task reach them; a process that leaves the session
 * (`setsid`, a daemon meant to outlive the task) is not followed.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { isAlive, procStat, supervisorPid, until, withStore } from "./_helpers/common.ts";

/**
 * A command whose process writes its pid to `file` and sleeps, in a group of
 * its own. (Not a task's whole command: bash would exec `timeout` in place of
 * the task's shell, and it would lead the task's group.)
 */
const viaTimeout = (file: string) =>
  `timeout 300 bash -c 'echo $$ > "${file}"; exec sleep 300'; echo after`;
const viaJob = (file: string) => `set -m; bash -c 'echo $$ > "${file}"; exec sleep 300' &`;

async function pidIn(file: string): Promise<number> {
  return await until(() => {
    try {
      const n = Number(Deno.readTextFileSync(file).trim());
      return n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }, `a pid in ${file}`);
}

async function withMarks(fn: (marks: string) => Promise<void>): Promise<void> {
  const marks = await Deno.makeTempDir({ prefix: "bgtask-strays-" });
  try {
    await fn(marks);
  } finally {
    await Deno.remove(marks, { recursive: true });
  }
}

Deno.test("kill() ends processes that left the task's group for their own (timeout, set -m jobs)", async () => {
  await withMarks(async (marks) => {
    await withStore(async (tasks) => {
      const t = await tasks.spawnShell(`${viaJob(`${marks}/job`)} ${viaTimeout(`${marks}/t`)}`);
      const [job, viaT] = [await pidIn(`${marks}/job`), await pidIn(`${marks}/t`)];
      for (const pid of [job, viaT]) {
        assert(procStat(pid)!.pgrp !== t.pid, `${pid} left the task's group`);
      }
      const info = await tasks.kill(t.id);
      assertEquals(info.status, "killed");
      assertEquals([isAlive(job), isAlive(viaT)], [false, false]);
    });
  });
});

Deno.test("a task's timeout ends what left its group", async () => {
  await withMarks(async (marks) => {
    await withStore(async (tasks) => {
      const t = await tasks.spawnShell(viaTimeout(`${marks}/t`), { timeoutMs: 1500 });
      const pid = await pidIn(`${marks}/t`);
      const info = await tasks.wait(t.id);
      assertEquals([info.status, info.reason], ["failed", "timeout"]);
      assertEquals(isAlive(pid), false);
    });
  });
});

Deno.test("what left the task's group ends with the task, as a `cmd &` does (leftoversEnded)", async () => {
  await withMarks(async (marks) => {
    await withStore(async (tasks) => {
      const t = await tasks.spawnShell(
        `{ ${viaTimeout(`${marks}/t`)}; } & until [ -s "${marks}/t" ]; do sleep 0.01; done`,
      );
      const pid = await pidIn(`${marks}/t`);
      const info = await tasks.wait(t.id);
      assertEquals([info.status, info.leftoversEnded], ["completed", true]);
      assertEquals(isAlive(pid), false);
    });
  });
});

Deno.test("pause() stops what left the task's group, resume() continues it", async () => {
  await withMarks(async (marks) => {
    await withStore(async (tasks) => {
      const t = await tasks.spawnShell(viaTimeout(`${marks}/t`));
      const pid = await pidIn(`${marks}/t`);
      await tasks.pause(t.id);
      // (SIGSTOP is delivered before kill(2) returns, but the state changes as the process runs.)
      await until(() => procStat(pid)?.state === "T", "the stray to stop");
      await tasks.resume(t.id);
      await until(() => procStat(pid)?.state !== "T", "the stray to go on");
      await tasks.kill(t.id);
      assertEquals(isAlive(pid), false);
    });
  });
});

Deno.test("a process that leaves the task's session (setsid) is not followed, as documented", async () => {
  await withMarks(async (marks) => {
    let pid = 0;
    try {
      await withStore(async (tasks) => {
        const t = await tasks.spawnShell(
          `setsid bash -c 'echo $$ > "${marks}/d"; exec sleep 300' & ` +
            `until [ -s "${marks}/d" ]; do sleep 0.01; done`,
        );
        pid = await pidIn(`${marks}/d`);
        const info = await tasks.wait(t.id);
        assertEquals([info.status, info.leftoversEnded], ["completed", false]);
        assert(isAlive(pid), "a daemon started with setsid outlives its task");
        // (Ours, started by this test's task: ended before withStore looks for leftovers.)
        Deno.kill(pid, "SIGKILL");
        await until(() => !isAlive(pid), "the daemon to end");
      });
    } finally {
      if (pid > 0 && isAlive(pid)) Deno.kill(pid, "SIGKILL");
    }
  });
});

Deno.test("a task whose supervisor was SIGKILLed runs while a stray of it does (its watchdog guards it), and kill ends the stray", async () => {
  await withMarks(async (marks) => {
    await withStore(async (tasks, dir) => {
      const t = await tasks.spawnShell(
        `${viaJob(`${marks}/job`)} until [ -e "${marks}/go" ]; do sleep 0.01; done`,
      );
      const stray = await pidIn(`${marks}/job`);
      // (Ours: this test's task's supervisor.)
      Deno.kill(supervisorPid(dir, t.id), "SIGKILL");
      await Deno.writeTextFile(`${marks}/go`, "");
      await until(() => !isAlive(t.pid!), "the task's shell to end");
      // Not lost while the stray runs: readers count the watchdog, which guards it.
      assertEquals((await tasks.getStatus(t.id))?.status, "running");
      const info = await tasks.kill(t.id);
      assertEquals(info.status, "killed");
      assertEquals(isAlive(stray), false);
    });
  });
});
