/**
 * A task that ends hands its slot on without the queue's lock when nobody
 * waits in line (supervisor.sh, handoff): these tests hold that no task is
 * left waiting by it, at the one interleaving where that could happen.
 */

import assert from "node:assert/strict";
import { spawnShell } from "../src/ops/spawn.ts";
import type { Ctx } from "../src/ops/context.ts";
import { SharedChecks } from "../src/ops/shared_checks.ts";
import { OwnTasks } from "../src/ops/own_tasks.ts";
import { FsStore } from "../src/store/fs_store.ts";
import type { TaskStore } from "../src/store/contract.ts";
import { ChangeHub } from "../src/watch.ts";
import {
  exists,
  gate,
  hasStrace,
  isAlive,
  scriptFile,
  until,
  untilSupervisor,
  withStore,
  withTestFault,
} from "./_helpers/common.ts";

/**
 * A store whose `enqueue` first runs `before` (then waits, at most
 * `patienceMs`, until `gate` holds): the spawner has read the queue's state
 * and holds its lock, and appends its task to the line only then.
 */
function gatedStore(
  dir: string,
  before: () => void,
  gate: () => boolean,
  patienceMs: number,
): TaskStore {
  const store = new FsStore(dir, "option");
  return new Proxy(store, {
    get(target, key) {
      if (key === "enqueue") {
        return async (name: string, id: string) => {
          before();
          const deadline = Date.now() + patienceMs;
          while (!gate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
          return await target.enqueue(name, id);
        };
      }
      const v = Reflect.get(target, key, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

function ctxOf(store: TaskStore): Ctx {
  return {
    store,
    hub: new ChangeHub(store.changeFeed),
    mine: new OwnTasks(),
    self: () => Promise.reject(new Error("not needed")),
    checks: new SharedChecks(),
    spawner: undefined,
  };
}

Deno.test("queue: a task that joins the line as the only running one ends and leaves (looking at an empty line) is started", async () => {
  await withStore(async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 1 });
    const go = `${dir}/go`;
    const a = await tasks.spawnShell(gate(go), { queue: "q" });
    const sup = await untilSupervisor(dir, a.id);
    // b's spawner reads the queue (a holds its one slot: it runs until told),
    // then, before it appends b, lets a end and waits until a's supervisor,
    // which looked at the line then (still empty), has left.
    const ctx = ctxOf(
      gatedStore(dir, () => Deno.writeTextFileSync(go, ""), () => !isAlive(sup), 10_000),
    );
    const b = await spawnShell(ctx, "echo b", { queue: "q" });
    // Launched by its spawner (it may have started, or ended, by the time it is read).
    assert.ok(exists(`${dir}/tasks/${b.id}/launched`), `the spawner launched b (${b.status})`);
    assert.ok(!isAlive(sup), "a's supervisor had left before b joined the line");
    // Nobody else looks at the queue: only the spawner can have started b.
    // (Its records are read directly: a read through the library may look.)
    await until(() => exists(`${dir}/tasks/${b.id}/final.json`), "b to run and end");
    assert.equal((await tasks.getStatus(b.id))?.status, "completed");
  });
});

Deno.test("queue: slots of ended tasks are dropped by the spawner that takes one once they are many, and a deleted task's entry frees its slot", async () => {
  await withStore(async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 1 });
    const running = () => Deno.readTextFileSync(`${dir}/queues/q/running`).trim().split(/\s+/);
    let most = 0;
    for (let i = 0; i < 20; i++) {
      const t = await tasks.spawnShell("true", { queue: "q" });
      assert.equal((await tasks.wait(t.id)).status, "completed");
      // Nobody waited in line: each spawn appends its entry (never rewriting
      // the file in place), and the ended ones go once they are 8.
      most = Math.max(most, running().length);
      assert.ok(running().length <= 9, `running holds ${running().join(" ")}`);
    }
    assert.equal(most, 9, "the entries reached 9 and were dropped");
    assert.ok(running().length < 20);
    // An ended task whose folder was deleted by hand (nobody looked at the
    // queue since, as remove() does) before anyone dropped its entry: its slot is free.
    const last = running().at(-1)!.split("@")[0];
    assert.match(last, /^b\d+$/, "the last task's entry is still there");
    await Deno.remove(`${dir}/tasks/${last}`, { recursive: true });
    const next = await tasks.spawnShell("echo next", { queue: "q" });
    assert.ok(exists(`${dir}/tasks/${next.id}/launched`), "it took the slot at its spawn");
    await until(() => exists(`${dir}/tasks/${next.id}/final.json`), "next to run and end");
  });
});

const strace = await hasStrace();

