/**
 * Case 3's cross-process listener: follows `completions()` of a store that
 * another process spawns tasks into, and prints `ID EPOCH_MS` (the moment
 * each completion was yielded, sub-millisecond) per line. Prints `ready` once
 * it listens; stops when its stdin closes.
 *
 * Usage: `listener.ts STORE`
 *
 * @module
 */

import { TaskManager } from "../../mod.ts";

const tasks = new TaskManager({ dir: Deno.args[0] });
const stop = new AbortController();
(async () => {
  for await (const _ of Deno.stdin.readable) { /* until closed */ }
  stop.abort();
})();
const encoder = new TextEncoder();
const say = (s: string) => Deno.stdout.writeSync(encoder.encode(s + "\n"));
const completions = tasks.completions({ signal: stop.signal });
const first = completions.next(); // starts the watcher
say("ready");
for (let r = await first; !r.done; r = await completions.next()) {
  say(`${r.value.id} ${performance.timeOrigin + performance.now()}`);
}
