/**
 * The bgtask benchmarks: every case of issue 5, side by side with its
 * baselines, printed as a table and written as Markdown.
 *
 * ```sh
 * deno task bench              # full run, 3–13 min by machine; writes bench/results/latest.md
 * deno task bench:quick        # tiny sizes, seconds (what CI runs through tests/bench_test.ts)
 * deno run -A bench/bench.ts --only 1,3 --update-doc
 * ```
 *
 * Options: `--quick`, `--only LIST` (case numbers), `--out FILE` (Markdown,
 * default bench/results/latest.md), `--update-doc` (also replace the results
 * in BENCHMARKS.md), `--no-install` (never apt-get task-spooler), `--tmp DIR`
 * (where output files and stores go; default the system temp folder).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cliCase } from "./cases/cli.ts";
import { killCase } from "./cases/kill.ts";
import { latencyCase } from "./cases/latency.ts";
import { mcpCase } from "./cases/mcp.ts";
import { outputCase } from "./cases/output.ts";
import { queueCase } from "./cases/queue.ts";
import { spawnCase } from "./cases/spawn.ts";
import { storeCase } from "./cases/store_scale.ts";
import { type Context, FULL, QUICK } from "./lib/context.ts";
import { describeMachine } from "./lib/machine.ts";
import { rmrf } from "./lib/proc.ts";
import { type CaseResult, consoleReport, markdownReport } from "./lib/report.ts";
import { cpuTimes, stealNote } from "./lib/steal.ts";
import { findTsp } from "./lib/tsp.ts";

const CASES: [number, (ctx: Context) => Promise<CaseResult>][] = [
  [1, spawnCase],
  [2, outputCase],
  [3, latencyCase],
  [4, storeCase],
  [5, cliCase],
  [6, killCase],
  [7, mcpCase],
  [8, queueCase],
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DOC_START = "<!-- bench:results:start -->";
const DOC_END = "<!-- bench:results:end -->";

function reproduceCommand(quick: boolean, only: string | undefined): string {
  const base = quick ? "deno task bench:quick" : "deno task bench";
  return only ? `deno run -A bench/bench.ts${quick ? " --quick" : ""} --only ${only}` : base;
}

const HELP = `Usage: deno run -A bench/bench.ts [options]

Runs the bgtask benchmarks side by side with their baselines and writes the
results as Markdown.

Options:
  --quick          tiny sizes, a few seconds (checks every case still runs)
  --only LIST      only these cases, e.g. 1,6 (${CASES.map(([n]) => n).join(", ")})
  --out FILE       where the Markdown goes (default bench/results/latest.md)
  --update-doc     also replace the results section of BENCHMARKS.md
  --no-install     never apt-get task-spooler
  --tmp DIR        where output files and stores go (default the system temp folder)
  -h, --help       this text
`;

/** Thrown for a bad command line: printed as one line, exit code 2. */
class BenchUsageError extends Error {}

function parseOptions(args: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        quick: { type: "boolean", default: false },
        only: { type: "string" },
        out: { type: "string" },
        "update-doc": { type: "boolean", default: false },
        "no-install": { type: "boolean", default: false },
        tmp: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    throw new BenchUsageError(e instanceof Error ? e.message : String(e));
  }
  const known = CASES.map(([n]) => n);
  const only = values.only?.split(",").map((s) => {
    const n = Number(s.trim());
    if (!known.includes(n)) {
      throw new BenchUsageError(
        `--only: no case ${JSON.stringify(s.trim())} (cases are ${known.join(", ")})`,
      );
    }
    return n;
  });
  return { ...values, only };
}

async function main(): Promise<number> {
  let values;
  try {
    values = parseOptions(Deno.args);
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    console.error(`bench: ${e.message} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const quick = values.quick;
  const only = values.only;
  const started = performance.now();
  if (values.tmp !== undefined) await Deno.mkdir(values.tmp, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: values.tmp, prefix: "bgtask-bench-" });
  const log = (m: string) =>
    console.error(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${m}`);
  try {
    // Quick mode (CI) never installs; the full run fetches task-spooler when it can.
    const tsp = await findTsp(!quick && !values["no-install"]);
    const ctx: Context = {
      quick,
      sizes: quick ? QUICK : FULL,
      tmp,
      root: ROOT,
      tsp: tsp.bin,
      tspNote: tsp.note,
      log,
    };
    const machine = await describeMachine(tmp, ROOT);
    const results: CaseResult[] = [];
    for (const [n, fn] of CASES) {
      if (only && !only.includes(n)) continue;
      log(`case ${n} …`);
      const before = cpuTimes();
      const result = await fn(ctx);
      const steal = stealNote(before, cpuTimes());
      if (steal) result.notes.push(steal);
      results.push(result);
    }
    const total = (performance.now() - started) / 1000;
    console.log(consoleReport(results));
    console.log(`\ntotal ${total.toFixed(1)} s`);

    const header = [
      `Mode: **${quick ? "quick (tiny sizes; not for comparison)" : "full"}**; ` +
      `total wall time ${total.toFixed(0)} s.\n`,
      `Reproduce: \`${reproduceCommand(quick, only?.join(","))}\` from the repository root.\n`,
      "| Machine | |",
      "| --- | --- |",
      ...machine.map(([k, v]) => `| ${k} | ${v.replaceAll("|", "\\|")} |`),
      "",
    ].join("\n");
    const md = header + "\n" + markdownReport(results);
    const out = values.out ?? join(ROOT, "bench", "results", "latest.md");
    await Deno.mkdir(dirname(out), { recursive: true });
    await Deno.writeTextFile(out, `# bgtask benchmark results\n\n${md}`);
    console.error(`wrote ${out}`);
    if (values["update-doc"]) {
      const docPath = join(ROOT, "BENCHMARKS.md");
      const doc = await Deno.readTextFile(docPath);
      const a = doc.indexOf(DOC_START);
      const b = doc.indexOf(DOC_END);
      if (a < 0 || b < a) throw new Error(`${docPath} lacks the ${DOC_START} … ${DOC_END} markers`);
      await Deno.writeTextFile(
        docPath,
        doc.slice(0, a + DOC_START.length) + "\n\n" + md + "\n" + doc.slice(b),
      );
      console.error(`updated ${docPath}`);
    }
    return 0;
  } finally {
    await rmrf(tmp);
  }
}

if (import.meta.main) Deno.exit(await main());
