/**
 * How Deno runs the supervisor scripts (see the .sh files in this folder):
 * the script text travels in `$BGTASK_SH`, so that `ps` shows a short line
 * with the task id instead of kilobytes of bash.
 *
 * @module
 */

import { rethrowPermission } from "../permissions.ts";
import type { TaskStore } from "../store/contract.ts";
import type { SpawnRecord, StartedRecord } from "../store/records.ts";
import { CONTROL_SH, QUEUE_SH, SUPERVISOR_SH } from "./scripts.ts";

const RUN_SCRIPT = 'eval "$BGTASK_SH"';
const decoder = new TextDecoder();

/** Why a task did not start, as the launcher reports it. */
export type LaunchFailure = "cwd-missing" | "cwd-not-dir" | "cwd-denied" | "launcher-failed";

/** The result of a launch: the task's pid and cwd, or why it did not start. */
export type LaunchResult =
  | { ok: true; pid: number; cwd: string }
  | { ok: false; reason: LaunchFailure; detail: string };

function spawnFailed(e: unknown, what: string): never {
  if (e instanceof Deno.errors.NotFound) {
    throw new Error(`${what}: bash was not found on PATH`, { cause: e });
  }
  rethrowPermission(e, what, "--allow-run=bash");
}

/**
 * Starts a task whose records are in the store and returns once its command
 * runs. The launcher is awaited (it exits at once); the supervisor it forks
 * is in a session of its own and no child of this process, so nothing is
 * left for Deno to track, and this process may exit at any time.
 *
 * Requires `--allow-run=bash`.
 */
export async function launch(store: TaskStore, spec: SpawnRecord): Promise<LaunchResult> {
  const id = spec.id;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("bash", {
      args: ["-c", RUN_SCRIPT, `bgtask-${id}`, "start", store.location, id, "report"],
      env: {
        BGTASK_SH: store.supervisorLayout() + SUPERVISOR_SH,
        BGTASK_QSH: QUEUE_SH,
        BGTASK_INVOCATION: spec.token,
      },
      detached: true,
      stdin: "null",
      stdout: "piped",
      stderr: "null", // one pipe fewer to wait for: each costs the spawn a little
    }).output();
  } catch (e) {
    spawnFailed(e, "Cannot spawn task");
  }
  const words = decoder.decode(out.stdout).split("\0");
  if (words[0] === "ok" && /^\d+$/.test(words[1] ?? "") && words.length >= 3) {
    return { ok: true, pid: Number(words[1]), cwd: words[2] };
  }
  if (words[0] === "error" && /^cwd-(missing|not-dir|denied)$/.test(words[1] ?? "")) {
    return { ok: false, reason: words[1] as LaunchFailure, detail: "" };
  }
  return {
    ok: false,
    reason: "launcher-failed",
    detail: `bash exited with code ${out.code} without starting the task`,
  };
}

/**
 * Runs a verb of the control script (`control.sh`). With a store, the script
 * gets the store's layout and the supervisor script (to start waiting tasks).
 */
