/** Shared test helpers: temp stores, deadline polling, process-group inspection. */

import { TaskManager } from "../../mod.ts";
import { parseStarted } from "../../src/store/records.ts";
import { FALLBACK_FLAG } from "../../src/linear_regexp.ts";
import { processesWithToken, taskToken } from "./correctness.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const MOD = new URL("../../mod.ts", import.meta.url).href;
/**
 * How long a child process a test runs (a CLI call, a Deno script) may take:
 * past it, it is ended and the test fails, instead of CI hanging until its limit.
 */
export const CHILD_DEADLINE_MS = 120_000;

/**
 * Deno's cache folder as this process finds it, for a child given another
 * HOME or XDG_CACHE_HOME (Deno's own cache defaults to one under them: the
 * child would fetch everything again).
 */
export const DENO_DIR: string = Deno.env.get("DENO_DIR") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache`}/deno`;

/**
 * How this machine reaches the network, for a child whose environment is
 * cleared but that may have to download (an installed `bgtask mcp` fetches
 * the MCP SDK's npm metadata): a TLS proxy's certificate authority, proxies,
 * an npm registry. Without them such a child fails only where Deno's cache
 * is cold, as on a fresh CI machine.
 */
export function networkEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (
    const name of [
      "DENO_CERT",
      "DENO_TLS_CA_STORE",
      "NODE_EXTRA_CA_CERTS",
      "SSL_CERT_FILE",
      "SSL_CERT_DIR",
      "HTTPS_PROXY",
      "HTTP_PROXY",
      "NO_PROXY",
      "https_proxy",
      "http_proxy",
      "no_proxy",
      "NPM_CONFIG_REGISTRY",
    ]
  ) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * The flags the README starts `bgtask mcp` (and installs `bgtask`) with
 * besides the permissions: the MCP SDK's build for runtimes other than Node,
 * and V8's fallback to its linear-time engine for a regular expression that
 * backtracks too much (patterns come from the model).
 */
export const MCP_FLAGS: readonly string[] = ["--conditions=browser", FALLBACK_FLAG];

/** An MCP client's first message, `initialize` (id 1), from a client called `client`. */
export function initializeMessage(client: string): Record<string, unknown> {
  return {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: client, version: "1" },
    },
  };
}

/**
 * The V8 flags every child Deno process of the suite gets (as the suite's own
 * process has them, from `deno task test`): Deno keeps one cache of compiled
 * code per module, and V8 throws it away when the flags differ, so children
 * started without them would recompile bgtask's modules over and over. A
 * child given `--v8-flags` of its own keeps those.
 */
export function sameV8(flags: readonly string[]): string[] {
  return flags.some((f) => f.startsWith("--v8-flags")) ? [] : [FALLBACK_FLAG];
}

/** The minimal permission flags for a store. */
export function minimalFlags(dir: string): string[] {
  return [
    "--allow-run=bash",
    `--allow-read=${dir}`,
    `--allow-write=${dir}`,
    "--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR",
  ];
}

/**
 * `bgtask --dir DIR mcp ARGS…` with the documented minimal permissions, for
 * its argument checks (stdin closed): its exit code and what it said.
 */
export async function mcpArgs(
  dir: string,
  ...args: string[]
): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      ...minimalFlags(dir),
      `${ROOT}cli.ts`,
      "--dir",
      dir,
      "mcp",
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/**
 * A temp store and a manager on it; removes the folder afterwards. The test
 * fails if a process of its tasks had to be SIGKILLed at the end (a test
 * must not leave processes behind; running tasks are killed as usual first).
 */
