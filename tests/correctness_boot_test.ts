/**
 * After the machine restarts, a store's records still name the processes of
 * the tasks that ran before: a pid and a start time in clock ticks since
 * boot. A new boot starts the same things in the same order, so a new
 * process can have a recorded pid and the very same start tick. bgtask took
 * such a process, when it carries no task's token, for the task's leader: the
 * task read "running" for as long as it lived, and a kill signalled its group.
 *
 * Every start time bgtask records now carries the boot's tag (12 hex digits
 * of /proc/sys/kernel/random/boot_id), and a start time of another boot names
 * no process. A record of bgtask 0.1 (ticks alone) is read as before.
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { parsePty } from "../src/store/records.ts";
import { procStat } from "./_helpers/common.ts";
import {
  crashStore,
  isAlive,
  killQuietly,
  storeProcesses,
  until,
  withStore,
} from "./_helpers/reliability.ts";

/** A process's command line as the kernel holds it; "" once it is gone. */
function cmdline(pid: string): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`);
  } catch {
    return "";
  }
}

/** This boot's tag, as bash writes it after a start time. */
function bootTag(): string {
  return "+" + Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").replaceAll("-", "")
    .slice(0, 12);
}

/** Another boot's tag: this one with its first digit changed. */
function otherBootTag(): string {
  const tag = bootTag();
  return "+" + (tag[1] === "0" ? "1" : "0") + tag.slice(2);
}

Deno.test("restart: the start times in a task's started record carry this boot's tag", async () => {
  await withStore("boot-tag", async (tasks, dir) => {
    const t = await tasks.spawnShell("sleep 30");
    const line = Deno.readTextFileSync(`${dir}/tasks/${t.id}/started`).split("\n")[0];
    const [supPid, supStart, taskPid, taskStart] = line.split(" ");
    for (const [pid, start] of [[supPid, supStart], [taskPid, taskStart]]) {
      assert.equal(start, procStat(pid)!.start + bootTag(), line);
    }
    await tasks.kill(t.id, { graceMs: 0 });
  });
});

Deno.test("restart: a process with a task's recorded pid and start tick in another boot is not the task: lost, and kill spares it", async () => {
  // A process that leads its own group and carries no task's token: what a
  // task's shell looks like to bgtask once the task cleared its environment.
  const other = new Deno.Command("sleep", {
    args: ["60"],
    clearEnv: true,
    detached: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await withStore("boot-other", async (tasks, dir) => {
      const t = await tasks.spawnShell("sleep 60");
      const path = `${dir}/tasks/${t.id}/started`;
      const [line, cwd] = Deno.readTextFileSync(path).split("\n");
      // The machine restarts: every process of the store is gone at once.
      // One look at /proc missed the task's bash in the middle of its exec
      // into sleep, when its environment cannot be read, and left it
      // running (CI, stop 53): the exec is waited for, and crashStore looks
      // until three looks in a row find nothing new.
      const leader = line.split(" ")[2];
      await until(() => cmdline(leader) === "sleep\x0060\x00", "the task's bash to become sleep");
      crashStore(dir);
      await until(() => storeProcesses(dir).length === 0, "the task's processes to be gone");
      const startedAt = line.split(" ")[4];
      const pid = other.pid;
      const ticks = procStat(pid)!.start;
      const record = (start: string) =>
        Deno.writeTextFileSync(
          path,
          `${pid} ${start} ${pid} ${start} ${startedAt}\n${cwd}`,
        );
      const status = async () => (await new TaskManager({ dir }).getStatus(t.id))!.status;

      // The setup names that process: in this boot it passes for the task.
      record(ticks + bootTag());
      assert.equal(await status(), "running", "a record of this boot names the process");
      // So does a record of bgtask 0.1, which has no boot to tell.
      record(ticks);
      assert.equal(await status(), "running", "a record of ticks alone names the process");

      record(ticks + otherBootTag());
      const after = new TaskManager({ dir });
      const info = await after.getStatus(t.id);
      assert.equal(info!.status, "failed");
      assert.match(info!.error ?? "", /lost/);
      const killed = await after.kill(t.id, { graceMs: 0 });
      assert.equal(killed.status, "failed", "the task had already ended");
      assert.ok(isAlive(pid), "the other process was spared");
    });
  } finally {
    killQuietly(other.pid);
    await other.status;
  }
});

Deno.test("restart: a terminal's record is read with a tagged start time and with ticks alone", () => {
  assert.deepEqual(parsePty("812 6952359+c560f5eeda23 34816\n"), {
    sid: 812,
    start: "6952359+c560f5eeda23",
    ttyNr: 34816,
  });
  assert.equal(parsePty("812 6952359 34816\n")?.start, "6952359");
  assert.equal(parsePty("812 6952359+c560 34816\n"), undefined);
});
