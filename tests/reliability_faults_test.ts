/**
 * Reliability under faults (issue 6): a spawner SIGKILLed mid-task, a task's
 * whole group and supervisor SIGKILLed from outside, pid reuse, a full disk,
 * damaged records and foreign files in the store, and the store removed while
 * a manager is open. Real processes, real signals, real files.
 */

import assert from "node:assert/strict";
import { StoreError, TaskManager } from "../mod.ts";
import {
  allOutput,
  assertBytes,
  concatBytes,
  groupMembers,
  IS_ROOT,
  isAlive,
  killQuietly,
  MOD_URL,
  pidsMentioning,
  procStat,
  readStartedRaw,
  reapStore,
  ROOT,
  run,
  until,
  untilTaskProcessesGone,
  withStore,
  withTempDir,
  writeStartedRaw,
} from "./_helpers/reliability.ts";
import { withTestFault } from "./_helpers/common.ts";

const LOST = /^lost\b/;

/** SIGKILLs a task's supervisor, then its whole process group, and waits until all are gone. */
async function killEverythingFromOutside(dir: string, id: string): Promise<void> {
  const s = await until(() => readStartedRaw(dir, id), `the started record of ${id}`);
  killQuietly(s.supervisorPid);
  await until(() => !isAlive(s.supervisorPid), "the supervisor to die");
  killQuietly(-s.taskPid);
  await until(() => groupMembers(s.taskPid).length === 0, "the task's group to die");
}

