/**
 * Case 1's child for the spawner's memory: a fresh process that first holds
 * `MB` megabytes (touched, so resident), then spawns N tasks of `true` one at
 * a time, each awaited, and prints `{ ms, rssMB }` as JSON: wall time per
 * task and its resident memory while it spawned.
 *
 * Usage: `spawn_child.ts bgtask|floor N MB STORE`
 * - bgtask: `spawnShell("true")` then `wait(id)`, in a store made beforehand.
 * - floor: a detached `bash -c 'bash -c true & wait'`, awaited (case 1's floor).
 *
 * @module
 */

import { TaskManager } from "../../mod.ts";

const [mode, n, mb, dir] = [Deno.args[0], Number(Deno.args[1]), Number(Deno.args[2]), Deno.args[3]];
// Held in 1 MiB buffers, every page written: resident, as a busy server's heap is.
const held: Uint8Array[] = [];
for (let i = 0; i < mb; i++) held.push(new Uint8Array(1 << 20).fill(1));
const tasks = new TaskManager({ dir });
await tasks.list(); // opens the store outside the timing
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  if (mode === "bgtask") {
    const t = await tasks.spawnShell("true");
    const info = await tasks.wait(t.id);
    if (info.status !== "completed") throw new Error(`task ${t.id} ended ${info.status}`);
  } else {
    const { code } = await new Deno.Command("bash", {
      args: ["-c", "bash -c true & wait"],
      detached: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn().status;
    if (code !== 0) throw new Error(`floor exited ${code}`);
  }
}
const ms = (performance.now() - t0) / n;
const rssMB = Deno.memoryUsage().rss / 1e6;
console.log(JSON.stringify({ ms, rssMB, held: held.length }));
