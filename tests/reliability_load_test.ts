/**
 * Reliability under load (issue 6): many processes spawning into one store,
 * several processes draining completions at once, many waiters on one task,
 * and kills racing natural exits. Real processes and real files throughout.
 *
 * The default slice is sized for CI on 2 cores; `BGTASK_HEAVY=1` runs the
 * sizes the issue names (8 processes × 50 spawns, and more).
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import {
  allOutput,
  assertBytes,
  concatBytes,
  expectSuccess,
  HEAVY,
  pool,
  startDeno,
  until,
  untilTaskProcessesGone,
  withStore,
  withTempDir,
  writeScript,
} from "./_helpers/reliability.ts";

const PROCS = HEAVY ? 8 : 4;
const SPAWNS = HEAVY ? 50 : 25;
const DRAINED = HEAVY ? 120 : 30;
const RACES = HEAVY ? 60 : 20;

/** The command task `k` of spawner `p` runs; its output is known byte for byte. */
const commandFor = (p: number, k: number): string =>
  `printf 'p%s t%s \\xff\\x00\\r\\n' ${p} ${k}; printf 'e%s\\n' ${k} >&2; seq ${k} ${k + 200}`;

function expectedOutput(p: number, k: number): Uint8Array {
  const lines: string[] = [];
  for (let i = k; i <= k + 200; i++) lines.push(`${i}\n`);
  return concatBytes(
    `p${p} t${k} `,
    new Uint8Array([0xff, 0x00, 0x0d, 0x0a]),
    `e${k}\n`,
    lines.join(""),
  );
}

/** Child processes wait for `go` so that they really spawn at the same moment. */
const BARRIER = `
async function barrier(dir: string, name: string): Promise<void> {
  await Deno.writeTextFile(dir + "/ready-" + name, "");
  for (;;) {
    try {
      await Deno.lstat(dir + "/go");
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}
`;

/** Waits until every named child has left its `ready-<name>` marker in the barrier folder. */
async function allReady(barrier: string, names: (string | number)[], what: string): Promise<void> {
  await until(
    async () => {
      for (const n of names) {
        try {
          await Deno.lstat(`${barrier}/ready-${n}`);
        } catch {
          return false;
        }
      }
      return true;
    },
    what,
    60_000,
  );
}

async function releaseBarrier(barrier: string, names: string[]): Promise<void> {
  await allReady(barrier, names, "every child process to be ready");
  await Deno.writeTextFile(`${barrier}/go`, "");
}