Deno.test({
  name:
    `queue: the line never reads empty while a task waits in it, not while the scheduler compacts it${
      strace ? "" : " (skipped: strace is not installed)"
    }`,
  ignore: !strace,
  async fn() {
    await withStore(async (tasks, dir) => {
      const q = `${dir}/queues/q`;
      const go = `${dir}/go`;
      await tasks.setQueue("q", { parallel: 1 });
      const a = await tasks.spawnShell(gate(go), { queue: "q" });
      await until(() => exists(`${dir}/tasks/${a.id}/started`), "a's start");
      const b = await tasks.spawnShell("echo b", { queue: "q" });
      // As after 1,100 tasks went through: the scheduler's next look compacts the line.
      const consumed = Array.from({ length: 1100 }, (_, i) => `b${900_000 + i}`);
      Deno.writeTextFileSync(`${q}/list`, [...consumed, b.id].map((l) => `${l}\n`).join(""));
      Deno.writeTextFileSync(`${q}/head`, "1100\n");
      // A look at the queue (which schedules it), each open of the line held
      // 2 s once made (strace): a line rewritten in place stays empty that long.
      const look = await scriptFile(
        `import { TaskManager } from MOD;\nawait new TaskManager({ dir: ${
          JSON.stringify(dir)
        } }).getQueues();\n`,
      );
      const child = new Deno.Command("strace", {
        args: [
          "-f",
          "-qq",
          "-o",
          "/dev/null",
          "-P",
          `${q}/list`,
          "-e",
          "trace=openat",
          "-e",
          "inject=openat:delay_exit=2000000",
          Deno.execPath(),
          "run",
          "-A",
          look,
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let ended = false;
      const status = child.output().then((o) => (ended = true, o));
      try {
        // a ends while the line reads empty (or, read whole at every moment, once the look is over).
        await until(
          () => ended || Deno.statSync(`${q}/list`).size === 0,
          "the look to end or the line to read empty",
          20_000,
        );
        Deno.writeTextFileSync(go, "");
        const out = await status;
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
        // Nobody looks at the queue any more: a's supervisor must have started b.
        await until(() => exists(`${dir}/tasks/${b.id}/final.json`), "b to run and end", 15_000);
      } finally {
        Deno.writeTextFileSync(go, "");
        await status;
        await Deno.remove(look);
      }
    });
  },
});

Deno.test("queue: a task whose supervisor was killed hands its slot on when its watchdog times it out, with nobody looking", async () => {
  await withStore(async (tasks, dir) => {
    const first = await tasks.spawnShell("sleep 60", { queue: "q", timeoutMs: 1500 });
    const next = await tasks.spawnShell("echo next", { queue: "q" });
    Deno.kill(await untilSupervisor(dir, first.id), "SIGKILL");
    // (The next task's supervisor carries the fault too, its spawner's environment: not held.)
    await Deno.writeTextFile(`${dir}/fault-go`, "");
    // No bgtask call until it has started: a look at the queue would start it too.
    await until(() => exists(`${dir}/tasks/${next.id}/started`), `${next.id} to start`, 15_000);
    const info = await tasks.wait(first.id);
    assert.deepEqual([info.status, info.reason], ["failed", "timeout"]);
    assert.equal((await tasks.wait(next.id)).status, "completed");
  });
});

Deno.test("queue: a supervisor killed after its start record and before its watchdog's first line: the watchdog reads the record, times the task out and hands its slot on, with nobody looking", async () => {
  await withStore(async (tasks, dir) => {
    // CI, twice: the test above killed the supervisor the moment `started` appeared, and a
    // loaded machine had paused the supervisor before it told its watchdog the task: the
    // watchdog left, and nothing timed the task out or started the next.
    const { first, next } = await withTestFault("late-watchdog", dir, async () => {
      const first = await tasks.spawnShell("sleep 60", { queue: "q", timeoutMs: 1500 });
      const next = await tasks.spawnShell("echo next", { queue: "q" });
      return { first, next };
    });
    await until(
      () => exists(`${dir}/fault-at-watchdog`),
      "the supervisor held before its watchdog's line",
    );
    Deno.kill(await untilSupervisor(dir, first.id), "SIGKILL");
    // (The next task's supervisor carries the fault too, its spawner's environment: not held.)
    await Deno.writeTextFile(`${dir}/fault-go`, "");
    // No bgtask call until it has started: a look at the queue would start it too.
    await until(() => exists(`${dir}/tasks/${next.id}/started`), `${next.id} to start`, 15_000);
    const info = await tasks.wait(first.id);
    assert.deepEqual([info.status, info.reason], ["failed", "timeout"]);
    assert.equal((await tasks.wait(next.id)).status, "completed");
  });
});
