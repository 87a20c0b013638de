/**
 * Security (issue 6): a private store, refused when it is unsafe, no shell
 * injection through anything the user passes, no way out of the store, and
 * another user cannot read task output.
 */

import assert from "node:assert/strict";
import { StoreError, TaskManager, TaskNotFoundError } from "../mod.ts";
import {
  IS_ROOT,
  MOD_URL,
  reapStore,
  ROOT,
  run,
  withStore,
  withTempDir,
} from "./_helpers/reliability.ts";
import { minimalFlags, runDeno } from "./_helpers/common.ts";

const NOBODY = 65534;

function mode(path: string): number {
  return Deno.lstatSync(path).mode! & 0o7777;
}

/** Every folder and file under `dir`, with its mode. */
function walk(dir: string): { path: string; isDir: boolean; mode: number }[] {
  const out: { path: string; isDir: boolean; mode: number }[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    out.push({ path, isDir: e.isDirectory, mode: mode(path) });
    if (e.isDirectory) out.push(...walk(path));
  }
  return out;
}

Deno.test("security: the store is 0700 and every file in it 0600, even under umask 000", async () => {
  await withTempDir("sec-modes", async (tmp) => {
    const dir = `${tmp}/deep/er/store`;
    const script = `${tmp}/spawn.ts`;
    await Deno.writeTextFile(
      script,
      `import { TaskManager } from ${JSON.stringify(MOD_URL)};
const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
const a = await tasks.spawnShell("echo secret; : > ${tmp}/made-by-task");
const b = await tasks.spawnShell("sleep 300");
const c = await tasks.spawnShell("sleep 300", { timeoutMs: 100, graceMs: 100 });
const d = await tasks.spawnShell(": " + "x".repeat(200 * 1024)); // long: kept in command.sh
await tasks.wait(a.id);
await tasks.kill(b.id, { graceMs: 100 });
await tasks.wait(c.id);
await tasks.wait(d.id);
await tasks.drainCompletions();
await tasks.spawnShell("echo pending; exit 1").then((t) => tasks.wait(t.id));
// Queues: files and markers written by Deno, by supervisors handing slots on,
// and by the scheduler Deno runs (resume, a dependency that joins a new queue).
await tasks.setQueue("q", { parallel: 1 });
const q1 = await tasks.spawnShell("sleep 0.2", { queue: "q" });
const q2 = await tasks.spawnShell("true", { queue: "q" });
await tasks.pauseQueue("p");
const p1 = await tasks.spawnShell(": > ${tmp}/made-by-queued-task", { queue: "p" });
const later = await tasks.spawnShell("true", { queue: "fresh", after: [q2.id] });
await tasks.resumeQueue("p");
// One that cannot start (its cwd is gone when its turn comes) writes its record as the store's.
await Deno.mkdir("${tmp}/gone");
await tasks.pauseQueue("c");
const lost = await tasks.spawnShell("true", { queue: "c", cwd: "${tmp}/gone" });
const after = await tasks.spawnShell("true", { queue: "c" });
await Deno.remove("${tmp}/gone");
await tasks.resumeQueue("c");
for (const t of [q1, q2, p1, later, lost, after]) await tasks.wait(t.id);
if ((await tasks.getStatus(lost.id))?.reason !== "start") throw new Error("it started");
await tasks.getQueues();
`,
    );
    // A private Deno cache: under umask 000, Deno would write world-writable files into the user's.
    const out = await run("bash", [
      "-c",
      'umask 000; exec "$0" run --quiet -A "$1"',
      Deno.execPath(),
      script,
    ], { cwd: ROOT, env: { DENO_DIR: `${tmp}/deno-dir` } });
    assert.equal(out.code, 0, out.stderr);
    try {
      assert.equal(mode(dir), 0o700);
      // Folders made on the way are made as `mkdir -p` makes them, under the
      // umask (a library user's walk: `--dir ./build/.bgtask` made build/ 700,
      // unreadable to others); the store alone is private.
      assert.equal(mode(`${tmp}/deep`), 0o777, "a folder on the way, as mkdir -p makes it");
      assert.equal(mode(`${tmp}/deep/er`), 0o777, "a folder on the way, as mkdir -p makes it");
      const entries = walk(dir);
      assert.ok(entries.some((e) => e.path.endsWith("/command.sh")));
      assert.ok(entries.some((e) => e.path.endsWith("/delivered.default")));
      assert.ok(entries.some((e) => e.path.endsWith("/final.json")));
      for (const e of entries) {
        assert.equal(
          e.mode.toString(8),
          e.isDir ? "700" : "600",
          `${e.path.slice(dir.length)} is ${e.mode.toString(8)}`,
        );
      }
      // The task itself runs with the caller's umask, not the store's.
      assert.equal(mode(`${tmp}/made-by-task`), 0o666);
      assert.equal(mode(`${tmp}/made-by-queued-task`), 0o666, "started by the scheduler too");
      assert.ok(entries.some((e) => e.path.endsWith("/queues/p/head")));
      assert.ok(entries.some((e) => e.path.endsWith("/launched")));
    } finally {
      await reapStore(dir);
    }
  });
});

