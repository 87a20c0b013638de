/**
 * Keeps the benchmark script from rotting: runs `bench/bench.ts --quick`
 * (tiny sizes, a few seconds) and checks that every case reports. No timing
 * is asserted: numbers belong in BENCHMARKS.md, not in tests.
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { summarize } from "../bench/lib/stats.ts";
import { rotate } from "../bench/lib/runner.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CASES = [
  "1. Spawn overhead",
  "2. Output throughput and memory",
  "3. Completion latency",
  "4. Store scale",
  "5. CLI per call",
  "6. Kill",
  "7. MCP server",
  "8. Queue throughput and queued tasks",
];

Deno.test("bench --quick runs every case and reports each as a table", async () => {
  const out = await Deno.makeTempFile({ prefix: "bench-", suffix: ".md" });
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "bench/bench.ts", "--quick", "--no-install", "--out", out],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(r.stdout);
    const stderr = new TextDecoder().decode(r.stderr);
    assertEquals(r.code, 0, `bench --quick failed:\n${stderr}`);
    const md = await Deno.readTextFile(out);
    assert(md.includes("### Goals"), "the Markdown has no goals table");
    assert(md.includes("Reproduce: `deno task bench:quick`"), "no reproduce command");
    for (const title of CASES) {
      assert(stdout.includes(`== ${title}`), `the console table lacks "${title}"`);
      const start = md.indexOf(`### ${title}`);
      assert(start >= 0, `the Markdown lacks "${title}"`);
      const section = md.slice(start, md.indexOf("\n### ", start + 1) >>> 0);
      assert(
        section.includes("| Measure | Contender | Median | Min–max |"),
        `"${title}" has no table`,
      );
      assert(/\| [\d.]+ ms \|/.test(section), `"${title}" has no figure in ms`);
    }
  } finally {
    await Deno.remove(out);
  }
});

Deno.test("bench statistics: median, spread and p95 of samples", () => {
  assertEquals(summarize([5, 1, 3]), { n: 3, median: 3, min: 1, max: 5, p95: 4.8 });
  assertEquals(summarize([4, 2]).median, 3);
  assert(Number.isNaN(summarize([]).median));
});

Deno.test("bench contenders take turns going first", () => {
  assertEquals([0, 1, 2, 3].map((k) => rotate(["a", "b", "c"], k)[0]), ["a", "b", "c", "a"]);
});
