/**
 * Case 3 — completion latency: a task's last act prints a microsecond
 * timestamp (`$EPOCHREALTIME`); the figure is the time from that moment to
 * the moment its completion is yielded.
 *
 * - in-process: `completions()` of the TaskManager that spawned the task.
 * - cross-process: `completions()` in another Deno process sharing the store
 *   (`bench/children/listener.ts`); it stamps each yield with its own clock.
 * - direct child (reference): `Deno.Command(...).output()` of the same script,
 *   awaited by its parent — what a design whose tasks die with their parent sees.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { TaskManager } from "../../mod.ts";
import type { Context } from "../lib/context.ts";
import { LineReader } from "../lib/lines.ts";
import type { CaseResult, Goal, Row } from "../lib/report.ts";
import { column, type Contender, epochMs, sideBySide } from "../lib/runner.ts";
import { fmt, summarize } from "../lib/stats.ts";

const LISTENER = fileURLToPath(new URL("../children/listener.ts", import.meta.url));
/** The task: a short pause (so the listener is idle, as in real use), then a timestamp. */
const SCRIPT = 'sleep 0.02; printf %s "$EPOCHREALTIME"';

/** `$EPOCHREALTIME` ("1700000000.123456", "," in some locales) as epoch milliseconds. */
function stampMs(text: string): number {
  const ms = Number(text.trim().replace(",", ".")) * 1000;
  if (!Number.isFinite(ms)) throw new Error(`not a timestamp: ${JSON.stringify(text)}`);
  return ms;
}

/** Runs case 3. */
export async function latencyCase(ctx: Context): Promise<CaseResult> {
  const t0 = performance.now();
  const stop = new AbortController();
  // In-process: one long-lived completions() loop, resolving per-id promises.
  const inDir = await Deno.makeTempDir({ dir: ctx.tmp, prefix: "lat-in-" });
  const inTasks = new TaskManager({ dir: inDir });
  const seen = new Map<string, (t: number) => void>();
  const early = new Map<string, number>();
  const loop = (async () => {
    for await (const info of inTasks.completions({ signal: stop.signal })) {
      const t = epochMs();
      const resolve = seen.get(info.id);
      if (resolve) resolve(t);
      else early.set(info.id, t);
    }
  })();
  const yielded = (id: string) =>
    early.has(id) ? Promise.resolve(early.get(id)!) : new Promise<number>((r) => seen.set(id, r));

  // Cross-process: the listener child on a second store.
  const xDir = await Deno.makeTempDir({ dir: ctx.tmp, prefix: "lat-x-" });
  const xTasks = new TaskManager({ dir: xDir });
  await xTasks.list(); // creates the store before the listener watches it
  const listener = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", LISTENER, xDir],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = new LineReader(listener.stdout);
  if ((await lines.next()) !== "ready") throw new Error("the latency listener did not start");

  const contenders: Contender[] = [
    {
      name: "in-process",
      run: async () => {
        const task = await inTasks.spawnShell(SCRIPT);
        const at = await yielded(task.id);
        return { ms: at - stampMs(await inTasks.readOutput(task.id)) };
      },
    },
    {
      name: "cross-process",
      run: async () => {
        const task = await xTasks.spawnShell(SCRIPT);
        const line = await lines.next();
        if (line === null) throw new Error("the latency listener ended early");
        const [id, at] = line.split(" ");
        if (id !== task.id) throw new Error(`listener yielded ${id}, expected ${task.id}`);
        return { ms: Number(at) - stampMs(await xTasks.readOutput(task.id)) };
      },
    },
    {
      name: "direct child",
      run: async () => {
        const out = await new Deno.Command("bash", { args: ["-c", SCRIPT], stdin: "null" })
          .output();
        const at = epochMs();
        return { ms: at - stampMs(new TextDecoder().decode(out.stdout)) };
      },
    },
  ];
  let result;
  try {
    ctx.log("latency");
    result = await sideBySide(contenders, { warmup: 2, reps: ctx.sizes.latencySamples });
  } finally {
    stop.abort();
    await loop;
    await listener.stdin.close();
    await listener.status;
    await lines.done;
    await Deno.remove(inDir, { recursive: true });
    await Deno.remove(xDir, { recursive: true });
  }
  const rows: Row[] = [...result.keys()].map((name) => ({
    measure: "task's last act → completion seen",
    contender: name,
    unit: "ms",
    samples: column(result, name, "ms"),
    ratioTo: name === "direct child" ? undefined : ["direct child"],
  }));
  const s = (c: string) => summarize(column(result, c, "ms"));
  const goals: Goal[] = [
    {
      goal: "3 latency: in-process median ≤ 10 ms",
      measured: `median ${fmt(s("in-process").median)} ms, p95 ${fmt(s("in-process").p95)} ms`,
      met: s("in-process").median <= 10,
    },
    {
      goal: "3 latency: cross-process median ≤ 250 ms",
      measured: `median ${fmt(s("cross-process").median)} ms, p95 ${
        fmt(s("cross-process").p95)
      } ms`,
      met: s("cross-process").median <= 250,
    },
  ];
  const notes = [
    `${ctx.sizes.latencySamples} tasks per contender, one at a time, contenders taking turns; ` +
    `each task is \`${SCRIPT}\`.`,
    "Timestamps: bash's `$EPOCHREALTIME` (µs) against `performance.timeOrigin + " +
    "performance.now()` in the process that sees the completion; both are the system's real-time clock.",
  ];
  return {
    title: "3. Completion latency",
    rows,
    goals,
    notes,
    seconds: (performance.now() - t0) / 1000,
  };
}