Deno.test("security: a store that is a symlink is refused with a clear error", async () => {
  await withTempDir("sec-symlink", async (tmp) => {
    const real = `${tmp}/real`;
    await Deno.mkdir(real, { mode: 0o700 });
    await Deno.symlink(real, `${tmp}/link`);
    const tasks = new TaskManager({ dir: `${tmp}/link` });
    await assert.rejects(
      tasks.spawnShell("echo hi"),
      (e: Error) =>
        e instanceof StoreError && /symlink/.test(e.message) && e.message.includes(`${tmp}/link`),
    );
    await assert.rejects(tasks.list(), StoreError);
    assert.equal(await tasks.getStatus("b1").catch((e) => e.name), "StoreError");
    assert.deepEqual([...Deno.readDirSync(real)], [], "nothing was written through the link");
  });
});

Deno.test("security: a store in a folder reached through a symlink works with the permissions given on the path as written", async () => {
  // As when ~/.cache is a link, or macOS's /var (/private/var): Deno checks
  // some calls on an open file against its real path, outside the permission.
  await withTempDir("sec-symlinked-parent", async (tmp) => {
    await Deno.mkdir(`${tmp}/real`, { mode: 0o700 });
    await Deno.symlink(`${tmp}/real`, `${tmp}/link`);
    const dir = `${tmp}/link/store`;
    try {
      const out = await runDeno(
        minimalFlags(dir),
        `import { TaskManager } from MOD;
        const tm = new TaskManager({ dir: ${JSON.stringify(dir)} });
        const t = await tm.spawnShell("echo hi");
        await tm.wait(t.id);
        const seen = [await tm.readOutput(t.id), await tm.tailOutput(t.id, 1)];
        for await (const s of tm.follow(t.id)) seen.push(s);
        seen.push((await tm.readOutputChunk(t.id, { offset: 0 })).text);
        seen.push((await tm.drainCompletions()).map((x) => x.id).join());
        await tm.setQueue("q", { parallel: 2 });
        const q = await tm.spawnShell("echo queued", { queue: "q" });
        await tm.wait(q.id);
        seen.push(await tm.readOutput(q.id));
        seen.push(String(await tm.removeQueue("q")), String((await tm.getQueues()).length));
        await tm.setQueue("q", { parallel: 1 }); // a queue of the same name again
        const again = await tm.spawnShell("echo again", { queue: "q" });
        await tm.wait(again.id);
        seen.push(await tm.readOutput(again.id));
        console.log(JSON.stringify(seen));`,
      );
      assert.equal(out.stderr, "");
      assert.deepEqual(JSON.parse(out.stdout), [
        "hi\n",
        "hi\n",
        "hi\n",
        "hi\n",
        "b1",
        "queued\n",
        "true",
        "0",
        "again\n",
      ]);
    } finally {
      await reapStore(dir);
    }
  });
});

Deno.test("security: a store writable by group or others is refused with a clear error", async () => {
  await withTempDir("sec-loose", async (tmp) => {
    for (const m of [0o770, 0o720, 0o702, 0o777]) {
      const dir = `${tmp}/store-${m.toString(8)}`;
      await Deno.mkdir(dir);
      await Deno.chmod(dir, m);
      const tasks = new TaskManager({ dir });
      await assert.rejects(
        tasks.spawnShell("echo hi"),
        (e: Error) =>
          e instanceof StoreError && /writable by group or others/.test(e.message) &&
          e.message.includes(dir) && /if it is yours, run: chmod 700/.test(e.message),
        `mode ${m.toString(8)}`,
      );
      assert.deepEqual(await tasks.list(), [], "no store there (nothing has run)");
      assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing was written into it");
      // A store (its tasks folder) made so: reading it is refused too.
      await Deno.mkdir(`${dir}/tasks`);
      await assert.rejects(tasks.list(), /writable by group or others/);
      // Fixed as the message says, the same store works.
      await Deno.chmod(dir, 0o700);
      const fixed = new TaskManager({ dir });
      const t = await fixed.spawnShell("echo ok");
      assert.equal((await fixed.wait(t.id)).status, "completed");
    }
  });
});