Deno.test(`load: ${PROCS} processes × ${SPAWNS} spawns into one store at once give unique ids, final records and byte-exact output`, async () => {
  await withTempDir("load-spawn", async (tmp) => {
    const dir = `${tmp}/store`;
    const barrier = `${tmp}/barrier`;
    await Deno.mkdir(barrier);
    const script = await writeScript(
      tmp,
      "spawner",
      `import { TaskManager } from __MOD__;
${BARRIER}
const commandFor = ${commandFor.toString()};
const [dir, barrierDir, p, m] = Deno.args;
const tasks = new TaskManager({ dir });
await barrier(barrierDir, p);
const made: { id: string; p: number; k: number }[] = [];
let next = 0;
const worker = async () => {
  while (next < Number(m)) {
    const k = next++;
    const info = await tasks.spawnShell(commandFor(Number(p), k), { description: "p" + p + " t" + k });
    made.push({ id: info.id, p: Number(p), k });
  }
};
await Promise.all([worker(), worker(), worker()]);
console.log(JSON.stringify(made));
`,
    );
    const flags = ["--allow-run=bash", `--allow-read=${tmp}`, `--allow-write=${tmp}`];
    const names = Array.from({ length: PROCS }, (_, p) => String(p));
    const children = names.map((p) => startDeno(script, flags, [dir, barrier, p, String(SPAWNS)]));
    const outputs = Promise.all(children.map((c, p) => expectSuccess(c, `spawner ${p}`)));
    outputs.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    await releaseBarrier(barrier, names).catch(async (e) => {
      for (const c of children) c.kill("SIGKILL");
      await outputs.catch(() => {});
      throw e;
    });
    const made = (await outputs).flatMap((o) =>
      JSON.parse(o) as { id: string; p: number; k: number }[]
    );

    const total = PROCS * SPAWNS;
    assert.equal(made.length, total);
    const ids = made.map((m) => m.id);
    assert.equal(new Set(ids).size, total, "every spawn got its own id");
    // Nothing else claims ids in this store, so the ids are exactly b1…b<total>.
    assert.deepEqual(
      [...ids].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))),
      Array.from({ length: total }, (_, i) => `b${i + 1}`),
    );

    const tasks = new TaskManager({ dir });
    const finals = await pool(made, 8, (m) => tasks.wait(m.id));
    for (const [i, info] of finals.entries()) {
      const m = made[i];
      assert.equal(info.status, "completed", `${m.id}: ${info.error}`);
      assert.equal(info.exitCode, 0);
      assert.equal(info.command, commandFor(m.p, m.k));
      assert.equal(info.description, `p${m.p} t${m.k}`);
      assertBytes(await allOutput(tasks, m.id), expectedOutput(m.p, m.k), `output of ${m.id}`);
      // The final record is on disk, complete, not only in this process's memory.
      const final = JSON.parse(await Deno.readTextFile(`${dir}/tasks/${m.id}/final.json`));
      assert.equal(final.status, "completed");
    }
    const listed = await tasks.list();
    assert.equal(listed.length, total);
    assert.ok(listed.every((t) => t.status === "completed"));
    await pool(made, 8, (m) => untilTaskProcessesGone(dir, m.id));
  });
});

Deno.test(`load: 4 processes draining ${DRAINED} completions while tasks finish deliver each exactly once`, async () => {
  const TASKS = DRAINED;
  await withStore("load-drain", async (tasks, dir) => {
    await withTempDir("load-drain-barrier", async (barrier) => {
      const script = await writeScript(
        barrier,
        "drainer",
        `import { TaskManager } from __MOD__;
${BARRIER}
const [dir, barrierDir, name, mode] = Deno.args;
const tasks = new TaskManager({ dir });
const got: string[] = [];
const stopped = async () => {
  try {
    await Deno.lstat(barrierDir + "/stop");
    return true;
  } catch {
    return false;
  }
};
await Deno.writeTextFile(barrierDir + "/ready-" + name, "");
if (mode === "drain") {
  while (!(await stopped())) {
    for (const t of await tasks.drainCompletions()) got.push(t.id);
    await new Promise((r) => setTimeout(r, 3));
  }
} else {
  const stop = new AbortController();
  const timer = setInterval(async () => {
    if (await stopped()) stop.abort();
  }, 10);
  for await (const t of tasks.completions({ signal: stop.signal })) got.push(t.id);
  clearInterval(timer);
}
// The stop file is written only after every task has finished: one last drain.
for (const t of await tasks.drainCompletions()) got.push(t.id);
console.log(JSON.stringify(got));
`,
      );
      const flags = [
        "--allow-run=bash",
        `--allow-read=${dir},${barrier}`,
        `--allow-write=${dir},${barrier}`,
      ];
      const modes = ["drain", "drain", "stream", "stream"];
      const children = modes.map((mode, i) =>
        startDeno(script, flags, [dir, barrier, String(i), mode])
      );
      const outputs = Promise.all(children.map((c, i) => expectSuccess(c, `drainer ${i}`)));
      outputs.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
      try {
        await allReady(barrier, modes.map((_, i) => i), "drainers to start");
        // Tasks finish at staggered moments while the drainers run.
        const spawned = await pool(
          Array.from({ length: TASKS }, (_, k) => k),
          4,
          (k) => tasks.spawnShell(`sleep 0.0${k % 10}; echo ${k}`),
        );
        await pool(spawned, 8, (t) => tasks.wait(t.id));
      } finally {
        await Deno.writeTextFile(`${barrier}/stop`, "");
      }
      const delivered = (await outputs).map((o) => JSON.parse(o) as string[]);
      const all = delivered.flat();
      const counts = new Map<string, number>();
      for (const id of all) counts.set(id, (counts.get(id) ?? 0) + 1);
      const dup = [...counts].filter(([, n]) => n > 1);
      assert.deepEqual(dup, [], "no completion is delivered twice");
      assert.equal(counts.size, TASKS, "every completion is delivered");
      assert.deepEqual(await tasks.drainCompletions(), [], "nothing is left to deliver");
    });
  });
});

