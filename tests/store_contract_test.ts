/**
 * The task store contract (src/store/contract.ts), checked on the filesystem
 * store directly: each guarantee a second store would have to keep.
 */

import assert from "node:assert/strict";
import { FsStore } from "../src/store/fs_store.ts";
import { until } from "./_helpers/common.ts";
import type { FinalRecord, SpawnRecord } from "../src/store/records.ts";

async function withFsStore(fn: (store: FsStore, dir: string) => Promise<void>): Promise<void> {
  const parent = await Deno.makeTempDir({ prefix: "bgtask-contract-" });
  try {
    await fn(new FsStore(`${parent}/store`), `${parent}/store`);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

/** A final record of a task that exited 0 now, written by `by`. */
function completed(by: string): FinalRecord {
  return {
    status: "completed",
    exitCode: 0,
    signal: null,
    error: null,
    finishedAt: Date.now(),
    by,
  };
}

function spec(id: string): SpawnRecord {
  return {
    id,
    command: "echo 'a \"quoted\" $(thing)'\nnext line",
    description: "with\0NUL and ünïcode",
    cwd: "/tmp",
    createdAt: Date.now(),
    timeoutMs: 5,
    maxOutputBytes: 6,
    graceMs: 7,
    env: { A: "x=y", B: "line\nbreak" },
    stdin: "null",
    columns: 80,
    rows: 24,
    queue: "q",
    after: ["b1"],
    afterPolicy: "any",
    restartOf: "b2",
    token: "abc",
    longCommand: false,
    inherited: false,
  };
}

Deno.test("contract 1: ids are claimed once each, also at the same time, and never issued again", async () => {
  await withFsStore(async (store) => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => store.claimId()));
    assert.equal(new Set(ids).size, 20);
    for (const id of ids) await store.create(spec(id));
    assert.equal(await store.remove("b20"), true);
    // (A second removal of it, another process's at once, is not the one that removed it.)
    assert.equal(await store.remove("b20"), false);
    assert.equal(await store.remove("b19"), true);
    assert.equal(await store.claimId(), "b21");
  });
});

Deno.test("contract 1: removed ids merged into one record stay used: removedAs says removed, no claim issues one, not even with a hint that lags; young records and ids at or past the line stay", async () => {
  await withFsStore(async (store, dir) => {
    const ids = [];
    for (let i = 0; i < 10; i++) {
      ids.push(await store.claimId());
      await store.create(spec(ids[i]));
    }
    for (const id of ids.slice(0, 8)) await store.remove(id, id === "b4");
    const tombstones = () => [...Deno.readDirSync(`${dir}/ids`)].map((e) => e.name).sort();
    assert.equal(await store.mergeRemoved(8, 3_600_000), 0, "all younger than an hour");
    assert.equal(await store.mergeRemoved(8, 0), 7);
    assert.deepEqual(tombstones(), ["8"], "b8 is not below the line asked for");
    for (const id of ["b1", "b4", "b7", "b8"]) assert.equal(await store.removedAs(id), "removed");
    assert.equal(await store.removedAs("b9"), undefined, "there");
    assert.equal(await store.removedAs("b11"), undefined, "never issued");
    // A hint left behind (a racing writer, or none at all): claims go past the merged ids.
    Deno.writeTextFileSync(`${dir}/next`, "1\n");
    assert.equal(await store.claimId(), "b11");
    Deno.removeSync(`${dir}/next`);
    assert.equal(await store.claimId(), "b12");
    // Two merges at once never lower the line.
    await store.remove("b9");
    Deno.utimeSync(`${dir}/ids/9`, 0, 0);
    await Promise.all([store.mergeRemoved(9, 0), store.mergeRemoved(Infinity, 0)]);
    assert.deepEqual(tombstones(), []);
    assert.equal(await store.removedAs("b9"), "removed");
    assert.equal(await store.removedAs("b10"), undefined, "there, below no line");
    Deno.removeSync(`${dir}/next`);
    assert.equal(await store.claimId(), "b13");
  });
});

Deno.test("contract 2: a record is read back exactly as written, or not at all", async () => {
  await withFsStore(async (store) => {
    const id = await store.claimId();
    assert.equal(await store.read(id), undefined, "claimed, no record yet: no task");
    const written = spec(id);
    await store.create(written);
    assert.deepEqual((await store.read(id))?.spec, written);
  });
});

