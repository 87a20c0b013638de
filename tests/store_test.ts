import { assert, assertEquals, assertRejects } from "./_helpers/assert.ts";
import { StoreError, TaskManager, TaskStateError } from "../mod.ts";
import { FsStore } from "../src/store/fs_store.ts";
import { exists, minimalFlags, scriptFile, withStore } from "./_helpers/common.ts";

Deno.test("ids are unique when several processes spawn into one store at once", async () => {
  await withStore(async (tasks, dir) => {
    const script = await scriptFile(
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const ids = await Promise.all(Array.from({ length: 10 }, (_, i) =>
         tasks.spawnShell("echo " + Deno.pid + "-" + i).then((t) => t.id)));
       console.log(JSON.stringify(ids));`,
    );
    try {
      const outs = await Promise.all(
        Array.from({ length: 4 }, () =>
          new Deno.Command(Deno.execPath(), {
            args: ["run", ...minimalFlags(dir), script],
            stdout: "piped",
            stderr: "piped",
          }).output()),
      );
      const ids = outs.flatMap((o) => {
        assertEquals(o.code, 0, new TextDecoder().decode(o.stderr));
        return JSON.parse(new TextDecoder().decode(o.stdout)) as string[];
      });
      assertEquals(ids.length, 40);
      assertEquals(new Set(ids).size, 40);
      const numbers = ids.map((id) => Number(id.slice(1))).sort((a, b) => a - b);
      assertEquals(numbers, Array.from({ length: 40 }, (_, i) => i + 1));
      for (const id of ids) await tasks.wait(id);
      // Every task has its own output, byte-exact.
      const outputs = await Promise.all(ids.map((id) => tasks.readOutput(id)));
      assertEquals(new Set(outputs).size, 40);
    } finally {
      await Deno.remove(script);
    }
  });
});

Deno.test("ids are never reused: not after a restart, not after remove or clean", async () => {
  await withStore(async (tasks, dir) => {
    const a = await tasks.spawnShell("echo a");
    const b = await tasks.spawnShell("echo b");
    await tasks.wait(a.id);
    await tasks.wait(b.id);
    await tasks.remove(b.id);
    await tasks.clean();
    assertEquals(await tasks.list(), []);
    // A new manager (a restart) continues the sequence.
    const again = new TaskManager({ dir });
    const c = await again.spawnShell("echo c");
    assertEquals(c.id, "b3");
    await again.wait(c.id);
    assertEquals(await again.readOutput(c.id), "c\n");
    // Even with the hint file gone, the claims on disk keep ids unique.
    await Deno.remove(`${dir}/next`);
    const d = await again.spawnShell("true");
    assertEquals(d.id, "b4");
    await again.wait(d.id);
  });
});

Deno.test("issuedAny: false for no store and for one where no id was claimed (a queue set), true once one was, after clean and without the hint too", async () => {
  await withStore(async (tasks, dir) => {
    assertEquals(await new FsStore(`${dir}/none`).issuedAny(), false);
    assert(!exists(`${dir}/none`), "a look creates nothing");
    await tasks.setQueue("ci", { parallel: 2 });
    const store = new FsStore(dir);
    assertEquals(await store.issuedAny(), false);
    const t = await tasks.spawnShell("true");
    await tasks.wait(t.id);
    assertEquals(await store.issuedAny(), true);
    await tasks.remove(t.id);
    await tasks.clean();
    assertEquals(await store.issuedAny(), true);
    await Deno.remove(`${dir}/next`);
    assertEquals(await store.issuedAny(), true, "the tombstone tells it");
  });
});

Deno.test("the id hint is one fixed-width number, written in place; a damaged one is written anew", async () => {
  await withStore(async (tasks, dir) => {
    await tasks.wait((await tasks.spawnShell("true")).id);
    assertEquals(await Deno.readTextFile(`${dir}/next`), "0000000000000001\n");
    const inode = (await Deno.stat(`${dir}/next`)).ino;
    await tasks.wait((await tasks.spawnShell("true")).id);
    assertEquals(await Deno.readTextFile(`${dir}/next`), "0000000000000002\n");
    assertEquals((await Deno.stat(`${dir}/next`)).ino, inode);
    // Longer than a hint, and not a number: the ids on disk say where to go on.
    await Deno.writeTextFile(`${dir}/next`, "not a number, and longer than any hint\n");
    assertEquals((await tasks.spawnShell("true")).id, "b3");
    assertEquals(await Deno.readTextFile(`${dir}/next`), "0000000000000003\n");
  });
});

Deno.test("the store is private: folder 0700, task files 0600", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell("echo secret", { timeoutMs: 5000 });
    await tasks.wait(t.id);
    await tasks.drainCompletions();
    assertEquals((await Deno.stat(dir)).mode! & 0o777, 0o700);
    const check = async (path: string) => {
      for await (const e of Deno.readDir(path)) {
        const p = `${path}/${e.name}`;
        const mode = (await Deno.lstat(p)).mode! & 0o777;
        if (e.isDirectory) {
          assertEquals(mode, 0o700, p);
          await check(p);
        } else assertEquals(mode, 0o600, p);
      }
    };
    await check(dir);
  });
});

Deno.test("a new store is created 0700 even under a permissive umask, by the first write", async () => {
  const parent = await Deno.makeTempDir();
  const old = Deno.umask(0);
  try {
    const dir = `${parent}/deep/store`;
    const tasks = new TaskManager({ dir });
    assertEquals(await tasks.list(), []);
    await assertRejects(() => Deno.stat(`${parent}/deep`), Deno.errors.NotFound);
    await tasks.wait((await tasks.spawnShell("true")).id);
    assertEquals((await Deno.stat(dir)).mode! & 0o777, 0o700);
  } finally {
    Deno.umask(old);
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a finished task's final record never changes", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell("exit 4");
    const done = await tasks.wait(t.id);
    const before = await Deno.readTextFile(`${dir}/tasks/${t.id}/final.json`);
    assertEquals(await tasks.kill(t.id), done);
    await tasks.drainCompletions();
    assertEquals((await tasks.list())[0], done);
    assertEquals(await Deno.readTextFile(`${dir}/tasks/${t.id}/final.json`), before);
  });
});

Deno.test("a reader never sees half a record while tasks are being written", async () => {
  await withStore(async (tasks) => {
    const spawns = Promise.all(
      Array.from({ length: 20 }, (_, i) => tasks.spawnShell(`echo ${i}`)),
    );
    let reads = 0;
    let done = false;
    spawns.finally(() => done = true);
    while (!done) {
      // list() throws or reports damage if it ever reads a partial record.
      await tasks.list({ onDamaged: (id, e) => assert(false, `${id} damaged: ${e.message}`) });
      reads++;
    }
    const all = await spawns;
    for (const t of all) await tasks.wait(t.id);
    assert(reads > 0);
    assertEquals((await tasks.list()).length, 20);
  });
});

Deno.test("a record that cannot be read is skipped by list, and the rest still list", async () => {
  await withStore(async (tasks, dir) => {
    const a = await tasks.spawnShell("true");
    const b = await tasks.spawnShell("true");
    await tasks.wait(a.id);
    await tasks.wait(b.id);
    await Deno.writeTextFile(`${dir}/tasks/${a.id}/spec`, "{ not a spec");
    const damaged: string[] = [];
    const list = await tasks.list({ onDamaged: (id) => damaged.push(id) });
    assertEquals(list.map((t) => t.id), [b.id]);
    assertEquals(damaged, [a.id]);
    await assertRejects(() => tasks.getStatus(a.id), StoreError, /b1 is damaged/);
  });
});

Deno.test("a final record that cannot be read: the task's output still reads, its error says so, and remove() removes it (clean leaves it)", async () => {
  await withStore(async (tasks, dir) => {
    const a = await tasks.spawnShell("echo kept; echo last");
    await tasks.wait(a.id);
    await Deno.writeTextFile(`${dir}/tasks/${a.id}/final.json`, "{garbage");
    const said = new RegExp(
      `b1 is damaged: ".*final\\.json" cannot be read \\(it has ended, and its output is ` +
        `intact in "${dir}/tasks/b1/output": bgtask logs b1 shows it, bgtask rm b1 removes ` +
        `the task\\)`,
    );
    await assertRejects(() => tasks.getStatus(a.id), StoreError, said);
    // Reading output needs no final record (each of these refused, "damaged").
    assertEquals(await tasks.readOutput(a.id), "kept\nlast\n");
    assertEquals(await tasks.tailOutput(a.id, 1), "last\n");
    assertEquals((await tasks.readOutputChunk(a.id)).done, true);
    const followed: string[] = [];
    for await (const piece of tasks.follow(a.id)) followed.push(piece);
    assertEquals(followed.join(""), "kept\nlast\n");
    const reported: string[] = [];
    assertEquals(await tasks.clean({ onDamaged: (id) => reported.push(id) }), []);
    assertEquals(reported, [a.id]);
    // None of its processes is left: it goes as an ended task does, its id never issued again.
    const gone = await tasks.remove(a.id);
    assertEquals([gone.id, gone.status], [a.id, "failed"]);
    assert(/final record was damaged/.test(gone.error ?? ""), gone.error ?? "");
    assertEquals(await tasks.list(), []);
    assertEquals((await tasks.spawnShell("true")).id, "b2");
  });
});

Deno.test("remove() of a task whose final record was garbled while it runs refuses: its processes run on", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell("sleep 300");
    await Deno.writeTextFile(`${dir}/tasks/${t.id}/final.json`, "{garbage");
    await assertRejects(() => tasks.remove(t.id), TaskStateError, /processes of it still run/);
    assert(Deno.statSync(`/proc/${t.pid}`).isDirectory, "it runs on");
    // (For the clean-up: a kill ends it once the record reads.)
    await Deno.remove(`${dir}/tasks/${t.id}/final.json`);
  });
});

Deno.test("a task whose spawn record was deleted by hand is damaged, not an abandoned spawn: clean keeps it (and what of it runs)", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell("sleep 300");
    try {
      await Deno.remove(`${dir}/tasks/${t.id}/spec`);
      // Past the minute after which a folder without one reads as abandoned.
      const hourAgo = new Date(Date.now() - 3600_000);
      await Deno.utime(`${dir}/tasks/${t.id}`, hourAgo, hourAgo);
      await assertRejects(
        () => tasks.getStatus(t.id),
        StoreError,
        /b1 is damaged: its spawn record ".*spec" is missing \(bgtask cannot remove it: delete its folder, rm -r ".*b1", which also ends whatever of it runs\)/,
      );
      const damaged: string[] = [];
      assertEquals(await tasks.list({ onDamaged: (id) => damaged.push(id) }), []);
      assertEquals(damaged, [t.id]);
      assertEquals(await tasks.clean(), []);
      assert(Deno.statSync(`/proc/${t.pid}`).isDirectory, "it runs on");
    } finally {
      // The advice, taken: the folder gone, its watchdog ends the task (which,
      // without its token on record, the test's clean-up could not find).
      await Deno.remove(`${dir}/tasks/${t.id}`, { recursive: true });
    }
  });
});

Deno.test("a store folder that cannot be created gives a clear error", async () => {
  const file = await Deno.makeTempFile();
  try {
    const tasks = new TaskManager({ dir: `${file}/store` });
    await assertRejects(
      () => tasks.spawnShell("true"),
      StoreError,
      /Cannot create the bgtask store .*\(a part of its path is a file, not a folder: use another path, --dir DIR or BGTASK_DIR\)$/,
    );
    // Read only (a status, a list): said with the same fix (a walk found it named none).
    for (const look of [() => tasks.getStatus("b1"), () => tasks.list()]) {
      await assertRejects(
        look,
        StoreError,
        /Cannot open the bgtask store .*\(a part of its path is a file, not a folder: use another path, --dir DIR or BGTASK_DIR\)$/,
      );
    }
    // Inside a store, the same errors are one task's, not the store's path: no such hint.
    const dir = await Deno.makeTempDir();
    try {
      const inside = new TaskManager({ dir });
      await inside.wait((await inside.spawnShell("true")).id);
      await Deno.remove(`${dir}/tasks/b1`, { recursive: true });
      const error = await new FsStore(dir).requestKill("b1", 100).then(() => "", (e) => e.message);
      assert(/^Cannot write to the bgtask store/.test(error), error);
      assert(!/special file system|a part of its path is a file/.test(error), error);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    // A folder that takes no new files (a special file system).
    await assertRejects(
      () => new TaskManager({ dir: "/proc" }).spawnShell("true"),
      StoreError,
      /Cannot write to the bgtask store "\/proc": .*\(it takes no new files: a special file system, such as \/proc\? Use a store elsewhere/,
    );
    await assertRejects(() => tasks.list(), StoreError, new RegExp(file));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a folder that is no store reads as none (nothing has run there) and stays as it was; a run makes it a store, its files let be", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-not-a-store-" });
  try {
    await Deno.writeTextFile(`${dir}/README.md`, "a project\n");
    await Deno.mkdir(`${dir}/src`);
    const names = () => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    const tasks = new TaskManager({ dir });
    assertEquals(await tasks.list(), []);
    assertEquals(await tasks.getStatus("b1"), undefined);
    assertEquals(names(), ["README.md", "src"]);
    // (A test's temp store is often its scratch folder too.)
    const t = await tasks.spawnShell("true");
    assertEquals((await tasks.wait(t.id)).status, "completed");
    assertEquals(await Deno.readTextFile(`${dir}/README.md`), "a project\n");
    assertEquals((await new TaskManager({ dir }).list()).map((t) => t.id), ["b1"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a folder whose own file named next bgtask would write over is not made a store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-not-a-store-" });
  try {
    await Deno.writeTextFile(`${dir}/next`, "the next step: ship it\n");
    const tasks = new TaskManager({ dir });
    await assertRejects(
      () => tasks.spawnShell("true"),
      StoreError,
      /is not a bgtask store: its "next" is someone else's .*give bgtask a folder of its own/,
    );
    assertEquals(await Deno.readTextFile(`${dir}/next`), "the next step: ship it\n");
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["next"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a store of an older bgtask (no id) with a file of the user's in it, and one whose making was cut short, open", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-older-" });
  try {
    const tasks = new TaskManager({ dir: `${dir}/old` });
    const t = await tasks.spawnShell("echo hi");
    await tasks.wait(t.id);
    await Deno.remove(`${dir}/old/store-id`); // as an older bgtask made it
    await Deno.writeTextFile(`${dir}/old/notes.txt`, "mine\n");
    const again = new TaskManager({ dir: `${dir}/old` });
    assertEquals((await again.getStatusOrThrow(t.id)).status, "completed");
    const u = await again.spawnShell("true");
    assertEquals(u.id, "b2");
    // (Waited for: its supervisor, still writing, would race the folder's removal below.)
    await again.wait(u.id);
    // Cut short: its folders, a numeric hint and a probe left by a killed open.
    await Deno.mkdir(`${dir}/short/tasks`, { recursive: true });
    await Deno.writeTextFile(`${dir}/short/next`, "0000000000000004\n");
    await Deno.writeTextFile(`${dir}/short/.probe-${crypto.randomUUID()}`, "");
    const short = new TaskManager({ dir: `${dir}/short` });
    const v = await short.spawnShell("true");
    assertEquals(v.id, "b5");
    await short.wait(v.id);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
