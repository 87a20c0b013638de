// Importing any node: module starts Deno's Node compatibility layer, which
// costs 10–20 ms in every process that does it (BENCHMARKS.md, "CLI per
// call"). No module of the library or the CLI imports one statically: a
// module that needs one imports it when first used (stdin writes load
// node:fs). Only the MCP server (src/mcp/, whose SDK needs Node's) may.
import { deepEqual } from "node:assert/strict";
import { run } from "./_helpers/reliability.ts";

interface Graph {
  roots: string[];
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
  }[];
}

const ROOT = new URL("../", import.meta.url).href;
const MCP = [`${ROOT}src/mcp/`, `${ROOT}src/cli/verb_mcp.ts`];

/** `deno info --json` of an entry module, read once per entry for both tests. */
const graphs = new Map<string, Promise<Graph>>();
function graphOf(entry: string): Promise<Graph> {
  let graph = graphs.get(entry);
  if (!graph) {
    graph = new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", new URL(entry, ROOT).pathname],
      stdout: "piped",
      stderr: "inherit",
    }).output().then((out) => JSON.parse(new TextDecoder().decode(out.stdout)));
    graphs.set(entry, graph);
  }
  return graph;
}

/**
 * Every module `entry` can load, static or dynamic import, but the MCP
 * server's; and for each, the node: modules it imports statically.
 */
async function staticNodeImports(entry: string): Promise<Record<string, string[]>> {
  const graph = await graphOf(entry);
  const byName = new Map(graph.modules.map((m) => [m.specifier, m]));
  const found: Record<string, string[]> = {};
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    if (seen.has(specifier) || !specifier.startsWith(ROOT)) return;
    if (MCP.some((prefix) => specifier.startsWith(prefix))) return;
    seen.add(specifier);
    for (const dep of byName.get(specifier)?.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (!target) continue;
      if (target.startsWith("node:") && !dep.isDynamic) {
        (found[specifier.slice(ROOT.length)] ??= []).push(target);
      }
      visit(target);
    }
  };
  visit(graph.roots[0]);
  return found;
}

Deno.test("imports: no module of the library or the CLI (but mcp) imports a node: module statically", async () => {
  deepEqual(await staticNodeImports("mod.ts"), {});
  // (The CLI's sources: cli.ts runs their bundle, which the next test looks at.)
  deepEqual(await staticNodeImports("src/cli/main.ts"), {});
});

Deno.test("imports: cli.ts loads the CLI's bundle (dist/cli/), not the modules it is built from", async () => {
  const graph = await graphOf("cli.ts");
  const own = graph.modules.map((m) => m.specifier).filter((s) => s.startsWith(ROOT))
    .map((s) => s.slice(ROOT.length));
  deepEqual(own.filter((s) => s !== "cli.ts" && !s.startsWith("dist/cli/")), []);
  // A few files (Deno reads every file a program may import before it runs):
  // the verbs' code is loaded with the entry, the MCP SDK's users are not.
  const chunks = (await Array.fromAsync(Deno.readDir(new URL("dist/cli/", ROOT))))
    .map((e) => e.name).sort();
  deepEqual(chunks.length <= 6, true, `dist/cli/ has ${chunks.length} files: ${chunks}`);
  deepEqual(chunks.filter((n) => /^(stdio|http)-[A-Z0-9]+\.js$/.test(n)).length, 2, `${chunks}`);
  // Node's layer and the MCP SDK are loaded by no chunk that every call loads.
  const statics = new Set<string>();
  const byName = new Map(graph.modules.map((m) => [m.specifier, m]));
  const visit = (specifier: string) => {
    if (statics.has(specifier)) return;
    statics.add(specifier);
    for (const dep of byName.get(specifier)?.dependencies ?? []) {
      if (dep.code?.specifier && !dep.isDynamic) visit(dep.code.specifier);
    }
  };
  visit(graph.roots[0]);
  deepEqual([...statics].filter((s) => /^(node|npm):/.test(s)), []);
  // (Which it would see: the SDK is in the graph, behind a dynamic import.)
  deepEqual(graph.modules.some((m) => m.specifier.startsWith("npm:")), true);
  // Every verb's code is in the files every call loads (none imported later).
  const loaded = await Promise.all(
    [...statics].filter((s) => s.startsWith(ROOT + "dist/")).map((s) =>
      Deno.readTextFile(new URL(s))
    ),
  );
  for (const verb of ["run", "status", "list", "logs", "wait", "mcp"]) {
    deepEqual(loaded.some((t) => t.includes(`// src/cli/verb_${verb}.ts`)), true, verb);
  }
});

Deno.test("imports: the check reaches every verb and every op", async () => {
  // The modules the test above walks through, so that it cannot pass by seeing nothing.
  const graph = await graphOf("src/cli/main.ts");
  const names = new Set(graph.modules.map((m) => m.specifier.slice(ROOT.length)));
  for (const dir of ["src/cli/", "src/ops/"]) {
    for (const e of Deno.readDirSync(new URL(dir, ROOT))) {
      if (e.name.endsWith(".ts") && !e.name.startsWith("_")) {
        deepEqual(names.has(dir + e.name), true, `${dir}${e.name} is not reachable from the CLI`);
      }
    }
  }
});

// Deno 2.9's global setTimeout and setInterval load its Node timers (with
// Node's async hooks and errors) on first use: 8–15 ms, a tenth of a
// `bgtask run`. bgtask's code uses src/timers.ts instead.
Deno.test("imports: no module of bgtask calls the global timers (src/timers.ts stands in)", async () => {
  const calls: string[] = [];
  const walk = async (dir: URL) => {
    for await (const e of Deno.readDir(dir)) {
      const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) await walk(url);
      else if (e.name.endsWith(".ts")) {
        const code = (await Deno.readTextFile(url))
          .replace(/\/\*[\s\S]*?\*\//g, "") // block comments (and the examples in them)
          .replace(/(^|[^:"'`])\/\/.*$/gm, "$1"); // line comments
        for (const m of code.matchAll(/\b(set|clear)(Timeout|Interval)\s*\(/g)) {
          calls.push(`${url.href.slice(ROOT.length)}: ${m[0]}`);
        }
      }
    }
  };
  await walk(new URL("src/", ROOT));
  for (const entry of ["mod.ts", "cli.ts"]) {
    const code = await Deno.readTextFile(new URL(entry, ROOT));
    if (/\b(set|clear)(Timeout|Interval)\s*\(/.test(code.replace(/\/\*[\s\S]*?\*\//g, ""))) {
      calls.push(entry);
    }
  }
  deepEqual(calls, []);
});

// The CLI tests run cli.ts, so its bundle: one built from older sources
// would test the old code. (CI also runs `deno task gen --check` first.)
Deno.test("imports: the CLI's bundle (dist/cli/) is built from the sources as they are: else run deno task gen", async () => {
  const out = await run(Deno.execPath(), [
    "run",
    "--allow-read=.",
    "--allow-write=dist",
    "--allow-run=deno",
    "tools/gen_bundle.ts",
    "--check",
  ], { cwd: new URL(ROOT).pathname });
  const said = out.stderr.trim();
  deepEqual({ code: out.code, said }, { code: 0, said: "" });
});