Deno.test("contract 3: the first final record wins, whoever else tries at the same time", async () => {
  await withFsStore(async (store) => {
    const id = await store.claimId();
    await store.create(spec(id));
    const attempts = await Promise.all(
      (["completed", "failed", "killed"] as const).map((status) =>
        store.commitFinal(id, {
          status,
          exitCode: null,
          signal: null,
          error: null,
          finishedAt: Date.now(),
          by: status,
        })
      ),
    );
    assert.equal(attempts.filter(Boolean).length, 1);
    const first = (await store.read(id))!.final!;
    assert.equal(first.status, ["completed", "failed", "killed"][attempts.indexOf(true)]);
    assert.equal(
      await store.commitFinal(id, { ...first, status: "completed", by: "late" }),
      false,
    );
    assert.deepEqual((await store.read(id))!.final, first);
    // Announced once per commit that won.
    const log = await store.readLog(0);
    assert.deepEqual(log.entries.map((e) => e.id), [id]);
    // Read on from the end: nothing more. An offset that is no entry's end
    // (the log was cut or replaced) says to start over.
    assert.deepEqual(await store.readLog(log.end), { entries: [], end: log.end });
    assert.equal((await store.readLog(log.end + 100)).restart, true);
    assert.equal((await store.readLog(1)).restart, true);
  });
});

Deno.test("contract 4: a consumer registered from the start hears of every task; a later one, of those the log names after where it began (by time where the log cannot say)", async () => {
  await withFsStore(async (store) => {
    await store.openConsumer("all", true);
    assert.deepEqual(await store.consumerStart("all"), { at: 0, offset: 0, ended: new Set() });
    const before = Date.now();
    await store.openConsumer("later", false);
    const start = await store.consumerStart("later");
    assert.ok(start.at >= before && start.at <= Date.now(), String(start.at));
    assert.equal(start.offset, 0, "the log is empty: it began at its start");
    assert.deepEqual(start.ended, new Set());
    await store.openConsumer("later", false); // opening again changes nothing
    assert.deepEqual(await store.consumerStart("later"), start);
    assert.deepEqual(await store.consumerStart("never"), { at: 0, ended: new Set() });
  });
});

Deno.test("contract 4: a consumer removed anew is no longer registered, and its next registration starts where it was removed, even from the start", async () => {
  await withFsStore(async (store) => {
    await store.openConsumer("all", true);
    const id = await store.claimId();
    await store.create(spec(id));
    await store.commitFinal(id, completed("test"));
    const removedAt = Date.now();
    assert.equal(await store.removeConsumer("all", true), true);
    assert.deepEqual(await store.consumers(), []);
    assert.equal(await store.readCursor("all"), undefined);
    const start = await store.consumerStart("all");
    assert.ok(start.at >= removedAt && start.at <= Date.now(), String(start.at));
    const end = (await store.readLog(0)).end;
    assert.equal(start.offset, end, "the log's size then");
    assert.equal(await store.removeConsumer("all", true), false, "not registered: none to remove");
    assert.deepEqual(await store.consumerStart("all"), start, "its start left where it was");
    await store.openConsumer("all", true);
    assert.deepEqual(await store.consumerStart("all"), start, "kept");
    assert.equal(await store.readCursor("all"), end);
    // Removed without anew: a registration from the start starts at the start.
    assert.equal(await store.removeConsumer("all"), true);
    await store.openConsumer("all", true);
    assert.deepEqual(await store.consumerStart("all"), { at: 0, offset: 0, ended: new Set() });
  });
});

Deno.test("contract 5: reading never creates the store, and reads an absent one as empty", async () => {
  await withFsStore(async (store, dir) => {
    assert.equal(await store.open("read"), false);
    assert.deepEqual(await store.ids(), []);
    assert.equal(await store.read("b1"), undefined);
    assert.equal(await store.removedAs("b1"), undefined);
    assert.deepEqual(await store.queueNames(), []);
    assert.deepEqual(await store.queueLine("q"), []);
    await assert.rejects(Deno.lstat(dir), Deno.errors.NotFound);
    assert.equal(await store.open("write"), true);
    assert.equal((await Deno.lstat(dir)).isDirectory, true);
  });
});

Deno.test("contract: removing a removed task is not an error, and its id stays used", async () => {
  await withFsStore(async (store) => {
    const id = await store.claimId();
    await store.create(spec(id));
    await Promise.all([store.remove(id), store.remove(id), store.remove(id)]);
    assert.equal(await store.read(id), undefined);
    assert.notEqual(await store.claimId(), id);
  });
});

