/**
 * The pid-reuse tests' program, run by tests/correctness_pid_reuse_test.ts
 * inside a pid namespace of its own (see pidns.ts): it steers pid allocation
 * there, which would hand reused pids to other tests' processes if it ran
 * outside. It refuses to steer unless it is in its own namespace.
 *
 *   stress TASKS STEER_MS   spawns TASKS short tasks (a few at a time) while a
 *                           steerer keeps writing ns_last_pid, so that every new
 *                           process gets the lowest free pid: a task's pid goes to
 *                           the next process forked anywhere in the namespace the
 *                           moment it is reaped. Prints a JSON report.
 *   reuse place|cycle       a dead task's pid given to a live process (placed with
 *                           ns_last_pid, or found by cycling through the pid space):
 *                           the task reads as lost and kill() spares the process.
 *
 * `BGTASK_MOD` may name another mod.ts (e.g. an old checkout, to see a test fail there).
 *
 * @module
 */

import assert from "node:assert/strict";
import { runBash } from "../../src/supervisor/bash.ts";
import { assertOwnPidNamespace, otherProcesses } from "./pidns.ts";

const MOD = Deno.env.get("BGTASK_MOD") || new URL("../../mod.ts", import.meta.url).href;
// deno-lint-ignore no-explicit-any
const { TaskManager } = await import(MOD) as { TaskManager: any };
const LAST_PID = "/proc/sys/kernel/ns_last_pid";
const decoder = new TextDecoder();

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until<T>(check: () => T | undefined | false, what: string, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

function stat(pid: number): { state: string; pgrp: number; start: string } | undefined {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { state: f[0], pgrp: Number(f[2]), start: f[19] };
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => (stat(pid)?.state ?? "Z") !== "Z";

function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const st = stat(Number(e.name));
    if (st && st.pgrp === pgid && st.state !== "Z") out.push(Number(e.name));
  }
  return out;
}

function started(dir: string, id: string): { sup: number; task: number } | undefined {
  try {
    const w = Deno.readTextFileSync(`${dir}/tasks/${id}/started`).split("\n")[0].split(" ");
    return w.length >= 5 ? { sup: Number(w[0]), task: Number(w[2]) } : undefined;
  } catch {
    return undefined;
  }
}

function kill(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // gone
  }
}

/** What each task runs, and how it must end. */
function taskFor(i: number): { command: string; status: string; exitCode: number } {
  switch (i % 5) {
    case 0:
      return { command: "true", status: "completed", exitCode: 0 };
    case 1:
      return { command: "exit 3", status: "failed", exitCode: 3 };
    case 2:
      // An exit code that looks like SIGTERM's must not read as a signal.
      return { command: "exit 143", status: "failed", exitCode: 143 };
    case 3:
      // A child left in the group ends with the task.
      return { command: "sleep 0.2 & sleep 0.02", status: "completed", exitCode: 0 };
    default:
      return { command: "echo $BGTASK_TASK_ID; exit 1", status: "failed", exitCode: 1 };
  }
}

/** A task folder's records, for the report of a task that ended wrong. */
function records(folder: string): string {
  return [...Deno.readDirSync(folder)].map((e) => {
    let text = "";
    try {
      text = Deno.readTextFileSync(`${folder}/${e.name}`).slice(0, 400);
    } catch {
      text = "(unreadable)";
    }
    return `${e.name}=${JSON.stringify(text)}`;
  }).join(" | ");
}