async function control(
  args: string[],
  what: string,
  store?: TaskStore,
): Promise<Deno.CommandOutput> {
  const env: Record<string, string> = store
    ? {
      BGTASK_SH: store.supervisorLayout() + CONTROL_SH,
      BGTASK_SUP: store.supervisorLayout() + SUPERVISOR_SH,
      BGTASK_QSH: QUEUE_SH,
    }
    : { BGTASK_SH: CONTROL_SH };
  try {
    return await new Deno.Command("bash", {
      args: ["-c", RUN_SCRIPT, "bgtask", ...args],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    spawnFailed(e, what);
  }
}

/** What identifies a running task's processes. */
export interface Running {
  started: StartedRecord;
  /** The token its processes carry (see {@linkcode SpawnRecord.token}). */
  token: string;
}

/**
 * Which of these tasks still have a process alive: the supervisor (same pid
 * and start time, not a zombie, not another task's) or any live member of the
 * task's group that carries its token. One bash process answers for the
 * whole batch.
 *
 * Requires `--allow-run=bash`.
 */
export async function aliveMany(tasks: Running[]): Promise<boolean[]> {
  if (tasks.length === 0) return [];
  const specs = tasks.map(({ started: s, token }) =>
    `${s.supervisorPid} ${s.supervisorStart} ${s.taskPid} ${s.taskStart} ${token}`
  );
  const what = "Cannot check whether a task is alive";
  const out = await control(["alive", ...specs], what);
  const lines = decoder.decode(out.stdout).split("\n");
  if (out.code !== 0 || lines.length < tasks.length) {
    throw new Error(`${what}: bash exited with code ${out.code}`);
  }
  return tasks.map((_, i) => lines[i] === "1");
}

/**
 * Sends SIGTERM to the task's process group, SIGKILL after `graceMs`, and
 * resolves once no process of the group is alive. Signals go only to a group
 * that is still the task's.
 *
 * Requires `--allow-run=bash`.
 */
export async function killGroup(task: Running, graceMs: number): Promise<void> {
  const { started, token } = task;
  const grace = String(Math.max(0, Math.floor(graceMs)));
  const out = await control(
    ["kill", String(started.taskPid), started.taskStart, token, grace],
    "Cannot kill task",
  );
  if (out.code === 3) {
    throw new Error(
      `Cannot kill task: processes of group ${started.taskPid} survived SIGKILL for 5 s`,
    );
  }
  if (out.code !== 0) throw new Error(`Cannot kill task: bash exited with code ${out.code}`);
}

/**
 * Sends `signal` to the task's process group; false when nothing of the task is left.
 *
 * Requires `--allow-run=bash`.
 */
export async function signalGroup(
  task: Running,
  signal: "STOP" | "CONT",
  what: string,
): Promise<boolean> {
  const { started, token } = task;
  const out = await control(
    ["signal", String(started.taskPid), started.taskStart, token, signal],
    what,
  );
  if (out.code !== 0 && out.code !== 1) {
    throw new Error(`${what}: bash exited with code ${out.code}`);
  }
  return out.code === 0;
}

/** A process, identified by pid and start time (clock ticks since boot). */
export interface ProcessId {
  pid: number;
  start: string;
}

/**
 * This Deno process's pid and start time, as `/proc` tells bash (Deno itself
 * may not read `/proc` without `--allow-all`).
 *
 * Requires `--allow-run=bash`.
 */
export async function whoami(): Promise<ProcessId> {
  const what = "Cannot identify this process";
  const out = await control(["whoami"], what);
  const m = /^(\d+) (\S+)\n$/.exec(decoder.decode(out.stdout));
  if (out.code !== 0 || !m) return { pid: Deno.pid, start: "0" };
  return { pid: Number(m[1]), start: m[2] };
}

/**
 * Which of these processes are alive (same pid and start time, not a zombie).
 *
 * Requires `--allow-run=bash`.
 */
export async function processesAlive(ids: ProcessId[]): Promise<boolean[]> {
  if (ids.length === 0) return [];
  const what = "Cannot check whether a process is alive";
  const out = await control(["procs", ...ids.map((p) => `${p.pid} ${p.start}`)], what);
  const lines = decoder.decode(out.stdout).split("\n");
  if (out.code !== 0 || lines.length < ids.length) {
    throw new Error(`${what}: bash exited with code ${out.code}`);
  }
  return ids.map((_, i) => lines[i] === "1");
}

async function scheduler(store: TaskStore, args: string[], what: string): Promise<void> {
  const out = await control([args[0], store.location, ...args.slice(1)], what, store);
  if (out.code !== 0) {
    const err = decoder.decode(out.stderr).trim().split("\n").at(-1) ?? "";
    throw new Error(`${what}: bash exited with code ${out.code}${err ? ` (${err})` : ""}`);
  }
}

/**
 * Lets queues catch up: frees the slots of tasks that died unseen and starts
 * the tasks that fit (see `queue.sh`).
 *
 * Requires `--allow-run=bash`.
 */
export async function scheduleQueues(store: TaskStore, queues: string[]): Promise<void> {
  if (queues.length === 0) return;
  await scheduler(store, ["schedule", ...queues], "Cannot schedule the queue");
}

/**
 * Tasks that ended without their supervisor (killed before they ran, lost):
 * their slots are handed on and the tasks that run after them resolved.
 *
 * Requires `--allow-run=bash`.
 */
export async function tasksEnded(store: TaskStore, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await scheduler(store, ["ended", ...ids], "Cannot hand on after a task ended");
}

/**
 * A new task that runs after others: it starts (or joins its queue) if they
 * have all ended, or fails unrun if one did not complete.
 *
 * Requires `--allow-run=bash`.
 */
export async function resolveTask(store: TaskStore, id: string): Promise<void> {
  await scheduler(store, ["resolve", id], "Cannot start the task");
}
