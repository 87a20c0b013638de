/**
 * Issue 10, fault 5: a spawner SIGKILLed mid-spawn left an empty tasks/b151/
 * that made every `list` and `clean` print "damaged" forever, and `rm`
 * could not remove it.
 *
 * Now a task folder without a spawn record older than 60 s reads as a task
 * that failed before it ran ("lost"): `list` shows it without noise, and
 * `remove`/`rm` and `clean` delete it. Younger ones are being created and
 * are left out quietly.
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { cli } from "./cli_helpers.ts";
import { decoder, startDeno, until, withStore, writeScript } from "./_helpers/reliability.ts";

/** A spawner that spawns four at a time, for ever, printing each id. */
const SPAWNER = `
import { TaskManager } from __MOD__;
const tasks = new TaskManager({ dir: Deno.args[0] });
const one = async () => {
  for (;;) console.log((await tasks.spawnShell("echo hi")).id);
};
await Promise.all([one(), one(), one(), one()]);
`;

/** Spawns in a child process and SIGKILLs it once it has spawned `after` tasks. */
async function killSpawnerMidway(dir: string, after: number): Promise<void> {
  const script = await writeScript(dir, "spawner", SPAWNER);
  const child = startDeno(script, [
    "--allow-run=bash",
    `--allow-read=${dir}`,
    `--allow-write=${dir}`,
  ], [dir]);
  const reader = child.stdout.getReader();
  let seen = "";
  try {
    while (seen.split("\n").length <= after) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
  } finally {
    child.kill("SIGKILL");
    reader.releaseLock();
    await child.stdout.cancel();
    await child.stderr.cancel();
  }
  assert.equal((await child.status).signal, "SIGKILL");
  await Deno.remove(script);
}

Deno.test("abandoned spawns: folders a SIGKILLed spawner left, and an old empty one, list as failed (lost) without noise; rm and clean delete them", async () => {
  await withStore("abandoned", async (tasks, dir) => {
    // Real spawners killed in the middle of their spawns, at three moments.
    for (const after of [5, 11, 17]) await killSpawnerMidway(dir, after);
    const damaged: string[] = [];
    const quiet = { onDamaged: (id: string, e: Error) => damaged.push(`${id}: ${e.message}`) };
    // Right after: whatever they left is either a task or quietly "being created".
    for (const t of await tasks.list(quiet)) {
      assert.ok(["running", "completed", "queued"].includes(t.status), JSON.stringify(t));
    }
    assert.deepEqual(damaged, []);

    // A spawner that died between claiming an id and writing its spawn
    // record, a minute and more ago: the folder, alone (and one with a half
    // written spawn record, as a kill during its write leaves it).
    const claimed = Number((await tasks.spawnShell("true")).id.slice(1));
    const empty = `b${claimed + 1}`, halfWritten = `b${claimed + 2}`;
    await Deno.mkdir(`${dir}/tasks/${empty}`, { mode: 0o700 });
    await Deno.mkdir(`${dir}/tasks/${halfWritten}`, { mode: 0o700 });
    await Deno.writeTextFile(`${dir}/tasks/${halfWritten}/spec.1f2e.tmp`, "bgtask-spec 2\0id=");
    // Age every folder without a spawn record, the spawners' ones too.
    const old = new Date(Date.now() - 5 * 60_000);
    const abandoned: string[] = [];
    for (const e of Deno.readDirSync(`${dir}/tasks`)) {
      const folder = `${dir}/tasks/${e.name}`;
      if ([...Deno.readDirSync(folder)].some((f) => f.name === "spec")) continue;
      await Deno.utime(folder, old, old);
      abandoned.push(e.name);
    }
    assert.ok(abandoned.includes(empty) && abandoned.includes(halfWritten));
    console.log(`folders without a spawn record: ${abandoned.join(" ")}`);
    await until(
      async () => (await tasks.list({ status: "running" })).length === 0,
      "the spawned tasks to end",
    );

    // The library: listed as failed before they ran, no damage reported.
    const listed = await tasks.list(quiet);
    assert.deepEqual(damaged, []);
    for (const id of abandoned) {
      const t = listed.find((x) => x.id === id);
      assert.ok(t, `${id} is listed`);
      assert.equal(t.status, "failed");
      assert.equal(t.reason, "lost");
      assert.match(t.error ?? "", /spawner stopped before the task was created/);
      assert.equal(t.pid, null);
      assert.deepEqual(await tasks.getStatus(id), t);
    }

    // The CLI: list and status are quiet; rm deletes one, clean the rest.
    const list = await cli(dir, ["list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stderr, "");
    assert.match(list.stdout, new RegExp(`^${empty}\\s+failed`, "m"));
    const status = await cli(dir, ["status", empty]);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(status.stderr, "");
    const rm = await cli(dir, ["rm", empty, "--json"]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stderr, "");
    assert.deepEqual(JSON.parse(rm.stdout).map((t: { id: string }) => t.id), [empty]);
    const clean = await cli(dir, ["clean", "--json"]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stderr, "");
    const cleaned = JSON.parse(clean.stdout).map((t: { id: string }) => t.id);
    for (const id of abandoned.filter((x) => x !== empty)) assert.ok(cleaned.includes(id), id);
    // Left: only a task whose spawner died between its spawn record and its
    // launch, if a kill fell there (it reads as lost 30 s after its creation).
    // (Killed together: each waits out the start its spawner never made.)
    await Promise.all((await tasks.list(quiet)).map(async (t) => {
      assert.equal(t.status, "queued", JSON.stringify(t));
      await tasks.kill(t.id);
      await tasks.remove(t.id);
    }));
    assert.deepEqual([...Deno.readDirSync(`${dir}/tasks`)].map((e) => e.name), []);
    assert.deepEqual(damaged, []);
    // And their ids are not issued again.
    const next = await new TaskManager({ dir }).spawnShell("true");
    assert.ok(Number(next.id.slice(1)) > claimed + 2, next.id);
    await tasks.wait(next.id);
  });
});
