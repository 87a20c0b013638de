/**
 * Case 8 — queues: N tasks of `true` through one queue that runs 8 at a time,
 * spawned by one loop and all awaited, against what people use for that:
 *
 * - bgtask: `setQueue(q, { parallel: 8 })`, then `spawnShell("true", { queue })`
 *   N times, then `wait` each (a fresh store and a fresh Deno process per
 *   repetition: bench/children/queue_child.ts).
 * - floor: `xargs -P 8` running `bash -c true` N times (no record of anything).
 * - parallel: GNU parallel `-j8 bash -c true` (Debian package `parallel`).
 * - tsp: `tsp -S 8`, then `tsp bash -c true` N times, then `tsp -w` each.
 *
 * The figure is wall time ÷ N: ms per task through the queue. Also: what a
 * store of many queued tasks costs (processes, disk, `getStatus`, `list`).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { TaskManager } from "../../mod.ts";
import type { Context } from "../lib/context.ts";
import { rmrf, run, which } from "../lib/proc.ts";
import type { CaseResult, Goal, Row } from "../lib/report.ts";
import { column, type Contender, rowsOf, sideBySide, timeMs } from "../lib/runner.ts";
import { fmt, fmtRatio, summarize } from "../lib/stats.ts";
import { Tsp } from "../lib/tsp.ts";

const SLOTS = 8;
const CHILD = fileURLToPath(new URL("../children/queue_child.ts", import.meta.url));

/** GNU parallel, installed with apt when allowed. */
async function findParallel(install: boolean): Promise<string | null> {
  let bin = await which("parallel");
  if (bin || !install || Deno.uid() !== 0 || !(await which("apt-get"))) return bin;
  await run("bash", [
    "-c",
    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq parallel",
  ]);
  bin = await which("parallel");
  return bin;
}

function perTask(n: number, ms: number) {
  return { ms: ms / n };
}

function contenders(ctx: Context, n: number, parallel: string | null, tsp: Tsp | null) {
  const lines = Array.from({ length: n }, (_, i) => String(i)).join("\n") + "\n";
  const list: Contender[] = [
    {
      name: "bgtask",
      // A fresh Deno process per repetition (bench/children/queue_child.ts),
      // timed from its spawn to its exit, start-up included, as the others.
      run: async () => {
        const dir = await Deno.makeTempDir({ dir: ctx.tmp, prefix: "queue-" });
        // Creates the store and the queue outside the timing.
        await new TaskManager({ dir }).setQueue("q", { parallel: SLOTS });
        try {
          const ms = await timeMs(async () => {
            const r = await run(Deno.execPath(), [
              "run",
              "-A",
              CHILD,
              String(n),
              String(SLOTS),
              dir,
            ]);
            if (r.code !== 0 || r.stdout.trim() !== String(n)) {
              throw new Error(
                `queue child: exit ${r.code}, ${r.stdout.trim()} of ${n} completed: ${r.stderr}`,
              );
            }
          });
          return perTask(n, ms);
        } finally {
          await rmrf(dir);
        }
      },
    },
    {
      name: "floor",
      run: async () =>
        perTask(
          n,
          await timeMs(() =>
            run("xargs", ["-P", String(SLOTS), "-I{}", "bash", "-c", "true"], {
              stdin: lines,
            })
          ),
        ),
    },
  ];
  if (parallel) {
    list.push({
      name: "parallel",
      run: async () =>
        perTask(
          n,
          await timeMs(() =>
            run(parallel, ["--will-cite", `-j${SLOTS}`, "bash", "-c", "true"], { stdin: lines })
          ),
        ),
    });
  }
  if (tsp) {
    list.push({
      name: "tsp",
      run: async () => {
        await tsp.clear();
        const ms = await timeMs(async () => {
          const ids = [];
          for (let i = 0; i < n; i++) ids.push(await tsp.enqueue("bash", "-c", "true"));
          for (const id of ids) await tsp.waitFor(id);
        });
        return perTask(n, ms);
      },
    });
  }
  return list;
}