Deno.test("faults: a spawner SIGKILLed mid-task leaves the task running to a complete record", async () => {
  await withStore("fault-spawner", async (tasks, dir) => {
    const go = `${dir}/go`;
    const script = `${dir}/spawner.ts`;
    await Deno.writeTextFile(
      script,
      `import { TaskManager } from ${JSON.stringify(MOD_URL)};
const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
const t = await tasks.spawnShell(
  'echo start; while [ ! -e "$GO" ]; do sleep 0.01; done; printf "end\\\\n\\\\xff"; exit 7',
  { env: { GO: ${JSON.stringify(go)} }, description: "outlives its spawner" },
);
console.log(t.id);
setInterval(() => {}, 1000); // stay alive until SIGKILLed
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-run=bash",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        script,
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    try {
      while (!line.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        line += value;
      }
    } finally {
      child.kill("SIGKILL");
      await reader.cancel();
    }
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");
    const id = line.trim();
    assert.match(id, /^b\d+$/);

    // The spawner is gone; the task is not.
    assert.equal((await tasks.getStatus(id))?.status, "running");
    await Deno.writeTextFile(go, "");
    const info = await tasks.wait(id);
    assert.equal(info.status, "failed");
    assert.equal(info.exitCode, 7);
    assert.equal(info.signal, null);
    assert.match(info.error ?? "", /code 7/);
    assert.ok(info.finishedAt !== null && info.pid !== null);
    assert.equal(info.description, "outlives its spawner");
    assertBytes(
      await allOutput(tasks, id),
      concatBytes("start\nend\n", new Uint8Array([0xff])),
      "output",
    );
    // Its completion notice is not lost with the spawner.
    assert.deepEqual((await tasks.drainCompletions()).map((t) => t.id), [id]);
  });
});

Deno.test("faults: a task whose group and supervisor are SIGKILLed from outside is reported failed (lost)", async () => {
  await withStore("fault-lost", async (tasks, dir) => {
    const t = await tasks.spawnShell("echo up; sleep 300 & sleep 300 & wait", {
      timeoutMs: 600_000, // a watchdog runs too: it must not outlive the task either
    });
    const waiter = new TaskManager({ dir }).wait(t.id); // already waiting when it dies
    await until(async () => (await tasks.readOutput(t.id)) === "up\n", "the task to start");
    await killEverythingFromOutside(dir, t.id);

    const fresh = new TaskManager({ dir });
    const info = await fresh.getStatus(t.id);
    assert.equal(info?.status, "failed");
    assert.match(info?.error ?? "", LOST);
    assert.equal(info?.exitCode, null);
    assert.deepEqual(await waiter, info, "a waiter resolves with the same lost record");
    assert.deepEqual(await tasks.getStatus(t.id), info, "and it never changes");
    assert.deepEqual((await tasks.drainCompletions()).map((x) => x.id), [t.id]);
    // Nothing of the task is left: no orphaned watchdog polling forever.
    await until(
      () => pidsMentioning(`${dir}/tasks/${t.id}`).length === 0,
      "every helper process of the task to exit",
      5000,
    );
  });
});

Deno.test("faults: a dead task whose recorded pids now belong to unrelated live processes is still dead", async () => {
  await withStore("fault-pidreuse", async (tasks, dir) => {
    // Stand-ins for processes that reused the pids: a group leader (setsid) and a plain child.
    const leader = new Deno.Command("setsid", { args: ["sleep", "300"], stdin: "null" }).spawn();
    const plain = new Deno.Command("sleep", { args: ["300"], stdin: "null" }).spawn();
    try {
      await until(() => procStat(leader.pid)?.pgrp === leader.pid, "setsid to lead a group");
      const tasksToKill = await Promise.all([
        tasks.spawnShell("sleep 300"),
        tasks.spawnShell("sleep 300"),
        tasks.spawnShell("sleep 300"),
      ]);
      for (const t of tasksToKill) await killEverythingFromOutside(dir, t.id);
      const [a, b, c] = tasksToKill.map((t) => t.id);
      const other = (pid: number) => {
        const st = procStat(pid)!;
        return { pid, start: st.start, fakeStart: String(Number(st.start) + 7) };
      };
      const L = other(leader.pid), P = other(plain.pid);
      // a: both pids reused; b: the task pid reused by a group leader; c: for kill().
      // The supervisor's start time is made to match the new process exactly
      // (a pid reused within the same clock tick): only the session tells.
      writeStartedRaw(dir, a, {
        ...readStartedRaw(dir, a)!,
        supervisorPid: P.pid,
        supervisorStart: P.start,
        taskPid: L.pid,
      });
      writeStartedRaw(dir, b, {
        ...readStartedRaw(dir, b)!,
        taskPid: L.pid,
      });
      writeStartedRaw(dir, c, {
        ...readStartedRaw(dir, c)!,
        supervisorPid: P.pid,
        supervisorStart: P.fakeStart,
        taskPid: L.pid,
      });
      for (const id of [a, b]) {
        const info = await tasks.getStatus(id);
        assert.equal(info?.status, "failed", `${id} looks ${info?.status}`);
        assert.match(info?.error ?? "", LOST);
      }
      // kill() of a task whose pid was reused must not signal the unrelated process.
      const killed = await tasks.kill(c, { graceMs: 100 });
      assert.ok(killed.status === "killed" || killed.status === "failed");
      assert.ok(isAlive(L.pid) && isAlive(P.pid), "the unrelated processes were not signalled");
      assert.equal(procStat(L.pid)?.start, L.start);
    } finally {
      leader.kill("SIGKILL");
      plain.kill("SIGKILL");
      await leader.status;
      await plain.status;
    }
  });
});

// The test of a task pid really reused (placed with ns_last_pid) runs in a pid
// namespace of its own: tests/correctness_pid_reuse_test.ts.

/** Whether this machine lets us mount a small tmpfs (root, and mount allowed). */
async function canMountTmpfs(): Promise<string | undefined> {
  if (!IS_ROOT) return "not running as root";
  const probe = await Deno.makeTempDir({ prefix: "bgtask-rel-mountprobe-" });
  try {
    const m = await run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]);
    if (m.code !== 0) return `mount -t tmpfs failed: ${m.stderr.trim()}`;
    await run("umount", [probe]);
    return undefined;
  } catch (e) {
    return `mount is unavailable: ${(e as Error).message}`;
  } finally {
    await Deno.remove(probe, { recursive: true }).catch(() => {});
  }
}

const noTmpfs = await canMountTmpfs();

Deno.test({
  name: `faults: on a full disk spawn fails with a clear error and existing records stay intact${
    noTmpfs ? ` (skipped: ${noTmpfs})` : ""
  }`,
  ignore: noTmpfs !== undefined,
  async fn() {
    await withTempDir("fault-diskfull", async (mnt) => {
      const m = await run("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", mnt]);
      assert.equal(m.code, 0, m.stderr);
      const dir = `${mnt}/store`;
      const goDir = await Deno.makeTempDir({ prefix: "bgtask-rel-diskfull-go-" });
      try {
        const tasks = new TaskManager({ dir });
        const done = await tasks.spawnShell("seq 1 20000; printf 'tail\\xff'");
        await tasks.wait(done.id);
        const doneOutput = await allOutput(tasks, done.id);
        const doneInfo = await tasks.getStatus(done.id);
        // (Its watchdog does not leave on finding it gone, fault wd-held: its supervisor
        // hears of its end from its CHLD trap, whose note on it cannot be written.)
        const running = await withTestFault("wd-held", dir, () =>
          tasks.spawnShell(
            `echo start; while [ ! -e "$GO" ]; do sleep 0.01; done; echo end; exit 3`,
            { env: { GO: `${goDir}/go` } },
          ));
        await until(async () => (await tasks.readOutput(running.id)) === "start\n", "start");
        const sleeper = await tasks.spawnShell("sleep 300");
        await until(async () => (await tasks.getStatus(sleeper.id))?.pid, "the sleeper to start");

        await fillBlocks(`${mnt}/filler`);

        await assert.rejects(
          tasks.spawnShell("echo never"),
          (e: Error) =>
            e instanceof StoreError && /No space left/.test(e.message) && e.message.includes(dir) &&
            /the disk is full, of bytes or of inodes: df -h, df -i; .*bgtask rm ID or bgtask clean deletes finished tasks/
              .test(
                e.message,
              ),
        );
        // Nothing half-made is left, and what was there is intact and readable.
        const listed = await tasks.list();
        assert.deepEqual(listed.map((t) => t.id), [done.id, running.id, sleeper.id]);
        assert.deepEqual(await tasks.getStatus(done.id), doneInfo);
        assertBytes(await allOutput(tasks, done.id), doneOutput, "output of the finished task");
        assert.equal(await tasks.tailOutput(done.id, 2), "20000\ntail\ufffd");

        // A task that ends while the disk is full must not leave a damaged record behind,
        // nor be recorded lost: its supervisor holds how it ended until there is room.
        await Deno.writeTextFile(`${goDir}/go`, "");
        await untilTaskProcessesGone(dir, running.id, { supervisor: false });
        const meanwhile = await tasks.getStatus(running.id);
        assert.equal(meanwhile?.status, "running", `status ${JSON.stringify(meanwhile)}`);
        // list, which finds what fills the disk, still works.
        assert.deepEqual((await tasks.list()).map((t) => [t.id, t.status]), [
          [done.id, "completed"],
          [running.id, "running"],
          [sleeper.id, "running"],
        ]);
        // A kill needs no room: the request is made even if its grace cannot be written in it.
        const killed = await tasks.kill(sleeper.id, { graceMs: 100 });
        assert.equal(killed.status, "killed");
        await untilTaskProcessesGone(dir, sleeper.id);
        const roomAt = Date.now();
        await Deno.remove(`${mnt}/filler`);
        // Room again: the kill is recorded as its asker was told (its supervisor could not).
        assert.equal((await tasks.getStatus(sleeper.id))?.status, "killed");
        assert.match(
          await Deno.readTextFile(`${dir}/tasks/${sleeper.id}/final.json`),
          /"status":"killed"/,
        );
        // And the record of the task that ended is the real one (exit 3, when it ended), and its
        // completion is told.
        const after = await tasks.wait(running.id, { signal: AbortSignal.timeout(15_000) });
        assert.equal(after.status, "failed");
        assert.equal(after.exitCode, 3, JSON.stringify(after));
        // (Dated when it ended: before the kill of the sleeper, well before the room came.)
        assert.ok(Date.parse(after.finishedAt!) < roomAt, `${after.finishedAt} vs ${roomAt}`);
        await untilTaskProcessesGone(dir, running.id);
        const followFor = AbortSignal.timeout(15_000);
        for await (const _ of tasks.follow(running.id, { signal: followFor })) { /* its output */ }
        assert.equal(followFor.aborted, false, "follow ended with the task, not at its deadline");
        const told = (await tasks.drainCompletions()).map((t) => t.id);
        assert.ok(told.includes(running.id), `completions ${told}`);
        // bgtask kill of it: nothing to kill, said as it ended.
        const cliKill = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", `${ROOT}cli.ts`, "--dir", dir, "kill", running.id, "--json"],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const said = JSON.parse(new TextDecoder().decode(cliKill.stdout));
        assert.deepEqual(said.map((t: { exitCode: number }) => t.exitCode), [3]);
        assert.match(await tasks.readOutput(running.id), /^start\n/);
        const temps = [...Deno.readDirSync(`${dir}/tasks/${running.id}`)].filter((e) =>
          e.name.endsWith(".tmp")
        );
        assert.deepEqual(temps, [], "no temp file is left behind");
        // And the store works again once there is room.
        const again = await tasks.spawnShell("echo again");
        assert.equal((await tasks.wait(again.id)).status, "completed");
        assert.equal(await tasks.readOutput(again.id), "again\n");
        await reapStore(dir);
      } finally {
        await reapStore(`${mnt}/store`, 2000);
        await run("umount", ["-l", mnt]);
        await Deno.remove(goDir, { recursive: true }).catch(() => {});
      }
    });
  },
});

/** Fills the file system that holds `path` to its last byte, with a file at `path`. */
async function fillBlocks(path: string): Promise<void> {
  const filler = await Deno.open(path, { write: true, create: true });
  try {
    for (const size of [65536, 4096, 1]) {
      const buf = new Uint8Array(size);
      try {
        for (;;) await filler.write(buf);
      } catch (e) {
        assert.match((e as Error).message, /No space left/);
      }
    }
  } finally {
    filler.close();
  }
}

/** Makes empty files in `mnt` until its file system has no inode left. */
function fillInodes(mnt: string): void {
  for (let i = 0;; i++) {
    try {
      Deno.writeFileSync(`${mnt}/inode-${i}`, new Uint8Array());
    } catch (e) {
      assert.match((e as Error).message, /No space left/);
      return;
    }
  }
}

/**
 * Runs `fn` with a store in a tmpfs of its own (`options`: its size and
 * inodes), then ends what is left of the store's processes and unmounts it.
 */
async function onTmpfs(
  prefix: string,
  options: string,
  fn: (dir: string, mnt: string) => Promise<void>,
): Promise<void> {
  await withTempDir(prefix, async (mnt) => {
    const m = await run("mount", ["-t", "tmpfs", "-o", `${options},mode=0700`, "tmpfs", mnt]);
    assert.equal(m.code, 0, m.stderr);
    const dir = `${mnt}/store`;
    try {
      await fn(dir, mnt);
    } finally {
      await reapStore(dir, 2000);
      await run("umount", ["-l", mnt]);
    }
  });
}

Deno.test({
  name:
    `faults: a spawn whose start record the disk refuses fails saying so; its task is ended and leaves nothing behind${
      noTmpfs ? ` (skipped: ${noTmpfs})` : ""
    }`,
  ignore: noTmpfs !== undefined,
  async fn() {
    await onTmpfs("fault-full-start", "size=1m", async (dir, mnt) => {
      const tasks = new TaskManager({ dir });
      const done = await tasks.spawnShell("echo hi");
      await tasks.wait(done.id);
      // Full, then one page free: the spawn record takes it, the start record finds none.
      await fillBlocks(`${mnt}/filler`);
      const size = (await Deno.stat(`${mnt}/filler`)).size;
      await Deno.truncate(`${mnt}/filler`, (Math.ceil(size / 4096) - 1) * 4096);
      const marker = `bgtask-full-start-${crypto.randomUUID()}`;
      // (Before: it "started", its record empty: it read queued, and no kill could find it.)
      await assert.rejects(
        tasks.spawnShell(`sleep 300; echo ${marker}`),
        (e: Error) =>
          /^Cannot spawn task: its start could not be recorded, the store's disk is full \(it was ended at once; /
            .test(e.message),
      );
      await until(() => pidsMentioning(marker).length === 0, "its processes to be gone");
      assert.deepEqual((await tasks.list()).map((t) => t.id), [done.id]);
    });
  },
});

Deno.test({
  name:
    `faults: with no inode left, kill still ends a running task (a runaway task filling the disk can be stopped)${
      noTmpfs ? ` (skipped: ${noTmpfs})` : ""
    }`,
  ignore: noTmpfs !== undefined,
  async fn() {
    await onTmpfs("fault-no-inode-kill", "size=1m,nr_inodes=200", async (dir, mnt) => {
      const tasks = new TaskManager({ dir });
      const t = await tasks.spawnShell("sleep 300 & wait");
      await until(() => groupMembers(t.pid!).length >= 2, "its tree to start");
      fillInodes(mnt);
      // (Before: "Cannot write to the bgtask store …: No space left", and it ran on.)
      const info = await tasks.kill(t.id, { graceMs: 1000 });
      assert.notEqual(info.status, "running", JSON.stringify(info));
      assert.deepEqual(groupMembers(t.pid!), []);
      // Room again: its supervisor records the signal that ended it.
      await run("bash", ["-c", `rm -f '${mnt}'/inode-*`]);
      const ended = await tasks.wait(t.id, { signal: AbortSignal.timeout(15_000) });
      assert.deepEqual([ended.status, ended.signal], ["failed", "SIGTERM"], JSON.stringify(ended));
    });
  },
});

Deno.test({
  name:
    `faults: on a full disk, no block and then no inode left, rm and clean still free room, and a refused spawn leaves no folder behind${
      noTmpfs ? ` (skipped: ${noTmpfs})` : ""
    }`,
  ignore: noTmpfs !== undefined,
  async fn() {
    await onTmpfs("fault-full-rm", "size=1m,nr_inodes=300", async (dir, mnt) => {
      const tasks = new TaskManager({ dir });
      const made = [];
      for (const word of ["a", "b", "c"]) made.push(await tasks.spawnShell(`echo ${word}`));
      for (const t of made) await tasks.wait(t.id);
      const [a, b, c] = made.map((t) => t.id);
      const folders = () => [...Deno.readDirSync(`${dir}/tasks`)].map((e) => e.name).sort();
      await fillBlocks(`${mnt}/filler`);
      // Its spawn record cannot be written: refused, and its folder goes with it.
      await assert.rejects(tasks.spawnShell("echo never"), StoreError);
      assert.deepEqual(folders(), [a, b, c]);
      // A tombstone with a word in it needs a block: an empty one will do.
      await tasks.remove(a);
      assert.deepEqual(folders(), [b, c]);
      // No inode left either: the spawn record itself becomes the tombstone.
      fillInodes(mnt);
      await tasks.remove(b);
      assert.deepEqual((await tasks.clean()).map((t) => t.id), [c]);
      assert.deepEqual(folders(), []);
      for (const id of [a, b, c]) {
        assert.equal(await tasks.getStatus(id), undefined);
        await assert.rejects(tasks.readOutput(id), /was removed/);
      }
      // Room again: no id is issued twice, the refused one's neither.
      await run("bash", ["-c", `rm -f '${mnt}'/inode-* '${mnt}/filler'`]);
      const next = await tasks.spawnShell("echo again");
      assert.equal(next.id, "b5");
      assert.equal((await tasks.wait(next.id)).status, "completed");
    });
  },
});

Deno.test({
  name:
    `faults: with the last inodes running out, a refused spawn reads as refused (not removed), and leaves no folder behind${
      noTmpfs ? ` (skipped: ${noTmpfs})` : ""
    }`,
  ignore: noTmpfs !== undefined,
  async fn() {
    // A chaos walk: with 40 inodes, b5 read "removed by rm or clean" (its
    // spawn record, renamed into its tombstone, said no word) and b6 left
    // an empty folder for good, "no task". Each count of inodes left is
    // tried: a spawn fails at a different step for each.
    await onTmpfs("fault-last-inodes", "size=1m,nr_inodes=300", async (dir, mnt) => {
      const tasks = new TaskManager({ dir });
      const first = await tasks.spawnShell("true");
      await tasks.wait(first.id);
      const refused: string[] = [];
      const started: string[] = [];
      for (let free = 1; free <= 12; free++) {
        fillInodes(mnt);
        await run("bash", ["-c", `rm -f $(ls -d '${mnt}'/inode-* | head -n ${free})`]);
        try {
          started.push((await tasks.spawnShell("true")).id);
        } catch (e) {
          assert.match(String(e), /disk is full|no space left|no inode/i);
        }
        // (Room again: a task that started waits for it to record its end.)
        await run("bash", ["-c", `rm -f '${mnt}'/inode-*`]);
      }
      for (const id of started) await tasks.wait(id);
      const last = await tasks.spawnShell("true");
      await tasks.wait(last.id);
      const live = new Set((await tasks.list()).map((t) => t.id));
      for (let n = 1; n < Number(last.id.slice(1)); n++) {
        const id = `b${n}`;
        if (live.has(id)) continue;
        refused.push(id);
        await assert.rejects(
          tasks.getStatusOrThrow(id),
          /never started: its spawn was refused/,
          `${id} reads as refused`,
        );
      }
      assert.ok(refused.length > 0, "some spawn was refused");
      const folders = [...Deno.readDirSync(`${dir}/tasks`)].map((e) => e.name).sort();
      assert.deepEqual(folders, [...live].sort(), "a folder is a task's");
    });
  },
});

Deno.test("faults: damaged records and foreign files leave the rest of the store working and are reported", async () => {
  await withStore("fault-damage", async (tasks, dir) => {
    const spawned = [];
    for (let i = 1; i <= 4; i++) spawned.push(await tasks.spawnShell(`echo task ${i}`));
    for (const t of spawned) await tasks.wait(t.id);
    const T = `${dir}/tasks`;
    // b2: a half-written spawn record; b3: a garbage final record.
    const spec2 = await Deno.readTextFile(`${T}/b2/spec`);
    await Deno.writeTextFile(`${T}/b2/spec`, spec2.slice(0, spec2.length >> 1));
    await Deno.writeTextFile(`${T}/b3/final.json`, '{"status":"comp');
    // Foreign things: files and folders that are not tasks, a file where a task
    // folder should be, old empty task folders (a spawner that died mid-spawn),
    // a copied task folder, stray markers and log lines.
    await Deno.writeTextFile(`${T}/notes.txt`, "hello");
    await Deno.mkdir(`${T}/README`);
    await Deno.writeTextFile(`${T}/b99`, "not a folder");
    const hourAgo = new Date(Date.now() - 3600_000);
    await Deno.mkdir(`${T}/b77`);
    await Deno.utime(`${T}/b77`, hourAgo, hourAgo);
    await Deno.mkdir(`${T}/b6`); // sits on an id not issued yet
    await Deno.utime(`${T}/b6`, hourAgo, hourAgo);
    await Deno.mkdir(`${T}/b88`);
    await Deno.copyFile(`${T}/b1/spec`, `${T}/b88/spec`);
    await Deno.writeTextFile(`${dir}/completions.log`, "junk\nb55\n", { append: true });
    await Deno.writeTextFile(`${dir}/active/b66`, "");
    await Deno.writeTextFile(`${dir}/active/b3`, "");
    await Deno.writeTextFile(`${dir}/ids/zzz`, "");
    await Deno.writeTextFile(`${dir}/next`, "garbage\n");
    await Deno.mkdir(`${dir}/some-folder`);

    const fresh = new TaskManager({ dir });
    const damaged = new Map<string, Error>();
    const listed = await fresh.list({ onDamaged: (id, e) => damaged.set(id, e) });
    // Old folders without a spawn record read as tasks that failed before they ran.
    assert.deepEqual(listed.map((t) => t.id), ["b1", "b4", "b6", "b77"]);
    for (const t of listed.slice(2)) {
      assert.equal(t.status, "failed");
      assert.equal(t.reason, "lost");
    }
    assert.deepEqual([...damaged.keys()].sort(), ["b2", "b3", "b88", "b99"]);
    for (const [id, e] of damaged) {
      assert.ok(e instanceof StoreError, `${id}: ${e}`);
      assert.ok(e.message.includes(id), `the error names ${id}: ${e.message}`);
    }
    for (const id of ["b2", "b3", "b88", "b99"]) {
      await assert.rejects(
        fresh.getStatus(id),
        (e: Error) => e instanceof StoreError && e.message.includes(id),
      );
    }
    // The intact tasks work as before.
    assert.equal(await fresh.readOutput("b1"), "task 1\n");
    assert.equal((await fresh.getStatus("b4"))?.status, "completed");
    // Completions: the intact ones, once; the damaged ones and stray markers are skipped.
    assert.deepEqual((await fresh.drainCompletions()).map((t) => t.id).sort(), ["b1", "b4"]);
    // New tasks get fresh ids, even past foreign folders that sit on future ids.
    for (let i = 0; i < 3; i++) {
      const t = await fresh.spawnShell(`echo new ${i}`);
      assert.ok(!["b1", "b2", "b3", "b4"].includes(t.id), `id ${t.id} reused`);
      assert.equal((await fresh.wait(t.id)).status, "completed");
      assert.equal(await fresh.readOutput(t.id), `new ${i}\n`);
    }
    // (Unread ones too: the drain above registered "default", which has not read the new ones.)
    assert.equal((await fresh.clean({ status: "completed", unread: true })).length, 5);
    // The abandoned folders go with remove() and clean().
    assert.equal((await fresh.remove("b77")).status, "failed");
    assert.deepEqual((await fresh.clean({ status: "failed" })).map((t) => t.id), ["b6"]);
    await fresh.close();
  });
});

Deno.test("faults: a store removed while a manager is open gives a clear error on the next call, no crash", async () => {
  await withTempDir("fault-removed", async (tmp) => {
    const dir = `${tmp}/store`;
    const go = `${tmp}/go`;
    const tasks = new TaskManager({ dir });
    const done = await tasks.spawnShell("echo done");
    await tasks.wait(done.id);
    const running = await tasks.spawnShell(`while [ ! -e "$GO" ]; do sleep 0.01; done`, {
      env: { GO: go },
    });
    const stop = new AbortController();
    const pendingWait = tasks.wait(running.id, { signal: AbortSignal.timeout(30_000) });
    pendingWait.catch(() => {});
    const stream = tasks.completions({ signal: stop.signal });
    assert.equal((await stream.next()).value?.id, done.id);
    try {
      await Deno.remove(dir, { recursive: true });
      const clear = (e: Error) =>
        e instanceof StoreError && e.message.includes(dir) &&
        /does not exist|removed/.test(e.message);
      await assert.rejects(tasks.getStatus(done.id), clear);
      await assert.rejects(tasks.readOutput(done.id), clear);
      await assert.rejects(
        tasks.list(),
        (e: Error) => clear(e) && /a new TaskManager/.test(e.message),
      );
      await assert.rejects(tasks.spawnShell("echo x"), clear);
      await assert.rejects(tasks.drainCompletions(), clear);
      await assert.rejects(tasks.kill(running.id), clear);
      await assert.rejects(pendingWait, clear);
      await assert.rejects(stream.next(), clear);
    } finally {
      stop.abort();
      await stream.return(undefined);
      await Deno.writeTextFile(go, "");
      await until(() => pidsMentioning(tmp).length === 0, "the orphaned task to end");
      await tasks.close();
    }
    // A new manager on the same path starts a new, working store.
    const again = new TaskManager({ dir });
    const t = await again.spawnShell("echo back");
    assert.equal((await again.wait(t.id)).status, "completed");
    await reapStore(dir);
  });
});

Deno.test("faults: a store path that is a file: every call, a completion peek included, says it is not a folder, and the file is left as it was", async () => {
  await withTempDir("fault-file-store", async (tmp) => {
    const dir = `${tmp}/store`;
    await Deno.writeTextFile(dir, "mine\n");
    const tasks = new TaskManager({ dir });
    const calls: Record<string, () => Promise<unknown>> = {
      list: () => tasks.list(),
      getStatus: () => tasks.getStatus("b1"),
      spawnShell: () => tasks.spawnShell("true"),
      peekCompletions: () => tasks.peekCompletions(),
      peekNamed: () => tasks.peekCompletions({ consumer: "agent" }),
      drainCompletions: () => tasks.drainCompletions(),
      getQueues: () => tasks.getQueues(),
    };
    for (const [name, call] of Object.entries(calls)) {
      await assert.rejects(call(), (e: Error) => {
        assert.ok(e instanceof StoreError, `${name}: ${e}`);
        assert.equal(e.message, `Store "${dir}" is not a folder`, name);
        return true;
      });
    }
    assert.equal(await Deno.readTextFile(dir), "mine\n");
    await tasks.close();
  });
});