async function stress(total: number, steerMs: number): Promise<void> {
  assertOwnPidNamespace();
  const dir = await Deno.makeTempDir({ prefix: "bgtask-pidns-stress-" });
  const tasks = new TaskManager({ dir });
  // Every new process gets the lowest free pid: a pid is reused the moment it is freed.
  const steerer = new Deno.Command("bash", {
    args: [
      "-c",
      `exec {n}<> <(:); while :; do echo 1 > ${LAST_PID} || exit 1; read -t 0.001 -u $n; done`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const t0 = Date.now();
  const spawnErrors: string[] = [];
  const ids: { id: string; i: number; pid: number | null }[] = [];
  let next = 0;
  const spawner = async () => {
    while (next < total) {
      const i = next++;
      try {
        const t = await tasks.spawnShell(taskFor(i).command);
        ids.push({ id: t.id, i, pid: t.pid });
      } catch (e) {
        spawnErrors.push(`task ${i}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, spawner));
  const spawnMs = Date.now() - t0;
  // Keep steering while the last ones end (and for at least steerMs in all).
  const waits = ids.map(({ id }) =>
    tasks.wait(id, { signal: AbortSignal.timeout(Math.max(15_000, steerMs)) }).then(
      // deno-lint-ignore no-explicit-any
      (info: any) => info,
      (e: Error) => e,
    )
  );
  const steerUntil = t0 + steerMs;
  while (Date.now() < steerUntil) await sleep(50);
  const steeredMs = Date.now() - t0;
  const results = await Promise.all(waits);
  kill(steerer.pid, "SIGKILL");
  await steerer.status;

  const wrong: string[] = [];
  const stuck: string[] = [];
  const seen = new Map<number, number>();
  let reusedPids = 0;
  for (let k = 0; k < ids.length; k++) {
    const { id, i, pid } = ids[k];
    const want = taskFor(i);
    const got = results[k];
    if (pid !== null) {
      if (seen.has(pid)) reusedPids++;
      seen.set(pid, (seen.get(pid) ?? 0) + 1);
    }
    if (got instanceof Error) {
      const now = await tasks.getStatus(id).catch(() => undefined);
      stuck.push(`${id} (${want.command}): ${got.message}; now ${now?.status}`);
      continue;
    }
    if (got.status !== want.status || got.exitCode !== want.exitCode || got.signal !== null) {
      wrong.push(
        `${id} (${want.command}): ${got.status} exitCode ${got.exitCode} signal ${got.signal} ` +
          `${got.error} :: pid ${ids[k].pid} :: ${records(`${dir}/tasks/${id}`)}`,
      );
    }
  }
  // Nothing of any task may be left: every process but init and us ends on its own.
  let leftover: string[] = [];
  try {
    await until(() => otherProcesses().length === 0, "the tasks' processes to end", 5000);
  } catch {
    leftover = otherProcesses();
  }
  console.log(JSON.stringify({
    spawned: ids.length,
    spawnMs,
    steeredMs,
    reusedPids,
    spawnErrors,
    wrong,
    stuck,
    leftover,
  }));
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/** Puts a process on pid `target` and returns it alive, or undefined. */
async function holdPid(target: number, place: boolean): Promise<number | undefined> {
  // runBash: Deno's stray SIGKILL to a reaped child's pid would land on
  // whatever has that pid by then, in this namespace of reused pids.
  const out = await runBash({
    args: [
      "-c",
      `T=$1 PLACE=$2
      try() {
        ( [[ $BASHPID == "$T" ]] && exec sleep 300 ) >/dev/null 2>&1 & p=$!
        if [[ $p == "$T" ]]; then echo "$p"; exit 0; fi
        wait "$p"
      }
      if (( PLACE )); then
        for (( i = 0; i < 500; i++ )); do
          echo $(( T - 1 )) > ${LAST_PID} || break
          try
        done
      fi
      SECONDS=0
      while (( SECONDS < 120 )); do try; done
      exit 1`,
      "holder",
      String(target),
      place ? "1" : "0",
    ],
    stdout: "piped",
    stderr: "inherit",
  });
  return out.code === 0 ? Number(decoder.decode(out.stdout).trim()) : undefined;
}

async function reuse(how: string): Promise<void> {
  const place = how === "place";
  if (place) assertOwnPidNamespace();
  const dir = await Deno.makeTempDir({ prefix: "bgtask-pidns-reuse-" });
  const tasks = new TaskManager({ dir });
  try {
    const t = await tasks.spawnShell("sleep 300");
    const s = await until(() => started(dir, t.id), "the started record", 10_000);
    // Everything of the task dies from outside, without a final record.
    kill(s.sup, "SIGKILL");
    await until(() => !alive(s.sup), "the supervisor to die", 10_000);
    kill(-s.task, "SIGKILL");
    await until(() => groupMembers(s.task).length === 0, "the task's group to die", 10_000);
    const reused = await holdPid(s.task, place);
    assert.equal(reused, s.task, "no process got the dead task's pid back");
    try {
      assert.ok(alive(reused));
      const info = await tasks.getStatus(t.id);
      assert.equal(info?.status, "failed");
      assert.match(info?.error ?? "", /^lost\b/);
      assert.ok(alive(reused), "reading the status signalled the process that reused the pid");
      // kill() of the lost task must not reach the process that now holds its pid.
      await tasks.kill(t.id, { graceMs: 0 });
      assert.ok(alive(reused), "kill() signalled the process that reused the pid");
    } finally {
      kill(reused, "SIGKILL");
      await until(() => !alive(reused), "the pid holder to die", 10_000);
    }
    // In its own namespace, nothing but init and this process may be left.
    if (place) {
      await until(() => otherProcesses().length === 0, "every process to end", 5000).catch(() => {
        throw new Error(`processes left: ${otherProcesses().join("; ")}`);
      });
    }
    console.log(JSON.stringify({ reused }));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const [mode, a, b] = Deno.args;
if (mode === "stress") await stress(Number(a), Number(b));
else if (mode === "reuse") await reuse(a);
else throw new Error(`unknown mode ${mode}`);