Deno.test("security: a shared folder (sticky, as /tmp) as the store is refused, never told to be chmod-ed", async () => {
  await withTempDir("sec-shared", async (tmp) => {
    const dir = `${tmp}/shared`;
    await Deno.mkdir(dir);
    await Deno.chmod(dir, 0o1777);
    for (const tasks of [new TaskManager({ dir }), new TaskManager({ dir: `${dir}/` })]) {
      await assert.rejects(
        tasks.spawnShell("echo hi"),
        (e: Error) =>
          e instanceof StoreError && e.message.includes("is a shared folder") &&
          e.message.includes(
            `the default one (leave out --dir and BGTASK_DIR), or one made ` +
              `inside it by mktemp -d (--dir "$(mktemp -d -p ${dir})")`,
          ) &&
          !/chmod 700/.test(e.message),
      );
      assert.deepEqual(await tasks.list(), [], "no store there (nothing has run)");
    }
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing was written into it");
    await Deno.mkdir(`${dir}/tasks`); // (made a store by hand: refused to read too)
    await assert.rejects(new TaskManager({ dir }).list(), /is a shared folder/);
    await Deno.remove(`${dir}/tasks`);
    // As the message says: a folder of its own inside it (mktemp -d -p makes it 0700).
    const made = new TextDecoder().decode(
      (await new Deno.Command("mktemp", { args: ["-d", "-p", dir] }).output()).stdout,
    ).trim();
    const inside = new TaskManager({ dir: made });
    const t = await inside.spawnShell("echo ok");
    assert.equal((await inside.wait(t.id)).status, "completed");
    await reapStore(made);
  });
});

Deno.test({
  name:
    `security: another user's folder writable by its group is refused, never told to be chmod-ed${
      IS_ROOT ? "" : " (skipped: chown needs root)"
    }`,
  ignore: !IS_ROOT,
  fn: async () => {
    await withTempDir("sec-theirs", async (tmp) => {
      const dir = `${tmp}/theirs`;
      await Deno.mkdir(dir);
      await Deno.chown(dir, 65534, 65534);
      await Deno.chmod(dir, 0o775);
      const tasks = new TaskManager({ dir });
      await assert.rejects(
        tasks.spawnShell("echo hi"),
        (e: Error) =>
          e instanceof StoreError && e.message.includes("belongs to uid 65534") &&
          !/chmod/.test(e.message),
      );
    });
  },
});

Deno.test({
  name: `security: a store owned by another user is refused with a clear error${
    IS_ROOT ? "" : " (skipped: chown needs root)"
  }`,
  ignore: !IS_ROOT,
  async fn() {
    await withTempDir("sec-owner", async (tmp) => {
      const dir = `${tmp}/store`;
      await Deno.mkdir(dir, { mode: 0o700 });
      await Deno.chown(dir, NOBODY, NOBODY);
      const tasks = new TaskManager({ dir });
      await assert.rejects(
        tasks.spawnShell("echo hi"),
        (e: Error) =>
          e instanceof StoreError && /owned by another user/.test(e.message) &&
          e.message.includes(dir),
      );
      assert.deepEqual(await tasks.list(), [], "no store there (nothing has run)");
      assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing was left in it");
      // Another user's store (its tasks folder): reading it is refused.
      await Deno.mkdir(`${dir}/tasks`);
      await assert.rejects(tasks.list(), /owned by another user/);
    });
  },
});

Deno.test("security: nothing in description, cwd, env or id injects shell code or escapes the store", async () => {
  await withStore("sec-inject", async (tasks, dir) => {
    await withTempDir("sec-inject-sentinel", async (s) => {
      const payloads = (tag: string) => [
        `$(touch ${s}/${tag}1)`,
        `\`touch ${s}/${tag}2\``,
        `'; touch ${s}/${tag}3; '`,
        `"; touch ${s}/${tag}4; "`,
        `\n touch ${s}/${tag}5 \n`,
        `$(touch\t${s}/${tag}6)`,
      ];
      const cwd = `${s}/${"$(touch pwned-cwd)"}; touch pwned-cwd2`;
      await Deno.mkdir(cwd);
      const spawned = [];
      for (const [i, p] of payloads("d").entries()) {
        spawned.push(await tasks.spawnShell("true", { description: p, cwd }));
        spawned.push(await tasks.spawnShell("true", { env: { [`V${i}`]: p } }));
      }
      spawned.push(await tasks.spawnShell("true", { env: { cmd: `touch ${s}/envname` } }));
      // The command runs once, as written: text in single quotes stays text.
      spawned.push(await tasks.spawnShell(`printf '%s' '$(touch ${s}/cmd1)'`));
      for (const t of spawned) assert.equal((await tasks.wait(t.id)).status, "completed");
      const last = spawned[spawned.length - 1];
      assert.equal(await tasks.readOutput(last.id), `$(touch ${s}/cmd1)`);
      // Ids: refused before a path is built, so they can neither read nor remove outside the store.
      const outside = `${s}/victim`;
      await Deno.mkdir(outside);
      await Deno.writeTextFile(`${outside}/task.json`, JSON.stringify({ id: "victim" }));
      for (const id of [outside, `../../${outside}`, `b1;touch ${s}/id1`, `$(touch ${s}/id2)`]) {
        await assert.rejects(tasks.remove(id), TaskNotFoundError);
        await assert.rejects(tasks.kill(id), TaskNotFoundError);
      }
      await Deno.lstat(`${outside}/task.json`);
      const made = [...Deno.readDirSync(s)].map((e) => e.name).sort();
      assert.deepEqual(made, [cwd.slice(s.length + 1), "victim"].sort(), "no sentinel was created");
      assert.deepEqual([...Deno.readDirSync(cwd)], [], "nothing was written in the cwd");
      for (const t of spawned.slice(0, 12)) {
        const info = await tasks.getStatus(t.id);
        assert.equal(info?.outputFile, `${dir}/tasks/${t.id}/output`);
      }
    });
  });
});

