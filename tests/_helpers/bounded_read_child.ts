/**
 * One read of a large output, in a process of its own so that its peak
 * memory (VmHWM) is its alone; run by tests/correctness_bounded_reads_test.ts
 * with -A (reading /proc/self/status needs it).
 *
 *   deno run -A bounded_read_child.ts STORE OP ID [ARG]
 *     OP: readOutput [MAXBYTES] | tailOutput LINES | cli VERB_ARGS_JSON
 *
 * Prints one JSON line: `{ peak, ok, length, head, errorName, message }`.
 * `cli` runs the CLI's `main()` in this process, its stdout sent to /dev/null by the caller.
 * `BGTASK_MOD` / `BGTASK_CLI` may name another checkout's mod.ts / cli.ts.
 *
 * @module
 */

import { peakRss } from "./correctness.ts";

const [dir, op, id, arg] = Deno.args;
const MOD = Deno.env.get("BGTASK_MOD") || new URL("../../mod.ts", import.meta.url).href;
const CLI = Deno.env.get("BGTASK_CLI") || new URL("../../cli.ts", import.meta.url).href;

const result: Record<string, unknown> = {};
try {
  let out: string | number;
  if (op === "cli") {
    const { main } = await import(CLI);
    out = await main(["--dir", dir, ...JSON.parse(arg)]);
  } else {
    const { TaskManager } = await import(MOD);
    const tasks = new TaskManager({ dir });
    out = op === "readOutput"
      ? await tasks.readOutput(id, arg ? { maxBytes: Number(arg) } : {})
      : await tasks.tailOutput(id, Number(arg));
  }
  result.ok = true;
  result.length = typeof out === "string" ? out.length : out;
  result.head = typeof out === "string" ? out.slice(0, 40) : undefined;
} catch (e) {
  result.ok = false;
  result.errorName = (e as Error).name;
  result.message = (e as Error).message;
}
result.peak = peakRss();
console.error(JSON.stringify(result));
