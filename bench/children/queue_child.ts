/**
 * Case 8's child: one repetition of bgtask's contender, in a process of its
 * own, as a user's script would run it: N tasks of `true` spawned by one loop
 * into a queue of P slots, then all awaited. Prints the count of tasks that
 * completed.
 *
 * A fresh process per repetition, as GNU parallel, `xargs` and tsp's clients
 * are: the bench's own process grows with the other contenders' client
 * processes (to 390 MB over case 8's runs), and a detached spawn copies the
 * spawner's page tables (see BENCHMARKS.md, "Spawns measured in a process
 * of their own"), so bgtask's figure would carry the bench's memory.
 *
 * Usage: `queue_child.ts N P STORE` (the store and its queue already made)
 *
 * @module
 */

import { TaskManager } from "../../mod.ts";

const [n, slots, dir] = [Number(Deno.args[0]), Number(Deno.args[1]), Deno.args[2]];
const tasks = new TaskManager({ dir });
const ids = [];
for (let i = 0; i < n; i++) ids.push((await tasks.spawnShell("true", { queue: "q" })).id);
let completed = 0;
for (const id of ids) {
  const t = await tasks.wait(id);
  if (t.status === "completed") completed++;
  // (On stderr, for the bench's error: a task that did not complete, and why.)
  else console.error(JSON.stringify(t));
}
if ((await tasks.getQueues()).find((q) => q.name === "q")?.parallel !== slots) {
  throw new Error(`queue q does not run ${slots} at a time`);
}
console.log(completed);
