/**
 * Completions per consumer (issue 11): each consumer gets every finished task
 * once, whoever else reads; a claim held by a process that dies before
 * handling it is delivered again; a peek takes nothing.
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { FsStore } from "../src/store/fs_store.ts";
import { expectSuccess, startDeno, until, withStore, writeScript } from "./_helpers/reliability.ts";
import { exists, initializeMessage, settleStore } from "./_helpers/common.ts";
import { pidNamespaceUnavailable } from "./_helpers/pidns.ts";

const pidnsSkip = await pidNamespaceUnavailable();

Deno.test("consumers: the default, a named one and another named one each get every task once", async () => {
  await withStore("consumers-three", async (tasks) => {
    // Named consumers start with the tasks that end from their first use on.
    assert.deepEqual(await tasks.drainCompletions({ consumer: "agent-a" }), []);
    assert.deepEqual(await tasks.drainCompletions({ consumer: "dashboard" }), []);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await tasks.spawnShell(`exit ${i}`)).id);
    for (const id of ids) await tasks.wait(id);
    const drained = async (consumer?: string) =>
      (await tasks.drainCompletions(consumer ? { consumer } : {})).map((t) => t.id).sort();
    assert.deepEqual(await drained(), ids);
    assert.deepEqual(await drained("agent-a"), ids);
    assert.deepEqual(await drained(), []);
    assert.deepEqual(await drained("dashboard"), ids);
    assert.deepEqual(await drained("agent-a"), []);
    assert.deepEqual(await drained("dashboard"), []);
  });
});

Deno.test("consumers: a peek shows what is pending and takes nothing", async () => {
  await withStore("consumers-peek", async (tasks) => {
    const t = await tasks.spawnShell("true");
    await tasks.wait(t.id);
    assert.deepEqual((await tasks.peekCompletions()).map((i) => i.id), [t.id]);
    assert.deepEqual((await tasks.peekCompletions()).map((i) => i.id), [t.id]);
    assert.deepEqual((await tasks.drainCompletions()).map((i) => i.id), [t.id]);
    assert.deepEqual(await tasks.peekCompletions(), []);
    // A consumer never used has nothing pending, and peeking does not register it.
    assert.deepEqual(await tasks.peekCompletions({ consumer: "new" }), []);
  });
});

Deno.test("consumers: bad names are refused clearly", async () => {
  await withStore("consumers-bad", async (tasks) => {
    for (const consumer of ["", "a/b", "../x", "-x", "x".repeat(65)]) {
      await assert.rejects(
        tasks.drainCompletions({ consumer }),
        (e: Error) => e instanceof TypeError && /consumer .* is not a valid name/.test(e.message),
        consumer,
      );
    }
  });
});

Deno.test("consumers: a task claimed by a completions() loop that is SIGKILLed before handling it is delivered again", async () => {
  await withStore("consumers-crash", async (tasks, dir) => {
    // The reader takes one completion, says so, and waits to be killed while it holds it.
    const script = await writeScript(
      dir,
      "reader",
      `import { TaskManager } from __MOD__;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       for await (const t of tasks.completions({ consumer: "agent" })) {
         console.log(t.id);
         setInterval(() => {}, 3_600_000); // alive until SIGKILLed (a promise alone is not)
         await new Promise(() => {}); // never handles it
       }`,
    );
    assert.deepEqual(await tasks.drainCompletions({ consumer: "agent" }), []); // registers
    const reader = startDeno(script, ["-A"]);
    const t = await tasks.spawnShell("true");
    await tasks.wait(t.id);
    // Read the reader's stdout until it has claimed the task.
    const lines = reader.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      seen += value;
    }
    assert.equal(seen.trim(), t.id);
    // Claimed and held: another reader of the same consumer does not get it meanwhile.
    assert.deepEqual(await tasks.drainCompletions({ consumer: "agent" }), []);
    reader.kill("SIGKILL");
    await reader.status;
    await lines.cancel();
    await reader.stderr.cancel();
    // The claim's process is dead: the next reader of the consumer gets it again.
    const again = await until(async () => {
      const got = (await tasks.drainCompletions({ consumer: "agent" })).map((i) => i.id);
      return got.length > 0 ? got : undefined;
    }, "the completion to be delivered again");
    assert.deepEqual(again, [t.id]);
    assert.deepEqual(await tasks.drainCompletions({ consumer: "agent" }), []);
  });
});

Deno.test("consumers: a drain (no handle) whose process is SIGKILLed before it returns leaves its claims to be delivered again", async () => {
  await withStore("consumers-drain-crash", async (tasks, dir) => {
    // The drainer stops for good right after its first claim, before returning.
    const src = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const script = await writeScript(
      dir,
      "drainer",
      `import { FsStore } from ${src("../src/store/fs_store.ts")};
       import { drainCompletions } from ${src("../src/ops/completions.ts")};
       import { ctxOn } from ${src("./_helpers/ctx.ts")};
       class Holding extends FsStore {
         #claims = 0;
         override async claimCompletion(...a: Parameters<FsStore["claimCompletion"]>) {
           const won = await super.claimCompletion(...a);
           if (++this.#claims === 1) {
             console.log("claimed");
             setInterval(() => {}, 3_600_000); // alive until SIGKILLed (a promise alone is not)
             await new Promise(() => {});
           }
           return won;
         }
       }
       await drainCompletions(ctxOn(new Holding(${JSON.stringify(dir)})), { consumer: "agent" });`,
    );
    assert.deepEqual(await tasks.drainCompletions({ consumer: "agent" }), []); // registers
    const ids = [];
    for (let i = 0; i < 2; i++) ids.push((await tasks.spawnShell("true")).id);
    for (const id of ids) await tasks.wait(id);
    const drainer = startDeno(script, ["-A"]);
    const lines = drainer.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      seen += value;
    }
    assert.equal(seen.trim(), "claimed");
    drainer.kill("SIGKILL");
    await drainer.status;
    await lines.cancel();
    await drainer.stderr.cancel();
    // It never returned: both are this consumer's still.
    const got = (await tasks.drainCompletions({ consumer: "agent" })).map((i) => i.id);
    assert.deepEqual(got.sort(), ids);
    assert.deepEqual(await tasks.drainCompletions({ consumer: "agent" }), []);
  });
});

Deno.test("consumers: completions() marks an item handled when the next is asked for or the loop ends", async () => {
  await withStore("consumers-handled", async (tasks, dir) => {
    const a = await tasks.spawnShell("true");
    const b = await tasks.spawnShell("true");
    await tasks.wait(a.id);
    await tasks.wait(b.id);
    const stop = new AbortController();
    const got: string[] = [];
    for await (const t of tasks.completions({ signal: stop.signal })) {
      got.push(t.id);
      if (got.length === 2) break;
    }
    assert.deepEqual(got.sort(), [a.id, b.id].sort());
    // Both handled: nothing left for this consumer, in this process or another.
    assert.deepEqual(await new TaskManager({ dir }).drainCompletions(), []);
  });
});

Deno.test("consumers: four processes draining one consumer while tasks finish get each task exactly once", async () => {
  await withStore("consumers-race", async (tasks, dir) => {
    const N = 30;
    await tasks.drainCompletions({ consumer: "shared" });
    const script = await writeScript(
      dir,
      "drainer",
      `import { TaskManager } from __MOD__;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const got = [];
       // Until the test says stop (120 s only guards against a hang: a deadline of
       // 20 s could pass before the last spawns on a loaded machine, their ends then
       // drained by nobody).
       const end = Date.now() + 120_000;
       while (Date.now() < end) {
         for (const t of await tasks.drainCompletions({ consumer: "shared" })) got.push(t.id);
         try { Deno.statSync(${JSON.stringify(`${dir}/stop`)}); break; } catch { /* go on */ }
         await new Promise((r) => setTimeout(r, 5));
       }
       for (const t of await tasks.drainCompletions({ consumer: "shared" })) got.push(t.id);
       console.log(JSON.stringify(got));`,
    );
    const drainers = Array.from({ length: 4 }, () => startDeno(script, ["-A"]));
    const ids = [];
    for (let i = 0; i < N; i++) ids.push((await tasks.spawnShell("true")).id);
    for (const id of ids) await tasks.wait(id);
    await Deno.writeTextFile(`${dir}/stop`, "");
    const all = (await Promise.all(drainers.map((d, i) => expectSuccess(d, `drainer ${i}`))))
      .flatMap((out) => JSON.parse(out) as string[]);
    assert.deepEqual(all.sort(), [...ids].sort(), "every task once, none twice");
  });
});

Deno.test("consumers: a new consumer's completions() loop starts with the tasks that end from its first use on", async () => {
  await withStore("consumers-new-loop", async (tasks, dir) => {
    const before = [];
    for (let i = 0; i < 3; i++) before.push((await tasks.spawnShell("true")).id);
    for (const id of before) await tasks.wait(id);
    // Another process's manager, as a fresh agent would be: its first loop.
    const fresh = new TaskManager({ dir });
    const stop = new AbortController();
    const deadline = setTimeout(() => stop.abort(), 30_000); // the loop ends even if nothing comes
    const first = (async () => {
      for await (const t of fresh.completions({ consumer: "fresh-agent", signal: stop.signal })) {
        return t.id;
      }
    })();
    // Once it is registered (its cursor exists), a task ends: the first thing it hears of.
    const store = new FsStore(dir);
    await until(async () => (await store.readCursor("fresh-agent")) !== undefined, "registration");
    const after = await tasks.spawnShell("true");
    await tasks.wait(after.id);
    try {
      assert.equal(await first, after.id);
    } finally {
      clearTimeout(deadline);
      stop.abort();
    }
  });
});

Deno.test("consumers: a finished task announced again after a new consumer registered is not its to hear of", async () => {
  await withStore("consumers-reannounce", async (tasks, dir) => {
    const old = await tasks.spawnShell("true");
    await tasks.wait(old.id);
    // (Its supervisor gone: it tells the log, and marks that it did, after
    // the final record that wait() returns on.)
    await settleStore(dir);
    // Finished, and still active: as its supervisor leaves it when it dies
    // before it tells the log (the marker made anew if a look dropped it).
    Deno.writeTextFileSync(`${dir}/active/${old.id}`, "");
    // Registered then (as by a process whose sweep had not come to it yet)…
    const store = new FsStore(dir);
    await store.openConsumer("late", false);
    // …and a sweep in another process, which finds it still active, names it in the log.
    assert.equal(await store.announced(old.id), false);
    await store.announce(old.id);
    assert.deepEqual(await tasks.peekCompletions({ consumer: "late" }), []);
    assert.deepEqual(await tasks.drainCompletions({ consumer: "late" }), []);
    const next = await tasks.spawnShell("true");
    await tasks.wait(next.id);
    assert.deepEqual((await tasks.drainCompletions({ consumer: "late" })).map((t) => t.id), [
      next.id,
    ]);
    // Dropped from the active set (by the drain's sweep) is announced: a
    // sweep that read the set before does not name it again.
    assert.equal(exists(`${dir}/active/${old.id}`), false);
    assert.equal(await store.announced(old.id), true);
    // The default consumer reads the log from its start: it hears of both.
    assert.deepEqual((await tasks.drainCompletions()).map((t) => t.id).sort(), [old.id, next.id]);
  });
});

Deno.test("consumers: a finished task the log names again after a consumer registered (as a sweep of an older build does, for a task already dropped from the active set) is not its to hear of", async () => {
  await withStore("consumers-named-again", async (tasks, dir) => {
    const old = await tasks.spawnShell("true");
    await tasks.wait(old.id);
    await settleStore(dir);
    assert.deepEqual(await tasks.drainCompletions({ consumer: "late" }), []); // registered
    assert.equal(exists(`${dir}/active/${old.id}`), false, "still active");
    await new FsStore(dir).announce(old.id);
    assert.deepEqual(await tasks.peekCompletions({ consumer: "late" }), []);
    await tasks.clean();
    assert.equal(exists(`${dir}/tasks/${old.id}`), false, "kept by clean for the consumer");
    const next = await tasks.spawnShell("true");
    await tasks.wait(next.id);
    assert.deepEqual((await tasks.drainCompletions({ consumer: "late" })).map((t) => t.id), [
      next.id,
    ]);
  });
});

Deno.test("consumers: a log replaced by hand under a registered consumer: each task that ends after it is delivered, and kept by clean until it is", async () => {
  await withStore("consumers-log-replaced", async (tasks, dir) => {
    for (let i = 0; i < 3; i++) await tasks.wait((await tasks.spawnShell("true")).id);
    assert.deepEqual(await tasks.drainCompletions({ consumer: "late" }), []); // registered
    Deno.writeTextFileSync(`${dir}/completions.log`, "");
    for (let i = 0; i < 3; i++) {
      const t = await tasks.spawnShell("true");
      await tasks.wait(t.id);
      assert.deepEqual((await tasks.peekCompletions({ consumer: "late" })).map((t) => t.id), [
        t.id,
      ]);
      await tasks.clean();
      assert.deepEqual((await tasks.drainCompletions({ consumer: "late" })).map((t) => t.id), [
        t.id,
      ]);
    }
  });
});

Deno.test("consumers: drain with handle delivers once the handler resolves, and gives back what a failed handler could not pass on", async () => {
  await withStore("consumers-handle", async (tasks) => {
    await tasks.peekCompletions({ consumer: "out" }); // its first use: from now on
    for (const cmd of ["true", "exit 3"]) await tasks.wait((await tasks.spawnShell(cmd)).id);
    await assert.rejects(
      tasks.drainCompletions({
        consumer: "out",
        handle: () => {
          throw new Error("the reader has gone");
        },
      }),
      /the reader has gone/,
    );
    let handed: string[] = [];
    const got = await tasks.drainCompletions({
      consumer: "out",
      handle: (t) => void (handed = t.map((x) => x.id)),
    });
    assert.deepEqual(got.map((t) => t.id), ["b1", "b2"]);
    assert.deepEqual(handed, ["b1", "b2"]);
    assert.deepEqual(await tasks.drainCompletions({ consumer: "out" }), [], "each once");
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      tasks.drainCompletions({ handle: "print" as any }),
      /handle must be a function/,
    );
  });
});

Deno.test("consumers: a drain whose handle passed on only some ({ passedOn }) delivers those and gives back the rest, which the cursor does not skip; a passedOn naming others is a TypeError that gives back all", async () => {
  await withStore("consumers-handle-some", async (tasks) => {
    await tasks.peekCompletions({ consumer: "out" }); // its first use: from now on
    for (let i = 0; i < 4; i++) await tasks.wait((await tasks.spawnShell("true")).id);
    const drain = (passedOn: unknown) =>
      tasks.drainCompletions({ consumer: "out", handle: () => ({ passedOn }) });
    for (
      const [bad, message] of [
        ["b1", /not an array of the ids it passed on \(got "b1" \(a string\)\)/],
        [["b1", "b9"], /naming "b9", which is not one of the 4 tasks given to it/],
      ] as const
    ) {
      await assert.rejects(drain(bad), { name: "TypeError", message });
    }
    // (None passed on: all given back, as by a throw, but the drain resolves.)
    assert.deepEqual(await drain([]), []);
    const some = await drain(["b1", "b3"]);
    assert.deepEqual(some.map((t) => t.id), ["b1", "b3"]);
    assert.deepEqual((await tasks.peekCompletions({ consumer: "out" })).map((t) => t.id), [
      "b2",
      "b4",
    ]);
    // What the handle resolves with otherwise says nothing: all passed on.
    const rest = await tasks.drainCompletions({ consumer: "out", handle: () => ["b2"] });
    assert.deepEqual(rest.map((t) => t.id), ["b2", "b4"]);
    assert.deepEqual(await tasks.drainCompletions({ consumer: "out" }), [], "each once");
  });
});

Deno.test("consumers: a named consumer's first use registers it, even before the store exists (a drain or a peek)", async () => {
  const parent = await Deno.makeTempDir({ prefix: "bgtask-consumer-first-" });
  try {
    for (const first of ["drain", "peek"] as const) {
      const dir = `${parent}/${first}`;
      const tasks = new TaskManager({ dir });
      const look = first === "drain"
        ? tasks.drainCompletions({ consumer: "ci" })
        : tasks.peekCompletions({ consumer: "ci" });
      assert.deepEqual(await look, []);
      await tasks.wait((await tasks.spawnShell("true")).id);
      assert.deepEqual(
        (await tasks.drainCompletions({ consumer: "ci" })).map((t) => t.id),
        ["b1"],
        `${first}: the task that ended after its first use`,
      );
      await tasks.close();
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

/** The ids `drainCompletions` gives a consumer. */
async function drainedIds(tasks: TaskManager, consumer?: string): Promise<string[]> {
  return (await tasks.drainCompletions(consumer ? { consumer } : {})).map((t) => t.id).sort();
}

/**
 * Whether each task is in the completion log for good: its supervisor has
 * told it (a byte in its active marker), or a sweep has, and dropped the marker.
 */
function told(dir: string, ids: string[]): boolean {
  return ids.every((id) => {
    try {
      return Deno.statSync(`${dir}/active/${id}`).size > 0;
    } catch {
      return true;
    }
  });
}

/** Spawns each command and waits for it; returns the ids. */
async function ran(tasks: TaskManager, ...commands: string[]): Promise<string[]> {
  const ids = [];
  for (const c of commands) {
    const t = await tasks.spawnShell(c);
    await tasks.wait(t.id);
    ids.push(t.id);
  }
  return ids;
}

Deno.test("consumers: clean keeps what a consumer has not read yet, unless told to; a consumer idle for a day keeps nothing", async () => {
  await withStore("consumers-clean", async (tasks, dir) => {
    // Found by a race walk: a person's clean took an agent's notices away.
    assert.deepEqual(await drainedIds(tasks, "agent"), []);
    const ids = await ran(tasks, "true", "true");
    const kept: string[] = [];
    const removed = await tasks.clean({ onUnread: (t, c) => kept.push(`${t.id}:${c}`) });
    assert.deepEqual(removed, []);
    assert.deepEqual(kept.sort(), ids.map((id) => `${id}:agent`));
    assert.deepEqual(await drainedIds(tasks, "agent"), ids);
    assert.deepEqual((await tasks.clean()).map((t) => t.id).sort(), ids);
    // Told to: they go all the same.
    const [x] = await ran(tasks, "true");
    assert.deepEqual((await tasks.clean({ unread: true })).map((t) => t.id), [x]);
    // A consumer that has read nothing for more than a day keeps nothing.
    const [y] = await ran(tasks, "true");
    const dayAgo = new Date(Date.now() - 25 * 3600_000);
    Deno.utimeSync(`${dir}/consumers/agent/cursor`, dayAgo, dayAgo);
    assert.deepEqual((await tasks.clean()).map((t) => t.id), [y]);
  });
});

Deno.test("consumers: remove takes a task a consumer has not read and names that consumer; not one it has read, nor one read by all", async () => {
  await withStore("consumers-remove-unread", async (tasks) => {
    // Found by an agents walk: a person's rm took an agent's notice away, unsaid.
    for (const c of ["agent", "dash"]) assert.deepEqual(await drainedIds(tasks, c), []);
    const [a, b, c] = await ran(tasks, "true", "exit 3", "true");
    assert.deepEqual(await drainedIds(tasks, "dash"), [a, b, c]);
    const heard: string[] = [];
    const onUnread = (t: { id: string; status: string }, who: string[]) =>
      heard.push(`${t.id}:${t.status}:${[...who].sort()}`);
    assert.equal((await tasks.remove(b, { onUnread })).id, b);
    assert.deepEqual(heard, [`${b}:failed:agent`], "removed all the same, and said");
    assert.equal(await tasks.getStatus(b), undefined);
    assert.deepEqual(await drainedIds(tasks, "agent"), [a, c], "never told of it");
    // Read by every consumer now: nothing to say.
    await tasks.remove(a, { onUnread });
    assert.equal(heard.length, 1);
    // A queued task removed (killed unrun) is an end too.
    await tasks.pauseQueue("held");
    const q = await tasks.spawnShell("true", { queue: "held" });
    assert.equal((await tasks.remove(q.id, { onUnread })).status, "killed");
    assert.deepEqual(heard.slice(1), [`${q.id}:killed:agent,dash`]);
    await tasks.removeQueue("held");
    // Without the option, as before; a wrong option is refused naming it.
    await tasks.remove(c);
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      () => tasks.remove("b1", { onUnred: () => {} } as any),
      TypeError,
      "onUnred",
    );
  });
});

Deno.test("consumers: clean keeps each task for exactly the consumers behind it (read up to it, registered after it, a drain's own claim, a log replaced under a cursor)", async () => {
  await withStore("consumers-clean-many", async (tasks, dir) => {
    for (const c of ["all", "half", "none"]) assert.deepEqual(await drainedIds(tasks, c), []);
    const first = await ran(tasks, "true", "true");
    assert.deepEqual(await drainedIds(tasks, "half"), first);
    assert.deepEqual(
      await drainedIds(tasks, "late"),
      [],
      "registered now: the first two are not its",
    );
    const second = await ran(tasks, "true", "true");
    assert.deepEqual(await drainedIds(tasks, "all"), [...first, ...second]);
    const kept = () => {
      const out: string[] = [];
      return {
        out,
        onUnread: (t: { id: string }, c: string[]) => out.push(`${t.id}:${[...c].sort()}`),
      };
    };
    const k = kept();
    assert.deepEqual(await tasks.clean({ onUnread: k.onUnread }), []);
    assert.deepEqual(k.out.sort(), [
      `${first[0]}:none`,
      `${first[1]}:none`,
      `${second[0]}:half,late,none`,
      `${second[1]}:half,late,none`,
    ]);
    // "late"'s cursor left in the middle of the last line (as if the log had
    // been replaced under it): read from the start, as a drain would, so
    // both of the second are still its to hear of.
    const log = `${dir}/completions.log`;
    const lines = Deno.readTextFileSync(log);
    Deno.writeTextFileSync(`${dir}/consumers/late/cursor`, `${lines.length - 1}\n`);
    const k2 = kept();
    await tasks.clean({ onUnread: k2.onUnread });
    assert.deepEqual(k2.out.sort(), k.out.sort());
    assert.equal(Deno.readTextFileSync(log), lines, "a clean writes nothing to the log");
  });
});

Deno.test("consumers: a long stretch of the log naming removed tasks is passed over, and the tasks there among them are still delivered, once", async () => {
  await withStore("consumers-long-log", async (tasks, dir) => {
    assert.deepEqual(await drainedIds(tasks, "agent"), []);
    const first = await ran(tasks, "true");
    await until(() => told(dir, first), "its line in the log");
    // 400 lines of tasks long gone, then two that are there.
    const gone = Array.from({ length: 400 }, (_, i) => `b${5000 + i}\n`).join("");
    Deno.writeTextFileSync(`${dir}/completions.log`, gone, { append: true });
    const later = await ran(tasks, "true", "exit 2");
    await until(() => told(dir, later), "their lines in the log");
    const all = [...first, ...later].sort();
    assert.deepEqual(
      (await tasks.peekCompletions({ consumer: "agent" })).map((t) => t.id).sort(),
      all,
    );
    assert.deepEqual(await drainedIds(tasks, "agent"), all);
    assert.deepEqual(await drainedIds(tasks, "agent"), []);
    const logSize = Deno.statSync(`${dir}/completions.log`).size;
    assert.equal(Number(Deno.readTextFileSync(`${dir}/consumers/agent/cursor`)), logSize);
  });
});

Deno.test("consumers: a claim once handled takes no disk block (an empty file; a word took 4 KiB a task a consumer), and a forgotten consumer's claims go with it", async () => {
  await withStore("consumers-claim-size", async (tasks, dir) => {
    assert.deepEqual(await drainedIds(tasks, "agent"), []);
    const done = await ran(tasks, "true", "exit 2", "true");
    assert.deepEqual(await drainedIds(tasks, "agent"), done);
    assert.deepEqual(await drainedIds(tasks), done);
    const claims = (name: string) =>
      done.flatMap((id) => {
        try {
          return [Deno.statSync(`${dir}/tasks/${id}/delivered.${name}`)];
        } catch {
          return [];
        }
      });
    for (const name of ["agent", "default"]) {
      assert.deepEqual(claims(name).map((st) => [st.size, st.blocks]), done.map(() => [0, 0]));
    }
    assert.deepEqual(await tasks.drainCompletions({ consumer: "agent" }), [], "done, as read");
    assert.equal(await tasks.forgetConsumer("agent"), true);
    assert.deepEqual(claims("agent"), []);
    assert.equal(claims("default").length, done.length, "another consumer's stay");
  });
});

Deno.test("consumers: a drain moves its consumer's cursor past what it delivered, once done (the next drain scanned every one again)", async () => {
  await withStore("consumers-cursor-moves", async (tasks, dir) => {
    assert.deepEqual(await drainedIds(tasks, "agent"), []);
    const cursor = () => Number(Deno.readTextFileSync(`${dir}/consumers/agent/cursor`));
    const logSize = () => Deno.statSync(`${dir}/completions.log`).size;
    const first = await ran(tasks, "true", "exit 1", "true");
    await until(() => told(dir, first), "the three in the log");
    // A task in the log twice (its supervisor's line and a sweep's) is no
    // other process's claim.
    Deno.writeTextFileSync(`${dir}/completions.log`, `${first[0]}\n`, { append: true });
    assert.deepEqual(await drainedIds(tasks, "agent"), first);
    assert.equal(cursor(), logSize(), "past all three");
    // With a handler: once it has resolved.
    const second = await ran(tasks, "true", "true");
    await until(() => told(dir, second), "the two in the log");
    let seen: string[] = [];
    await tasks.drainCompletions({
      consumer: "agent",
      handle: (got) => {
        seen = got.map((t) => t.id);
        assert.ok(cursor() < logSize(), "not while they are being handled");
      },
    });
    assert.deepEqual(seen, second);
    assert.equal(cursor(), logSize());
    // A handler that fails gives them back: the cursor stays.
    const [third] = await ran(tasks, "true");
    await until(() => told(dir, [third]), "its line in the log");
    const before = cursor();
    await assert.rejects(tasks.drainCompletions({
      consumer: "agent",
      handle: () => {
        throw new Error("no");
      },
    }));
    assert.equal(cursor(), before);
    assert.deepEqual(await drainedIds(tasks, "agent"), [third]);
  });
});

Deno.test("consumers: a drain whose consumer is forgotten meanwhile (another process, a clean) still resolves with what it delivered", async () => {
  await withStore("consumers-forgotten-mid-drain", async (tasks, dir) => {
    assert.deepEqual(await drainedIds(tasks, "gone"), []);
    const [a] = await ran(tasks, "true");
    const other = new TaskManager({ dir });
    const got = await tasks.drainCompletions({
      consumer: "gone",
      handle: async () => {
        assert.equal(await other.forgetConsumer("gone"), true);
      },
    });
    assert.deepEqual(got.map((t) => t.id), [a]);
  });
});

Deno.test("consumers: a forgotten consumer keeps nothing from clean, and starts anew when used again", async () => {
  await withStore("consumers-forget", async (tasks, dir) => {
    assert.deepEqual(await drainedIds(tasks, "session-1"), []);
    const [x] = await ran(tasks, "true");
    assert.equal(await tasks.forgetConsumer("session-1"), true);
    assert.deepEqual((await tasks.clean()).map((t) => t.id), [x], "nobody keeps it now");
    assert.deepEqual([...Deno.readDirSync(`${dir}/consumers`)].map((e) => e.name), []);
    assert.equal(await tasks.forgetConsumer("session-1"), false);
    await assert.rejects(tasks.forgetConsumer("a/b"), /consumer "a\/b" is not a valid name/);
    // Used again: a new consumer, told of what ends from then on.
    assert.deepEqual(await drainedIds(tasks, "session-1"), []);
    const [y] = await ran(tasks, "true");
    assert.deepEqual(await drainedIds(tasks, "session-1"), [y]);
  });
});

Deno.test("consumers: a completion log whose last line was cut short still tells every consumer of the task that ends next (its line was glued to the cut one, and lost)", async () => {
  await withStore("consumers-torn-log", async (tasks, dir) => {
    assert.deepEqual(await drainedIds(tasks, "c1"), []);
    const [a, b] = await ran(tasks, "true", "true");
    // Each in the log for good (wait() returns before its supervisor has
    // told the log: a drain's sweep would tell it again after the cut).
    await until(() => told(dir, [a, b]), "both in the log");
    assert.deepEqual(await drainedIds(tasks, "c1"), [a, b]);
    const log = `${dir}/completions.log`;
    // Cut inside a line, as a full disk or a crash leaves it: "b1\nb2\nb1".
    Deno.writeTextFileSync(log, Deno.readTextFileSync(log).replace(/\n$/, "").replace(/.$/, ""));
    const [c] = await ran(tasks, "true");
    await until(() => told(dir, [c]), "its line in the log");
    assert.match(Deno.readTextFileSync(log), new RegExp(`b\\d*${c}\\n$`), "glued");
    assert.deepEqual(await drainedIds(tasks, "c1"), [c]);
    // (The default consumer, from the log's start: b's line is the one cut, and no more b's.)
    assert.deepEqual((await tasks.peekCompletions()).map((t) => t.id).sort(), [a, c].sort());
    const [d] = await ran(tasks, "true");
    assert.deepEqual(await drainedIds(tasks, "c1"), [d], "and on from there");
  });
});

Deno.test("consumers: a peek promises only what a drain delivers, from a log damaged by hand; an id with blanks or a CRLF line end is still read", async () => {
  await withStore("consumers-damaged-log", async (tasks, dir) => {
    const [a, b, c, d] = await ran(tasks, "true", "true", "true", "true");
    await until(() => told(dir, [a, b, c, d]), "all in the log");
    const log = `${dir}/completions.log`;
    // a's line saved with CRLF, b's garbled, c's with blanks, d's gone.
    Deno.writeTextFileSync(log, `${a}\r\n${b}zz\n ${c} \n`);
    const peeked = (await tasks.peekCompletions()).map((t) => t.id).sort();
    const drained = (await drainedIds(tasks)).sort();
    assert.deepEqual(peeked, drained, "the look showed what the drain then gave");
    assert.deepEqual(drained, [a, c].sort());
    assert.deepEqual(await tasks.peekCompletions(), []);
  });
});

Deno.test("consumers: default, forgotten, starts anew from then on: never told again of what it was told (it replayed every finished task)", async () => {
  await withStore("consumers-forget-default", async (tasks, dir) => {
    const [a] = await ran(tasks, "true");
    assert.deepEqual(await drainedIds(tasks), [a]);
    const [b] = await ran(tasks, "exit 3"); // ended, not yet told: forgotten with it
    assert.equal(await tasks.forgetConsumer("default"), true);
    // Not registered: clean keeps nothing for it (b goes below, a and b are no one's).
    assert.deepEqual(await tasks.peekCompletions(), [], "nothing before the forget");
    const other = new TaskManager({ dir }); // another process's view: the store's, not this one's
    assert.deepEqual(await other.peekCompletions(), []);
    const [c] = await ran(tasks, "true");
    assert.deepEqual((await other.peekCompletions()).map((t) => t.id), [c]);
    assert.deepEqual(await drainedIds(other), [c], "used again: what ended since");
    assert.deepEqual(await drainedIds(tasks), []);
    const [d] = await ran(tasks, "true");
    assert.deepEqual(await drainedIds(tasks), [d]);
    // Forgotten again, then cleaned: no old task comes back, d is no one's to keep.
    assert.equal(await tasks.forgetConsumer("default"), true);
    assert.deepEqual((await tasks.clean()).map((t) => t.id).sort(), [a, b, c, d].sort());
    const [e] = await ran(tasks, "true");
    assert.deepEqual(await drainedIds(tasks), [e]);
  });
});

Deno.test("consumers: default forgotten again and again while another process drains it: that one is never told again of what ended before; a second forget finds nothing", async () => {
  await withStore("consumers-forget-race", async (tasks, dir) => {
    const done = await ran(tasks, ...Array.from({ length: 10 }, () => "true"));
    await until(() => told(dir, done), "their lines in the log");
    assert.deepEqual(await drainedIds(tasks), done.sort());
    // Another process drains default while this one forgets it, over and over.
    const script = await writeScript(
      dir,
      "drainer",
      `import { TaskManager } from __MOD__;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const got = [];
       for (let i = 0; i < 150; i++) got.push(...(await tasks.drainCompletions()).map((t) => t.id));
       console.log(JSON.stringify(got));`,
    );
    const drainer = startDeno(script, ["-A"]);
    let forgets = 0;
    let drained = false;
    const out = expectSuccess(drainer, "the drainer").finally(() => drained = true);
    // (For as long as the drainer runs: each forget lands between some of its drains.)
    while (!drained) {
      if (await tasks.forgetConsumer("default")) forgets++;
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.deepEqual(JSON.parse(await out), [], `told again (${forgets} forgets)`);
    assert.ok(forgets > 0, "the drainer registered it again, to be forgotten");
    // Nothing registered, nothing to forget: false, the start kept where it was.
    const start = Deno.readTextFileSync(`${dir}/consumers/default/since`);
    if (await tasks.forgetConsumer("default")) {
      assert.equal(await tasks.forgetConsumer("default"), false, "a second forget");
    }
    const [at] = Deno.readTextFileSync(`${dir}/consumers/default/since`).split("\n");
    assert.ok(Number(at) >= Number(start.split("\n")[0]), start);
    assert.notEqual(at, "0", "never from the log's start");
  });
});

Deno.test("consumers: clean forgets a named consumer unused for 30 days, never default, and says so", async () => {
  await withStore("consumers-forgotten", async (tasks, dir) => {
    // Found by a long-life pass: the consumers of MCP sessions that ended unannounced
    // (a killed server) stayed for good.
    for (const c of ["gone", "recent"]) assert.deepEqual(await drainedIds(tasks, c), []);
    assert.deepEqual(await drainedIds(tasks), []);
    const monthAgo = new Date(Date.now() - 31 * 24 * 3600_000);
    for (const c of ["gone", "default"]) {
      Deno.utimeSync(`${dir}/consumers/${c}/cursor`, monthAgo, monthAgo);
    }
    const forgotten: string[] = [];
    await tasks.clean({ onForgotten: (c) => forgotten.push(c) });
    assert.deepEqual(forgotten, ["gone"]);
    assert.deepEqual([...Deno.readDirSync(`${dir}/consumers`)].map((e) => e.name).sort(), [
      "default",
      "recent",
    ]);
    // Back later: a new consumer, told of what ends from then on.
    const [x] = await ran(tasks, "true");
    assert.deepEqual(await drainedIds(tasks, "gone"), []);
    assert.deepEqual(await drainedIds(tasks, "recent"), [x]);
  });
});

Deno.test("consumers: a reader that waits (a completions() loop, a waiting drain) keeps its consumer from clean however long nothing ends, and is told of what ends next", async () => {
  await withStore("consumers-kept-waiting", async (tasks, dir) => {
    // Found by a library-user pass: clean forgot such a consumer after 30
    // quiet days, and the loop, registered again from then on, never heard
    // of the task that ended in between.
    for (const c of ["loop", "drain"]) assert.deepEqual(await drainedIds(tasks, c), []);
    const cursor = (c: string) => `${dir}/consumers/${c}/cursor`;
    const usedAt = (c: string) => Deno.statSync(cursor(c)).mtime?.getTime() ?? 0;
    for (const c of ["loop", "drain"]) Deno.utimeSync(cursor(c), 0, 0);
    const heard: string[] = [];
    const loop = (async () => {
      const signal = AbortSignal.timeout(30_000);
      for await (const t of tasks.completions({ consumer: "loop", signal })) {
        heard.push(t.id);
        break;
      }
    })();
    const drain = tasks.drainCompletions({
      consumer: "drain",
      wait: true,
      signal: AbortSignal.timeout(30_000),
    });
    // (Each marks its consumer used as it begins: then it waits.)
    await until(() => usedAt("loop") > 0 && usedAt("drain") > 0, "both readers under way");
    // A month passes with nothing ending: while they wait, they keep their consumers used.
    const monthAgo = new Date(Date.now() - 31 * 24 * 3600_000);
    for (const c of ["loop", "drain"]) Deno.utimeSync(cursor(c), monthAgo, monthAgo);
    const recent = () => Date.now() - 3600_000;
    await until(
      () => usedAt("loop") > recent() && usedAt("drain") > recent(),
      "the waiting readers to mark their consumers used",
    );
    const forgotten: string[] = [];
    await new TaskManager({ dir }).clean({ onForgotten: (c) => forgotten.push(c) });
    assert.deepEqual(forgotten, []);
    const [x] = await ran(new TaskManager({ dir }), "true");
    assert.deepEqual((await drain).map((t) => t.id), [x]);
    await loop;
    assert.deepEqual(heard, [x]);
  });
});

Deno.test("consumers: a file where a task's folder should be skips that task, and every other is delivered", async () => {
  await withStore("consumers-damaged", async (tasks, dir) => {
    assert.deepEqual(await drainedIds(tasks, "alice"), []);
    const [b1, b2] = await ran(tasks, "echo 1", "echo 2");
    await Deno.remove(`${dir}/tasks/${b1}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/tasks/${b1}`, "x\n");
    const [b3] = await ran(tasks, "echo 3");
    assert.deepEqual((await tasks.peekCompletions()).map((t) => t.id).sort(), [b2, b3]);
    assert.deepEqual(await drainedIds(tasks), [b2, b3]);
    assert.deepEqual(await drainedIds(tasks, "alice"), [b2, b3]);
    assert.deepEqual(await drainedIds(tasks), []);
  });
});

Deno.test("consumers: a completion log cut or replaced by hand under the cursors: what ends next is delivered, nothing twice", async () => {
  await withStore("consumers-log-cut", async (tasks, dir) => {
    assert.deepEqual(await drainedIds(tasks, "alice"), []);
    const first = await ran(tasks, "true", "true", "true");
    assert.deepEqual(await drainedIds(tasks), first);
    assert.deepEqual(await drainedIds(tasks, "alice"), first);
    const log = `${dir}/completions.log`;
    await Deno.writeTextFile(log, ""); // both cursors are past its end now
    const [cut] = await ran(tasks, "echo after the cut");
    assert.deepEqual((await tasks.peekCompletions()).map((t) => t.id), [cut]);
    assert.deepEqual(await drainedIds(tasks), [cut]);
    assert.deepEqual(await drainedIds(tasks, "alice"), [cut]);
    // Replaced by one whose line ends are elsewhere: the cursors (just past
    // the cut's entry, 3 bytes) now point into the middle of a line, which
    // names a task not delivered yet. (Read on from there, it was lost.)
    const later = await ran(tasks, "true", "true", "true", "true", "true", "true");
    const last = later.at(-1)!;
    assert.equal(last.length, 3, "an id as long as the cursor, then some");
    // (Each told by its supervisor, which marks it so: the log is their record.)
    const told = (id: string) => Deno.statSync(`${dir}/active/${id}`).size > 0;
    await until(() => later.every(told), "the supervisors to have told the log");
    await Deno.writeTextFile(log, `${last}\n`);
    // The cursors pointed into the middle of a line: read from its start, the
    // new log's task is delivered (the others went with the lines replaced).
    assert.deepEqual(await drainedIds(tasks), [last]);
    assert.deepEqual(await drainedIds(tasks, "alice"), [last]);
    // And what the new log names again is not delivered twice.
    await Deno.writeTextFile(log, `${last}\n${cut}\n`, { append: true });
    assert.deepEqual(await drainedIds(tasks), []);
    assert.deepEqual(await drainedIds(tasks, "alice"), []);
  });
});

Deno.test("consumers: an error reading a claim (too many open files, say) delivers nothing in its place: the next drain has it", async () => {
  await withStore("consumers-claim-error", async (tasks) => {
    const [a, b] = await ran(tasks, "true", "true");
    const read = Deno.readFileSync;
    Deno.readFileSync = (path: string | URL) => {
      if (String(path).endsWith(`/tasks/${a}/delivered.default`)) {
        throw new Error("Too many open files (os error 24)");
      }
      return read(path);
    };
    try {
      await assert.rejects(tasks.drainCompletions(), /Too many open files/);
    } finally {
      Deno.readFileSync = read;
    }
    assert.deepEqual(await drainedIds(tasks), [a, b]);
  });
});

Deno.test("consumers: more than a read window of stray bytes in the completion log does not hide what follows", async () => {
  await withStore("consumers-log-junk", async (tasks, dir) => {
    assert.deepEqual(await drainedIds(tasks), []);
    const junk = "garbage-line\n".repeat(90_000) + "x".repeat(2 * 1024 * 1024); // 3.2 MB, a 2 MiB line
    await Deno.writeTextFile(`${dir}/completions.log`, junk + "\n", { append: true });
    const [after] = await ran(tasks, "echo after the junk");
    assert.deepEqual((await tasks.peekCompletions()).map((t) => t.id), [after]);
    assert.deepEqual(await drainedIds(tasks), [after]);
    assert.deepEqual(await drainedIds(tasks), []);
  });
});

Deno.test("consumers: a drain with wait resolves the moment a task ends; one that times out or is aborted claims nothing", async () => {
  await withStore("consumers-drain-wait", async (tasks, dir) => {
    const go = `${dir}/go`;
    assert.deepEqual(await tasks.peekCompletions({ consumer: "w" }), []); // registers it
    await tasks.drainCompletions({ consumer: "w" });
    const gated = await tasks.spawnShell(`while [ ! -e '${go}' ]; do sleep 0.02; done`);
    const waiting = tasks.drainCompletions({
      consumer: "w",
      wait: true,
      signal: AbortSignal.timeout(60_000),
    });
    let settled = false;
    waiting.finally(() => settled = true).catch(() => {});
    // Nothing has ended: the drain waits (a drain without wait returns at once, empty).
    assert.deepEqual(await tasks.peekCompletions({ consumer: "w" }), []);
    assert.equal(settled, false);
    await Deno.writeTextFile(go, "");
    assert.deepEqual((await waiting).map((t) => [t.id, t.status]), [[gated.id, "completed"]]);

    // A deadline: rejects with the signal's reason, and takes nothing.
    await assert.rejects(
      tasks.drainCompletions({ consumer: "w", wait: true, signal: AbortSignal.timeout(50) }),
      (e: Error) => e.name === "TimeoutError",
    );
    const stop = new AbortController();
    const aborted = tasks.drainCompletions({ consumer: "w", wait: true, signal: stop.signal });
    stop.abort(new Error("enough"));
    await assert.rejects(aborted, /enough/);
    const later = await tasks.spawnShell("exit 4");
    await tasks.wait(later.id);
    assert.deepEqual((await tasks.drainCompletions({ consumer: "w" })).map((t) => t.id), [
      later.id,
    ]);
    // With handle: what a failed handler could not pass on is given back.
    const third = await tasks.spawnShell("true");
    await assert.rejects(
      tasks.drainCompletions({
        consumer: "w",
        wait: true,
        handle: () => {
          throw new Error("the reader has gone");
        },
      }),
      /the reader has gone/,
    );
    assert.deepEqual((await tasks.drainCompletions({ consumer: "w" })).map((t) => t.id), [
      third.id,
    ]);
    await assert.rejects(
      tasks.drainCompletions({ wait: "yes" as unknown as boolean }),
      (e: Error) =>
        e instanceof TypeError && /wait must be true or false, got "yes"/.test(e.message),
    );
  });
});

Deno.test("consumers: acknowledgeCompletions marks given ends delivered to one consumer only; an unfinished task is delivered when it ends; one in a reader's hands is not taken", async () => {
  await withStore("consumers-ack", async (tasks, dir) => {
    assert.deepEqual(await tasks.drainCompletions({ consumer: "agent" }), []);
    const a = (await tasks.spawnShell("true")).id;
    const b = (await tasks.spawnShell("exit 1")).id;
    const go = `${dir}/go`;
    const later = (await tasks.spawnShell(`until [ -e "${go}" ]; do sleep 0.01; done`)).id;
    for (const id of [a, b]) await tasks.wait(id);
    // Unknown, unfinished and repeated ids are passed over.
    assert.deepEqual(
      await tasks.acknowledgeCompletions([a, a, later, "b999"], { consumer: "agent" }),
      [a],
    );
    assert.deepEqual(await tasks.acknowledgeCompletions([a], { consumer: "agent" }), []);
    assert.deepEqual((await tasks.peekCompletions({ consumer: "agent" })).map((t) => t.id), [b]);
    await Deno.writeTextFile(go, "");
    await tasks.wait(later);
    const drained = async (consumer: string) =>
      (await tasks.drainCompletions({ consumer })).map((t) => t.id).sort();
    assert.deepEqual(await drained("agent"), [b, later].sort());
    // The default consumer was told of none of them.
    assert.deepEqual(await drained("default"), [a, b, later].sort());
    // A consumer never used is neither marked nor registered by it.
    assert.deepEqual(await tasks.acknowledgeCompletions([a], { consumer: "nobody" }), []);
    assert.equal(await tasks.forgetConsumer("nobody"), false);
    // A completion a reader holds (yielded, not yet handled) is that reader's.
    const c = (await tasks.spawnShell("true")).id;
    await tasks.wait(c);
    const reader = tasks.completions({ consumer: "agent" });
    assert.equal((await reader.next()).value?.id, c);
    assert.deepEqual(await tasks.acknowledgeCompletions([c], { consumer: "agent" }), []);
    await reader.return(undefined);
    assert.deepEqual(await drained("agent"), []);
    await assert.rejects(
      tasks.acknowledgeCompletions(["b1/.."], { consumer: "agent" }),
      (e: Error) =>
        e instanceof TypeError && /ids holds "b1\/\.\.", which is not a task id/.test(e.message),
    );
  });
});

/** Starts a process that registers `consumer` (ephemeral) and stays; resolves once it has. */
async function holder(dir: string, consumer: string): Promise<Deno.ChildProcess> {
  const script = await writeScript(
    dir,
    `holder-${consumer}`,
    `import { TaskManager } from __MOD__;
     const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
     await tasks.drainCompletions({ consumer: ${JSON.stringify(consumer)}, ephemeral: true });
     console.log("registered");
     // Alive until the test ends it: a promise alone keeps no process
     // alive (Deno exits, "Top-level await promise never resolved", and the
     // consumer's owner was dead before the test looked, now and then).
     setInterval(() => {}, 3_600_000);`,
  );
  const child = startDeno(script, ["-A"]);
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    seen += value;
  }
  lines.releaseLock();
  assert.equal(seen.trim(), "registered");
  return child;
}

Deno.test("consumers: an ephemeral consumer whose process was SIGKILLed is forgotten by clean, and keeps nothing; a live one keeps what it has not read", async () => {
  await withStore("consumers-ephemeral", async (tasks, dir) => {
    const dead = await holder(dir, "mcp-dead");
    const live = await holder(dir, "mcp-live");
    try {
      dead.kill("SIGKILL");
      await dead.status;
      const [a] = await ran(tasks, "true");
      const kept: string[][] = [];
      const forgotten: [string, string][] = [];
      const removed = await tasks.clean({
        onUnread: (_t, consumers) => kept.push(consumers),
        onForgotten: (c, why) => forgotten.push([c, why]),
      });
      assert.deepEqual(forgotten, [["mcp-dead", "ended"]]);
      assert.deepEqual(kept, [["mcp-live"]], "the live one's unread still keeps it");
      assert.deepEqual(removed, []);
      assert.equal(await exists(`${dir}/consumers/mcp-dead`), false);
      live.kill("SIGKILL");
      await live.status;
      assert.deepEqual((await tasks.clean()).map((t) => t.id), [a], "kept by no one now");
      // The default consumer cannot be one, and a bad value is refused.
      await assert.rejects(() => tasks.drainCompletions({ ephemeral: true }), TypeError);
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        () => tasks.drainCompletions({ consumer: "x", ephemeral: "yes" as any }),
        /ephemeral must be true or false/,
      );
    } finally {
      for (const c of [dead, live]) {
        try {
          c.kill("SIGKILL");
        } catch { /* gone */ }
        await c.status;
        await c.stdout.cancel().catch(() => {});
        await c.stderr.cancel();
      }
    }
  });
});

Deno.test("consumers: an ephemeral name used again by a live process is that one's: clean forgets it only once that one ends (it kept the dead first one's, and forgot it under the live one)", async () => {
  await withStore("consumers-ephemeral-again", async (tasks, dir) => {
    const first = await holder(dir, "agent");
    first.kill("SIGKILL");
    await first.status;
    await first.stdout.cancel().catch(() => {});
    await first.stderr.cancel();
    const second = await holder(dir, "agent");
    try {
      const owner = Deno.readTextFileSync(`${dir}/consumers/agent/owner`);
      assert.match(owner, new RegExp(`^${second.pid} \\S+ \\S+\\n$`), "the live one's");
      const [a] = await ran(tasks, "true");
      const forgotten: string[] = [];
      assert.deepEqual(await tasks.clean({ onForgotten: (c) => forgotten.push(c) }), []);
      assert.deepEqual(forgotten, []);
      // A use of the name without ephemeral (the session's own drains, a
      // person's look) leaves it the live one's.
      await tasks.peekCompletions({ consumer: "agent" });
      const drained = await tasks.drainCompletions({ consumer: "agent" });
      assert.deepEqual(drained.map((t) => t.id), [a]);
      assert.equal(Deno.readTextFileSync(`${dir}/consumers/agent/owner`), owner, "still its");
    } finally {
      second.kill("SIGKILL");
      await second.status;
      await second.stdout.cancel().catch(() => {});
      await second.stderr.cancel();
    }
  });
});

Deno.test({
  name:
    `consumers: a clean in another pid namespace (a sandbox sharing the store) never forgets an ephemeral consumer it cannot see${
      pidnsSkip ? ` (skipped: ${pidnsSkip})` : ""
    }`,
  ignore: pidnsSkip !== undefined,
  fn: async () => {
    await withStore("consumers-ephemeral-pidns", async (tasks, dir) => {
      const live = await holder(dir, "host-agent");
      try {
        const [a] = await ran(tasks, "true");
        const cli = new URL("../cli.ts", import.meta.url).pathname;
        const out = await new Deno.Command("unshare", {
          args: [
            "--pid",
            "--fork",
            "--mount-proc",
            Deno.execPath(),
            "run",
            "-A",
            cli,
            "--dir",
            dir,
            "clean",
            "--json",
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const err = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, err);
        assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [], err);
        assert.match(err, /kept 1 finished task not yet read by completion consumer host-agent/);
        assert.deepEqual(
          (await tasks.drainCompletions({ consumer: "host-agent" })).map((t) => t.id),
          [a],
        );
      } finally {
        live.kill("SIGKILL");
        await live.status;
        await live.stdout.cancel().catch(() => {});
        await live.stderr.cancel();
      }
    });
  },
});

Deno.test("consumers: a consumer forgotten while a drain waits on it is registered again: the wait goes on and gets what ends next (it failed on its lock's folder)", async () => {
  await withStore("consumers-forgotten-waiting", async (tasks, dir) => {
    assert.deepEqual(await tasks.drainCompletions({ consumer: "agent" }), []);
    // (A drain marks its consumer used, its cursor's time, before it waits.)
    const cursor = `${dir}/consumers/agent/cursor`;
    Deno.utimeSync(cursor, 0, 0);
    const waiting = tasks.drainCompletions({
      consumer: "agent",
      wait: true,
      signal: AbortSignal.timeout(30_000),
    });
    await until(() => (Deno.statSync(cursor).mtime?.getTime() ?? 0) > 0, "the drain under way");
    // Another process forgets it (as clean's hint says to) while the drain waits.
    const other = new TaskManager({ dir });
    assert.equal(await other.forgetConsumer("agent"), true);
    await until(() => exists(`${dir}/consumers/agent/cursor`), "registered again");
    const [a] = await ran(tasks, "true");
    assert.deepEqual((await waiting).map((t) => t.id), [a]);
  });
});

Deno.test("consumers: a bgtask mcp session SIGKILLed, after a task_completions call, leaves no consumer that keeps tasks from bgtask clean", async () => {
  await withStore("consumers-mcp-killed", async (tasks, dir) => {
    const cli = new URL("../cli.ts", import.meta.url).pathname;
    const server = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, "--dir", dir, "mcp"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const replies = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      // The session's own drain (task_completions) keeps it the server's.
      const call = { name: "task_completions", arguments: {} };
      const lines = [
        initializeMessage("killed"),
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 2, method: "tools/call", params: call },
      ];
      const writer = server.stdin.getWriter();
      await writer.write(
        new TextEncoder().encode(lines.map((l) => JSON.stringify(l) + "\n").join("")),
      );
      let seen = "";
      while (!seen.includes('"id":2')) {
        const { value, done } = await replies.read();
        if (done) break;
        seen += value;
      }
      assert.match(seen, /"id":2/, "task_completions answered");
      writer.releaseLock();
    } finally {
      server.kill("SIGKILL");
      await server.status;
      await replies.cancel().catch(() => {});
      await server.stdin.close().catch(() => {});
    }
    const [a] = await ran(tasks, "true");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, "--dir", dir, "clean", "--json"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, err);
    assert.deepEqual(
      (JSON.parse(new TextDecoder().decode(out.stdout)) as { id: string }[]).map((t) => t.id),
      [a],
    );
    assert.match(
      err,
      /^bgtask: forgot completion consumer mcp-[0-9a-f]{12}, ephemeral, whose process has ended/,
    );
  });
});
