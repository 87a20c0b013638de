/**
 * Queues, dependencies, pause/resume/restart and per-consumer completions
 * from the command line, run as subprocesses under the minimal permissions
 * against real tasks. Nothing sleeps and hopes: tasks are held by gate files,
 * and a state that comes later is polled for with a deadline.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type QueueInfo, type TaskInfo, TaskManager } from "../mod.ts";
import { standing } from "../src/cli/queue_view.ts";
import { procStat, until, untilWatching } from "./_helpers/common.ts";
import { cli, cliJson, countReads, gate, spawnCli, start, withStore } from "./cli_helpers.ts";

/** The tasks of the store by id, as `list --json` reports them. */
async function byId(dir: string, args: string[] = []): Promise<Map<string, TaskInfo>> {
  const list = await cliJson<TaskInfo[]>(dir, ["list", ...args]);
  return new Map(list.map((t) => [t.id, t]));
}

/**
 * Polls until `id` has `status` (a deadline, no guessing). On timeout the
 * error carries the store's queue files and the task's record names, to tell
 * a slow machine from a task that was never handed a slot.
 */
async function untilStatus(dir: string, id: string, status: TaskInfo["status"]): Promise<void> {
  try {
    await until(
      async () => (await cliJson<TaskInfo>(dir, ["status", id])).status === status,
      `${id} to be ${status}`,
    );
  } catch (e) {
    const state: string[] = [];
    const read = (path: string) => Deno.readTextFileSync(path).trim();
    for (const q of Deno.readDirSync(join(dir, "queues"))) {
      for (const f of Deno.readDirSync(join(dir, "queues", q.name))) {
        state.push(`queues/${q.name}/${f.name}: ${read(join(dir, "queues", q.name, f.name))}`);
      }
    }
    for (const f of Deno.readDirSync(join(dir, "tasks", id))) {
      if (f.name !== "output") {
        state.push(`tasks/${id}/${f.name}: ${read(join(dir, "tasks", id, f.name))}`);
      }
    }
    throw new Error(`${(e as Error).message}\n${state.join("\n")}`);
  }
}

/** The queue called `name`, as `queue --json` reports it. */
async function queueOf(dir: string, name: string): Promise<QueueInfo | undefined> {
  return (await cliJson<QueueInfo[]>(dir, ["queue"])).find((q) => q.name === name);
}

/** The table's row for `id`, split on runs of two or more spaces. */
function row(table: string, id: string): string[] {
  const line = table.split("\n").find((l) => l.startsWith(`${id} `));
  assert.ok(line, `no row for ${id} in:\n${table}`);
  return line.split(/ {2,}/);
}

Deno.test("queue set/pause/resume show in queue --json; a queue runs N at a time, in order", async () => {
  await withStore(async (dir, scratch) => {
    const set = await cli(dir, ["queue", "set", "q", "--parallel", "2", "--json"]);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(JSON.parse(set.stdout), {
      name: "q",
      parallel: 2,
      paused: false,
      running: 0,
      queued: 0,
    });
    const go = (i: number) => join(scratch, `go${i}`);
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) ids.push(await start(dir, "--queue", "q", `${gate(go(i))}; true`));
    assert.deepEqual(ids, ["b1", "b2", "b3", "b4"]);
    // Two run, the other two wait for a slot.
    await until(async () => (await queueOf(dir, "q"))?.running === 2, "two of q to run");
    let tasks = await byId(dir);
    assert.deepEqual(ids.map((id) => tasks.get(id)!.status), [
      "running",
      "running",
      "queued",
      "queued",
    ]);
    assert.equal(tasks.get("b3")!.startedAt, null);

    const paused = await cli(dir, ["queue", "pause", "q"]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(
      paused.stdout,
      "NAME  PARALLEL  PAUSED  RUNNING  QUEUED\nq            2  yes           2       2\n",
    );
    assert.equal((await queueOf(dir, "q"))?.paused, true);
    // b1 ends; `queue` lets every queue catch up, and a paused one starts nothing.
    await Deno.writeTextFile(go(1), "");
    assert.equal((await cli(dir, ["wait", "b1"])).code, 0);
    assert.deepEqual(await queueOf(dir, "q"), {
      name: "q",
      parallel: 2,
      paused: true,
      running: 1,
      queued: 2,
    });
    assert.equal((await cliJson<TaskInfo>(dir, ["status", "b3"])).status, "queued");

    const resumed = await cliJson<QueueInfo>(dir, ["queue", "resume", "q"]);
    assert.equal(resumed.paused, false);
    await untilStatus(dir, "b3", "running"); // the first in line, not b4
    assert.equal((await cliJson<TaskInfo>(dir, ["status", "b4"])).status, "queued");

    // Raising parallel starts more at once.
    const raised = await cliJson<QueueInfo>(dir, ["queue", "set", "q", "--parallel", "3"]);
    assert.equal(raised.parallel, 3);
    await untilStatus(dir, "b4", "running");
    assert.deepEqual(await queueOf(dir, "q"), {
      name: "q",
      parallel: 3,
      paused: false,
      running: 3,
      queued: 0,
    });
    for (let i = 2; i <= 4; i++) await Deno.writeTextFile(go(i), "");
    const waited = await cli(dir, ["wait", "--queue", "q"]);
    assert.equal(waited.code, 0, waited.stderr);
    tasks = await byId(dir, ["--queue", "q"]);
    assert.deepEqual([...tasks.values()].map((t) => [t.id, t.status]), [
      ["b1", "completed"],
      ["b2", "completed"],
      ["b3", "completed"],
      ["b4", "completed"],
    ]);
    const table = await cli(dir, ["queue"]);
    assert.equal(
      table.stdout,
      "NAME  PARALLEL  PAUSED  RUNNING  QUEUED\nq            3  no            0       0\n",
    );
  });
});

