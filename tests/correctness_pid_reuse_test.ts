/**
 * Issue 10, fault 2: pids reused while bgtask still cares about them. With
 * pid allocation steered through ns_last_pid, bgtask 0.1 left tasks
 * "running" forever (its supervisor waited on `kill -0 PID`, which a reused
 * pid answers), recorded exit codes wrong, and its after-exit group kill
 * SIGTERMed whatever process got the task's pid next: another task, or
 * another spawn's launcher ("bash exited with code 143").
 *
 * Both tests run inside a pid namespace of their own (tests/_helpers/pidns.ts):
 * steering pids there cannot hand another test's processes a reused pid, and
 * the kernel ends whatever they leave.
 */

import assert from "node:assert/strict";
import { HEAVY } from "./_helpers/reliability.ts";
import { pidNamespaceUnavailable, runInPidNamespace } from "./_helpers/pidns.ts";

const CHILD = new URL("./_helpers/pid_reuse_child.ts", import.meta.url).pathname;
const noNamespace = await pidNamespaceUnavailable();

const TASKS = HEAVY ? 400 : 100;
const STEER_MS = HEAVY ? 20_000 : 8_000;

interface StressReport {
  spawned: number;
  spawnMs: number;
  steeredMs: number;
  reusedPids: number;
  spawnErrors: string[];
  wrong: string[];
  stuck: string[];
  leftover: string[];
}

Deno.test({
  name: `pid reuse: ${TASKS} short tasks spawned while pids are steered for ${
    STEER_MS / 1000
  } s all end with their exact exit, none stuck, no spawn fails, nothing left${
    noNamespace ? ` (skipped: ${noNamespace})` : ""
  }`,
  ignore: noNamespace !== undefined,
  async fn() {
    const run = await runInPidNamespace(CHILD, ["stress", String(TASKS), String(STEER_MS)], {
      signal: AbortSignal.timeout(STEER_MS + 60_000),
    });
    assert.equal(run.code, 0, `the namespace's script failed:\n${run.stderr}`);
    const r: StressReport = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
    const summary = JSON.stringify(r, null, 1);
    assert.deepEqual(r.spawnErrors, [], summary);
    assert.deepEqual(r.wrong, [], summary);
    assert.deepEqual(r.stuck, [], summary);
    assert.deepEqual(r.leftover, [], summary);
    assert.equal(r.spawned, TASKS, summary);
    // The steering worked: task pids really were handed out again.
    assert.ok(r.reusedPids >= TASKS / 4, `only ${r.reusedPids} task pids were reused: ${summary}`);
  },
});

Deno.test({
  name:
    `pid reuse: a dead task's pid placed on a live process (ns_last_pid, in a pid namespace): the task reads lost, kill() spares the process${
      noNamespace
        ? HEAVY
          ? " (no namespace: pid space cycled instead)"
          : ` (skipped: ${noNamespace}; BGTASK_HEAVY=1 cycles the pid space instead)`
        : ""
    }`,
  ignore: noNamespace !== undefined && !HEAVY,
  async fn() {
    if (noNamespace === undefined) {
      const run = await runInPidNamespace(CHILD, ["reuse", "place"], {
        signal: AbortSignal.timeout(60_000),
      });
      assert.equal(run.code, 0, `the namespace's script failed:\n${run.stderr}`);
      return;
    }
    // Cycling through the pid space steers nothing: it only uses pids up.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", CHILD, "reuse", "cycle"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(180_000),
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  },
});
