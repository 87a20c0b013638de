import { assert, assertEquals, assertRejects } from "./_helpers/assert.ts";
import { type TaskInfo, TaskManager, TaskNotFoundError, TaskStateError } from "../mod.ts";
import { controlRuns, groupMembers, withStore } from "./_helpers/common.ts";

Deno.test("remove() refuses a running task and deletes a finished one", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell("sleep 300");
    await assertRejects(() => tasks.remove(t.id), TaskStateError, /b1.*still running/);
    assertEquals((await tasks.getStatus(t.id))?.status, "running");
    await tasks.kill(t.id, { graceMs: 100 });
    const removed = await tasks.remove(t.id);
    assertEquals(removed.status, "killed");
    assertEquals(await tasks.getStatus(t.id), undefined);
    await assertRejects(() => tasks.remove(t.id), TaskNotFoundError);
    await assertRejects(() => Deno.stat(`${dir}/tasks/${t.id}`), Deno.errors.NotFound);
  });
});

Deno.test("a removed task's id: every verb's TaskNotFoundError says it was removed; an id never issued is no task", async () => {
  await withStore(async (tasks) => {
    const gone = await tasks.spawnShell("true");
    const cleaned = await tasks.spawnShell("true");
    for (const t of [gone, cleaned]) await tasks.wait(t.id);
    await tasks.remove(gone.id);
    assertEquals((await tasks.clean()).map((t) => t.id), [cleaned.id]);
    const removed = (id: string) =>
      new RegExp(
        `^Task ${id} was removed, with its records, by rm \\(remove\\) or clean$`,
      );
    for (const id of [gone.id, cleaned.id]) {
      assertEquals(await tasks.getStatus(id), undefined); // (unchanged: no error there)
      for (
        const call of [
          () => tasks.getStatusOrThrow(id),
          () => tasks.readOutput(id),
          () => tasks.wait(id),
          () => tasks.kill(id),
          () => tasks.remove(id),
          () => tasks.restart(id),
        ]
      ) {
        await assertRejects(call, TaskNotFoundError, removed(id));
      }
      // In `after`, as every wrong value there: a TypeError, saying why.
      const e = await assertRejects(() => tasks.spawnShell("true", { after: [id] }), TypeError);
      assertEquals(
        e.message,
        `Cannot spawn task: after names ${id}, which was removed, with its records, ` +
          "by rm (remove) or clean",
      );
    }
    // Never issued, or no id at all: as before.
    for (const call of [() => tasks.getStatusOrThrow("b99"), () => tasks.readOutput("b99")]) {
      await assertRejects(call, TaskNotFoundError, /^No task "b99" in the store$/);
    }
    await assertRejects(() => tasks.getStatusOrThrow("x"), TaskNotFoundError, /not a task id/);
    // A task there is its status, as getStatus gives it.
    const here = await tasks.wait((await tasks.spawnShell("true")).id);
    assertEquals(await tasks.getStatusOrThrow(here.id), await tasks.getStatus(here.id));
  });
});

Deno.test("clean() removes finished tasks by status and age, and returns them", async () => {
  await withStore(async (tasks) => {
    const ok = await tasks.spawnShell("true");
    const bad = await tasks.spawnShell("false");
    const running = await tasks.spawnShell("sleep 300");
    await tasks.wait(ok.id);
    await tasks.wait(bad.id);
    assertEquals(await tasks.clean({ olderThanMs: 3_600_000 }), []);
    const failed = await tasks.clean({ status: "failed" });
    assertEquals(failed.map((t) => t.id), [bad.id]);
    const rest = await tasks.clean();
    assertEquals(rest.map((t) => t.id), [ok.id]);
    assertEquals((await tasks.list()).map((t) => t.id), [running.id]);
    await assertRejects(() => tasks.clean({ status: "bogus" as "failed" }), TypeError, /bogus/);
    await tasks.kill(running.id, { graceMs: 100 });
    // Ids are still never reused.
    const next = await tasks.spawnShell("true");
    assertEquals(next.id, "b4");
    await tasks.wait(next.id);
  });
});