Deno.test("contract: a waiting task's launch is claimed once, whoever else tries at the same time; a removed task's not at all", async () => {
  await withFsStore(async (store) => {
    const id = await store.claimId();
    await store.create(spec(id));
    const claims = await Promise.all(Array.from({ length: 8 }, () => store.claimLaunch(id)));
    assert.equal(claims.filter(Boolean).length, 1);
    assert.ok((await store.read(id))?.launchedAt, "read as launched");
    const gone = await store.claimId();
    await store.create(spec(gone));
    await store.remove(gone);
    assert.equal(await store.claimLaunch(gone), false);
  });
});

Deno.test("contract: removedAs tells a removed task's id, and a refused spawn's, from one never issued, and from a task there", async () => {
  await withFsStore(async (store) => {
    const id = await store.claimId();
    await store.create(spec(id));
    const other = await store.claimId();
    await store.create(spec(other));
    const refused = await store.claimId();
    await store.create(spec(refused));
    assert.equal(await store.removedAs(id), undefined, "there");
    await store.remove(id);
    await store.remove(refused, true);
    assert.equal(await store.read(id), undefined);
    assert.equal(await store.read(refused), undefined);
    assert.equal(await store.removedAs(id), "removed");
    assert.equal(await store.removedAs(refused), "refused");
    assert.equal(await store.removedAs(other), undefined, "there still");
    assert.equal(await store.removedAs("b99"), undefined, "never issued");
    assert.equal(await store.removedAs("../x"), undefined, "no id");
  });
});

Deno.test("contract: removedEnding tells how a removed task had ended, and nothing of one that had not, was refused or is there", async () => {
  await withFsStore(async (store) => {
    const ended = await store.claimId();
    await store.create(spec(ended));
    await store.commitFinal(ended, completed("exit"));
    const running = await store.claimId();
    await store.create(spec(running));
    const refused = await store.claimId();
    await store.create(spec(refused));
    assert.equal(await store.removedEnding(ended), undefined, "there");
    for (const id of [ended, running]) await store.remove(id);
    await store.remove(refused, true);
    assert.equal(await store.removedEnding(ended), "completed");
    assert.equal(await store.removedEnding(running), undefined, "it had not ended");
    assert.equal(await store.removedEnding(refused), undefined, "never started");
    assert.equal(await store.removedEnding("b99"), undefined, "never issued");
  });
});