Deno.test("list shows a QUEUE column only when needed, with each waiting task's place", async () => {
  await withStore(async (dir, scratch) => {
    await start(dir, "--wait", "true"); // b1: no queue
    const plain = await cli(dir, ["list"]);
    assert.match(plain.stdout, /^ID +STATUS +EXIT +STARTED +DURATION +TASK$/m);

    await cli(dir, ["queue", "set", "q", "--parallel", "1"]);
    const hold = join(scratch, "hold");
    const build = join(scratch, "build");
    await start(dir, "--queue", "q", "--description", "first", gate(hold)); // b2 runs
    await start(dir, "--queue", "q", "--description", "second", "true"); // b3: q #1
    await start(dir, "--description", "build", gate(build)); // b4: no queue, runs
    await start(dir, "--queue", "q", "--after", "b4", "--description", "after build", "true"); // b5
    await start(dir, "--queue", "q", "--description", "third", "true"); // b6: q #2
    await start(dir, "--after", "4", "--description", "deploy", "true"); // b7: after b4
    await untilStatus(dir, "b2", "running");
    await untilStatus(dir, "b4", "running");

    const expected: Record<string, string[]> = {
      b1: ["b1", "completed", "0"],
      b2: ["b2", "running", "q"],
      b3: ["b3", "queued", "q #1", "-", "-", "second"],
      b4: ["b4", "running"],
      b5: ["b5", "queued", "q after b4", "-", "-", "after build"],
      b6: ["b6", "queued", "q #2", "-", "-", "third"],
      b7: ["b7", "queued", "after b4", "-", "-", "deploy"],
    };
    const all = await cli(dir, ["list"]);
    assert.match(all.stdout, /^ID +STATUS +QUEUE +EXIT +STARTED +DURATION +TASK$/m);
    for (const [id, cells] of Object.entries(expected)) {
      assert.deepEqual(row(all.stdout, id).slice(0, cells.length), cells, id);
    }
    // A filtered list reads the places from the store: the same numbers.
    const [inQueue, waiting] = await Promise.all([
      cli(dir, ["list", "--queue", "q"]),
      cli(dir, ["list", "--status", "queued"]),
    ]);
    assert.deepEqual(
      inQueue.stdout.trimEnd().split("\n").slice(1).map((l) => l.split(" ")[0]),
      ["b2", "b3", "b5", "b6"],
    );
    for (const table of [inQueue.stdout, waiting.stdout]) {
      for (const id of ["b3", "b5", "b6"]) {
        assert.deepEqual(row(table, id).slice(0, 3), expected[id].slice(0, 3), id);
      }
    }
    assert.deepEqual(row(waiting.stdout, "b7").slice(0, 3), expected.b7.slice(0, 3));

    // --json: the new fields parse back.
    const info = (await byId(dir)).get("b5")!;
    assert.equal(info.queue, "q");
    assert.deepEqual(info.after, ["b4"]);
    assert.equal(info.afterPolicy, "success");
    assert.equal(info.startedAt, null);
    assert.equal(typeof info.createdAt, "string");

    // status: the queue and place, the dependencies with their status, created vs started.
    const [s6, s5] = await Promise.all([cli(dir, ["status", "b6"]), cli(dir, ["status", "b5"])]);
    assert.match(s6.stdout, /^queue: +q \(#2 in line\)$/m);
    assert.match(s6.stdout, /^started: +not yet$/m);
    assert.match(s6.stdout, /^queued for: +\S+$/m);
    assert.match(s6.stdout, /^created: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d\d:\d\d \(/m);
    assert.match(s5.stdout, /^queue: +q$/m); // it waits for b4, not for a slot
    assert.match(s5.stdout, /^after: +b4 \(running\); each must complete$/m);

    // A paused queue: its waiting tasks say so, with the way out.
    assert.equal((await cli(dir, ["queue", "pause", "q"])).code, 0);
    const paused = await cli(dir, ["list"]);
    assert.deepEqual(row(paused.stdout, "b3").slice(0, 3), ["b3", "queued", "q #1 paused"]);
    assert.deepEqual(row(paused.stdout, "b5").slice(0, 3), ["b5", "queued", "q after b4"]);
    assert.match(
      (await cli(dir, ["status", "b6"])).stdout,
      /^queue: +q \(#2 in line; the queue is paused: bgtask queue resume q\)$/m,
    );
    assert.match((await cli(dir, ["status", "b5"])).stdout, /^queue: +q$/m);
  });
});

Deno.test("off a terminal a queue's name is not cut: list | grep finds a long one", async () => {
  // A pueue user's walk: `list | cat` showed "qq-with-a-rathe…", and grep found nothing.
  await withStore(async (dir) => {
    const q = "qq-with-a-rather-long-name-of-the-nightly-suite";
    await start(dir, "--wait", "--queue", q, "true");
    const r = await cli(dir, ["list"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^b1 +completed +${q} +0 `, "m"));
    assert.ok(!r.stdout.includes("…"), r.stdout);
  });
});

Deno.test("kill --queue ends every unfinished task of a queue; its queued tasks never start", async () => {
  await withStore(async (dir) => {
    await cli(dir, ["queue", "set", "k", "--parallel", "2"]);
    const outside = await start(dir, "sleep 300"); // b1, in no queue
    for (let i = 0; i < 5; i++) await start(dir, "--queue", "k", "echo ran; sleep 300");
    await until(async () => (await queueOf(dir, "k"))?.running === 2, "two of k to run");

    const killed = await cli(dir, ["kill", "--queue", "k", "--grace", "0", "--json"]);
    assert.equal(killed.code, 0, killed.stderr);
    const infos = JSON.parse(killed.stdout) as TaskInfo[];
    assert.deepEqual(infos.map((t) => [t.id, t.status]), [
      ["b2", "killed"],
      ["b3", "killed"],
      ["b4", "killed"],
      ["b5", "killed"],
      ["b6", "killed"],
    ]);
    // Looking at the queues lets them catch up: nothing is left to start.
    assert.deepEqual(await queueOf(dir, "k"), {
      name: "k",
      parallel: 2,
      paused: false,
      running: 0,
      queued: 0,
    });
    const after = await byId(dir);
    for (const id of ["b4", "b5", "b6"]) {
      const t = after.get(id)!;
      assert.deepEqual(
        [t.status, t.startedAt, t.pid, t.outputBytes],
        ["killed", null, null, 0],
        id,
      );
    }
    for (const id of ["b2", "b3"]) assert.notEqual(after.get(id)!.startedAt, null, id);
    assert.equal(after.get(outside)!.status, "running", "a task outside the queue is left alone");

    // Nothing left: an empty table, exit 0. A queue never seen: one line, exit 1.
    const again = await cli(dir, ["kill", "--queue", "k"]);
    assert.deepEqual([again.code, again.stdout], [
      0,
      "ID  STATUS  EXIT  STARTED  DURATION  TASK\n",
    ]);
    const unknown = await cli(dir, ["kill", "--queue", "nope"]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'bgtask: no queue "nope" in the store (see bgtask queue)\n');
    // A mistyped name is refused the same way by every verb that names a queue: a pause or
    // resume does not make a queue of it, and list does not show an empty table for it.
    for (
      const args of [["queue", "pause", "nope"], ["queue", "resume", "nope"], [
        "list",
        "--queue",
        "nope",
      ]]
    ) {
      const r = await cli(dir, args);
      assert.deepEqual([r.code, r.stdout, r.stderr], [
        1,
        "",
        'bgtask: no queue "nope" in the store (see bgtask queue)' +
        // (A pause of a new name is how pueue's users make a stash: told how.)
        (args[1] === "pause"
          ? "; to make it paused (its tasks wait until it is resumed): bgtask queue set nope " +
            "--parallel 1, then bgtask queue pause nope"
          : "") +
        "\n",
      ], args.join(" "));
    }
    assert.ok(!(await cliJson<{ name: string }[]>(dir, ["queue"])).some((q) => q.name === "nope"));
    // A known queue with no unfinished task lists its finished ones, or an empty table.
    assert.equal((await cli(dir, ["list", "--queue", "k"])).code, 0);
    assert.equal((await cliJson<TaskInfo>(dir, ["status", outside])).status, "running");
  });
});

Deno.test("queue rm deletes a queue whose tasks have all ended; one with unfinished tasks is refused", async () => {
  await withStore(async (dir, scratch) => {
    const g = join(scratch, "gate");
    await cli(dir, ["queue", "set", "old", "--parallel", "2"]);
    const held = await start(dir, "--queue", "old", gate(g));
    const refused = await cli(dir, ["queue", "rm", "old"]);
    assert.deepEqual([refused.code, refused.stdout, refused.stderr], [
      1,
      "",
      `bgtask: cannot remove queue "old": its task ${held} has not ended ` +
      "(end them first: bgtask kill --queue old, or bgtask wait --queue old)\n",
    ]);
    assert.ok(await queueOf(dir, "old"), "refused: the queue is still there");
    // Paused, with a task waiting in line: a wait alone would never return.
    await cli(dir, ["queue", "pause", "old"]);
    const inLine = await start(dir, "--queue", "old", "true");
    const paused = await cli(dir, ["queue", "rm", "old"]);
    assert.match(
      paused.stderr,
      /\(end them first: bgtask kill --queue old, or bgtask queue resume old then bgtask wait --queue old\)\n$/,
    );
    await cli(dir, ["queue", "resume", "old"]);
    assert.equal((await cli(dir, ["wait", inLine])).code, 0);
    await Deno.writeTextFile(g, "");
    assert.equal((await cli(dir, ["wait", "--queue", "old"])).code, 0);
    const removed = await cli(dir, ["queue", "rm", "old"]);
    assert.deepEqual([removed.code, removed.stdout, removed.stderr], [
      0,
      "Removed queue old.\n",
      "",
    ]);
    assert.equal(await queueOf(dir, "old"), undefined);
    assert.equal((await byId(dir, ["--queue", "old"])).get(held)?.status, "completed");
    const again = await cli(dir, ["queue", "rm", "old"]);
    assert.deepEqual([again.code, again.stderr], [
      1,
      'bgtask: no queue "old" in the store (see bgtask queue)\n',
    ]);
    await cli(dir, ["queue", "set", "other", "--parallel", "1"]);
    const json = await cli(dir, ["queue", "rm", "other", "--json"]);
    assert.deepEqual(JSON.parse(json.stdout), { name: "other", removed: true });
    const extra = await cli(dir, ["queue", "rm", "other", "--parallel", "2"]);
    assert.equal(extra.code, 2);
  });
});

/**
 * A wait's first line on stderr (its note), then all it wrote once a Ctrl-C
 * (SIGINT) ended it, and its exit code.
 */
async function noteThenCtrlC(waiting: Deno.ChildProcess) {
  const reader = waiting.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let all = "";
  while (!all.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    all += value;
  }
  const first = all;
  waiting.kill("SIGINT");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    all += value;
  }
  await waiting.stdout.cancel();
  return { first, all, code: (await waiting.status).code };
}

Deno.test("a wait on a task held by a paused queue, or on a paused task, says so at once and at a Ctrl-C; run into a paused queue says so", async () => {
  await withStore(async (dir) => {
    // Found by a terminal-user pass: `run --wait` into a paused queue sat
    // there for good without a word, and its Ctrl-C said the task would
    // start in its turn; a paused task was said to run on.
    await cli(dir, ["queue", "set", "hold", "--parallel", "1"]);
    await cli(dir, ["queue", "pause", "hold"]);
    const queued = await cli(dir, ["run", "--queue", "hold", "echo y"]);
    const q = queued.stdout.trim();
    assert.equal(
      queued.stderr,
      `bgtask: note: ${q} is queued, and queue hold is paused: bgtask queue resume hold\n`,
    );
    const p = await start(dir, "sleep 60");
    assert.equal((await cli(dir, ["pause", p])).code, 0);
    const held = `paused: ${p} (bgtask resume ${p} continues it); queued: ${q}, and queue hold ` +
      "is paused: bgtask queue resume hold";
    const { first, all, code } = await noteThenCtrlC(spawnCli(dir, ["wait", q, p]));
    assert.equal(first, `bgtask: note: ${held} (the wait goes on)\n`);
    assert.equal(code, 130);
    assert.ok(all.endsWith(`bgtask: stopped waiting (SIGINT); ${held}\n`), all);
    assert.equal((await cli(dir, ["kill", q, p])).code, 0);
  });
});

Deno.test("a wait on a task run after one that is held (queued in a paused queue, or paused), through a chain, says so at once and at a Ctrl-C", async () => {
  await withStore(async (dir) => {
    // Noticed at stop 54: `wait` on a task --after one in a paused queue sat
    // there without a word (the note named only the tasks waited on).
    await cli(dir, ["queue", "set", "hold", "--parallel", "1"]);
    await cli(dir, ["queue", "pause", "hold"]);
    const q = (await cli(dir, ["run", "--queue", "hold", "true"])).stdout.trim();
    const p = await start(dir, "sleep 60");
    assert.equal((await cli(dir, ["pause", p])).code, 0);
    const mid = await start(dir, "--after", q, "true");
    const last = await start(dir, "--after", `${mid},${p}`, "true");
    // (With --timeout: on code that says nothing, the wait ends and the test fails, not hangs.)
    const { first, all, code } = await noteThenCtrlC(
      spawnCli(dir, ["wait", last, "--timeout", "20s"]),
    );
    const held = `${last} runs after a task that is held: paused: ${p} (bgtask resume ${p} ` +
      `continues it); queued: ${q}, and queue hold is paused: bgtask queue resume hold`;
    assert.equal(first, `bgtask: note: ${held} (the wait goes on)\n`);
    assert.equal(code, 130);
    assert.ok(all.includes(held), all);
    assert.equal((await cli(dir, ["kill", q, p])).code, 0);
    assert.equal((await cli(dir, ["wait", last])).code, 125, "its dependencies were killed");
  });
});

Deno.test("wait --queue counts the tasks that join the queue while it waits (a producer still adding shards)", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    await cli(dir, ["queue", "set", "late", "--parallel", "1"]);
    const first = await start(dir, "--queue", "late", gate(go));
    const waiting = spawnCli(dir, ["wait", "--queue", "late", "--json"]);
    await untilWatching(waiting.pid);
    // Joins while the wait waits for the first, and fails.
    const late = await start(dir, "--queue", "late", "exit 9");
    await Deno.writeTextFile(go, "");
    const [status, out] = await Promise.all([waiting.status, new Response(waiting.stdout).text()]);
    await waiting.stderr.cancel();
    assert.deepEqual((JSON.parse(out) as TaskInfo[]).map((t) => [t.id, t.status]), [
      [first, "completed"],
      [late, "failed"],
    ]);
    assert.equal(status.code, 9, "the late shard failed: the wait must not pass");
  });
});

Deno.test("wait --all counts the tasks started while it waits, those already ended at its next look too", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const first = await start(dir, gate(go));
    const waiting = spawnCli(dir, ["wait", "--all", "--json"]);
    await untilWatching(waiting.pid);
    const late = await start(dir, "exit 4");
    await cli(dir, ["wait", late]); // ended before the wait looks again
    await Deno.writeTextFile(go, "");
    const [status, out] = await Promise.all([waiting.status, new Response(waiting.stdout).text()]);
    await waiting.stderr.cancel();
    assert.deepEqual((JSON.parse(out) as TaskInfo[]).map((t) => t.id), [first, late]);
    assert.equal(status.code, 4);
  });
});

/** Rewrites field `name` of task `id`'s spec record (NUL-separated `name=value` fields). */
async function setSpecField(dir: string, id: string, name: string, value: string): Promise<void> {
  const path = join(dir, "tasks", id, "spec");
  const fields = (await Deno.readTextFile(path)).split("\0");
  const at = fields.findIndex((f) => f.startsWith(`${name}=`));
  assert.ok(at > 0, `${id} has no ${name}`);
  fields[at] = `${name}=${value}`;
  await Deno.writeTextFile(path, fields.join("\0"));
}

/** Rewrites `finishedAt` in task `id`'s final record. */
async function setFinishedAt(dir: string, id: string, at: number): Promise<void> {
  const path = join(dir, "tasks", id, "final.json");
  const record = JSON.parse(await Deno.readTextFile(path));
  await Deno.writeTextFile(path, JSON.stringify({ ...record, finishedAt: at }));
}

Deno.test("wait --all's note on failures it leaves out gives a command that pastes (the last ten ids, the earlier counted outside it), and a days-old task does not reach back to its start", async () => {
  // A pueue user's pass: the note ended its command in " …" ("\"…\" is not a task id"), and
  // a dev server up for days made every failure since then be named on each wait --all.
  await withStore(async (dir) => {
    const server = await start(dir, "sleep 300");
    const day = 24 * 3600_000;
    await setSpecField(dir, server, "createdAt", String(Date.now() - 3 * day));
    // Failed two hours ago, as far as wait can tell.
    const old = (await cli(dir, ["run", "--wait", "exit 3"])).stdout.trim();
    await setSpecField(dir, old, "createdAt", String(Date.now() - 2 * 3600_000 - 1000));
    await setFinishedAt(dir, old, Date.now() - 2 * 3600_000);
    const tasks = new TaskManager({ dir });
    const failed: string[] = [];
    for (let i = 0; i < 12; i++) failed.push((await tasks.spawnShell("exit 4")).id);
    for (const id of failed) await tasks.wait(id);

    const r = await cli(dir, ["wait", "--all", "--timeout", "0"]);
    assert.equal(r.code, 124, r.stderr); // the server runs on
    const note = r.stderr.split("\n")[0];
    assert.ok(!note.includes(old), note);
    // (The last ten: the newest failure is likeliest the one a script is about; a walk's was left out.)
    assert.ok(note.startsWith(`bgtask: not counted: 2 earlier and ${failed.slice(2).join(", ")} `));
    const command =
      /; (bgtask wait [^;(]*?) counts the last 10; 2 earlier failed then \(bgtask list --status failed lists every failed task\) \(/
        .exec(note)?.[1];
    assert.equal(command, `bgtask wait ${failed.slice(2).join(" ")}`, note);
    // Pasted, it runs: the tasks' exit code, not a usage error.
    const pasted = await cli(dir, command!.split(" ").slice(1));
    assert.equal(pasted.code, 4, pasted.stderr);
    assert.equal((await cli(dir, ["kill", "--grace", "0", server])).code, 0);
  });
});

Deno.test("wait --queue waits for every task of a queue, those that ended before it too, and exits like wait with several ids", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    await cli(dir, ["queue", "set", "w", "--parallel", "2"]);
    assert.equal((await cli(dir, ["run", "--queue", "w", "--wait", "exit 9"])).code, 9); // b1
    await start(dir, "--queue", "w", `${gate(go)}; exit 0`); // b2
    await start(dir, "--queue", "w", `${gate(go)}; exit 3`); // b3
    await start(dir, "--queue", "w", `${gate(go)}; exit 5`); // b4, queued at first
    await untilStatus(dir, "b3", "running");

    const check = await cli(dir, ["wait", "--queue", "w", "--timeout", "0"]);
    assert.equal(check.code, 124);
    assert.equal(
      check.stderr,
      "bgtask: stopped waiting after 0ms; still running: b2, b3; queued: b4\n",
    );
    assert.deepEqual(
      check.stdout.trimEnd().split("\n").slice(1).map((l) => l.split(/ +/).slice(0, 3)),
      [["b1", "failed", "w"], ["b2", "running", "w"], ["b3", "running", "w"], [
        "b4",
        "queued",
        "w",
      ]],
    );

    const waiting = spawnCli(dir, ["wait", "--queue", "w", "--json"]);
    await untilWatching(waiting.pid);
    await Deno.writeTextFile(go, "");
    const [status, out] = await Promise.all([waiting.status, new Response(waiting.stdout).text()]);
    await waiting.stderr.cancel();
    // b1 had ended already, and failed: it counts (a failed shard must not
    // make `wait --queue shards && deploy` pass). The first non-zero code by id is its.
    assert.equal(status.code, 9);
    assert.deepEqual((JSON.parse(out) as TaskInfo[]).map((t) => [t.id, t.exitCode]), [
      ["b1", 9],
      ["b2", 0],
      ["b3", 3],
      ["b4", 5],
    ]);
    // All ended: the same answer at once. Its old tasks removed, the queue starts afresh.
    assert.equal((await cli(dir, ["wait", "--queue", "w"])).code, 9);
    // With --timeout 0 too, and --all: nothing runs or is being added, no timeout (was 124).
    // (--all waits for the tasks not ended yet: none; it names the failures it leaves out.)
    const notCounted = "bgtask: not counted: b1, b3, b4 failed before this wait began; " +
      "bgtask wait b1 b3 b4 counts them (--all is the tasks not ended yet: wait on the ids " +
      "run printed)\n";
    for (
      const [args, code, stderr] of [[["--queue", "w"], 9, ""], [["--all"], 0, notCounted]] as const
    ) {
      const at0 = await cli(dir, ["wait", ...args, "--timeout", "0"]);
      assert.deepEqual([at0.code, at0.stderr], [code, stderr], args.join(" "));
    }
    assert.equal((await cli(dir, ["rm", "b1"])).code, 0);
    const afresh = await cli(dir, ["wait", "--queue", "w"]);
    assert.equal(afresh.code, 3);
    assert.equal((await cli(dir, ["clean"])).code, 0);
    const done = await cli(dir, ["wait", "--queue", "w"]);
    assert.deepEqual([done.code, done.stdout], [0, "ID  STATUS  EXIT  STARTED  DURATION  TASK\n"]);
    assert.equal((await cli(dir, ["wait", "--queue", "nope"])).code, 1);
  });
});

Deno.test("run --after: starts after its dependencies; a failed one fails it unrun, unless --after-any", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const ran = join(scratch, "ran");
    await start(dir, `${gate(go)}; exit 1`); // b1
    const strict = await cli(dir, ["run", "--json", "--after", "b1", `touch '${ran}'`]); // b2
    assert.equal(strict.code, 0, strict.stderr);
    const b2 = JSON.parse(strict.stdout) as TaskInfo;
    assert.deepEqual([b2.id, b2.status, b2.after, b2.afterPolicy, b2.startedAt], [
      "b2",
      "queued",
      ["b1"],
      "success",
      null,
    ]);
    await start(dir, "--after", "1", "--after-any", "echo cleaned"); // b3
    assert.equal((await cliJson<TaskInfo>(dir, ["status", "b3"])).afterPolicy, "any");
    await Deno.writeTextFile(go, "");

    const [w2, w3] = await Promise.all([cli(dir, ["wait", "b2"]), cli(dir, ["wait", "b3"])]);
    assert.equal(w2.code, 125, "a task that never ran has no exit status");
    assert.deepEqual(row(w2.stdout, "b2").slice(0, 3), ["b2", "failed", "dependency"]);
    assert.equal(w3.code, 0);
    const b2done = await cliJson<TaskInfo>(dir, ["status", "b2"]);
    assert.deepEqual([b2done.reason, b2done.startedAt], ["dependency", null]);
    assert.equal(await Deno.stat(ran).then(() => true, () => false), false, "b2 never ran");
    const human = await cli(dir, ["status", "b2"]);
    assert.match(human.stdout, /^after: +b1 \(failed\); each must complete$/m);
    assert.match(human.stdout, /^started: +never$/m);
    assert.equal((await cli(dir, ["logs", "b3"])).stdout, "cleaned\n");

    // Unknown dependencies are refused before anything starts.
    const unknown = await cli(dir, ["run", "--after", "b1,b99", "true"]);
    assert.deepEqual([unknown.code, unknown.stderr], [
      1,
      "bgtask: --after b99: no such task in the store; give tasks still in the store (see " +
      "bgtask list)\n",
    ]);
    assert.equal((await cliJson<TaskInfo[]>(dir, ["list"])).length, 3);
  });
});

Deno.test("pause and resume stop and continue a task's whole group; a refused one is one line, exit 1", async () => {
  await withStore(async (dir) => {
    await cli(dir, ["queue", "set", "p", "--parallel", "1"]);
    await start(dir, "--queue", "p", "sleep 300 & sleep 300; wait"); // b1 runs
    await start(dir, "--queue", "p", "true"); // b2 waits
    await untilStatus(dir, "b1", "running");
    const pid = (await cliJson<TaskInfo>(dir, ["status", "b1"])).pid!;

    // b2 is queued: refused, and b1 is still paused.
    const paused = await cli(dir, ["pause", "b2", "b1"]);
    assert.equal(paused.code, 1);
    assert.equal(
      paused.stderr,
      "bgtask: cannot pause task b2: it is queued (only a running task can be paused); to hold it " +
        "with the rest of its queue's line: bgtask queue pause p\n",
    );
    assert.deepEqual(row(paused.stdout, "b1").slice(0, 3), ["b1", "paused", "p"]);
    assert.equal(paused.stdout.split("\n").length, 3, "one row: b1");
    await until(() => procStat(pid)?.state === "T", "b1's shell to be stopped");
    assert.equal((await cliJson<QueueInfo>(dir, ["queue", "resume", "p"])).running, 1);

    // Unknown id: nothing is done at all.
    const unknown = await cli(dir, ["resume", "b1", "b99"]);
    assert.deepEqual([unknown.code, unknown.stdout], [1, ""]);
    assert.equal((await cliJson<TaskInfo>(dir, ["status", "b1"])).status, "paused");

    const resumed = await cliJson<TaskInfo[]>(dir, ["resume", "b1"]);
    assert.deepEqual(resumed.map((t) => [t.id, t.status]), [["b1", "running"]]);
    await until(() => procStat(pid)?.state !== "T", "b1's shell to continue");

    // Resuming a running task, pausing an ended one: refused.
    const again = await cli(dir, ["resume", "b1", "--json"]);
    assert.equal(again.code, 1);
    assert.deepEqual(JSON.parse(again.stdout), []);
    assert.match(
      again.stderr,
      /^bgtask: cannot resume task b1: it is running \(only a paused task can be resumed\); if something else stopped it \(kill -STOP\), pause it, then resume it\n$/,
    );
    await cli(dir, ["kill", "b1", "--grace", "0"]);
    const ended = await cli(dir, ["pause", "b1"]);
    assert.deepEqual([ended.code, ended.stdout], [1, ""]);
    assert.match(
      ended.stderr,
      /^bgtask: cannot pause task b1: it has ended \(killed\); only a running task can be paused$/m,
    );
  });
});

Deno.test("restart runs ended tasks again as new tasks linked by restartOf, in the same queue", async () => {
  await withStore(async (dir, scratch) => {
    const hold = join(scratch, "hold");
    assert.equal((await cli(dir, ["run", "--wait", "--description", "flaky", "exit 3"])).code, 3);
    await start(dir, "--queue", "r", "--wait", "echo again"); // b2
    await start(dir, gate(hold)); // b3 runs on

    const restarted = await cli(dir, ["restart", "b1", "b3", "b2", "--json"]);
    assert.equal(restarted.code, 1, "b3 has not ended: refused");
    assert.equal(
      restarted.stderr,
      "bgtask: cannot restart task b3: it is still running (restart a task that has ended)\n",
    );
    const fresh = JSON.parse(restarted.stdout) as TaskInfo[];
    assert.deepEqual(fresh.map((t) => [t.id, t.restartOf, t.command, t.queue, t.description]), [
      ["b4", "b1", "exit 3", null, "flaky"],
      ["b5", "b2", "echo again", "r", ""],
    ]);
    assert.equal((await cli(dir, ["wait", "b4"])).code, 3);
    assert.equal((await cli(dir, ["wait", "b5"])).code, 0);
    assert.equal((await cli(dir, ["logs", "b5"])).stdout, "again\n");
    assert.match((await cli(dir, ["status", "b4"])).stdout, /^restart of: +b1$/m);
    await Deno.writeTextFile(hold, "");
    assert.equal((await cli(dir, ["wait", "b3"])).code, 0);
    const human = await cli(dir, ["restart", "b3"]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(
      human.stdout,
      /^ID +STATUS +EXIT +STARTED +DURATION +TASK\nb6 +(running|completed) /,
    );
    // A task whose directory went since: the error names it and how to run it elsewhere.
    const gone = join(scratch, "gone");
    await Deno.mkdir(gone);
    await start(dir, "--cwd", gone, "--wait", "pwd"); // b7
    await Deno.remove(gone);
    const where = await cli(dir, ["restart", "b7", "b1"]);
    assert.deepEqual([where.code, where.stderr], [
      1,
      `bgtask: cannot restart task b7: directory "${gone}" does not exist (a restart runs ` +
      `where the task ran; to run its command elsewhere, start it anew with another cwd: ` +
      `bgtask run --cwd DIR)\n`,
    ]);
    assert.match(where.stdout, /\nb\d+ +\S+ .*flaky\n$/, "b1 was restarted all the same");
  });
});

Deno.test("restart keeps --after, and takes the ids oldest first: a deploy named before its failed shard runs after the shard's new task", async () => {
  await withStore(async (dir, scratch) => {
    const fixed = join(scratch, "fixed");
    const shard = (await cli(dir, ["run", "--wait", `[ -e '${fixed}' ]`])).stdout.trim(); // b1 fails
    const deploy = await start(dir, "--after", shard, "echo deployed"); // b2 fails unrun
    assert.equal((await cli(dir, ["wait", deploy])).code, 125);
    await Deno.writeTextFile(fixed, "");
    const again = await cliJson<TaskInfo[]>(dir, ["restart", deploy, shard]);
    assert.deepEqual(again.map((t) => [t.id, t.restartOf, t.after]), [
      ["b3", shard, []],
      ["b4", deploy, ["b3"]],
    ]);
    assert.equal((await cli(dir, ["wait", "b4"])).code, 0);
    assert.equal((await cli(dir, ["logs", "b4"])).stdout, "deployed\n");
  });
});

Deno.test("completions --consumer: each consumer gets each task once; --peek takes nothing", async () => {
  await withStore(async (dir) => {
    const ids = (ts: TaskInfo[]) => ts.map((t) => t.id);
    // A consumer's first use: it is told about what finishes from then on.
    assert.deepEqual(await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "a"]), []);
    assert.deepEqual(await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "b"]), []);
    await start(dir, "--wait", "true"); // b1

    for (let i = 0; i < 2; i++) {
      assert.deepEqual(ids(await cliJson<TaskInfo[]>(dir, ["completions", "--peek"])), ["b1"]);
      assert.deepEqual(
        ids(await cliJson<TaskInfo[]>(dir, ["completions", "--peek", "--consumer", "a"])),
        [
          "b1",
        ],
      );
    }
    for (const consumer of [["--consumer", "a"], ["--consumer", "b"], []]) {
      assert.deepEqual(
        ids(await cliJson<TaskInfo[]>(dir, ["completions", ...consumer])),
        ["b1"],
        `${consumer}`,
      );
      assert.deepEqual(
        ids(await cliJson<TaskInfo[]>(dir, ["completions", ...consumer])),
        [],
        `${consumer}`,
      );
    }
    assert.deepEqual(
      ids(await cliJson<TaskInfo[]>(dir, ["completions", "--peek", "--consumer", "b"])),
      [],
    );
    // A consumer first seen now was not there when b1 finished.
    assert.deepEqual(
      ids(await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "late"])),
      [],
    );
    const human = await cli(dir, ["completions", "--consumer", "a"]);
    assert.deepEqual([human.code, human.stdout], [
      0,
      "ID  STATUS  EXIT  STARTED  DURATION  TASK\n",
    ]);
  });
});

Deno.test("a queued task's place read from its queue's line equals its rank among the queue's waiting tasks (every kind of entry)", async () => {
  await withStore(async (dir, scratch) => {
    const tasks = new TaskManager({ dir });
    try {
      const hold = gate(join(scratch, "hold")); // the queue's first task
      const go = gate(join(scratch, "go")); // the others, once they run
      await tasks.setQueue("q", { parallel: 1 });
      await tasks.pauseQueue("q2");
      const g = await tasks.spawnShell(go); // b1: runs, in no queue
      const first = await tasks.spawnShell(hold, { queue: "q" }); // b2: holds q's slot
      await untilStatus(dir, first.id, "running");
      const a = await tasks.spawnShell(go, { queue: "q" }); // b3: next
      const x = await tasks.spawnShell(go, { queue: "q", after: [g.id] }); // b4: after b1
      const d = await tasks.wait((await tasks.spawnShell("true")).id); // b5
      const y = await tasks.spawnShell(go, { queue: "q", after: [d.id] }); // b6: joins in line
      const k = await tasks.spawnShell(go, { queue: "q" }); // b7: killed while waiting
      const r = await tasks.spawnShell(go, { queue: "q" }); // b8: killed and removed
      const c = await tasks.spawnShell(go, { queue: "q" }); // b9
      const z = await tasks.spawnShell(go, { queue: "q2" }); // b10: a paused queue
      await tasks.kill(k.id);
      await tasks.kill(r.id);
      await tasks.remove(r.id);
      // The first ends: b3 takes the slot (the line's head moves past it).
      await Deno.writeTextFile(join(scratch, "hold"), "");
      await untilStatus(dir, a.id, "running");

      const all = await tasks.list();
      const byRank = await standing(tasks, all, true); // every task read: ranks by id
      assert.deepEqual(
        [...byRank.place],
        [[y.id, 1], [c.id, 2], [z.id, 1]],
      );
      assert.deepEqual([...byRank.unmet], [[x.id, [g.id]]]);
      // Each one alone (as status shows it), and a filtered list: the same.
      for (const t of all.filter((t) => t.status === "queued")) {
        const alone = await standing(tasks, [t], false);
        assert.deepEqual(
          [alone.place.get(t.id), alone.unmet.get(t.id), alone.paused?.has(t.queue!)],
          [byRank.place.get(t.id), byRank.unmet.get(t.id), byRank.paused?.has(t.queue!)],
          t.id,
        );
      }
      const inQ = await standing(tasks, await tasks.list({ queue: "q" }), false);
      assert.deepEqual([...inQ.place], [[y.id, 1], [c.id, 2]]);
      assert.deepEqual(
        (await cli(dir, ["status", c.id])).stdout.match(/^queue: .*$/m)?.[0],
        "queue:       q (#2 in line)",
      );
    } finally {
      await tasks.close();
    }
  });
});

Deno.test("places read from a line that moved after the tasks were read stay distinct: those shown queued that left it still count ahead (a busy queue's list showed #1 three times)", async () => {
  await withStore(async (dir) => {
    const tasks = new TaskManager({ dir });
    try {
      await tasks.pauseQueue("busy");
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await tasks.spawnShell("true", { queue: "busy" })).id);
      const shown = (await tasks.list({ queue: "busy" })).slice(0, 3); // read while all wait
      // Meanwhile the first two leave the line (as when they start).
      await tasks.kill(ids[0]);
      await tasks.kill(ids[1]);
      const { place } = await standing(tasks, shown, false);
      assert.deepEqual([...place], [[ids[0], 1], [ids[1], 2], [ids[2], 3]]);
      await tasks.kill(ids[2]);
      await tasks.kill(ids[3]);
    } finally {
      await tasks.close();
    }
  });
});

Deno.test("status reads a queued task's place from its queue's line: no other task's records, however long the line", async () => {
  await withStore(async (dir) => {
    const tasks = new TaskManager({ dir });
    try {
      await tasks.pauseQueue("p");
      const ids = [];
      for (let i = 0; i < 20; i++) ids.push((await tasks.spawnShell("true", { queue: "p" })).id);
      const last = ids.at(-1)!;
      const status = await countReads(dir, "/spec$", ["status", last]);
      assert.match(
        new TextDecoder().decode(status.bytes),
        /^queue: +p \(#20 in line; the queue is paused/m,
      );
      assert.ok(status.reads <= 2, `spec records read: ${status.reads}`);
      // A filtered list reads each task once (its places too come from the line).
      const listed = await countReads(dir, "/spec$", ["list", "--queue", "p"]);
      assert.match(
        new TextDecoder().decode(listed.bytes),
        new RegExp(`^${last} +queued +p #20 paused`, "m"),
      );
      assert.ok(listed.reads <= ids.length + 2, `spec records read: ${listed.reads}`);
    } finally {
      await tasks.close();
    }
  });
});

Deno.test("pause --queue Q and --all stop the running tasks of a queue or of the store, resume --queue and --all continue the paused ones; queued and other tasks are left as they are", async () => {
  await withStore(async (dir, scratch) => {
    const go = gate(join(scratch, "go"));
    await cli(dir, ["queue", "set", "q", "--parallel", "2"]);
    const a = await start(dir, "--queue", "q", go);
    const b = await start(dir, "--queue", "q", go);
    const waiting = await start(dir, "--queue", "q", go);
    const other = await start(dir, go);
    for (const id of [a, b, other]) await untilStatus(dir, id, "running");
    const statuses = async () =>
      (await cliJson<TaskInfo[]>(dir, ["list", "--json"])).map((t) => [t.id, t.status]);
    const ids = (ts: TaskInfo[]) => ts.map((t) => t.id);

    assert.deepEqual(ids(await cliJson<TaskInfo[]>(dir, ["pause", "--queue", "q", "--json"])), [
      a,
      b,
    ]);
    assert.deepEqual(await statuses(), [
      [a, "paused"],
      [b, "paused"],
      [waiting, "queued"],
      [other, "running"],
    ]);
    assert.deepEqual(ids(await cliJson<TaskInfo[]>(dir, ["pause", "--all", "--json"])), [other]);
    assert.deepEqual(ids(await cliJson<TaskInfo[]>(dir, ["resume", "--queue", "q", "--json"])), [
      a,
      b,
    ]);
    assert.deepEqual(ids(await cliJson<TaskInfo[]>(dir, ["resume", "--all", "--json"])), [other]);
    assert.deepEqual(await statuses(), [
      [a, "running"],
      [b, "running"],
      [waiting, "queued"],
      [other, "running"],
    ]);
    // Nothing to do is no error.
    const none = await cli(dir, ["resume", "--queue", "q", "--json"]);
    assert.deepEqual([none.code, JSON.parse(none.stdout)], [0, []]);
    assert.equal((await cli(dir, ["kill", "--all"])).code, 0);
  });
});

Deno.test("run --queue into a queue that is not there says it is new, its limit, and the queues there are (a typo, --queue cii, makes one)", async () => {
  // A terminal-user walk: `--queue cii` for ci ran outside ci's limit without a word.
  await withStore(async (dir) => {
    const made = await cli(dir, ["queue", "set", "ci", "--parallel", "3"]);
    assert.equal(made.code, 0, made.stderr);
    const into = await cli(dir, ["run", "--queue", "ci", "true"]);
    assert.equal(into.code, 0, into.stderr);
    assert.equal(into.stderr, "", "ci is there: nothing to say");
    const typo = await cli(dir, ["run", "--queue", "cii", "true"]);
    assert.equal(typo.code, 0, typo.stderr);
    assert.equal(
      typo.stderr,
      "bgtask: note: queue cii is new: it runs one task at a time (bgtask queue set cii " +
        "--parallel N changes that); the queues there were: ci\n",
    );
    const again = await cli(dir, ["run", "--queue", "cii", "true"]);
    assert.equal(again.stderr, "", "said once, when made");
    assert.equal((await cli(dir, ["wait", "--all"])).code, 0);
  });
});

Deno.test("restart of a task whose queue was removed says the queue was made again, at one at a time", async () => {
  // A terminal-user walk: the queue's --parallel 3 was lost without a word.
  await withStore(async (dir) => {
    assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "3"])).code, 0);
    const id = (await cli(dir, ["run", "--queue", "q", "--wait", "true"])).stdout.trim();
    assert.equal((await cli(dir, ["queue", "rm", "q"])).code, 0);
    const r = await cli(dir, ["restart", id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      "bgtask: note: queue q was made again (it had been removed): it runs one task at a time " +
        "(bgtask queue set q --parallel N changes that)\n",
    );
    const again = await cli(dir, ["restart", id]);
    assert.equal(again.stderr, "", "the queue is there now");
    assert.equal((await cli(dir, ["wait", "--all"])).code, 0);
  });
});
