/**
 * Case 4 — store scale: `getStatus`, `list` and `drainCompletions` on stores
 * of 10, 1,000 and 10,000 finished tasks (built by `lib/fake_store.ts`). The
 * store sizes are the contenders: they take turns within each measure.
 *
 * @module
 */

import { TaskManager } from "../../mod.ts";
import type { Context } from "../lib/context.ts";
import { buildStore, countTasks, markPending } from "../lib/fake_store.ts";
import type { CaseResult, Goal, Row } from "../lib/report.ts";
import { column, type Contender, sideBySide, timeMs } from "../lib/runner.ts";
import { fmt, fmtRatio, summarize } from "../lib/stats.ts";

interface Store {
  n: number;
  dir: string;
  /** A long-lived manager (its cache of final records warms up). */
  tasks: TaskManager;
}

const label = (n: number) => `${n.toLocaleString("en-US")} tasks`;

function expectLength(got: number, n: number, what: string): void {
  if (got !== n) throw new Error(`${what} returned ${got} tasks, expected ${n}`);
}

const MEASURES: [string, (s: Store, calls: number) => Promise<number>][] = [
  ["getStatus (middle task), ms/call", async (s, calls) => {
    const id = `b${Math.ceil(s.n / 2)}`;
    const ms = await timeMs(async () => {
      for (let i = 0; i < calls; i++) {
        if ((await s.tasks.getStatus(id))?.status !== "completed") throw new Error(`${id} lost`);
      }
    });
    return ms / calls;
  }],
  ["list, new manager (as a CLI call), ms", (s) => {
    const fresh = new TaskManager({ dir: s.dir });
    return timeMs(async () => expectLength((await fresh.list()).length, s.n, "list"));
  }],
  ["list, same manager again, ms", (s) => {
    return timeMs(async () => expectLength((await s.tasks.list()).length, s.n, "list"));
  }],
  ["drainCompletions, none pending, ms/call", async (s, calls) => {
    const ms = await timeMs(async () => {
      for (let i = 0; i < calls; i++) {
        expectLength((await s.tasks.drainCompletions()).length, 0, "drain");
      }
    });
    return ms / calls;
  }],
  ["drainCompletions, all pending, ms", async (s) => {
    markPending(s.dir, s.n); // untimed: undeliver every task
    const fresh = new TaskManager({ dir: s.dir });
    return await timeMs(async () =>
      expectLength((await fresh.drainCompletions()).length, s.n, "drain")
    );
  }],
];

/** Runs case 4. */
export async function storeCase(ctx: Context): Promise<CaseResult> {
  const t0 = performance.now();
  const sizes = ctx.sizes.storeSizes;
  const stores: Store[] = [];
  for (const n of sizes) {
    ctx.log(`store: building ${label(n)}`);
    const dir = await Deno.makeTempDir({ dir: ctx.tmp, prefix: `store-${n}-` });
    await Deno.remove(dir); // the store creates it with its own mode
    await buildStore(dir, n);
    if (countTasks(dir) !== n) throw new Error(`store of ${n} has ${countTasks(dir)} tasks`);
    stores.push({ n, dir, tasks: new TaskManager({ dir }) });
  }
  const buildSeconds = (performance.now() - t0) / 1000;
  const rows: Row[] = [];
  const med: Record<string, Record<number, number>> = {};
  try {
    for (const [measure, fn] of MEASURES) {
      ctx.log(`store: ${measure}`);
      const contenders: Contender[] = stores.map((s) => ({
        name: label(s.n),
        run: async () => ({ ms: await fn(s, ctx.sizes.statusCalls) }),
      }));
      const result = await sideBySide(contenders, {
        warmup: ctx.sizes.warmup,
        reps: ctx.sizes.reps,
      });
      med[measure] = {};
      for (const s of stores) {
        const samples = column(result, label(s.n), "ms");
        med[measure][s.n] = summarize(samples).median;
        rows.push({
          measure,
          contender: label(s.n),
          unit: "ms",
          samples,
          ratioTo: s === stores[0] ? undefined : [label(stores[0].n)],
        });
      }
    }
  } finally {
    for (const s of stores) await Deno.remove(s.dir, { recursive: true });
  }
  const small = sizes[0];
  const big = sizes[sizes.length - 1];
  const mid = sizes[sizes.length - 2];
  const [gs, listNew] = [MEASURES[0][0], MEASURES[1][0]];
  const flat = med[gs][big] / med[gs][small];
  const perTask = (n: number) => med[listNew][n] / n;
  const growth = perTask(big) / perTask(mid);
  const goals: Goal[] = [
    {
      goal: `4 store: getStatus flat (${label(big)} vs ${label(small)}, ≤ 1.5×)`,
      measured: `${fmtRatio(flat)} (${fmt(med[gs][big])} vs ${fmt(med[gs][small])} ms)`,
      met: flat <= 1.5,
    },
    {
      goal: `4 store: list linear (cost per task at ${label(big)} ≤ 1.5× that at ${label(mid)})`,
      measured: `${fmtRatio(growth)} (${fmt(perTask(big) * 1000)} vs ${
        fmt(perTask(mid) * 1000)
      } µs/task)`,
      met: growth <= 1.5,
    },
    {
      goal: `4 store: ${label(big)} listed in < 1 s (new manager)`,
      measured: `${fmt(med[listNew][big])} ms`,
      met: med[listNew][big] < 1000,
    },
  ];
  const notes = [
    `Stores are built by running one real task and replicating its finished folder ` +
    `(\`bench/lib/fake_store.ts\` follows src/store/fs/layout.ts: task folder, \`ids/<N>\` ` +
    `claim, \`next\` hint, completion log and delivered markers); building took ${
      buildSeconds.toFixed(1)
    } s. All tasks ` +
    `are finished, so no liveness check (a bash process) runs; a running task's getStatus ` +
    `adds one such check whatever the store's size.`,
    `getStatus and "none pending" are the mean of ${ctx.sizes.statusCalls} calls per sample. ` +
    `"All pending" first re-creates every task's event and removes its delivered marker ` +
    `(untimed), then times one drain that delivers all of them.`,
  ];
  return {
    title: "4. Store scale",
    rows,
    goals,
    notes,
    seconds: (performance.now() - t0) / 1000,
  };
}
