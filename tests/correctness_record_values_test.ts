/**
 * Records whose values no writer gives (a hand's edit, a torn or foreign
 * write): the task is damaged, and only that task. From a bad-input walk:
 * one `finishedAt` of 99999999999999999 made every `list`, `status`,
 * `clean` and `rm` of the store fail ("invalid time value", exit 2), and an
 * exit code of -7 was believed (`wait` exited 249).
 */

import { assert, assertEquals } from "./_helpers/assert.ts";
import { DamagedRecordError } from "../src/store/fs_store.ts";
import { withStore } from "./_helpers/common.ts";
import { cli } from "./cli_helpers.ts";

/** A final record's fields, each replaced in turn by a value no writer gives. */
const BAD_FINALS: Record<string, unknown>[] = [
  { finishedAt: 99999999999999999 },
  { finishedAt: 9e15 }, // a safe integer, past what a Date holds
  { finishedAt: -5 },
  { finishedAt: 1.5 },
  { exitCode: 300 },
  { exitCode: -7 },
  { exitCode: 2.5 },
  { exitCode: "1" },
  { status: "completed", exitCode: 5 },
  { status: "completed", signal: "SIGTERM", exitCode: null },
  { signal: "sigterm" },
  { signal: 15 },
];

Deno.test("a final record with a value no writer gives damages its task alone: the store lists, and the task can be removed", async () => {
  await withStore(async (tasks, dir) => {
    const good = await tasks.spawnShell("true");
    await tasks.wait(good.id);
    for (const bad of BAD_FINALS) {
      const t = await tasks.spawnShell("exit 1");
      await tasks.wait(t.id);
      const path = `${dir}/tasks/${t.id}/final.json`;
      const record = JSON.parse(await Deno.readTextFile(path));
      // (JSON.stringify cannot write 1e999 or a number past 2^53 exactly: written by hand.)
      await Deno.writeTextFile(path, JSON.stringify({ ...record, ...bad }) + "\n");
      const what = JSON.stringify(bad);
      const damaged: string[] = [];
      const listed = await tasks.list({ onDamaged: (id) => damaged.push(id) });
      assertEquals(listed.map((i) => i.id), [good.id], what);
      assertEquals(damaged, [t.id], what);
      const e = await tasks.getStatus(t.id).then(() => undefined, (e) => e as Error);
      assert(e instanceof DamagedRecordError, `${what}: ${e}`);
      assert(/final\.json" cannot be read \(it has ended/.test(e.message), e.message);
      const list = await cli(dir, ["list"]);
      assertEquals(list.code, 0, `${what}: ${list.stderr}`);
      assert(list.stdout.includes(good.id), list.stdout);
      assert(list.stderr.includes(`task ${t.id} is damaged`), list.stderr);
      const wait = await cli(dir, ["wait", t.id]);
      assertEquals(wait.code, 1, `${what}: wait ${wait.code} ${wait.stderr}`);
      const rm = await cli(dir, ["rm", t.id]);
      assertEquals(rm.code, 0, `${what}: ${rm.stderr}`);
    }
    // Written by hand: a number JSON.stringify would not write as such.
    const t = await tasks.spawnShell("true");
    await tasks.wait(t.id);
    const path = `${dir}/tasks/${t.id}/final.json`;
    const text = await Deno.readTextFile(path);
    for (const raw of ['"exitCode":1e999', '"finishedAt":1e999']) {
      const key = raw.split(":")[0];
      await Deno.writeTextFile(path, text.replace(new RegExp(`${key}:[^,}]*`), raw));
      const damaged: string[] = [];
      assertEquals((await tasks.list({ onDamaged: (id) => damaged.push(id) })).length, 1, raw);
      assertEquals(damaged, [t.id], raw);
    }
    assertEquals((await cli(dir, ["clean"])).code, 0);
  });
});

Deno.test("a start or spawn record with a moment no Date holds is no record: the store still lists", async () => {
  await withStore(async (tasks, dir) => {
    const a = await tasks.spawnShell("true");
    const b = await tasks.spawnShell("true");
    await tasks.wait(a.id);
    await tasks.wait(b.id);
    // A finished task's start record: not read as one (the task shows no start).
    const started = `${dir}/tasks/${a.id}/started`;
    const s = await Deno.readTextFile(started);
    const words = s.slice(0, s.indexOf("\n")).split(" ");
    words[4] = "9000000000000000";
    await Deno.writeTextFile(started, words.join(" ") + s.slice(s.indexOf("\n")));
    assertEquals((await tasks.getStatus(a.id))?.startedAt, null);
    // A spawn record's createdAt: the task is damaged.
    const spec = `${dir}/tasks/${b.id}/spec`;
    const bytes = await Deno.readTextFile(spec);
    await Deno.writeTextFile(spec, bytes.replace(/createdAt=\d+/, "createdAt=9000000000000000"));
    const damaged: string[] = [];
    const listed = await tasks.list({ onDamaged: (id) => damaged.push(id) });
    assertEquals([listed.map((i) => i.id), damaged], [[a.id], [b.id]]);
    const list = await cli(dir, ["list"]);
    assertEquals(list.code, 0, list.stderr);
    // bgtask 0.1's spawn record (task.json, JSON), as an upgraded store holds it.
    await Deno.remove(spec);
    for (
      const bad of [{ createdAt: 1e20 }, { createdAt: -5 }, { timeoutMs: -1 }, { graceMs: 0.5 }]
    ) {
      const legacy = { id: b.id, command: "true", createdAt: Date.now(), cwd: null, ...bad };
      await Deno.writeTextFile(`${dir}/tasks/${b.id}/task.json`, JSON.stringify(legacy) + "\n");
      const seen: string[] = [];
      const all = await tasks.list({ onDamaged: (id) => seen.push(id) });
      assertEquals([all.some((i) => i.id === b.id), seen], [false, [b.id]], JSON.stringify(bad));
      // (The first clean removes a, which is whole: b, damaged, stays.)
      assertEquals((await cli(dir, ["clean"])).code, 0, JSON.stringify(bad));
    }
  });
});