/** What a store of `n` queued tasks costs: processes, disk, and reads. */
async function queuedStore(ctx: Context, n: number) {
  const dir = await Deno.makeTempDir({ dir: ctx.tmp, prefix: "queued-" });
  try {
    const tasks = new TaskManager({ dir });
    await tasks.pauseQueue("held");
    const first = await tasks.spawnShell("true", { queue: "held" });
    const spawnMs = await timeMs(async () => {
      for (let i = 1; i < n; i++) await tasks.spawnShell("true", { queue: "held" });
    });
    // This store's processes: any whose command line names its folder.
    let processes = 0;
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        if (Deno.readTextFileSync(`/proc/${e.name}/cmdline`).includes(dir)) processes++;
      } catch {
        // gone
      }
    }
    const du = (await run("du", ["-sk", dir])).stdout.split("\t")[0];
    const statusMs: number[] = [];
    for (let i = 0; i < 20; i++) statusMs.push(await timeMs(() => tasks.getStatus(first.id)));
    const listMs = await timeMs(() => tasks.list());
    return {
      spawnMs: spawnMs / (n - 1),
      processes,
      kb: Number(du),
      statusMs: summarize(statusMs).median,
      listMs,
    };
  } finally {
    await rmrf(dir);
  }
}

/** Runs case 8. */
export async function queueCase(ctx: Context): Promise<CaseResult> {
  const t0 = performance.now();
  const n = ctx.quick ? 10 : 1000;
  const notes = [
    `${n} tasks of \`true\` through one queue of ${SLOTS} slots, spawned by one loop and ` +
    "all awaited; the figure is wall time ÷ tasks. floor = `xargs -P 8 -I{} bash -c true` " +
    "(runs them, records nothing). bgtask: a fresh Deno process per repetition " +
    "(`bench/children/queue_child.ts`), timed from its spawn to its exit, as `parallel` and " +
    "`xargs` are: in the bench's own process, grown by the other contenders' client " +
    "processes, each spawn would copy its page tables.",
  ];
  const parallel = await findParallel(!ctx.quick && ctx.tsp !== null);
  if (!parallel) {
    notes.push("GNU parallel is not installed (package `parallel`): its row is skipped");
  }
  let tsp: Tsp | null = null;
  if (ctx.tsp) {
    tsp = new Tsp(ctx.tsp, await Deno.makeTempDir({ dir: ctx.tmp, prefix: "tspq-" }));
    await tsp.slots(SLOTS);
    notes.push(
      "tsp: its own server, `tsp -S 8`; each task is `tsp bash -c true` (a client process), " +
        "then `tsp -w ID` for each.",
    );
  } else if (ctx.tspNote) notes.push(ctx.tspNote);
  const rows: Row[] = [];
  const goals: Goal[] = [];
  try {
    ctx.log(`queue: ${n} tasks, ${SLOTS} at a time`);
    const measure = `${n} tasks, ${SLOTS} at a time, ms/task`;
    const result = await sideBySide(contenders(ctx, n, parallel, tsp), {
      warmup: ctx.quick ? 0 : 1,
      reps: ctx.sizes.reps,
    });
    rows.push(
      ...rowsOf(
        result,
        measure,
        "ms",
        "ms",
        (name) => name === "bgtask" ? ["floor", "parallel", "tsp"] : undefined,
      ),
    );
    const med = (c: string) => summarize(column(result, c, "ms")).median;
    if (parallel) {
      const r = med("bgtask") / med("parallel");
      goals.push({
        goal: "queue: faster than GNU parallel -j8",
        measured: `${fmtRatio(r)} (${fmt(med("bgtask"))} vs ${fmt(med("parallel"))} ms/task)`,
        met: r < 1,
      });
    }
    if (tsp) {
      const r = med("bgtask") / med("tsp");
      goals.push({
        goal: "queue: within 1.5× of tsp -S 8",
        measured: `${fmtRatio(r)} (${fmt(med("bgtask"))} vs ${fmt(med("tsp"))} ms/task)`,
        met: r <= 1.5,
      });
    }
    const big = ctx.quick ? 50 : 10_000;
    ctx.log(`queue: a store of ${big} queued tasks`);
    const q = await queuedStore(ctx, big);
    notes.push(
      `A store of ${big} queued tasks (a paused queue): ${fmt(q.spawnMs)} ms to queue each, ` +
        `${q.processes} bgtask processes, ${(q.kb / 1024).toFixed(1)} MiB on disk ` +
        `(${(q.kb / big).toFixed(1)} KiB a task), getStatus ${fmt(q.statusMs)} ms, ` +
        `list ${fmt(q.listMs)} ms.`,
    );
    goals.push({
      goal: `queued tasks cost nothing: no process for ${big} queued tasks`,
      measured: `${q.processes} processes`,
      met: q.processes === 0,
    });
  } finally {
    await tsp?.stop();
  }
  return {
    title: "8. Queue throughput and queued tasks",
    rows,
    goals,
    notes,
    seconds: (performance.now() - t0) / 1000,
  };
}