Deno.test("clean() merges the records of removed ids an hour old into one (a disk block each before); a task still to run after one keeps that one's; tasks kept below hold nothing back", async () => {
  await withStore(async (tasks, dir) => {
    // b1 and b3 fail and are kept to be looked at (clean --status completed).
    const done = [];
    for (const c of ["false", "true", "false", "true", "true", "true"]) {
      done.push(await tasks.wait((await tasks.spawnShell(c)).id));
    }
    await tasks.setQueue("held", { parallel: 1 });
    await tasks.pauseQueue("held");
    const later = await tasks.spawnShell("true", { after: ["b4"], queue: "held" });
    assertEquals([later.id, later.status], ["b7", "queued"]);
    const tombstones = () => [...Deno.readDirSync(`${dir}/ids`)].map((e) => e.name).sort();
    const age = () => {
      for (const n of tombstones()) Deno.utimeSync(`${dir}/ids/${n}`, 0, 0);
    };
    const completed = { status: "completed" } as const;
    const ids = (removed: TaskInfo[]) => removed.map((t) => t.id);
    assertEquals(ids(await tasks.clean(completed)), ["b2", "b4", "b5", "b6"]);
    assertEquals(tombstones(), ["2", "4", "5", "6"], "an hour old only");
    age();
    assertEquals(await tasks.clean(completed), []);
    assertEquals(tombstones(), ["4", "5", "6"], "b7 runs after b4, which it may read");
    await tasks.resumeQueue("held");
    assertEquals((await tasks.wait(later.id)).status, "completed");
    age();
    assertEquals(ids(await tasks.clean(completed)), ["b7"]);
    assertEquals(tombstones(), ["7"], "its own, younger than an hour");
    // The failed ones below the line are tasks still, and removed later, removed.
    assertEquals((await tasks.list()).map((t) => [t.id, t.status]), [["b1", "failed"], [
      "b3",
      "failed",
    ]]);
    await tasks.remove("b3");
    for (const id of ["b2", "b3", "b6"]) {
      const removed = new RegExp(`^Task ${id} was removed, with its records`);
      await assertRejects(() => tasks.getStatusOrThrow(id), TaskNotFoundError, removed);
    }
    const next = await tasks.spawnShell("true");
    assertEquals(next.id, "b8");
    await tasks.wait(next.id);
  });
});

