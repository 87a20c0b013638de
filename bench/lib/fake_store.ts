/**
 * Builds large stores fast for case 4. One real task is run through
 * bgtask (so every record is exactly what the supervisor writes), then its
 * finished folder is replicated N−1 times, following the layout in
 * src/store/fs/layout.ts:
 *
 * - `tasks/b<N>/` (0700) gets copies of `started`, `output`, `final.json` and
 *   `notes`, and a `spec` whose `id` is rewritten to `b<N>`;
 * - `next` holds N (the id hint; `ids/` keeps removed ids' tombstones only,
 *   so it stays empty);
 * - every task is in `completions.log` and marked delivered to the default
 *   consumer (`tasks/b<N>/delivered.default`, its cursor at the end of the
 *   log), the state of a store whose completions were all consumed;
 * - `active/` is left empty: every task has finished.
 *
 * {@linkcode markPending} makes every completion pending again for the drain
 * measurement; a full drain puts the store back in its delivered state.
 *
 * @module
 */

import { join } from "node:path";
import { TaskManager } from "../../mod.ts";
import { formatSpec, parseSpec } from "../../src/store/records.ts";

const FILES = ["started", "output", "final.json", "notes"];
const DONE = new TextEncoder().encode("done\n");

/** Creates a store of `n` finished, delivered tasks in `dir` (which must not exist or be empty). */
export async function buildStore(dir: string, n: number): Promise<void> {
  const tasks = new TaskManager({ dir });
  const seed = await tasks.spawnShell("echo hello", { description: "seed" });
  await tasks.wait(seed.id);
  if (seed.id !== "b1") throw new Error(`expected a fresh store, got ${seed.id}`);
  await tasks.drainCompletions(); // marks b1 delivered and moves the cursor past it
  const src = join(dir, "tasks", "b1");
  const copies = FILES.map((f) => [f, Deno.readFileSync(join(src, f))] as const);
  const spec = parseSpec(Deno.readTextFileSync(join(src, "spec")))!;
  const log = ["b1"];
  for (let i = 2; i <= n; i++) {
    const id = `b${i}`;
    const tdir = join(dir, "tasks", id);
    Deno.mkdirSync(tdir, { mode: 0o700 });
    for (const [f, bytes] of copies) Deno.writeFileSync(join(tdir, f), bytes, { mode: 0o600 });
    Deno.writeTextFileSync(join(tdir, "spec"), formatSpec({ ...spec, id }), { mode: 0o600 });
    Deno.writeFileSync(join(tdir, "delivered.default"), DONE, { mode: 0o600 });
    log.push(id);
  }
  const text = log.join("\n") + "\n";
  Deno.writeTextFileSync(join(dir, "completions.log"), text, { mode: 0o600 });
  Deno.writeTextFileSync(join(dir, "consumers", "default", "cursor"), `${text.length}\n`);
  Deno.writeTextFileSync(join(dir, "next"), `${n}\n`);
}

/** Makes every task's completion pending again for the default consumer. */
export function markPending(dir: string, n: number): void {
  for (let i = 1; i <= n; i++) {
    try {
      Deno.removeSync(join(dir, "tasks", `b${i}`, "delivered.default"));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  Deno.writeTextFileSync(join(dir, "consumers", "default", "cursor"), "0\n");
}

/** The number of tasks a store's `tasks/` folder holds. */
export function countTasks(dir: string): number {
  let n = 0;
  for (const _ of Deno.readDirSync(join(dir, "tasks"))) n++;
  return n;
}