Deno.test("load: 50 concurrent waits on one task all resolve with the same final record", async () => {
  await withStore("load-wait", async (tasks, dir) => {
    const go = `${dir}/go`;
    const t = await tasks.spawnShell(`while [ ! -e "$GO" ]; do sleep 0.01; done; echo fin`, {
      env: { GO: go },
    });
    // 50 waits spread over 5 managers (each has its own watcher), plus 5 that are aborted.
    const managers = Array.from({ length: 5 }, () => new TaskManager({ dir }));
    const waits = managers.flatMap((m) => Array.from({ length: 10 }, () => m.wait(t.id)));
    const abort = new AbortController();
    const aborted = Array.from({ length: 5 }, () => tasks.wait(t.id, { signal: abort.signal }));
    abort.abort(new Error("stop waiting"));
    await Promise.all(aborted.map((w) => assert.rejects(w, /stop waiting/)));
    assert.equal((await tasks.getStatus(t.id))?.status, "running");
    await Deno.writeTextFile(go, "");
    const results = await Promise.all(waits);
    assert.equal(results.length, 50);
    for (const r of results) {
      assert.equal(r.status, "completed");
      assert.deepEqual(r, results[0]);
    }
    assert.equal(await tasks.readOutput(t.id), "fin\n");
  });
});

Deno.test(`load: ${RACES} kills racing ${RACES} natural exits end as killed or completed, and the record never changes`, async () => {
  const N = RACES;
  await withStore("load-killrace", async (tasks, dir) => {
    const go = `${dir}/go`;
    const spawned = await pool(
      Array.from({ length: N }, (_, i) => i),
      4,
      // Exits spread over the first ~20 ms after "go": about as long as a kill takes to commit.
      (i) =>
        tasks.spawnShell(
          `while [ ! -e "$GO" ]; do sleep 0.001; done; sleep ${(i % 10) * 0.002}; exit 0`,
          { env: { GO: go } },
        ),
    );
    const waits = spawned.map((t) => tasks.wait(t.id));
    await Deno.writeTextFile(go, "");
    // Every task now exits within a few ms; the kills race those exits.
    const kills = await Promise.all(spawned.map(async (t, i) => {
      await new Promise((r) => setTimeout(r, i % 3));
      const info = await tasks.kill(t.id, { graceMs: 500 });
      const snapshot = await Deno.readFile(`${dir}/tasks/${t.id}/final.json`);
      return { info, snapshot };
    }));
    const waited = await Promise.all(waits);
    await pool(spawned, 8, (t) => untilTaskProcessesGone(dir, t.id));
    const fresh = new TaskManager({ dir });
    const tally: Record<string, number> = {};
    for (const [i, { info, snapshot }] of kills.entries()) {
      const id = spawned[i].id;
      tally[info.status] = (tally[info.status] ?? 0) + 1;
      assert.ok(
        info.status === "killed" || info.status === "completed",
        `${id} ended ${info.status}: ${info.error}`,
      );
      if (info.status === "completed") assert.equal(info.exitCode, 0);
      else assert.equal(info.exitCode, null);
      assert.deepEqual(waited[i], info, `${id}: wait() and kill() agree`);
      // Everything of the task has ended now: the record is what it was.
      assert.deepEqual(await fresh.getStatus(id), info, `${id} changed after the race`);
      assertBytes(
        await Deno.readFile(`${dir}/tasks/${id}/final.json`),
        snapshot,
        `final.json of ${id}`,
      );
    }
    assert.equal((tally.killed ?? 0) + (tally.completed ?? 0), N);
  });
});
