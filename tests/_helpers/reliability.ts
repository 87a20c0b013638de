/**
 * Helpers for the reliability and security suites (issue 6): temp folders,
 * deadline polling, /proc inspection that ignores zombies, child Deno
 * processes, and clean-up that never leaves a process behind.
 *
 * @module
 */

import { TaskManager } from "../../mod.ts";
import { concat } from "../../src/bytes.ts";
import { parseStarted, type StartedRecord } from "../../src/store/records.ts";
import {
  CHILD_DEADLINE_MS,
  groupMembers,
  isAlive,
  processesMentioning as pidsMentioning,
  sameV8,
} from "./common.ts";
import { processesWithToken, taskToken } from "./correctness.ts";

/** The URL of mod.ts, for scripts run in child processes. */
export const MOD_URL: string = new URL("../../mod.ts", import.meta.url).href;
/** The repository root. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** True when the heavy variants are asked for (`BGTASK_HEAVY=1`). */
export const HEAVY: boolean = Deno.env.get("BGTASK_HEAVY") === "1";

/** True when the tests run as root. */
export const IS_ROOT: boolean = Deno.uid() === 0;

export const encoder: TextEncoder = new TextEncoder();
export const decoder: TextDecoder = new TextDecoder();

/** Makes a temp folder, runs `fn`, and removes the folder whatever happens. */
export async function withTempDir<T>(
  prefix: string,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: `bgtask-rel-${prefix}-` });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * A temp store (the temp folder itself, 0700) with a manager on it. Every
 * task whose process group is still alive at the end is SIGKILLed, and the
 * test fails if one had to be (a test must not leave processes running).
 */
export async function withStore(
  prefix: string,
  fn: (tasks: TaskManager, dir: string) => Promise<void>,
): Promise<void> {
  await withTempDir(prefix, async (dir) => {
    const tasks = new TaskManager({ dir });
    let failed = false;
    try {
      await fn(tasks, dir);
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      await tasks.close();
      const leftover = await reapStore(dir);
      if (leftover.length > 0 && !failed) {
        // deno-lint-ignore no-unsafe-finally
        throw new Error(`Test left task processes running: ${leftover.join(", ")}`);
      }
    }
  });
}

/**
 * Live processes of a store's tasks: anything naming the store, and every
 * process carrying a task's token (never a process group by its number
 * alone: a group long gone may have been reused by another test's processes).
 */
export function storeProcesses(dir: string): number[] {
  const pids = new Set<number>(pidsMentioning(dir));
  let ids: string[] = [];
  try {
    ids = [...Deno.readDirSync(`${dir}/tasks`)].map((e) => e.name);
  } catch {
    // no store
  }
  const tokens = ids.map((id) => taskToken(dir, id)).filter((t) => t !== undefined);
  for (const pid of processesWithToken(tokens)) pids.add(pid);
  return [...pids];
}

/**
 * Gives the processes of a store's tasks a few seconds to end on their own (a
 * supervisor touches its event file just after its final record is visible),
 * then SIGKILLs what is left and returns a description of it.
 */
export async function reapStore(dir: string, graceMs = 5000): Promise<string[]> {
  try {
    await until(() => storeProcesses(dir).length === 0, "task processes to end", graceMs);
    return [];
  } catch {
    // some are left
  }
  const killed: string[] = [];
  for (const pid of storeProcesses(dir)) {
    const cmd = (() => {
      try {
        return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").slice(0, 80);
      } catch {
        return "?";
      }
    })();
    killed.push(`${pid} (${cmd})`);
    killQuietly(pid);
  }
  await until(() => storeProcesses(dir).length === 0, "killed processes to go", 5000).catch(
    () => {},
  );
  return killed;
}

