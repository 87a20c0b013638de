/**
 * `list({ last })` and `bgtask list --last N`: the newest tasks without
 * reading a whole store (a long-life pass: `list` of 10,000 tasks took
 * 1.5–2.2 s, and there was no way to see only the latest).
 */

import { assert, assertEquals, assertRejects } from "./_helpers/assert.ts";
import { TaskManager } from "../mod.ts";
import { buildStore } from "../bench/lib/fake_store.ts";
import { withStore } from "./_helpers/common.ts";
import { cli } from "./cli_helpers.ts";

Deno.test("list({ last }): the newest N that match, oldest first, reading back as far as it must and no further", async () => {
  await withStore(async (tasks, dir) => {
    const failed = await tasks.spawnShell("exit 1");
    await tasks.wait(failed.id);
    // More than one batch (64) of newer tasks that do not match --status failed.
    const ids: string[] = [];
    for (let i = 0; i < 70; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => tasks.spawnShell("true")));
      for (const t of batch) await tasks.wait(t.id);
      ids.push(...batch.map((t) => t.id));
    }
    assertEquals((await tasks.list({ last: 3 })).map((t) => t.id), ids.slice(-3));
    assertEquals((await tasks.list({ last: 1, status: "failed" })).map((t) => t.id), [failed.id]);
    assertEquals((await tasks.list({ last: 500 })).length, 71);
    // Older tasks are not read: a damaged one among them is not even seen.
    await Deno.writeTextFile(`${dir}/tasks/${failed.id}/final.json`, "garbage\n");
    const damaged: string[] = [];
    const newest = await tasks.list({ last: 2, onDamaged: (id) => damaged.push(id) });
    assertEquals([newest.map((t) => t.id), damaged], [ids.slice(-2), []]);
    await assertRejects(
      () => tasks.list({ last: 0 }),
      TypeError,
      /last must be a whole number of at least 1/,
    );
  });
});

Deno.test("list --last N shows the newest N; 0 is refused", async () => {
  await withStore(async (tasks, dir) => {
    for (const c of ["echo 1", "echo 2", "echo 3"]) {
      await tasks.wait((await tasks.spawnShell(c)).id);
    }
    const r = await cli(dir, ["list", "--last", "2", "--json"]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(JSON.parse(r.stdout).map((t: { id: string }) => t.id), ["b2", "b3"]);
    const zero = await cli(dir, ["list", "--last", "0"]);
    assertEquals([zero.code, zero.stderr], [
      2,
      'bgtask: invalid number "0" for --last (a whole number ≥ 1)\n',
    ]);
  });
});

Deno.test("list lets the event loop turn between runs of its (synchronous) reads: a timer due during a list of 400 tasks runs before the list has read them all", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-list-turns-" });
  const read = Deno.readFileSync;
  try {
    await buildStore(dir, 400);
    const tasks = new TaskManager({ dir });
    await tasks.list(); // (opened, and the modules loaded)
    let specs = 0;
    let firedAt = -1;
    Deno.readFileSync = (path, ...rest) => {
      if (String(path).endsWith("/spec") && ++specs === 10) {
        setTimeout(() => firedAt = specs, 0);
      }
      return read(path, ...rest);
    };
    assertEquals((await tasks.list()).length, 400);
    assert(firedAt > 0 && firedAt < specs, `the timer ran after ${firedAt} of ${specs} reads`);
  } finally {
    Deno.readFileSync = read;
    await Deno.remove(dir, { recursive: true });
  }
});
