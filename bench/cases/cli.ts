/**
 * Case 5 — CLI per call: whole processes, spawn to exit, timed by the bench.
 *
 * - bgtask: `deno run <the documented permissions> cli.ts --dir STORE run true`,
 *   and `… status ID`.
 * - tsp: `tsp true`, and `tsp -s ID` (a job's state).
 * - deno floor: `deno run` of an empty module — the start-up every Deno CLI pays.
 *
 * @module
 */

import { join } from "node:path";
import type { Context } from "../lib/context.ts";
import { quiet, rmrf, run } from "../lib/proc.ts";
import type { CaseResult, Goal, Row } from "../lib/report.ts";
import { column, type Contender, rowsOf, sideBySide } from "../lib/runner.ts";
import { fmt, fmtRatio, summarize } from "../lib/stats.ts";
import { Tsp } from "../lib/tsp.ts";

function denoArgs(ctx: Context, store: string, ...verb: string[]): string[] {
  return [
    "run",
    "--allow-run=bash",
    `--allow-read=${store}`,
    `--allow-write=${store}`,
    "--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR",
    join(ctx.root, "cli.ts"),
    "--dir",
    store,
    ...verb,
  ];
}

/** Runs `cli.ts run true` once; the id it prints, or why it does not work. */
async function probe(ctx: Context, store: string): Promise<{ id?: string; why?: string }> {
  const r = await run(Deno.execPath(), denoArgs(ctx, store, "run", "true"), { cwd: ctx.root });
  const id = /\bb[1-9][0-9]*\b/.exec(r.stdout)?.[0];
  if (r.code === 0 && id) {
    const s = await run(Deno.execPath(), denoArgs(ctx, store, "status", id), { cwd: ctx.root });
    if (s.code === 0) return { id };
    return { why: `\`status ${id}\` exited ${s.code}: ${s.stderr.trim().slice(0, 200)}` };
  }
  return {
    why: `\`run true\` exited ${r.code} and printed ${JSON.stringify(r.stdout.slice(0, 80))}` +
      (r.stderr.trim() ? ` (stderr: ${r.stderr.trim().slice(0, 200)})` : ""),
  };
}

/** A contender whose sample is the mean wall time of `calls` runs of a whole process. */
function proc(
  name: string,
  calls: number,
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Contender {
  return {
    name,
    run: async () => {
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) {
        const code = await quiet(cmd, args, { env });
        if (code !== 0) throw new Error(`${name}: ${cmd} ${args.join(" ")} exited ${code}`);
      }
      return { ms: (performance.now() - t0) / calls };
    },
  };
}

/** Runs case 5. */
export async function cliCase(ctx: Context): Promise<CaseResult> {
  const t0 = performance.now();
  const calls = ctx.sizes.cliCalls;
  const store = join(ctx.tmp, "cli-store");
  const empty = join(ctx.tmp, "empty.ts");
  await Deno.writeTextFile(empty, "export {};\n");
  const notes = [
    `Each sample is the mean of ${calls} whole-process runs (spawn to exit), timed by the ` +
    "bench (no hyperfine needed); contenders take turns. deno floor = `deno run` of an " +
    "empty module.",
  ];
  const { id, why } = await probe(ctx, store);
  if (!id) notes.push(`bgtask's CLI rows are missing: cli.ts does not work yet — ${why}.`);
  let tsp: Tsp | null = null;
  let job = "";
  if (ctx.tsp) {
    tsp = new Tsp(ctx.tsp, await Deno.makeTempDir({ dir: ctx.tmp, prefix: "tsp-cli-" }));
    job = await tsp.enqueue("true");
    await tsp.waitFor(job);
    notes.push("tsp: its own server on a private socket, already running (as a user's would be).");
  } else if (ctx.tspNote) notes.push(ctx.tspNote);

  const deno = Deno.execPath();
  const rows: Row[] = [];
  const goals: Goal[] = [];
  try {
    const measures: [string, Contender[]][] = [
      ["`run true`, ms/call", [
        ...(id ? [proc("bgtask", calls, deno, denoArgs(ctx, store, "run", "true"))] : []),
        ...(tsp ? [proc("tsp", calls, tsp.bin, ["true"], tsp.env)] : []),
        proc("deno floor", calls, deno, ["run", empty]),
      ]],
      ["`status ID`, ms/call", [
        ...(id ? [proc("bgtask", calls, deno, denoArgs(ctx, store, "status", id))] : []),
        ...(tsp ? [proc("tsp", calls, tsp.bin, ["-s", job], tsp.env)] : []),
        proc("deno floor", calls, deno, ["run", empty]),
      ]],
    ];
    for (const [measure, contenders] of measures) {
      ctx.log(`cli: ${measure}`);
      const result = await sideBySide(contenders, {
        warmup: ctx.sizes.warmup,
        reps: ctx.sizes.reps,
      });
      rows.push(...rowsOf(
        result,
        measure,
        "ms",
        "ms",
        (name) => name === "bgtask" ? ["tsp", "deno floor"] : undefined,
      ));
      const m = (c: string) => summarize(column(result, c, "ms")).median;
      if (id) {
        // Issue #11's goals: `status` ≤ 2×, `run` ≤ 2.5× an empty `deno run`.
        const limit = measure.startsWith("`status") ? 2 : 2.5;
        const ratio = m("bgtask") / m("deno floor");
        goals.push({
          goal: `5 CLI ${measure.split(",")[0]}: bgtask ≤ ${limit}× an empty \`deno run\``,
          measured: `${fmtRatio(ratio)} (${fmt(m("bgtask"))} vs ${fmt(m("deno floor"))} ms)`,
          met: ratio <= limit,
        });
      }
      if (id && tsp) {
        goals.push({
          goal: `5 CLI ${measure.split(",")[0]}: bgtask vs tsp (no numeric goal)`,
          measured: `${fmtRatio(m("bgtask") / m("tsp"))} (${fmt(m("bgtask"))} vs ${
            fmt(m("tsp"))
          } ms; deno floor ${fmt(m("deno floor"))} ms)`,
          met: "info",
        });
      }
    }
  } finally {
    await tsp?.stop();
    await rmrf(store);
  }
  return {
    title: "5. CLI per call",
    rows,
    goals,
    notes,
    seconds: (performance.now() - t0) / 1000,
  };
}