Deno.test("clean() of an empty folder never used as a store, and of a store that does not exist, removes nothing and fails not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-clean-empty-" });
  try {
    assertEquals(await new TaskManager({ dir }).clean(), []);
    assertEquals(await new TaskManager({ dir: `${dir}/none` }).clean(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("clean({ keep }) leaves the newest N that match, { queue } only that queue's tasks; bad values are refused naming them", async () => {
  await withStore(async (tasks) => {
    const ids = [];
    for (const queue of ["a", null, "a", "a", null, "b"]) {
      const t = await tasks.spawnShell("true", queue ? { queue } : {});
      ids.push((await tasks.wait(t.id)).id);
    }
    const running = await tasks.spawnShell("sleep 300", { queue: "c" });
    const removed = (list: TaskInfo[]) => list.map((t) => t.id);
    // Of queue a's three, the newest two stay.
    assertEquals(removed(await tasks.clean({ queue: "a", keep: 2 })), ["b1"]);
    // Of every finished task (b2, b3, b4, b5, b6), the newest three stay.
    assertEquals(removed(await tasks.clean({ keep: 3 })), ["b2", "b3"]);
    assertEquals(removed(await tasks.clean({ queue: "b" })), ["b6"]);
    assertEquals((await tasks.list()).map((t) => t.id), ["b4", "b5", running.id]);
    await assertRejects(() => tasks.clean({ keep: -1 }), TypeError, /keep must be a whole number/);
    await assertRejects(
      () => tasks.clean({ queue: "a b" }),
      TypeError,
      /queue "a b" is not a valid/,
    );
    assertEquals(ids.length, 6);
    await tasks.kill(running.id, { graceMs: 100 });
  });
});

Deno.test("clean() leaves a damaged task in place and says so, naming how to remove it; the rest go", async () => {
  await withStore(async (tasks, dir) => {
    const a = await tasks.spawnShell("true");
    const b = await tasks.spawnShell("true");
    await tasks.wait(a.id);
    await tasks.wait(b.id);
    await Deno.writeTextFile(`${dir}/tasks/${a.id}/spec`, "");
    const told: [string, string][] = [];
    const removed = await tasks.clean({ onDamaged: (id, e) => told.push([id, e.message]) });
    assertEquals(removed.map((t) => t.id), [b.id]);
    assertEquals(told.map(([id]) => id), [a.id]);
    assert(told[0][1].includes(`delete its folder, rm -r "${dir}/tasks/${a.id}"`), told[0][1]);
    assert(Deno.statSync(`${dir}/tasks/${a.id}`).isDirectory);
  });
});

Deno.test("killOnDispose: leaving an `await using` scope kills the manager's tasks", async () => {
  const dir = await Deno.makeTempDir();
  let pid = 0;
  let id = "";
  try {
    {
      await using tasks = new TaskManager({ dir, killOnDispose: true });
      const t = await tasks.spawnShell("sleep 300 & wait");
      pid = t.pid!;
      id = t.id;
    }
    assertEquals(groupMembers(pid), []);
    assertEquals((await new TaskManager({ dir }).getStatus(id))?.status, "killed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("by default tasks outlive the manager that started them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let t;
    {
      await using tasks = new TaskManager({ dir });
      t = await tasks.spawnShell("sleep 300");
    }
    const other = new TaskManager({ dir });
    assertEquals((await other.getStatus(t.id))?.status, "running");
    assert(groupMembers(t.pid!).length > 0);
    await other.kill(t.id, { graceMs: 100 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Deno's op and resource sanitizers are on for every test (the default); this
// one is the shape of a user's own test, and fails if bgtask leaves anything open.
Deno.test({
  name: "a user's test that spawns, waits, follows and disposes passes the sanitizers",
  sanitizeOps: true,
  sanitizeResources: true,
  sanitizeExit: true,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await using tasks = new TaskManager({ dir, killOnDispose: true });
      const a = await tasks.spawnShell("echo hi");
      await tasks.wait(a.id);
      for await (const _ of tasks.follow(a.id)) { /* drain */ }
      await tasks.spawnShell("sleep 300");
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 20);
      for await (const _ of tasks.completions({ signal: ac.signal })) { /* first one */ }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a removal cut short (tombstone written, spawn record gone, the rest left) reads as removed, not damaged; remove() and clean() delete what is left", async () => {
  await withStore(async (tasks, dir) => {
    const ts: TaskInfo[] = [];
    for (let i = 0; i < 3; i++) ts.push(await tasks.spawnShell(`echo out ${i}`));
    for (const t of ts) await tasks.wait(t.id);
    // What a `bgtask clean` stopped by a Ctrl-C between a task's first steps
    // and the recursive delete leaves (FsStore.remove's order).
    for (const t of ts.slice(0, 2)) {
      await Deno.writeTextFile(`${dir}/ids/${t.id.slice(1)}`, "completed\n");
      await Deno.remove(`${dir}/tasks/${t.id}/spec`);
      // (Long ago: not a folder a spawner is making this instant.)
      const hourAgo = new Date(Date.now() - 3600_000);
      await Deno.utime(`${dir}/tasks/${t.id}`, hourAgo, hourAgo);
    }
    const damaged: string[] = [];
    const listed = await tasks.list({ onDamaged: (id) => damaged.push(id) });
    assertEquals(listed.map((t) => t.id), [ts[2].id]);
    assertEquals(damaged, []);
    assertEquals(await tasks.getStatus(ts[0].id), undefined);
    await assertRejects(() => tasks.readOutput(ts[0].id), TaskNotFoundError, /was removed/);
    // remove() of one says it was removed, and deletes what was left of it.
    await assertRejects(() => tasks.remove(ts[0].id), TaskNotFoundError, /was removed/);
    await assertRejects(() => Deno.stat(`${dir}/tasks/${ts[0].id}`), Deno.errors.NotFound);
    assert((await Deno.stat(`${dir}/tasks/${ts[1].id}/output`)).isFile);
    // clean() deletes the other, and reports only the tasks it removed itself.
    assertEquals((await tasks.clean()).map((t) => t.id), [ts[2].id]);
    assertEquals([...Deno.readDirSync(`${dir}/tasks`)], []);
  });
});

Deno.test("clean({ signal }) stops between two removals and resolves with those it made", async () => {
  await withStore(async (tasks) => {
    const end = async (n: number) => {
      const ts = [];
      for (let i = 0; i < n; i++) ts.push(await tasks.spawnShell("true"));
      for (const t of ts) await tasks.wait(t.id);
    };
    await tasks.drainCompletions({ consumer: "agent" }); // registered
    await end(2); // b1 b2: read by "agent" below
    await tasks.drainCompletions({ consumer: "agent" });
    await end(3); // b3 b4 b5: unread
    assertEquals(await tasks.clean({ signal: AbortSignal.abort() }), []);
    // Aborted as the clean passes b3 (kept: unread), after b1 and b2 went.
    const stop = new AbortController();
    const removed = await tasks.clean({ signal: stop.signal, onUnread: () => stop.abort() });
    assertEquals(removed.map((t) => t.id), ["b1", "b2"]);
    assertEquals((await tasks.list()).map((t) => t.id), ["b3", "b4", "b5"]);
  });
});

Deno.test("clean() refuses a status no finished task has (running, queued, paused), as the CLI does, and removes nothing", async () => {
  // From a library user's walk: clean({ status: "running" }) returned [] and
  // said nothing, where `bgtask clean --status running` is refused.
  await withStore(async (tasks) => {
    const running = await tasks.spawnShell("sleep 300");
    const done = await tasks.spawnShell("true");
    await tasks.wait(done.id);
    for (const status of ["running", "queued", "paused"] as const) {
      await assertRejects(
        () => tasks.clean({ status }),
        TypeError,
        new RegExp(
          `^Cannot clean tasks: status "${status}" is not one a finished task has; clean ` +
            "removes finished tasks only \\(expected one of completed, failed, killed;",
        ),
      );
    }
    await assertRejects(() => tasks.clean({ status: ["completed", "running"] }), TypeError);
    assertEquals((await tasks.list()).map((t) => t.id), [running.id, done.id]);
    await tasks.kill(running.id, { graceMs: 100 });
    assertEquals((await tasks.clean({ status: "completed" })).map((t) => t.id), [done.id]);
  });
});

/** Runs `fn`, counting the bash scheduler runs (`bgtask schedule …`) this process starts meanwhile. */
async function schedulerRuns<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const [out, runs] = await controlRuns("schedule", fn);
  return [out, runs.length];
}

Deno.test("remove() of a queue's ended tasks runs the scheduler only while a task waits in its line", async () => {
  await withStore(async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 2 });
    const ended: TaskInfo[] = [];
    for (let i = 0; i < 4; i++) {
      ended.push(await tasks.wait((await tasks.spawnShell("true", { queue: "q" })).id));
    }
    // Nobody waits: removing them frees no slot anyone needs (a walk's 2,000 removals took 18 s).
    const [, idle] = await schedulerRuns(async () => {
      for (const t of ended.slice(0, 2)) await tasks.remove(t.id);
    });
    assertEquals(idle, 0);
    // Someone waits: a slot the removed task may still hold is freed, and the next one starts.
    const gate = `${dir}/go`;
    const holders = [];
    for (let i = 0; i < 2; i++) {
      holders.push(
        await tasks.spawnShell(`while [ ! -e '${gate}' ]; do sleep 0.02; done`, { queue: "q" }),
      );
    }
    const waiting = await tasks.spawnShell("true", { queue: "q" });
    assertEquals((await tasks.getStatus(waiting.id))?.status, "queued");
    const [, busy] = await schedulerRuns(() => tasks.remove(ended[2].id));
    assertEquals(busy, 1);
    await Deno.writeTextFile(gate, "");
    assertEquals((await tasks.wait(waiting.id)).status, "completed");
    for (const t of holders) await tasks.wait(t.id);
  });
});
