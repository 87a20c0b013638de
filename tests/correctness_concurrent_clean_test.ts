/**
 * Issue 10, fault 4: every missing file read as "store does not exist (was
 * it removed?)". Two `clean` at once failed in 3 of 5 rounds (one deleted a
 * folder the other was deleting), and a running task whose `output` was
 * deleted gave the same message for `logs`.
 *
 * Now concurrent `clean` and `remove` are idempotent — a task removed by
 * someone else meanwhile is never an error of `clean`, and is reported by
 * the one call that removed it (two cleans at once both reported a share of
 * the same tasks: a terminal-user pass; `remove` of a task gone meanwhile is
 * a TaskNotFoundError, as documented) — and each message names what is
 * actually missing.
 */

import assert from "node:assert/strict";
import { StoreError, TaskManager, TaskNotFoundError } from "../mod.ts";
import { cli } from "./cli_helpers.ts";
import { HEAVY, reapStore, ROOT, until, withStore, withTempDir } from "./_helpers/reliability.ts";

const CHILD = new URL("./_helpers/clean_child.ts", import.meta.url).pathname;
const ROUNDS = HEAVY ? 20 : 5;
const TASKS = HEAVY ? 40 : 24;

interface ChildReport {
  removed: string[];
  errors: string[];
  notFound: string[];
}

function startChild(dir: string, go: string, mode: string, ids: string[] = []): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CHILD, dir, go, mode, ...ids],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function report(child: Deno.ChildProcess, what: string): Promise<ChildReport> {
  const out = await child.output();
  const dec = new TextDecoder();
  const err = dec.decode(out.stderr).trim().split("\n");
  assert.equal(out.code, 0, `${what} exited with ${out.code}:\n${err.join("\n")}`);
  const r: ChildReport = JSON.parse(err.at(-1)!);
  // Anything the CLI said on stderr besides the report is an error it printed.
  r.errors.push(...err.slice(0, -1).filter((l) => l !== ""));
  if (what === "cli") {
    r.removed = JSON.parse(dec.decode(out.stdout)).map((t: { id: string }) => t.id);
  }
  return r;
}

/** TASKS finished tasks: completed and failed, two of them with commands kept in command.sh. */
async function finishedTasks(tasks: TaskManager): Promise<string[]> {
  const long = `: ${"x".repeat(110 * 1024)}; `;
  const ids: string[] = [];
  for (let i = 0; i < TASKS; i++) {
    const cmd = (i < 2 ? long : "") + (i % 3 === 0 ? "exit 2" : "echo done");
    ids.push((await tasks.spawnShell(cmd)).id);
  }
  for (const id of ids) await tasks.wait(id, { signal: AbortSignal.timeout(30_000) });
  return ids;
}

Deno.test(`concurrent clean: ${ROUNDS} rounds of four processes (clean ×2, the CLI's clean, remove of each id) on ${TASKS} tasks at once — no errors, every task reported removed by exactly one of them`, async () => {
  await withStore("clean-race", async (tasks, dir) => {
    const goDir = await Deno.makeTempDir({ prefix: "bgtask-rel-clean-race-go-" });
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const ids = await finishedTasks(tasks);
        const go = `${goDir}/go-${round}`;
        const shuffled = [...ids].sort(() => Math.random() - 0.5);
        const children = [
          ["clean", startChild(dir, go, "clean")],
          ["clean", startChild(dir, go, "clean")],
          ["cli", startChild(dir, go, "cli")],
          ["remove", startChild(dir, go, "remove", shuffled)],
        ] as const;
        // Once they have all loaded (each says so), start them at once.
        const ready = () =>
          [...Deno.readDirSync(goDir)].filter((e) => e.name.startsWith(`go-${round}.ready.`))
            .length;
        await until(() => ready() === children.length, "the four processes to load", 60_000);
        await Deno.writeTextFile(go, "");
        const reports = [];
        for (const [what, child] of children) reports.push(await report(child, what));
        const where = `round ${round + 1}: ${JSON.stringify(reports)}`;
        for (const r of reports) assert.deepEqual(r.errors, [], where);
        const removed = reports.flatMap((r) => r.removed);
        assert.deepEqual(
          removed.toSorted(),
          [...ids].sort(),
          `every task is reported removed, once: ${where}`,
        );
        // remove() of a task someone else removed first says "no such task", nothing else.
        const byRemove = new Set([...reports[3].removed, ...reports[3].notFound]);
        assert.equal(byRemove.size, ids.length, where);
        assert.deepEqual(await tasks.list(), [], where);
        for (const id of ids) assert.equal(await tasks.getStatus(id), undefined);
        // Nothing is left of them, and their ids are never issued again.
        assert.deepEqual([...Deno.readDirSync(`${dir}/tasks`)].map((e) => e.name), [], where);
      }
    } finally {
      await Deno.remove(goDir, { recursive: true });
    }
    const next = await tasks.spawnShell("true");
    assert.equal(next.id, `b${ROUNDS * TASKS + 1}`);
    await tasks.wait(next.id);
  });
});

Deno.test("missing files: each message names what is missing — a running task's deleted output, a removed task, a removed store", async () => {
  await withTempDir("missing", async (tmp) => {
    const dir = `${tmp}/store`;
    const go = `${tmp}/go`;
    const tasks = new TaskManager({ dir });
    try {
      const running = await tasks.spawnShell(`echo up; while [ ! -e "$GO" ]; do sleep 0.01; done`, {
        env: { GO: go },
      });
      await until(async () => (await tasks.readOutput(running.id)) === "up\n", "the task to start");
      await Deno.remove(running.outputFile);
      // Library: a StoreError naming the output file, not the store.
      const noOutput = (e: Error) =>
        e instanceof StoreError && e.message.includes(running.outputFile) &&
        /no output file/.test(e.message) && !/does not exist \(was it removed\?\)/.test(e.message);
      await assert.rejects(tasks.readOutput(running.id), noOutput);
      await assert.rejects(tasks.tailOutput(running.id, 5), noOutput);
      await assert.rejects(tasks.readOutputChunk(running.id), noOutput);
      // CLI: the same, on one line; status still works.
      const logs = await cli(dir, ["logs", running.id]);
      assert.equal(logs.code, 1, logs.stderr);
      assert.ok(logs.stderr.includes(running.outputFile), logs.stderr);
      assert.doesNotMatch(logs.stderr, /Store .* does not exist/);
      const st = await cli(dir, ["status", running.id, "--json"]);
      assert.equal(st.code, 0, st.stderr);
      assert.equal(JSON.parse(st.stdout).status, "running");
      await Deno.writeTextFile(go, "");
      await tasks.wait(running.id, { signal: AbortSignal.timeout(10_000) });

      // A removed task: "was removed", naming it.
      await tasks.remove(running.id);
      await assert.rejects(
        tasks.readOutput(running.id),
        (e: Error) => e instanceof TaskNotFoundError && e.message.includes(running.id),
      );
      const gone = await cli(dir, ["logs", running.id]);
      assert.match(gone.stderr, new RegExp(`task ${running.id} was removed`, "i"));
      assert.doesNotMatch(gone.stderr, /does not exist \(was it removed\?\)/);

      // The whole store removed: that, and only that, says the store does not exist.
      await Deno.remove(dir, { recursive: true });
      await assert.rejects(
        tasks.readOutput("b1"),
        (e: Error) =>
          e instanceof StoreError && e.message.includes(dir) && /does not exist/.test(e.message),
      );
    } finally {
      await Deno.writeTextFile(go, "");
      await reapStore(dir, 3000);
    }
  });
});
