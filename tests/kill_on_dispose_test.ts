/**
 * `killOnDispose` holds when the process never disposes of its manager: a
 * `deno test` stopped by Ctrl-C exits without running its tests' disposals
 * (found by a library user's pass: the servers its tests started ran on).
 * Each task records its spawner, and its watchdog ends it once that process
 * is gone; a task still waiting for its turn never runs.
 */

import { assert, assertEquals, assertRejects } from "./_helpers/assert.ts";
import { TaskManager } from "../mod.ts";
import { gate, groupMembers, MOD, until, withStore } from "./_helpers/common.ts";

const GONE =
  /^killed: the process that spawned it with killOnDispose \(pid \d+\) ended without closing its TaskManager$/;

Deno.test("killOnDispose: a deno test stopped by Ctrl-C leaves nothing running: its running task is killed, its queued one never runs", async () => {
  await withStore(async (tasks, dir) => {
    const suite = await Deno.makeTempFile({ prefix: "bgtask-suite-", suffix: "_test.ts" });
    await Deno.writeTextFile(
      suite,
      `import { TaskManager } from ${JSON.stringify(MOD)};
Deno.test("a server", async () => {
  await using tasks = new TaskManager({ dir: ${JSON.stringify(dir)}, killOnDispose: true });
  const server = await tasks.spawnShell("echo listening; sleep 300", { queue: "q" });
  await tasks.spawnShell("echo ran", { queue: "q" });
  await Deno.writeTextFile(${JSON.stringify(`${dir}/ready`)}, server.id);
  await tasks.wait(server.id);
});
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", suite],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await until(
        () => {
          try {
            return Deno.readTextFileSync(`${dir}/ready`);
          } catch {
            return "";
          }
        },
        "the test to start its server",
        60_000,
      );
      const [server, queued] = ["b1", "b2"];
      const running = await until(async () => (await tasks.getStatus(server))?.pid, "its pid");
      child.kill("SIGINT");
      const status = await child.status;
      assert(!status.success, "deno test ended as if nothing had stopped it");
      const info = await tasks.wait(server, { signal: AbortSignal.timeout(15_000) });
      assertEquals([info.status, info.reason], ["killed", "killed"]);
      assert(GONE.test(info.error ?? ""), info.error ?? "");
      assertEquals(groupMembers(running), []);
      const next = await tasks.wait(queued, { signal: AbortSignal.timeout(15_000) });
      assertEquals([next.status, next.startedAt], ["killed", null]);
      assert(GONE.test(next.error ?? ""), next.error ?? "");
      assertEquals(await tasks.readOutput(queued), "");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // ended
      }
      await child.status;
      await Deno.remove(suite);
    }
  });
});

Deno.test("killOnDispose: a script that exits without closing its manager ends that manager's tasks, not another's", async () => {
  await withStore(async (tasks, dir) => {
    // A script that spawns with and without killOnDispose, then exits without closing.
    const script = await Deno.makeTempFile({ prefix: "bgtask-script-", suffix: ".ts" });
    await Deno.writeTextFile(
      script,
      `import { TaskManager } from ${JSON.stringify(MOD)};
const bound = new TaskManager({ dir: ${JSON.stringify(dir)}, killOnDispose: true });
const free = new TaskManager({ dir: ${JSON.stringify(dir)} });
await bound.spawnShell("sleep 300");
await free.spawnShell(${JSON.stringify(gate(`${dir}/go`))});
`,
    );
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script],
        stdin: "null",
      }).output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      const bound = await tasks.wait("b1", { signal: AbortSignal.timeout(15_000) });
      assertEquals(bound.status, "killed");
      assertEquals((await tasks.getStatus("b2"))?.status, "running");
      await Deno.writeTextFile(`${dir}/go`, "");
      assertEquals((await tasks.wait("b2")).status, "completed");
    } finally {
      await Deno.remove(script);
    }
  });
});

Deno.test("killOnDispose: close ends only this manager's own tasks: not another's that took the same id in a store made again", async () => {
  await withStore(async (_tasks, dir) => {
    const old = new TaskManager({ dir, killOnDispose: true });
    const first = await old.spawnShell("sleep 30");
    await old.kill(first.id, { graceMs: 0 });
    // The store deleted and made again: its ids start anew.
    await Deno.remove(dir, { recursive: true });
    const fresh = new TaskManager({ dir });
    const other = await fresh.spawnShell("sleep 30.0517", { description: "someone else's" });
    assertEquals(other.id, first.id);
    await old.close();
    assertEquals((await fresh.getStatusOrThrow(other.id)).status, "running");
    await fresh.kill(other.id, { graceMs: 0 });
    await fresh.close();
  });
});

Deno.test("killOnDispose: close gives each task the grace it was spawned with", async () => {
  await withStore(async (_tasks, dir) => {
    const tasks = new TaskManager({ dir, killOnDispose: true });
    const t = await tasks.spawnShell("trap '' TERM; echo up; sleep 300", { graceMs: 150 });
    await tasks.waitForLine(t.id, /up/);
    await tasks.close();
    const ended = await new TaskManager({ dir }).getStatusOrThrow(t.id);
    assertEquals(ended.status, "killed");
    assert(ended.error?.includes("after 150 ms"), ended.error ?? "");
  });
});

Deno.test("killOnDispose: close waits for the spawns under way and ends their tasks too; a spawn after it is refused", async () => {
  await withStore(async (tasks, dir) => {
    const mine = new TaskManager({ dir, killOnDispose: true });
    // (Deaf to SIGTERM: each kill lasts its whole grace, 2 s, which a second close must wait out.)
    const spawning = Promise.all(
      [1, 2, 3, 4, 5].map(() => mine.spawnShell("trap '' TERM; sleep 30")),
    );
    const first = mine.close(); // (while they are under way)
    await mine.close(); // a second close resolves only once the first is done:
    const statuses = await tasks.list({ status: ["running", "killed"] });
    const started = await spawning;
    assertEquals(statuses.map((t) => [t.id, t.status]), started.map((t) => [t.id, "killed"]));
    await first;
    await assertRejects(
      () => mine.spawnShell("true"),
      Error,
      /this TaskManager was closed \(killOnDispose/,
    );
  });
});
