/**
 * Case 2 — output throughput and memory: a task writes a large output
 * (zeros from `head -c`, and lines from `yes | head -c`). Each contender runs
 * in a child Deno process of its own, which reports its wall time and its
 * peak resident memory (VmHWM from /proc/self/status):
 *
 * - bgtask: `spawnShell(cmd)` then `wait(id)`; output goes straight to the task's file.
 * - raw: `bash -c 'cmd > file'`, awaited — the floor.
 * - buffer: the original design — `Deno.Command(...).output()`, then `writeFile`.
 *
 * Files go to the bench's temp folder (same disk) and are deleted after every run.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { bytesLabel, type Context } from "../lib/context.ts";
import { rmrf, run } from "../lib/proc.ts";
import type { CaseResult, Goal, Row } from "../lib/report.ts";
import { column, type Contender, type Metrics, rowsOf, sideBySide } from "../lib/runner.ts";
import { fmt, fmtRatio, summarize } from "../lib/stats.ts";

const CHILD = fileURLToPath(new URL("../children/output_child.ts", import.meta.url));

function contender(ctx: Context, name: string, command: string): Contender {
  return {
    name,
    run: async (): Promise<Metrics> => {
      const dir = await Deno.makeTempDir({ dir: ctx.tmp, prefix: `out-${name}-` });
      try {
        const r = await run(Deno.execPath(), ["run", "-A", CHILD, name, command, dir]);
        if (r.code !== 0) throw new Error(`output child ${name} failed: ${r.stderr.trim()}`);
        const m = JSON.parse(r.stdout.trim().split("\n").pop()!) as Metrics;
        if (m.size !== ctx.sizes.outputBytes) {
          throw new Error(`${name} wrote ${m.size} bytes, expected ${ctx.sizes.outputBytes}`);
        }
        return m;
      } finally {
        await rmrf(dir);
      }
    },
  };
}

/** Runs case 2. */
export async function outputCase(ctx: Context): Promise<CaseResult> {
  const t0 = performance.now();
  const bytes = ctx.sizes.outputBytes;
  const size = bytesLabel(bytes);
  const rows: Row[] = [];
  const goals: Goal[] = [];
  const commands = [
    ["zeros", `head -c ${bytes} /dev/zero`],
    ["lines", `yes | head -c ${bytes}`],
  ];
  let baseMB = NaN;
  for (const [label, command] of commands) {
    ctx.log(`output: ${label}`);
    const result = await sideBySide(
      ["bgtask", "raw", "buffer"].map((n) => contender(ctx, n, command)),
      { warmup: ctx.sizes.warmup, reps: ctx.sizes.outputReps },
    );
    baseMB = summarize(column(result, "raw", "baseMB")).median;
    const toRaw = (name: string) => name === "raw" ? undefined : ["raw"];
    rows.push(...rowsOf(result, `${label} ${size}, wall time`, "ms", "ms", toRaw));
    rows.push(
      ...rowsOf(result, `${label} ${size}, peak RSS of the managing process`, "hwmMB", "MB", toRaw),
    );
    const med = (c: string, m: string) => summarize(column(result, c, m)).median;
    const ratio = med("bgtask", "ms") / med("raw", "ms");
    goals.push({
      goal: `2 output (${label} ${size}): bgtask wall time ≤ 1.1× raw redirect`,
      measured: `${fmtRatio(ratio)} (${fmt(med("bgtask", "ms"))} vs ${fmt(med("raw", "ms"))} ms)`,
      met: ratio <= 1.1,
    });
    goals.push({
      goal: `2 output (${label} ${size}): bgtask managing process < 100 MB`,
      measured: `${fmt(med("bgtask", "hwmMB"))} MB (buffer design: ${
        fmt(med("buffer", "hwmMB"))
      } MB)`,
      met: med("bgtask", "hwmMB") < 100,
    });
  }
  const notes = [
    `Each run is a fresh child Deno process (\`deno run -A bench/children/output_child.ts\`); ` +
    `wall time is measured inside it, from just before the spawn to the task being known ` +
    `finished, so Deno's start-up is excluded. RSS is that process's VmHWM (peak); an idle ` +
    `child peaks at ${fmt(baseMB)} MB before any work.`,
    "Output files are written to a temp folder on the measured disk and deleted after every run.",
    "bgtask runs with its defaults, so its watchdog checks the output cap (1 GiB) every 250 ms.",
  ];
  return {
    title: `2. Output throughput and memory (${size})`,
    rows,
    goals,
    notes,
    seconds: (performance.now() - t0) / 1000,
  };
}
