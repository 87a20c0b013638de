/**
 * The shared-store pid namespace tests' program (tests/correctness_pidns_share_test.ts),
 * run in a pid namespace other than the test's, on the test's store:
 *
 *   start DIR        spawns b1 (in queue w, 1 at a time: waits for DIR/go, then exits 7) and b2 (a tree:
 *                    `sleep 300 & sleep 301`, and a job in a group of its own, a
 *                    stray), says DIR/ready, and leaves once both have ended (60 s at
 *                    most): the namespace lives as long as they run.
 *   hold DIR         spawns b1 (`sleep 300`), says DIR/ready, and waits to be ended
 *                    (with its namespace).
 *   look DIR ID      looks at the test's task ID (list, getStatus, each of the other
 *                    tasks of the store too) and tries to kill and pause it; prints a
 *                    JSON report.
 *   killall DIR      spawns a task of its own (`sleep 300`), then runs `bgtask kill
 *                    --all` (the CLI, here) and prints a JSON report: the CLI's exit
 *                    code, stdout and stderr, and its own task's status after.
 *   killqueue DIR    spawns a task of its own into queue q (`sleep 300`), then kills
 *                    the queue's tasks (killQueue) and prints a JSON report: the
 *                    error thrown, and its own task's status after.
 *
 * `BGTASK_MOD` may name another mod.ts (an old checkout, to see the tests fail there).
 *
 * @module
 */

const MOD = Deno.env.get("BGTASK_MOD") || new URL("../../mod.ts", import.meta.url).href;
// deno-lint-ignore no-explicit-any
const { TaskManager } = await import(MOD) as { TaskManager: any };

const [mode, dir, id] = Deno.args;
const tm = new TaskManager({ dir });

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

if (mode === "start") {
  const go = `${dir}/go`;
  await tm.spawnShell(`while [ ! -e '${go}' ]; do sleep 0.05; done; exit 7`, { queue: "w" });
  await tm.spawnShell("set -m; sleep 302 & set +m; sleep 300 & sleep 301");
  Deno.writeTextFileSync(`${dir}/ready`, "");
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const done = ["b1", "b2"].map((t) => {
      try {
        return Deno.statSync(`${dir}/tasks/${t}/final.json`).isFile;
      } catch {
        return false;
      }
    });
    if (done.every(Boolean)) break;
    await sleep(50);
  }
  await tm.close();
} else if (mode === "hold") {
  await tm.spawnShell("sleep 300");
  Deno.writeTextFileSync(`${dir}/ready`, "");
  for (;;) await sleep(1000);
} else if (mode === "look") {
  const listed = (await tm.list()).map((t: { id: string; status: string }) =>
    `${t.id} ${t.status}`
  );
  const status = (await tm.getStatus(id))?.status;
  let kill = "none";
  try {
    const t = await tm.kill(id, { graceMs: 100 });
    kill = `no error: ${t.status}`;
  } catch (e) {
    kill = errorOf(e);
  }
  let pause = "none";
  try {
    const t = await tm.pause(id);
    pause = `no error: ${t.status}`;
  } catch (e) {
    pause = errorOf(e);
  }
  console.log(JSON.stringify({ listed, status, kill, pause }));
  await tm.close();
} else if (mode === "killall") {
  const own = await tm.spawnShell("sleep 300");
  const cli = MOD.replace(/mod\.ts$/, "cli.ts");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "--dir", dir, "kill", "--all", "--grace", "0"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  console.log(JSON.stringify({
    code: out.code,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr),
    own: own.id,
    status: (await tm.getStatus(own.id))?.status,
  }));
  await tm.close();
} else if (mode === "killqueue") {
  const own = await tm.spawnShell("sleep 300", { queue: "q" });
  let error = "none";
  try {
    await tm.killQueue("q", { graceMs: 0 });
  } catch (e) {
    error = errorOf(e);
  }
  console.log(JSON.stringify({ error, own: own.id, status: (await tm.getStatus(own.id))?.status }));
  await tm.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
