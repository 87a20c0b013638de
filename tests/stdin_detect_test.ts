/**
 * How bgtask decides that a task waits for input (waitingForInput, wait until
 * "input"), on a pipe and on a terminal: a read on a worker thread counts; a
 * poll that also waits on a socket does not; on a terminal, a prompt counts
 * while the task keeps printing.
 */

import { assertEquals } from "./_helpers/assert.ts";
import { withStore } from "./_helpers/common.ts";

const noCr = (s: string) => s.replaceAll("\r", "");
const enter = (stdin: "pipe" | "pty") => stdin === "pty" ? "\r" : "\n";

Deno.test("a read of stdin on a worker thread is waiting for input (the main thread waits in a join)", async () => {
  await withStore(async (tasks) => {
    for (const stdin of ["pipe", "pty"] as const) {
      const t = await tasks.spawnShell(
        `python3 -c 'import threading; t = threading.Thread(target=lambda: print("got", input())); t.start(); t.join()'`,
        { stdin },
      );
      const w = await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(10_000) });
      assertEquals([w.status, w.waitingForInput], ["running", true], stdin);
      await tasks.writeStdin(t.id, "x" + enter(stdin));
      const done = await tasks.wait(t.id, { signal: AbortSignal.timeout(10_000) });
      assertEquals(done.status, "completed", stdin);
      assertEquals(noCr(await tasks.readOutput(t.id)), stdin === "pty" ? "x\ngot x\n" : "got x\n");
    }
  });
});
