/**
 * One of several processes removing tasks from one store at the same moment;
 * run by tests/correctness_concurrent_clean_test.ts.
 *
 *   deno run … clean_child.ts STORE GO MODE [IDS…]
 *     MODE clean    TaskManager.clean()
 *     MODE remove   TaskManager.remove() of each id (in the given order)
 *     MODE cli      the CLI's `clean --json`, in this process (its main())
 *
 * Says it is ready (creates GO.ready.PID once loaded), then waits until the
 * file GO exists, so that all of them start together. Prints
 * one JSON line on stderr: `{ removed: ids, errors: ["Name: message"] }`
 * (for `remove`, TaskNotFoundError is listed apart, under `notFound`).
 * `BGTASK_MOD` / `BGTASK_CLI` may name another checkout's mod.ts / cli.ts.
 *
 * @module
 */

const [dir, go, mode, ...ids] = Deno.args;
const MOD = Deno.env.get("BGTASK_MOD") || new URL("../../mod.ts", import.meta.url).href;
const CLI = Deno.env.get("BGTASK_CLI") || new URL("../../cli.ts", import.meta.url).href;
const { TaskManager } = await import(MOD);
const { main } = mode === "cli" ? await import(CLI) : { main: undefined };

Deno.writeTextFileSync(`${go}.ready.${Deno.pid}`, "");
for (;;) {
  try {
    Deno.lstatSync(go);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 1));
  }
}

const removed: string[] = [];
const errors: string[] = [];
const notFound: string[] = [];
const say = (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`;
const tasks = new TaskManager({ dir });
try {
  if (mode === "clean") {
    for (const t of await tasks.clean()) removed.push(t.id);
  } else if (mode === "remove") {
    for (const id of ids) {
      try {
        removed.push((await tasks.remove(id)).id);
      } catch (e) {
        if ((e as Error).name === "TaskNotFoundError") notFound.push(id);
        else errors.push(say(e));
      }
    }
  } else {
    // The CLI prints its JSON on stdout; its errors go to stderr before ours.
    const code = await main(["--dir", dir, "clean", "--json"]);
    if (code !== 0) errors.push(`exit code ${code}`);
  }
} catch (e) {
  errors.push(say(e));
}
console.error(JSON.stringify({ removed, errors, notFound }));