/** Sends SIGKILL, ignoring "no such process". */
export function killQuietly(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * Every process of a store gone at once, as when the machine stops: all
 * stopped first (so that none acts on another's end), then SIGKILLed.
 * Processes come and go meanwhile (a watchdog's `$(wc -c …)` subshell lives
 * for milliseconds): one that ended before its signal is skipped, and the
 * store is looked at again until three looks in a row show no new one. (An unguarded loop
 * threw at the first such pid and left the rest stopped for good: a test
 * that then hung on them.) Returns the pids it stopped and killed.
 */
export function crashStore(dir: string): number[] {
  const stopped = new Set<number>();
  // Done after three looks in a row find nothing new: a process in the
  // middle of an exec (a task's bash becoming its command) has no readable
  // environment for that moment, and one look missed the task (CI: "found"
  // its supervisor and watchdog only).
  for (let round = 0, quiet = 0; round < 50 && quiet < 3; round++) {
    const fresh = storeProcesses(dir).filter((pid) => !stopped.has(pid));
    quiet = fresh.length === 0 ? quiet + 1 : 0;
    for (const pid of fresh) {
      try {
        Deno.kill(pid, "SIGSTOP");
        stopped.add(pid);
      } catch {
        // gone
      }
    }
  }
  for (const pid of stopped) killQuietly(pid);
  return [...stopped];
}

/**
 * Polls `check` (every 10 ms) until it returns a value other than
 * undefined/null/false, or fails at the deadline. (0 and "" are values: a
 * null pid, say, is waited past.)
 */
export async function until<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

export {
  groupMembers,
  isAlive,
  processesMentioning as pidsMentioning,
  type ProcStat,
  procStat,
} from "./common.ts";

/** The `started` record of a task, parsed (the supervisor writes it once). */
export type StartedRaw = StartedRecord;

/** Reads a task's `started` record straight from the store; undefined if absent or unreadable. */
export function readStartedRaw(dir: string, id: string): StartedRaw | undefined {
  try {
    return parseStarted(Deno.readTextFileSync(`${dir}/tasks/${id}/started`));
  } catch {
    return undefined;
  }
}

/** Writes a `started` record (used to simulate pid reuse). */
export function writeStartedRaw(dir: string, id: string, s: StartedRaw): void {
  Deno.writeTextFileSync(
    `${dir}/tasks/${id}/started`,
    `${s.supervisorPid} ${s.supervisorStart} ${s.taskPid} ${s.taskStart} ${s.startedAt}\n${s.cwd}`,
  );
}

/** Rewrites a task's spawn record as if it had been made `ms` earlier. */
export function ageSpec(dir: string, id: string, ms: number): void {
  const path = `${dir}/tasks/${id}/spec`;
  const spec = Deno.readTextFileSync(path);
  const aged = spec.replace(/\0createdAt=(\d+)\0/, (_, t) => `\0createdAt=${Number(t) - ms}\0`);
  if (aged === spec) throw new Error(`no createdAt in ${path}`);
  // (Written beside and renamed, as the store writes it: a reader never sees it half written.)
  Deno.writeTextFileSync(`${path}.aged`, aged);
  Deno.renameSync(`${path}.aged`, path);
}

/** Waits until a task's supervisor (unless `supervisor: false`) and every member of its group are gone (zombies ignored). */
export async function untilTaskProcessesGone(
  dir: string,
  id: string,
  options: { supervisor?: boolean } = {},
): Promise<void> {
  const s = readStartedRaw(dir, id);
  if (!s) return;
  const supervisor = options.supervisor ?? true;
  await until(
    () => !(supervisor && isAlive(s.supervisorPid)) && groupMembers(s.taskPid).length === 0,
    `the processes of ${id} to end`,
  );
}

/** Writes a Deno script to a temp file; `__MOD__` in the code becomes the URL of mod.ts (quoted). */
export async function writeScript(dir: string, name: string, code: string): Promise<string> {
  const path = `${dir}/${name}.ts`;
  await Deno.writeTextFile(path, code.replaceAll("__MOD__", JSON.stringify(MOD_URL)));
  return path;
}

/** Starts `deno run <flags> <script> <args>` with piped stdout/stderr. */
export function startDeno(
  script: string,
  flags: string[],
  args: string[] = [],
  env?: Record<string, string>,
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--quiet", ...sameV8(flags), ...flags, script, ...args],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(CHILD_DEADLINE_MS), // a hang fails the test, not the suite
  }).spawn();
}

/** Awaits a child's output and fails with its stderr when it did not exit 0. */
export async function expectSuccess(child: Deno.ChildProcess, what: string): Promise<string> {
  const out = await child.output();
  const stdout = decoder.decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${what} failed (code ${out.code}, signal ${out.signal}):\n${decoder.decode(out.stderr)}`,
    );
  }
  return stdout;
}

/** Runs a program to completion and returns its status and output. */
export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(CHILD_DEADLINE_MS), // a hang fails the test, not the suite
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: (Uint8Array | string)[]): Uint8Array {
  return concat(parts.map((p) => typeof p === "string" ? encoder.encode(p) : p));
}

/** Byte equality with a short, useful message. */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.length === expected.length && actual.every((b, i) => b === expected[i])) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  throw new Error(
    `${what}: bytes differ at offset ${i} (got ${actual.length} bytes, expected ${expected.length}); ` +
      `got ${JSON.stringify(decoder.decode(actual.subarray(i, i + 40)))}, ` +
      `expected ${JSON.stringify(decoder.decode(expected.subarray(i, i + 40)))}`,
  );
}

/** Reads all of a task's output bytes through the public API. */
export async function allOutput(tasks: TaskManager, id: string): Promise<Uint8Array> {
  return await tasks.readOutputBytes(id, { maxBytes: 64 * 1024 * 1024 });
}

/** Runs async jobs with at most `limit` at a time. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
