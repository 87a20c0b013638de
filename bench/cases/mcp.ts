/**
 * Case 7 — the MCP server (`bgtask mcp`, stdio), side by side with what it
 * is built on:
 *
 * - start-up: spawn to `initialize` answered, started as the README says
 *   (`--conditions=browser`: the MCP SDK's build for runtimes other than
 *   Node) and on the SDK's default (Node) build, against the deno floor
 *   (spawn to exit of an empty module) — what any Deno process pays.
 * - task_status round trip over stdio JSON-RPC, against the library call it
 *   wraps (`getStatus` in process).
 * - memory: the server's peak RSS (VmHWM) after listing a store of 1,000
 *   tasks (quick: 50), against an idle Deno process.
 *
 * @module
 */

import { join } from "node:path";
import { TaskManager } from "../../mod.ts";
import type { Context } from "../lib/context.ts";
import { buildStore } from "../lib/fake_store.ts";
import { LineReader } from "../lib/lines.ts";
import { rmrf } from "../lib/proc.ts";
import type { CaseResult, Goal, Row } from "../lib/report.ts";
import { column, sideBySide } from "../lib/runner.ts";
import { fmt, summarize } from "../lib/stats.ts";

const enc = new TextEncoder();

/** A `bgtask mcp` child on stdio, spoken to in raw JSON-RPC lines. */
class McpChild {
  readonly child: Deno.ChildProcess;
  readonly #lines: LineReader;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #id = 0;

  constructor(ctx: Context, store: string, sdkBuild: "browser" | "node" = "browser") {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        // As the README starts it. Both builds get the same V8 flags: V8 rejects
        // a code cache made under other flags, and Deno then compiles and
        // rewrites it, so alternating flagged and unflagged runs of the same
        // modules would make every sample pay a full compile (about 80 ms
        // here) that no user who starts it one way pays.
        ...(sdkBuild === "browser" ? ["--conditions=browser"] : []),
        "--v8-flags=--enable-experimental-regexp-engine-on-excessive-backtracks,--max-semi-space-size=1",
        "--allow-run=bash",
        `--allow-read=${store}`,
        `--allow-write=${store}`,
        "--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR",
        join(ctx.root, "cli.ts"),
        "--dir",
        store,
        "mcp",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#lines = new LineReader(this.child.stdout);
    this.#writer = this.child.stdin.getWriter();
  }

  /** Sends a request and resolves with its result (the next line must be its answer). */
  async request(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = ++this.#id;
    await this.#writer.write(
      enc.encode(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n"),
    );
    for (;;) {
      const line = await this.#lines.next();
      if (line === null) throw new Error(`bgtask mcp ended before answering ${method}`);
      const msg = JSON.parse(line);
      if (msg.id !== id) continue; // a notification
      if (msg.error) throw new Error(`${method}: ${msg.error.message}`);
      return msg.result;
    }
  }

