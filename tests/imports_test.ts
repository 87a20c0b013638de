// Importing any node: module starts Deno's Node compatibility layer, which
// costs 10–20 ms in every process that does it (BENCHMARKS.md, "CLI per
// call"). The library and every CLI verb but `mcp` (whose SDK needs it) load
// none: a module that needs one imports it when first used.
import { deepEqual } from "node:assert/strict";

interface Graph {
  roots: string[];
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
  }[];
}

/** The node: modules that `entry` loads before its code runs (static imports only). */
async function staticNodeImports(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const graph: Graph = JSON.parse(new TextDecoder().decode(out.stdout));
  const byName = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    if (seen.has(specifier)) return;
    seen.add(specifier);
    for (const dep of byName.get(specifier)?.dependencies ?? []) {
      if (!dep.isDynamic && dep.code) visit(dep.code.specifier);
    }
  };
  visit(graph.roots[0]);
  return [...seen].filter((s) => s.startsWith("node:")).sort();
}

const ENTRIES = [
  "mod.ts",
  "cli.ts",
  ...[...Deno.readDirSync(new URL("../src/cli/", import.meta.url))]
    .map((e) => e.name)
    .filter((n) => /^verb_\w+\.ts$/.test(n) && n !== "verb_mcp.ts")
    .map((n) => `src/cli/${n}`)
    .sort(),
];

Deno.test("imports: the library and the CLI's verbs (but mcp) load no node: module at start", async () => {
  const root = new URL("../", import.meta.url).pathname;
  const found: Record<string, string[]> = {};
  for (const entry of ENTRIES) {
    const nodes = await staticNodeImports(root + entry);
    if (nodes.length > 0) found[entry] = nodes;
  }
  deepEqual(found, {});
});