export async function withStore(
  fn: (tasks: TaskManager, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-test-" });
  const tasks = new TaskManager({ dir });
  let failed = false;
  try {
    await fn(tasks, dir);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    await tasks.close();
    const left = await settleStore(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (left.length > 0 && !failed) {
      // deno-lint-ignore no-unsafe-finally
      throw new Error(`Test left task processes behind: ${left.join(", ")}`);
    }
  }
}

/** Live processes of a store's tasks: anything naming the store, and anything carrying a task's token. */
function storeLeftovers(dir: string): number[] {
  let ids: string[] = [];
  try {
    ids = [...Deno.readDirSync(`${dir}/tasks`)].map((e) => e.name);
  } catch {
    // no store
  }
  const tokens = ids.map((id) => taskToken(dir, id)).filter((t) => t !== undefined);
  return [...new Set([...processesMentioning(dir), ...processesWithToken(tokens)])];
}

/**
 * Kills a store's running tasks and waits until none of its processes is
 * left, so that nothing writes into the folder while a test removes it.
 * Whatever is still there after 5 s is SIGKILLed and returned, described.
 */
export async function settleStore(dir: string): Promise<string[]> {
  const tasks = new TaskManager({ dir });
  // Each kill is given 10 s: it waits for the supervisor's record, which a
  // supervisor a failed test left stopped never writes (the test would hang
  // there instead of reporting its failure). The SIGKILLs below free it.
  const pending: Promise<unknown>[] = [];
  // Queued ones first, so that no slot freed meanwhile starts one.
  for (const status of ["queued", "paused", "running"] as const) {
    const left = await tasks.list({ status }).catch(() => []);
    for (const t of left) {
      const killing = tasks.kill(t.id, { graceMs: 0 }).catch(() => {});
      pending.push(killing);
      await within(killing, 10_000);
    }
  }
  try {
    await until(() => storeLeftovers(dir).length === 0, "the store's processes to exit", 5000);
    return [];
  } catch {
    // some are left
  }
  const left: string[] = [];
  for (const pid of storeLeftovers(dir)) {
    let cmd = "?";
    try {
      cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").slice(0, 80);
    } catch {
      // gone
    }
    left.push(`${pid} (${cmd})`);
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await within(Promise.all(pending), 5000);
  return left;
}

/** Waits for `p`, or `ms` at most (the timer is cleared either way). */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([p, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A bash condition loop that blocks until `file` exists (no timing involved). */
export function gate(file: string): string {
  return `while [ ! -e '${file}' ]; do sleep 0.02; done`;
}

/** Whether something is at `path` now. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function until<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Polls until process `pid` holds an inotify instance: a `bgtask wait` (or
 * `completions`) child has then chosen what it waits for and is waiting on
 * the store (a filesystem watch).
 */
export async function untilWatching(
  pid: number,
  what = "bgtask wait to watch the store",
): Promise<void> {
  await until(() => {
    for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
      try {
        if (Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`) === "anon_inode:inotify") return true;
      } catch {
        // closed meanwhile
      }
    }
    return false;
  }, what);
}

/** Waits until the task's output contains `text`. */
export async function untilOutput(
  tasks: TaskManager,
  id: string,
  text: string,
  ms = 15_000,
): Promise<void> {
  await until(
    async () => (await tasks.readOutput(id)).includes(text),
    `${JSON.stringify(text)} in the output of ${id}`,
    ms,
  );
}

/** A process's /proc/<pid>/stat fields that the tests use. */
export interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
  /** Field 22: start time in clock ticks since boot. */
  start: string;
}

/** Reads /proc/<pid>/stat; undefined when there is no such process. */
export function procStat(pid: number | string): ProcStat | undefined {
  let s: string;
  try {
    s = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return { state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), start: f[19] };
}

/** Pids of the live (non-zombie) processes whose stat `which` accepts. */
function liveProcesses(which: (st: ProcStat) => boolean): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const st = procStat(e.name);
    if (st && st.state !== "Z" && which(st)) out.push(Number(e.name));
  }
  return out;
}

/** Pids of the live (non-zombie) processes in a process group. */
export function groupMembers(pgid: number): number[] {
  return liveProcesses((st) => st.pgrp === pgid);
}

/** True while the process exists and is not a zombie (pid 1 here reaps orphans lazily). */
export function isAlive(pid: number): boolean {
  const st = procStat(pid);
  return st !== undefined && st.state !== "Z";
}

/** Pids of the live children of a process. */
export function childrenOf(pid: number): number[] {
  return liveProcesses((st) => st.ppid === pid);
}

/** The supervisor pid of a task, from its `started` record (whole: read after the task reads started). */
export function supervisorPid(dir: string, id: string): number {
  return parseStarted(Deno.readTextFileSync(`${dir}/tasks/${id}/started`))!.supervisorPid;
}

/**
 * Waits for a task's `started` record to be there and whole, and gives its
 * supervisor's pid. (The supervisor creates the file, then writes it: a
 * reader that only saw it exist could read it empty.)
 */
export async function untilSupervisor(dir: string, id: string): Promise<number> {
  return await until(() => {
    try {
      return parseStarted(Deno.readTextFileSync(`${dir}/tasks/${id}/started`))?.supervisorPid;
    } catch {
      return undefined; // not made yet
    }
  }, `${id}'s start record`);
}

/** Writes `code` (with `MOD` replaced by mod.ts's URL) to a temp .ts file. */
export async function scriptFile(code: string): Promise<string> {
  const script = await Deno.makeTempFile({ prefix: "bgtask-script-", suffix: ".ts" });
  await Deno.writeTextFile(script, code.replaceAll("MOD", JSON.stringify(MOD)));
  return script;
}

/**
 * Writes `code` to a temp script and runs it with `deno run` and exactly these
 * flags (`deno eval` would grant every permission). `MOD` in the code is
 * replaced by the URL of mod.ts.
 */
export async function runDeno(
  flags: string[],
  code: string,
  opts: { env?: Record<string, string> } = {},
): Promise<{ code: number; signal: string | null; stdout: string; stderr: string }> {
  const script = await scriptFile(code);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...sameV8(flags), ...flags, script],
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    cwd: ROOT,
    signal: AbortSignal.timeout(CHILD_DEADLINE_MS), // a hang fails the test, not the suite
  }).output();
  await Deno.remove(script);
  const dec = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** Pids of live processes whose command line mentions `text` (e.g. a store path). */
export function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`);
      if (cmd.includes(text) && isAlive(Number(e.name))) out.push(Number(e.name));
    } catch {
      // gone
    }
  }
  return out;
}

/** Whether strace runs here (Debian package `strace`; tests that need it skip, saying so). */
export async function hasStrace(): Promise<boolean> {
  try {
    const out = await new Deno.Command("strace", { args: ["-V"], stdout: "null", stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` and records the liveness looks made meanwhile by this process:
 * for each bash run of `bgtask alive`, how many tasks it looked at. (Deno's
 * `Command` is wrapped for the call: a test file's tests run one at a time.)
 */
export async function livenessLooks<T>(fn: () => Promise<T>): Promise<[T, number[]]> {
  return await controlRuns("alive", fn);
}

/**
 * Runs `fn`, noting each run of bgtask's control script for `verb`
 * (`bash … bgtask VERB ARGS…`) this process starts meanwhile: how many
 * arguments it got.
 */
export async function controlRuns<T>(verb: string, fn: () => Promise<T>): Promise<[T, number[]]> {
  const runs: number[] = [];
  const original = Deno.Command;
  class Counting extends original {
    constructor(command: string | URL, options?: Deno.CommandOptions) {
      const args = options?.args?.map(String) ?? [];
      const at = args.indexOf(verb);
      if (command === "bash" && at > 0 && args[at - 1] === "bgtask") {
        runs.push(args.length - at - 1);
      }
      super(command, options);
    }
  }
  Deno.Command = Counting;
  try {
    return [await fn(), runs];
  } finally {
    Deno.Command = original;
  }
}

/**
 * Runs `fn` (the spawns, launches and restarts whose supervisors must carry
 * it) with the supervisor test fault `fault` for the store at `dir`
 * (`BGTASK_TEST_FAULT=FAULT:STORE`, see supervisor.sh) in this process's
 * environment. The suite's test files share that environment, so only one
 * of them at a time may hold a fault there: a lock on this very file, which
 * every worker of the suite can open, makes them take turns.
 */
export async function withTestFault<T>(
  fault: string,
  dir: string,
  fn: () => Promise<T>,
): Promise<T> {
  using file = await Deno.open(new URL(import.meta.url), { read: true });
  await file.lock(true);
  Deno.env.set("BGTASK_TEST_FAULT", `${fault}:${dir}`);
  try {
    return await fn();
  } finally {
    Deno.env.delete("BGTASK_TEST_FAULT");
    await file.unlock();
  }
}