Deno.test("contract: a task read while another process removes it reads whole or not at all", async () => {
  await withFsStore(async (store, dir) => {
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) {
      const id = await store.claimId();
      await store.create({ ...spec(id), after: [], restartOf: null });
      // What the supervisor writes when the command starts (supervisor.sh).
      Deno.writeTextFileSync(`${dir}/tasks/${id}/started`, `1 2 3 4 ${Date.now()}\n/tmp`);
      await store.commitFinal(id, completed("exit"));
      ids.push(id);
    }
    const remover = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { FsStore } from ${
          JSON.stringify(new URL("../src/store/fs_store.ts", import.meta.url).href)
        };
         const store = new FsStore(${JSON.stringify(dir)});
         for (const id of ${JSON.stringify(ids)}) await store.remove(id);`,
      ],
    }).spawn();
    let done = false;
    const removed = remover.status.then((s) => {
      done = true;
      return s;
    });
    let whole = 0;
    while (!done) {
      // A turn of the event loop each pass: a read of a removed task may be
      // all synchronous, and the remover's end must be heard.
      await new Promise((r) => setTimeout(r, 0));
      for (const id of ids) {
        const r = await store.read(id);
        if (r === undefined) continue;
        assert.ok(r.spec && r.started && r.final, `${id} read half: ${JSON.stringify(r)}`);
        whole++;
      }
    }
    assert.ok((await removed).success, "the remover succeeded");
    assert.ok(whole > 0, "reads ran while the tasks were removed");
    for (const id of ids) assert.equal(await store.read(id), undefined);
  });
});

/** True while some process waits (blocked) for a flock(2) lock on the file at `path`. */
function someoneWaitsFor(path: string): boolean {
  const { dev, ino } = Deno.statSync(path);
  // The kernel's device numbering (glibc's major() and minor()), as /proc/locks prints it.
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  const hex = (n: bigint) => n.toString(16).padStart(2, "0");
  const file = `${hex(major)}:${hex(minor)}:${ino}`;
  // A blocked request is listed as "N: -> FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF".
  return Deno.readTextFileSync("/proc/locks").split("\n")
    .some((l) => / -> FLOCK /.test(l) && l.split(/\s+/)[6] === file);
}

Deno.test("contract: queueLine is the queue's line in order, without the tasks that started, ended or were removed while in it", async () => {
  await withFsStore(async (store) => {
    const ids = [];
    for (let i = 0; i < 5; i++) {
      const id = await store.claimId();
      await store.create(spec(id));
      ids.push(id);
    }
    const [b1, b2, b3, b4, b5] = ids;
    await store.withQueue("q", async () => {
      for (const id of [b1, b2, b3, b4, b5]) await store.enqueue("q", id);
    });
    assert.deepEqual(await store.queueLine("q"), [b1, b2, b3, b4, b5]);
    assert.deepEqual(await store.queueLine("other"), [], "a queue never used: an empty line");
    await store.withQueue("q", () => store.takeSlot("q", b1)); // started by a spawner
    await store.commitFinal(b3, {
      status: "killed",
      exitCode: null,
      signal: null,
      error: "killed while queued",
      finishedAt: Date.now(),
      by: "kill",
    });
    await store.remove(b4);
    assert.deepEqual(await store.queueLine("q"), [b2, b5]);
    // (The queue still knows them all until its scheduler passes them.)
    assert.equal((await store.queueMembers("q")).size, 5);
  });
});

Deno.test("contract: withQueue that waited for the lock of a queue removed meanwhile runs with the queue there", async () => {
  await withFsStore(async (store, dir) => {
    await store.writeQueue("q", { parallel: 3, paused: false });
    await store.withQueue("q", async () => {}); // makes its lock file
    const lockFile = `${dir}/queues/q/lock`;
    const waited = () => someoneWaitsFor(lockFile);
    // Another process holds the lock (as a spawner or a supervisor would), until told.
    const holder = new Deno.Command("flock", {
      args: ["-x", lockFile, "-c", "echo held; read -r _"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const reader = holder.stdout.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "held\n");
    const waiter = store.withQueue("q", async () => {
      await store.enqueue("q", "b1");
      return await store.queueState("q");
    });
    await until(waited, "withQueue to wait for the lock");
    // What removeQueue does, under the lock: the folder goes.
    await store.removeQueue("q");
    const w = holder.stdin.getWriter();
    await w.write(new TextEncoder().encode("\n"));
    await w.close();
    reader.releaseLock();
    await holder.stdout.cancel();
    assert.equal((await holder.status).code, 0);
    // The waiter let go of the removed queue's lock and ran in a new queue.
    assert.deepEqual(await waiter, { running: 0, waiting: true });
    assert.deepEqual(await store.queueNames(), ["q"]);
    assert.deepEqual(await store.readQueue("q"), { parallel: 1, paused: false });
  });
});

Deno.test("contract: a queue removed again and again while another process uses it: neither side fails", async () => {
  await withFsStore(async (store, dir) => {
    await store.writeQueue("q", { parallel: 1, paused: false });
    const user = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { FsStore } from ${
          JSON.stringify(new URL("../src/store/fs_store.ts", import.meta.url).href)
        };
         const store = new FsStore(${JSON.stringify(dir)});
         for (let i = 0; i < 300; i++) {
           await store.withQueue("q", async () => { await store.enqueue("q", "b1"); });
           if (i % 3 === 0) await store.writeQueue("q", { parallel: 2, paused: false });
         }`,
      ],
      stderr: "piped",
    }).spawn();
    let removals = 0;
    const done = user.output();
    let finished = false;
    done.then(() => finished = true);
    while (!finished) {
      await store.withQueue("q", async () => await store.removeQueue("q"));
      removals++;
    }
    const out = await done;
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.ok(removals > 0);
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/queues`)].filter((e) => e.name.startsWith(".")),
      [],
      "nothing of a removed queue is left behind",
    );
  });
});

Deno.test("contract: tryLockInput takes the stdin lock only while no writer holds it, without waiting", async () => {
  await withFsStore(async (store) => {
    const id = await store.claimId();
    await store.create({ ...spec(id), stdin: "pipe" });
    const held = await store.lockInput(id);
    assert.equal(await store.tryLockInput(id), undefined, "held by another writer");
    held();
    const got = await store.tryLockInput(id);
    assert.ok(got, "free again");
    let second = false;
    const waiting = store.lockInput(id).then((release) => {
      second = true;
      release();
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(second, false, "lockInput waits while tryLockInput's lock is held");
    got();
    await waiting;
    assert.equal(second, true);
  });
});

Deno.test("contract: killRequested tells whether a kill was asked for; asking twice keeps it asked", async () => {
  await withFsStore(async (store) => {
    const id = await store.claimId();
    await store.create(spec(id));
    assert.equal(await store.killRequested(id), false);
    await store.requestKill(id, 500);
    await store.requestKill(id, 100);
    assert.equal(await store.killRequested(id), true);
  });
});