async function canSetpriv(): Promise<string | undefined> {
  if (!IS_ROOT) return "not running as root, so there is no second user to switch to";
  try {
    const r = await run("setpriv", [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "id",
      "-u",
    ]);
    if (r.code !== 0 || r.stdout.trim() !== String(NOBODY)) return `setpriv failed: ${r.stderr}`;
    return undefined;
  } catch (e) {
    return `setpriv is unavailable: ${(e as Error).message}`;
  }
}

const noSecondUser = await canSetpriv();

/** Runs a command as the throwaway user. */
function asNobody(cmd: string[], env?: Record<string, string>) {
  return run("setpriv", [
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    "--clear-groups",
    "--",
    ...cmd,
  ], { env });
}

Deno.test({
  name: `security: another user cannot read a task's output, and each layer holds on its own${
    noSecondUser ? ` (skipped: ${noSecondUser})` : ""
  }`,
  ignore: noSecondUser !== undefined,
  async fn() {
    await withTempDir("sec-user", async (tmp) => {
      await Deno.chmod(tmp, 0o755); // the way in is open: only the store's own modes protect it
      const dir = `${tmp}/store`;
      const tasks = new TaskManager({ dir });
      const t = await tasks.spawnShell("echo TOP-SECRET-$((6*7))");
      await tasks.wait(t.id);
      assert.equal(await tasks.readOutput(t.id), "TOP-SECRET-42\n");
      const output = `${dir}/tasks/${t.id}/output`;
      try {
        const denied = async (cmd: string[], what: string) => {
          const r = await asNobody(cmd);
          assert.notEqual(r.code, 0, `${what} succeeded as uid ${NOBODY}: ${r.stdout}`);
          assert.match(r.stderr, /Permission denied/, what);
          assert.ok(!r.stdout.includes("TOP-SECRET"), what);
        };
        await denied(["cat", output], "reading the output");
        await denied(["ls", dir], "listing the store");
        await denied(["cat", `${dir}/tasks/${t.id}/spec`], "reading the spawn record");
        // Each layer alone: a store opened to traversal still hides the task folder,
        await Deno.chmod(dir, 0o711);
        await Deno.chmod(`${dir}/tasks`, 0o711);
        await denied(["cat", output], "reading the output through a 0711 store");
        // and a task folder opened to traversal still hides its 0600 files.
        await Deno.chmod(`${dir}/tasks/${t.id}`, 0o711);
        await denied(["cat", output], "reading a 0600 output through open folders");
        await Deno.chmod(dir, 0o700);
        await Deno.chmod(`${dir}/tasks`, 0o700);
        await Deno.chmod(`${dir}/tasks/${t.id}`, 0o700);

        // bgtask itself, run by the other user on this store, refuses it clearly.
        const denoDir = `${tmp}/deno-dir`;
        await Deno.mkdir(denoDir);
        await Deno.chown(denoDir, NOBODY, NOBODY);
        const script = `${tmp}/peek.ts`;
        await Deno.writeTextFile(
          script,
          `import { TaskManager } from ${JSON.stringify(MOD_URL)};
try {
  console.log(await new TaskManager({ dir: ${JSON.stringify(dir)} }).readOutput(${
            JSON.stringify(t.id)
          }));
} catch (e) {
  console.log(e.name + ": " + e.message);
}
`,
        );
        await Deno.chmod(script, 0o644);
        const r = await asNobody(
          [Deno.execPath(), "run", "--quiet", "--no-prompt", "-A", script],
          { DENO_DIR: denoDir, HOME: denoDir, NO_COLOR: "1" },
        );
        assert.equal(r.code, 0, r.stderr);
        assert.ok(!r.stdout.includes("TOP-SECRET"), r.stdout);
        assert.match(r.stdout, /^StoreError: .*(owned by another user|Permission denied)/);
      } finally {
        await Deno.chmod(dir, 0o700).catch(() => {});
      }
    });
  },
});
