/**
 * Case 1's child: spawns N tasks of `true`, P at a time, each awaited, in a
 * fresh process of its own, and prints `{ ms, rssMB }` as JSON: wall time per
 * task (Deno's start-up excluded) and its resident memory after. With `MB`,
 * it first holds that many megabytes (every page written, so resident, as a
 * busy server's heap is).
 *
 * Usage: `spawn_child.ts bgtask|floor N P MB STORE`
 * - bgtask: `spawnShell("true")` then `wait(id)`, in STORE.
 * - floor: a detached `bash -c 'bash -c true & wait'`, awaited.
 *
 * A fresh process, because a detached child is started by a full fork of its
 * spawner, whose page tables are copied: the bench's own process, grown by
 * the other contenders' client processes (to 280 MB over case 1), would add
 * its size to bgtask's and the floor's figures.
 *
 * @module
 */

import { TaskManager } from "../../mod.ts";
import { pool, quiet } from "../lib/proc.ts";

const [mode, dir] = [Deno.args[0], Deno.args[4]];
const [n, parallel, mb] = Deno.args.slice(1, 4).map(Number);
const held: Uint8Array[] = [];
for (let i = 0; i < mb; i++) held.push(new Uint8Array(1 << 20).fill(1));
const tasks = new TaskManager({ dir });
await tasks.list(); // opens the store outside the timing
const t0 = performance.now();
await pool(n, parallel, async () => {
  if (mode === "bgtask") {
    const t = await tasks.spawnShell("true");
    const info = await tasks.wait(t.id);
    if (info.status !== "completed") throw new Error(`task ${t.id} ended ${info.status}`);
  } else {
    const code = await quiet("bash", ["-c", "bash -c true & wait"], { detached: true });
    if (code !== 0) throw new Error(`floor exited ${code}`);
  }
});
const ms = (performance.now() - t0) / n;
console.log(JSON.stringify({ ms, rssMB: Deno.memoryUsage().rss / 1e6, held: held.length }));
