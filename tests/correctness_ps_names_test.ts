/**
 * Issue 10, fault 9: in `ps`, each task's supervisor and watchdog showed
 * ~8 KB of launcher script as their command line. Now the script travels in
 * the environment: the command line is `bash --posix -p -c _pc=…; set +o
 * posix +p; eval "$BGTASK_SH" bgtask-ID start STORE ID MODE`, and /proc/PID/comm names the task (`bgtask b1`, and
 * `bgtask b1 wd` for the watchdog), so `ps`, `top` and `pgrep` tell them apart.
 */

import assert from "node:assert/strict";
import { readStartedRaw, run, until, withStore } from "./_helpers/reliability.ts";
import { procStat } from "./_helpers/common.ts";

function cmdline(pid: number): string {
  return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim();
}

function comm(pid: number): string {
  return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
}

/** Live children of a process. */
function children(ppid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const st = procStat(e.name); // undefined once gone
    if (st?.ppid === ppid && st.state !== "Z") out.push(Number(e.name));
  }
  return out;
}

Deno.test("ps names: a task's supervisor and watchdog have short command lines naming the task, and comm 'bgtask ID' / 'bgtask ID wd'", async () => {
  await withStore("ps-names", async (tasks, dir) => {
    const t = await tasks.spawnShell("sleep 30", { timeoutMs: 60_000 });
    try {
      const s = await until(() => readStartedRaw(dir, t.id), "the started record");
      const sup = s.supervisorPid;
      const supLine = cmdline(sup);
      assert.ok(supLine.length < 300, `the supervisor's command line is ${supLine.length} bytes`);
      const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      assert.match(
        supLine,
        new RegExp(
          `^(\\S*/)?bash --posix -p -c \\S+; set \\+o posix \\+p; eval "\\$BGTASK_SH" bgtask-${t.id} start ${
            esc(dir)
          } ${t.id} report$`,
        ),
      );
      assert.equal(comm(sup), `bgtask ${t.id}`);

      // The watchdog: the supervisor's other child (the task is the first).
      const wd = await until(
        () => children(sup).find((p) => p !== s.taskPid && comm(p) === `bgtask ${t.id} wd`),
        "the watchdog",
      );
      const wdLine = cmdline(wd);
      assert.ok(wdLine.length < 300, `the watchdog's command line is ${wdLine.length} bytes`);
      assert.ok(wdLine.includes(`bgtask-${t.id}`), wdLine);
      // The task itself is the command, as typed; the script does not reach its environment.
      // (once it has gone through setsid and bash's exec)
      await until(() => /^sleep 30$/.test(cmdline(s.taskPid)), "the task to exec its command");
      const env = Deno.readTextFileSync(`/proc/${children(s.taskPid)[0] ?? s.taskPid}/environ`);
      assert.ok(!env.includes("BGTASK_SH="), "the script text leaked into the task's environment");

      // What ps shows, when there is a ps.
      const ps = await run("ps", ["-o", "comm=,args=", "-p", `${sup},${wd}`]).catch(() =>
        undefined
      );
      if (ps?.code === 0) {
        const lines = ps.stdout.trim().split("\n");
        assert.equal(lines.length, 2, ps.stdout);
        for (const line of lines) {
          assert.match(line, new RegExp(`^bgtask ${t.id}( wd)? +(\\S*/)?bash --posix -p -c _pc=`));
          assert.ok(line.length < 300, line);
        }
      }
    } finally {
      await tasks.kill(t.id, { graceMs: 0 });
    }
  });
});