  async initialize(): Promise<void> {
    await this.request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "bench", version: "1" },
    });
    await this.#writer.write(
      enc.encode(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n"),
    );
  }

  /** Peak and current resident memory, MB. */
  memory(): { hwmMB: number; rssMB: number } {
    const status = Deno.readTextFileSync(`/proc/${this.child.pid}/status`);
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s*(\\d+)`, "m").exec(status)?.[1]);
    return { hwmMB: kb("VmHWM") / 1024, rssMB: kb("VmRSS") / 1024 };
  }

  async close(): Promise<void> {
    await this.#writer.close();
    await this.child.status;
    await this.#lines.done;
  }
}

/** An idle Deno process (it waits on stdin), for the memory floor. */
async function idleDenoHwm(empty: string): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", empty],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const lines = new LineReader(child.stdout);
  await lines.next(); // "ready"
  const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
  const hwm = Number(/^VmHWM:\s*(\d+)/m.exec(status)?.[1]) / 1024;
  await child.stdin.close();
  await child.status;
  await lines.done;
  return hwm;
}

/** Runs case 7. */
export async function mcpCase(ctx: Context): Promise<CaseResult> {
  const t0 = performance.now();
  const store = join(ctx.tmp, "mcp-store");
  const bigStore = join(ctx.tmp, "mcp-big-store");
  const empty = join(ctx.tmp, "mcp-empty.ts");
  const idle = join(ctx.tmp, "mcp-idle.ts");
  await Deno.writeTextFile(empty, "export {};\n");
  await Deno.writeTextFile(
    idle,
    'console.log("ready");\nawait new Response(Deno.stdin.readable).text();\n',
  );
  const startReps = ctx.quick ? 2 : 10;
  const bigN = ctx.quick ? 50 : 1_000;
  const rows: Row[] = [];
  const goals: Goal[] = [];
  const notes: string[] = [];
  const tasks = new TaskManager({ dir: store });
  const seed = await tasks.spawnShell("echo seed", { description: "seed" });
  await tasks.wait(seed.id);
  try {
    // 1. Start-up.
    ctx.log("mcp: start-up");
    const start = await sideBySide([
      {
        name: "bgtask mcp",
        run: async () => {
          const s = performance.now();
          const c = new McpChild(ctx, store);
          await c.initialize();
          const ms = performance.now() - s;
          await c.close();
          return { ms };
        },
      },
      {
        name: "bgtask mcp, SDK's Node build",
        run: async () => {
          const s = performance.now();
          const c = new McpChild(ctx, store, "node");
          await c.initialize();
          const ms = performance.now() - s;
          await c.close();
          return { ms };
        },
      },
      {
        name: "deno floor",
        run: async () => {
          const s = performance.now();
          await new Deno.Command(Deno.execPath(), { args: ["run", empty], stdin: "null" }).output();
          return { ms: performance.now() - s };
        },
      },
    ], { warmup: 1, reps: startReps });
    const startMeasure = "spawn → `initialize` answered, ms";
    for (const name of start.keys()) {
      rows.push({
        measure: startMeasure,
        contender: name,
        unit: "ms",
        samples: column(start, name, "ms"),
        ratioTo: name === "deno floor" ? undefined : ["deno floor"],
      });
    }
    const startMed = summarize(column(start, "bgtask mcp", "ms")).median;
    const nodeMed = summarize(column(start, "bgtask mcp, SDK's Node build", "ms")).median;
    goals.push({
      goal: "7 MCP start to `initialize` answered ≤ 200 ms",
      measured: `median ${fmt(startMed)} ms (SDK's Node build ${fmt(nodeMed)} ms; deno floor ${
        fmt(summarize(column(start, "deno floor", "ms")).median)
      } ms)`,
      met: startMed <= 200,
    });

    // 2. task_status round trip against the library call.
    ctx.log("mcp: task_status round trip");
    const server = new McpChild(ctx, store);
    await server.initialize();
    try {
      const rt = await sideBySide([
        {
          name: "MCP task_status (stdio)",
          run: async () => {
            const s = performance.now();
            await server.request("tools/call", { name: "task_status", arguments: { id: seed.id } });
            return { ms: performance.now() - s };
          },
        },
        {
          name: "library getStatus",
          run: async () => {
            const s = performance.now();
            await tasks.getStatus(seed.id);
            return { ms: performance.now() - s };
          },
        },
      ], { warmup: 5, reps: ctx.sizes.statusCalls });
      const rtMeasure = "task_status round trip, ms/call";
      for (const name of rt.keys()) {
        rows.push({
          measure: rtMeasure,
          contender: name,
          unit: "ms",
          samples: column(rt, name, "ms"),
          ratioTo: name === "library getStatus" ? undefined : ["library getStatus"],
        });
      }
      const mcpMed = summarize(column(rt, "MCP task_status (stdio)", "ms")).median;
      const libMed = summarize(column(rt, "library getStatus", "ms")).median;
      goals.push({
        goal: "7 MCP task_status round trip ≤ 5 ms over the library call (p50)",
        measured: `+${fmt(mcpMed - libMed)} ms (${fmt(mcpMed)} vs ${fmt(libMed)} ms)`,
        met: mcpMed - libMed <= 5,
      });
    } finally {
      await server.close();
    }

    // 3. Memory over a long session: a running task's status asked many times
    // (each answer looks at its processes: a bash run whose output is read).
    const looks = ctx.quick ? 20 : 2000;
    ctx.log(`mcp: memory after ${looks} task_status of a running task`);
    const running = await tasks.spawnShell("sleep 600", { description: "running" });
    const long = new McpChild(ctx, store);
    try {
      await long.initialize();
      const first = long.memory();
      for (let i = 0; i < looks; i++) {
        await long.request("tools/call", { name: "task_status", arguments: { id: running.id } });
      }
      const after = long.memory();
      goals.push({
        goal: `7 MCP server memory over a session: ${looks} task_status of a running task`,
        measured: `RSS ${fmt(first.rssMB)} MB after \`initialize\`, ${fmt(after.rssMB)} MB after ` +
          `(peak ${fmt(after.hwmMB)} MB)`,
        met: "info",
      });
    } finally {
      await long.close();
      await tasks.kill(running.id, { graceMs: 0 });
    }

    // 4. Memory with a large store.
    ctx.log(`mcp: memory with ${bigN} tasks`);
    await buildStore(bigStore, bigN);
    const mem = await sideBySide([
      {
        name: "bgtask mcp",
        run: async () => {
          const c = new McpChild(ctx, bigStore);
          try {
            await c.initialize();
            await c.request("tools/call", { name: "task_list", arguments: { limit: 500 } });
            await c.request("tools/call", { name: "task_status", arguments: { id: `b${bigN}` } });
            await c.request("tools/call", { name: "task_completions", arguments: {} });
            return c.memory();
          } finally {
            await c.close();
          }
        },
      },
      { name: "idle deno", run: async () => ({ hwmMB: await idleDenoHwm(idle) }) },
    ], { warmup: 0, reps: ctx.quick ? 1 : 3 });
    const memMeasure = `peak RSS with ${bigN.toLocaleString("en-US")} tasks in the store, MB`;
    for (const name of mem.keys()) {
      rows.push({
        measure: memMeasure,
        contender: name,
        unit: "MB",
        samples: column(mem, name, "hwmMB"),
        ratioTo: name === "bgtask mcp" ? ["idle deno"] : undefined,
      });
    }
    const hwm = summarize(column(mem, "bgtask mcp", "hwmMB")).median;
    goals.push({
      goal: `7 MCP server memory ≤ 100 MB with ${bigN.toLocaleString("en-US")} tasks`,
      measured: `peak ${fmt(hwm)} MB after task_list, task_status and task_completions`,
      met: bigN >= 1000 ? hwm <= 100 : "info",
    });
    notes.push(
      "Start-up: a fresh `deno run --conditions=browser --v8-flags=… cli.ts mcp` (the documented " +
        "flags and permissions) per sample, timed until its answer to `initialize` is read; the SDK's Node " +
        "build: the same without `--conditions=browser` (the SDK then loads ajv and Node's " +
        "`process`; the same V8 flags, so that neither invalidates the other's code cache); deno floor = `deno run` of an empty module to exit. The server, the round " +
        "trip and the memory below run as documented.",
      "Round trip: one long-lived server; each sample is one `tools/call` of task_status over " +
        "its stdin/stdout (raw JSON-RPC lines, no client SDK), against `getStatus` in this process.",
      `Memory: VmHWM of the server after task_list (limit 500), task_status and task_completions ` +
        `on a store of ${bigN} finished tasks (bench/lib/fake_store.ts); idle deno = a Deno ` +
        "process waiting on stdin.",
    );
  } finally {
    await rmrf(store);
    await rmrf(bigStore);
  }
  return { title: "7. MCP server", rows, goals, notes, seconds: (performance.now() - t0) / 1000 };
}
