/**
 * How Deno runs the supervisor scripts (see the .sh files in this folder):
 * the script text travels in `$BGTASK_SH`, so that `ps` shows a short line
 * with the task id instead of kilobytes of bash.
 *
 * @module
 */

import { InterruptedError, TaskStateError } from "../errors.ts";
import { later } from "../timers.ts";
import { rethrowPermission, runAdvice } from "../permissions.ts";
import type { TaskStore } from "../store/contract.ts";
import type { KillSignal } from "../types.ts";
import {
  type Inherited,
  parseStarted,
  type PtyRecord,
  type SpawnRecord,
  type StartedRecord,
} from "../store/records.ts";
import { BASH_CWD, type BashOutput, runBash, runBashForWords } from "./bash.ts";
import { CONTROL_SH, QUEUE_SH, STDIN_SH, SUPERVISOR_SH } from "./scripts.ts";

/**
 * How bash is asked to run a script: started in POSIX mode, a non-interactive
 * bash reads no startup file, so a user's BASH_ENV (output, `set -e`, a
 * function named `cd`) cannot reach bgtask's own bash; in privileged mode
 * (`-p`, after `--posix`) it imports no function from the environment, so a
 * caller's exported `read`, `wait` or `kill` cannot take over ours either
 * (the BASH_FUNC_* entries stay in the environment it hands on: the task's
 * bash, started without -p, gets them as a plain `bash -c` would). The script
 * leaves both modes at once (`set +p`: as a bash started without -p, it runs
 * as the real user). Leaving POSIX mode unsets POSIXLY_CORRECT, so a
 * caller's (exported) value is kept in `_pc` first, for the task. The task's
 * own bash reads BASH_ENV as usual.
 */
const RUN_ARGS = [
  "--posix",
  "-p",
  "-c",
  '_pc=${POSIXLY_CORRECT@a}:${POSIXLY_CORRECT-}; set +o posix +p; eval "$BGTASK_SH"',
];
/**
 * The same for the control script's bash (looks, kills, pauses), which
 * first of all ignores the signals a Ctrl-C, a hang-up or a SIGTERM sends
 * to this process's whole group: a program that handles them (to close its
 * manager, to finish its work) must not see its calls under way fail. It
 * is short-lived and ends on its own; the supervisors it starts get those
 * signals back (q_exec).
 */
const CONTROL_ARGS = [...RUN_ARGS.slice(0, -1), `trap '' INT HUP TERM QUIT; ${RUN_ARGS.at(-1)}`];
/**
 * The signals that can end a control bash only before its first command
 * (see CONTROL_ARGS): it did nothing yet, and is run again, this many times
 * at most. Again in a session of its own, which the signals sent to this
 * process's group do not reach: a storm of them (Ctrl-C held down, a
 * script's `kill -INT` in a loop) would end each new bash before its trap
 * as it did the first, on a loaded machine most of all. (Not so the first
 * time: a detached child is started by a fork of the whole process, which
 * costs more the larger it is; see bash.ts.)
 */
const BEFORE_TRAP: readonly Deno.Signal[] = ["SIGINT", "SIGHUP", "SIGTERM", "SIGQUIT"];
const CONTROL_TRIES = 5;
const decoder = new TextDecoder();

/** The exit codes of a bash ended by SIGHUP, SIGINT or SIGTERM (128 + the number). */
const STOP_CODES: Readonly<Record<number, Deno.Signal>> = {
  129: "SIGHUP",
  130: "SIGINT",
  143: "SIGTERM",
};

/** The error for a helper bash that failed with `code`: {@linkcode InterruptedError}, or the code. */
function bashFailed(what: string, code: number, detail = ""): Error {
  const signal = STOP_CODES[code];
  if (signal) return new InterruptedError(what, signal);
  return new Error(`${what}: bash exited with code ${code}${detail}`);
}

/** Why a task did not start, as the launcher reports it. */
export type LaunchFailure =
  | "cwd-missing"
  | "cwd-not-dir"
  | "cwd-denied"
  | "no-pty"
  | "stdin"
  | "fork"
  | "disk-full"
  | "launcher-failed";

/** The result of a launch: the task's `started` record, or why it did not start. */
export type LaunchResult =
  | { ok: true; started: StartedRecord }
  | { ok: false; reason: LaunchFailure; detail: string };

function spawnFailed(e: unknown, what: string): never {
  if (e instanceof Deno.errors.NotFound) {
    throw new Error(
      `${what}: bash was not found on PATH (bgtask runs every task with bash: start this ` +
        `program with a PATH that has it, such as PATH=/usr/bin:/bin)`,
      { cause: e },
    );
  }
  // EAGAIN from the fork, EMFILE from a pipe: Deno's words ("Resource
  // temporarily unavailable") name neither the limit nor the way out.
  if (e instanceof Error && /\(os error 11\)/.test(e.message)) {
    throw new Error(`${what}: ${NO_PROCESS} (os error 11); ${RAISE_LIMIT}`, { cause: e });
  }
  if (e instanceof Error && /\(os error 10\)/.test(e.message)) {
    throw new Error(`${what}: ${SIGCHLD_IGNORED}`, { cause: e });
  }
  if (e instanceof Error && /\(os error 24\)/.test(e.message)) {
    throw new Error(
      `${what}: this process has as many files open as its limit allows (os error 24); ` +
        "raise it (ulimit -n), or close some",
      { cause: e },
    );
  }
  rethrowPermission(e, what, runAdvice());
}

/**
 * ECHILD from Deno's wait for a bash it started: this process ignores
 * SIGCHLD (an ignored signal stays ignored across exec: a parent that
 * ignored it passed it on), so the kernel reaps its children at once and
 * their exit codes are lost. A library must not change its host's signal
 * dispositions; the `bgtask` command, which owns its process, handles
 * SIGCHLD at its start (cli.ts), which is the way out here too.
 */
const SIGCHLD_IGNORED =
  "this process ignores SIGCHLD (inherited from the program that started it), so the " +
  "kernel reaps the processes it starts and their exit codes are lost (os error 10); start " +
  "it with SIGCHLD at its default (env --default-signal=CHLD deno …), or have it handle " +
  'SIGCHLD before it calls bgtask: Deno.addSignalListener("SIGCHLD", () => {})';

/** A fork that failed with EAGAIN (bash's, or Deno's), and what to do. */
const NO_PROCESS =
  "no process could be created: the process limit was reached (ulimit -u, or a cgroup's pids.max)";
const RAISE_LIMIT = "end some processes, or raise the limit";

/** The command line and environment of `supervisor.sh start STORE ID MODE` for a task. */
function startCommand(
  store: TaskStore,
  spec: SpawnRecord,
  mode: "report" | "record",
): { args: string[]; env: Record<string, string> } {
  return {
    args: [...RUN_ARGS, `bgtask-${spec.id}`, "start", store.location, spec.id, mode],
    env: {
      BGTASK_SH: store.supervisorLayout() + SUPERVISOR_SH,
      BGTASK_QSH: QUEUE_SH,
      BGTASK_ISH: STDIN_SH,
      BGTASK_INVOCATION: spec.token,
    },
  };
}

/**
 * Starts a task whose records are in the store and returns once its command
 * runs, with the `started` record its supervisor wrote. The supervisor says
 * so on the launcher's stdout ("ok", the record; or "error", why), and that
 * report is all that is awaited: not the launcher's exit, nor the end of
 * its pipe (about 1 ms later). The supervisor it forked is in a session of
 * its own and no child of this process, so nothing is left for Deno to
 * track, and this process may exit at any time.
 *
 * Requires `--allow-run=bash`.
 */
export async function launch(store: TaskStore, spec: SpawnRecord): Promise<LaunchResult> {
  let out: { code: number | null; stdout: Uint8Array };
  try {
    out = await runBashForWords({ ...startCommand(store, spec, "report"), detached: true }, 2);
  } catch (e) {
    spawnFailed(e, "Cannot spawn task");
  }
  const words = decoder.decode(out.stdout).split("\0");
  // The report's first word ends its first field: what comes before it was
  // printed by something else on the way (a `bash` on PATH that is a script
  // printing a line before it runs the real one), not by the launcher.
  const first = /(?:^|\n)(ok|error)$/.exec(words[0])?.[1] ?? words[0];
  const started = first === "ok" && words.length >= 3 ? parseStarted(words[1]) : undefined;
  if (started) return { ok: true, started };
  if (
    first === "error" &&
    /^(cwd-(missing|not-dir|denied)|no-pty|stdin|fork|disk-full)$/.test(words[1] ?? "")
  ) {
    const detail = words[1] === "fork" ? `${NO_PROCESS}; ${RAISE_LIMIT}` : "";
    return { ok: false, reason: words[1] as LaunchFailure, detail };
  }
  // Whatever the report said, a task whose supervisor recorded its start
  // runs: its spawner must hear so (a failed spawn removes its folder, and
  // it would run on, out of everyone's reach).
  const recorded = (await store.read(spec.id).catch(() => undefined))?.started;
  if (recorded) return { ok: true, started: recorded };
  const wrong = out.code === null || out.code === 0 ? "" : await notBash();
  return {
    ok: false,
    reason: "launcher-failed",
    detail: wrong ||
      (out.code === null
        ? `its launcher's report could not be read: ${JSON.stringify(words.slice(0, 2))}`
        : `bash exited with code ${out.code} without starting the task`),
  };
}

/** The oldest bash bgtask's scripts run in (`${v@a}`, `mapfile -d`: README, "Linux first"). */
const BASH_LEAST: readonly [number, number] = [4, 4];

/**
 * Why the `bash` on PATH cannot run bgtask's scripts: it is not bash (a
 * link to dash), or a bash older than {@linkcode BASH_LEAST}; "" when it is
 * a bash that can (or it cannot be told). Asked only once a helper bash has
 * failed as bash itself would not (an option it does not know: exit 2).
 */
async function notBash(): Promise<string> {
  let out: BashOutput;
  try {
    // (Words any sh understands; -p: no function from the environment, in bash.)
    out = await runBash({
      args: ["-p", "-c", 'printf "%s\\n" "${BASH_VERSION-}"; command -v bash'],
      stdout: "piped",
      stderr: "null",
    });
  } catch {
    return "";
  }
  // (The last two lines: a script that prints before it runs bash prints first.)
  const lines = decoder.decode(out.stdout).replace(/\n$/, "").split("\n");
  const path = lines.at(-1) || "bash";
  const version = lines.at(-2) ?? "";
  const m = /^(\d+)\.(\d+)/.exec(version);
  const [least, minor] = BASH_LEAST;
  const fix = `bgtask runs its scripts with GNU bash ${least}.${minor} or later: put the folder ` +
    `that holds one first on PATH (such as PATH=/usr/local/bin:$PATH for Homebrew's), or make ` +
    `${JSON.stringify(path)} one`;
  if (!m) return `the "bash" found on PATH, ${JSON.stringify(path)}, is not bash; ${fix}`;
  const [major, min] = [Number(m[1]), Number(m[2])];
  if (major > least || (major === least && min >= minor)) return "";
  return `the "bash" found on PATH, ${JSON.stringify(path)}, is bash ${version}; ${fix}`;
}

/**
 * Starts a task that took a free slot of its queue, without waiting for it:
 * the launcher is a detached bash that nobody awaits (as when a supervisor
 * hands its slot on), and a task that cannot start gets a final record
 * saying why. Returns once bash is forked.
 *
 * Requires `--allow-run=bash`.
 */
export function launchDetached(store: TaskStore, spec: SpawnRecord): void {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("bash", {
      ...startCommand(store, spec, "record"),
      cwd: BASH_CWD,
      // Its own session at once: a Ctrl-C or hang-up meant for the spawner
      // (its terminal's foreground group) cannot end the launch half-way.
      detached: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (e) {
    spawnFailed(e, "Cannot spawn task");
  }
  // Unreferenced: this process may exit first, and Deno does not signal the
  // pid of an unreferenced child once it is reaped (see bash.ts).
  child.unref();
}

/**
 * Runs a verb of the control script (`control.sh`). With a store, the script
 * gets the store's layout and the supervisor script (to start waiting tasks).
 * `detached`: in a session of its own, so that it finishes its work even if
 * this process is interrupted (a Ctrl-C reaches the terminal's foreground
 * group, which it is then not in).
 */
async function control(
  args: string[],
  what: string,
  store?: TaskStore,
  detached = false,
  onStdout?: (chunk: Uint8Array) => void,
): Promise<BashOutput> {
  const env: Record<string, string> = store
    ? {
      BGTASK_SH: store.supervisorLayout() + CONTROL_SH,
      BGTASK_SUP: store.supervisorLayout() + SUPERVISOR_SH,
      BGTASK_QSH: QUEUE_SH,
      BGTASK_ISH: STDIN_SH,
    }
    : { BGTASK_SH: CONTROL_SH, BGTASK_ISH: STDIN_SH };
  for (let tries = 1;; tries++) {
    let out: BashOutput;
    // (What is read as it comes is the answer too: after the first NUL.)
    let opened = false;
    const seen = onStdout && ((chunk: Uint8Array) => {
      if (!opened) {
        const at = chunk.indexOf(0);
        if (at < 0) return;
        opened = true;
        chunk = chunk.subarray(at + 1);
      }
      if (chunk.length > 0) onStdout(chunk);
    });
    try {
      out = await runBash({
        args: [...CONTROL_ARGS, "bgtask", ...args],
        env,
        detached: detached || tries > 1,
        stdout: "piped",
        stderr: "piped",
      }, seen);
    } catch (e) {
      spawnFailed(e, what);
    }
    if (out.code === 2) {
      // (An option it does not know, a script it cannot parse: see notBash.)
      const wrong = await notBash();
      if (wrong) throw new Error(`${what}: ${wrong}`);
    }
    if (out.signal === null || !BEFORE_TRAP.includes(out.signal) || tries >= CONTROL_TRIES) {
      // The answer follows the script's first NUL (see control.sh): before
      // it, only what something else printed; without it, no answer at all.
      const open = out.stdout.indexOf(0);
      return { ...out, stdout: out.stdout.subarray(open + 1, open < 0 ? 0 : undefined) };
    }
  }
}

/**
 * A start time as a word of a spec the scripts split at spaces: "-" for
 * none (a supervisor that could not read its own, with no /proc of its own,
 * recorded none; an empty word would shift every word after it).
 */
function word(start: string): string {
  return start === "" ? "-" : start;
}

/** What identifies a running task's processes. */
export interface Running {
  /** The task's id, for the errors that name it. */
  id?: string;
  started: StartedRecord;
  /** The token its processes carry (see {@linkcode SpawnRecord.token}). */
  token: string;
  /** A task on a terminal: its terminal's session, part of its tree. */
  pty?: PtyRecord;
}

/** How to tell whether an interactive task waits for input. */
export type InputProbe =
  | { mode: "pipe"; fifo: string }
  | { mode: "pty"; pty?: PtyRecord };

/** A running task to check, and, for an interactive one, how to see it wait for input. */
export interface Probe extends Running {
  /** Set for a task whose stdin is a pipe or a terminal. */
  input?: InputProbe;
}

/** What {@linkcode aliveMany} found about one task. */
export interface Liveness {
  alive: boolean;
  /**
   * A task recorded in another pid namespace (see {@linkcode pidNamespace}):
   * "unseen" when that namespace cannot be seen from here (alive, as far as
   * can be told: nothing of it may be judged, signalled or freed here),
   * "gone" when nothing of it is left (this process sees every process of
   * the machine: that namespace may have ended with it). Undefined for a
   * task of this namespace.
   */
  view?: "unseen" | "gone";
  /**
   * For an alive task that was probed for input: whether it waits for it;
   * null when it cannot be told (a process of it may not be looked at);
   * undefined when it was not looked at this time.
   */
  waitingForInput?: boolean | null;
}

/**
 * The control verb `kill` or `signal` for a running task, with `what` (the
 * grace and the first signal, or the signal): TASK_PID TASK_START TOKEN WHAT SUP_PID SUP_START TAG
 * [SID SID_START] (see control.sh).
 */
function taskArgs(verb: "kill" | "signal", task: Running, what: string): string[] {
  const { started: s, token, pty } = task;
  return [
    verb,
    String(s.taskPid),
    s.taskStart,
    token,
    what,
    String(s.supervisorPid),
    s.supervisorStart,
    s.pidns ?? "-",
    ...(pty ? [String(pty.sid), pty.start] : []),
  ];
}

const ALIVE_WHAT = "Cannot check whether a task is alive";
/** The most tasks one look's bash is given (each spec is about 100 bytes, 300 with a FIFO's path). */
const LOOK_MOST = 4000;
/** The looks asked for while one is under way: made together when it ends. */
let asked: { specs: string[]; done: (lines: string[]) => void; failed: (e: unknown) => void }[] =
  [];
let looking = false;

/**
 * The look's answer line for each spec. Looks asked for at once in this
 * process are made together: the first at once, those asked while it runs
 * in one look when it ends (each made after it was asked, so never older
 * than the call), the same task looked at once per look. A server's 1,000
 * concurrent `getStatus` calls took 1,000 bash processes at once; they take
 * two now.
 */
function lookLines(specs: string[]): Promise<string[]> {
  return new Promise((done, failed) => {
    asked.push({ specs, done, failed });
    if (!looking) void lookAll();
  });
}

async function lookAll(): Promise<void> {
  looking = true;
  try {
    while (asked.length > 0) {
      const batch = asked;
      asked = [];
      const unique = [...new Set(batch.flatMap((b) => b.specs))];
      try {
        const answer = new Map<string, string>();
        // (In parts: the looks of many stores at once must not pass the
        // kernel's limit on a program's arguments.)
        for (let i = 0; i < unique.length; i += LOOK_MOST) {
          const part = unique.slice(i, i + LOOK_MOST);
          const out = await control(["alive", ...part], ALIVE_WHAT);
          const lines = decoder.decode(out.stdout).split("\n");
          if (out.code !== 0 || lines.length < part.length) throw bashFailed(ALIVE_WHAT, out.code);
          part.forEach((spec, k) => answer.set(spec, lines[k]));
        }
        for (const b of batch) b.done(b.specs.map((spec) => answer.get(spec)!));
      } catch (e) {
        for (const b of batch) b.failed(e);
      }
    }
  } finally {
    looking = false;
  }
}

/**
 * Which of these tasks still have a process alive: the supervisor (same pid
 * and start time, not a zombie, not another task's) or any live member of the
 * task's group (or, on a terminal, of its terminal's session) that carries
 * its token; and, for interactive tasks, whether one of their processes is
 * blocked reading their input. One bash process answers for the whole batch
 * (and for the batches asked meanwhile: see lookLines).
 *
 * Requires `--allow-run=bash`.
 */
export async function aliveMany(tasks: Probe[]): Promise<Liveness[]> {
  if (tasks.length === 0) return [];
  const specs = tasks.map(({ started: s, token, input, pty }) => {
    const base =
      `${s.supervisorPid} ${word(s.supervisorStart)} ${s.taskPid} ${word(s.taskStart)} ${token} ` +
      (s.pidns ?? "-");
    if (input?.mode === "pipe") return `${base} pipe ${input.fifo}`;
    const p = input?.mode === "pty" ? input.pty ?? pty : pty;
    return p ? `${base} pty ${p.sid} ${p.start} ${p.ttyNr}` : base;
  });
  const lines = await lookLines(specs);
  return tasks.map((t, i) => {
    const [a, w] = lines[i].split(" ");
    // (u: in a pid namespace not seen from here; n: gone with its namespace.)
    if (a === "u") return { alive: true, view: "unseen" };
    if (a === "n") return { alive: false, view: "gone" };
    const alive = a === "1";
    if (!alive || !t.input) return { alive };
    // "?": a process of it may not be looked at (a setuid program, to a user
    // who is not root): it cannot be told. "-": not looked at this time.
    const waitingForInput = w === "1" ? true : w === "0" ? false : w === "?" ? null : undefined;
    return { alive, waitingForInput };
  });
}

const KILL_WHAT = "Cannot kill task";

/** A kill asked for and not yet handed to a bash (see killGroup). */
interface KillAsked {
  spec: string;
  taskPid: number;
  id?: string;
  done: () => void;
  failed: (e: unknown) => void;
}
let killsAsked: KillAsked[] = [];
/** Kills under way that have not yet asked for theirs (see {@linkcode killComing}). */
let killsComing = 0;

/**
 * Says that a kill will soon ask {@linkcode killGroup} for its task (once it
 * has read and written its records): the kills asked meanwhile wait for it,
 * to be made by the same bash. Returns the function that says it has asked,
 * or will not (idempotent): call it in every case, or the others wait.
 */
export function killComing(): () => void {
  killsComing++;
  let open = true;
  return () => {
    if (!open) return;
    open = false;
    killsComing--;
    killSoon();
  };
}

/** Whether a bash for the kills asked is on its way (killAsked, at its next turn). */
let killing = false;

/** The kills asked go, unless some are still coming (or they are on their way already). */
function killSoon(): void {
  if (killsComing > 0 || killsAsked.length === 0 || killing) return;
  killing = true;
  void killAsked();
}

/**
 * Sends `signal` (SIGTERM unless given) to the task's process group, SIGKILL
 * after `graceMs`, and resolves once no process of the group is alive.
 * Signals go only to a group that is still the task's.
 *
 * Kills asked for together (a kill of a queue's tasks or of `--all`, a
 * `Promise.all` of kills) are made by one bash, which looks at every process
 * once a round for them all: one bash a kill, each looking on its own, cost
 * a look at every process per task (300 tasks: 25 s). A kill asked for waits
 * for those still coming ({@linkcode killComing}; `coming`, its own, is said
 * done here), and when none is, those asked go, at the next turn of the
 * event loop. Each call resolves as soon as its task is gone, not when the
 * slowest is.
 *
 * Requires `--allow-run=bash`.
 */
export function killGroup(
  task: Running,
  graceMs: number,
  coming?: () => void,
  signal: KillSignal = "SIGTERM",
): Promise<void> {
  const { started, token } = task;
  const grace = String(Math.max(0, Math.floor(graceMs)));
  // (As bash's kill takes it: TERM, INT.)
  const first = signal.replace(/^SIG/, "");
  // A task on a terminal: its terminal's session too, its own way.
  if (task.pty) {
    coming?.();
    return killAlone(task, grace, first);
  }
  return new Promise((done, failed) => {
    killsAsked.push({
      spec: `${started.taskPid} ${word(started.taskStart)} ${token} ${grace} ` +
        `${started.supervisorPid} ${word(started.supervisorStart)} ${started.pidns ?? "-"} ` +
        first,
      taskPid: started.taskPid,
      id: task.id,
      done,
      failed,
    });
    // (A kill that said it was done coming before it asked, one that waited
    // for its task's launch, counts no more: see killSoon.)
    coming?.();
    killSoon();
  });
}

/** The kills asked for since the last were made: one bash for them (per LOOK_MOST). */
async function killAsked(): Promise<void> {
  // (At the next turn: a kill that asks right after, unannounced, joins.)
  await new Promise<void>((next) => later(0, next));
  killing = false;
  const asked = killsAsked;
  killsAsked = [];
  // The same task asked twice: one kill, both told.
  const bySpec = Map.groupBy(asked, (k) => k.spec);
  const specs = [...bySpec.keys()];
  const parts = [];
  for (let i = 0; i < specs.length; i += LOOK_MOST) parts.push(specs.slice(i, i + LOOK_MOST));
  await Promise.all(parts.map((part) => killPart(part, (spec) => bySpec.get(spec)!)));
}

/** One bash's kills: each asker told as its task is done. */
async function killPart(specs: string[], asks: (spec: string) => KillAsked[]): Promise<void> {
  const told = new Set<number>();
  // (Its own decoder: a stream's state is the stream's.)
  const lines = new TextDecoder();
  let text = "";
  const tell = (line: string) => {
    const m = /^(\d+) ([012])((?: \d+)*)$/.exec(line);
    const n = m ? Number(m[1]) : -1;
    if (n < 0 || n >= specs.length || told.has(n)) return;
    told.add(n);
    for (const k of asks(specs[n])) {
      if (m![2] === "0") k.done();
      else if (m![2] === "2") k.failed(unseenNamespace(k.id ?? "", KILL_WHAT));
      else {
        const groups = m![3].trim().split(" ").filter(Boolean).map(Number);
        k.failed(survived(k.id, groups.length > 0 ? groups : [k.taskPid]));
      }
    }
  };
  try {
    // Detached: a kill interrupted during its grace (a Ctrl-C) still sends SIGKILL when it is over.
    const out = await control(["kills", ...specs], KILL_WHAT, undefined, true, (chunk) => {
      const got = (text + lines.decode(chunk, { stream: true })).split("\n");
      text = got.pop()!;
      for (const line of got) tell(line);
    });
    if (out.code !== 0 || told.size < specs.length) throw bashFailed(KILL_WHAT, out.code);
  } catch (e) {
    specs.forEach((spec, n) => {
      if (!told.has(n)) { for (const k of asks(spec)) k.failed(e); }
    });
  }
}

/** {@linkcode killGroup} for a task on a terminal, by a bash of its own (`first`: TERM, INT…). */
async function killAlone(task: Running, grace: string, first: string): Promise<void> {
  const { started } = task;
  // (The first signal goes with the grace, as "GRACE_MS:SIGNAL": see control.sh.)
  const args = taskArgs("kill", task, `${grace}:${first}`);
  // Detached: a kill interrupted during its grace (a Ctrl-C) still sends SIGKILL when it is over.
  const out = await control(args, KILL_WHAT, undefined, true);
  if (out.code === 4) throw unseenNamespace(task.id ?? "", KILL_WHAT);
  if (out.code === 3) throw survived(task.id, [started.taskPid]);
  if (out.code !== 0) throw bashFailed(KILL_WHAT, out.code);
}

/**
 * The error of a kill that left processes of the task running 5 s after
 * SIGKILL, in process groups `groups` (the task's, or those its processes
 * moved to): another user's (a command run through sudo), which this one may
 * not signal, or processes stuck in the kernel (state D).
 */
function survived(id: string | undefined, groups: number[]): TaskStateError {
  const kill = groups.map((g) => `-${g}`).join(" ");
  const which = groups.length === 1
    ? `its process group ${groups[0]}`
    : `its process groups ${groups.join(", ")}`;
  return new TaskStateError(
    id ?? "",
    `${KILL_WHAT}${id ? ` ${id}` : ""}: processes of ${which} survived SIGKILL for 5 s: ` +
      `processes that run as another user (a command started with sudo) cannot be signalled ` +
      `by this one: end them as that user (sudo kill -KILL -- ${kill}), or see what holds ` +
      `them (ps -o pid,user,stat,args -g ${groups.join(",")})`,
  );
}

/**
 * The error of a task that runs in a pid namespace this process cannot see
 * into (a sandbox or container looking at the host's tasks, or at another
 * one's): nothing of it can be signalled from here.
 */
export function unseenNamespace(id: string, what: string): TaskStateError {
  return new TaskStateError(
    id,
    `${what}${id && !what.includes(id) ? ` ${id}` : ""}: it runs in a PID namespace this ` +
      "process cannot see into (it was started outside the container or sandbox this process " +
      "runs in, or in another one; or this sandbox has no /proc of its own, so no pid can be " +
      "told to be the task's), so its processes cannot be signalled from here: run the " +
      "command where the task was started (outside the sandbox, for instance), or through a " +
      "bgtask MCP server running there",
  );
}

let ownNamespace: Promise<string> | undefined;

/**
 * This process's pid namespace's tag, as its supervisors record theirs in
 * `started` (`pidns`): the start time of the namespace's pid 1; "u" where
 * bash has no /proc of its own. Asked of bash once a process.
 *
 * Requires `--allow-run=bash`.
 */
export function pidNamespace(): Promise<string> {
  ownNamespace ??= (async () => {
    const out = await control(["pidns"], "Cannot tell this process's pid namespace");
    const tag = decoder.decode(out.stdout).trim();
    if (out.code !== 0 || !/^\S+$/.test(tag)) {
      ownNamespace = undefined;
      throw bashFailed("Cannot tell this process's pid namespace", out.code);
    }
    return tag;
  })();
  return ownNamespace;
}

/**
 * The boot clock (ms), as tasks' supervisors read it (see mono_ms in
 * lib.sh): what a pause is measured on, so that a step of the wall clock
 * meanwhile changes nothing of a task's timeout. One bash.
 *
 * Requires `--allow-run=bash`.
 */
export async function bootClockMs(): Promise<number> {
  const what = "Cannot read the boot clock";
  const out = await control(["uptime"], what);
  const ms = Number(decoder.decode(out.stdout).trim());
  if (out.code !== 0 || !Number.isSafeInteger(ms)) throw bashFailed(what, out.code);
  return ms;
}

/**
 * Sends `signal` to the task's process group; false when nothing of the task is left.
 *
 * With `store` (a pause's STOP), the task is not left stopped while a process
 * of it holds a lock of that store (a queue's, a completion consumer's: a
 * task that runs bgtask itself): it is continued until it lets go of the
 * lock, and stopped again, for up to 3 s from the first stop; then it is left
 * running, and a {@linkcode TaskStateError} says so.
 *
 * Requires `--allow-run=bash`.
 */
export async function signalGroup(
  task: Running,
  signal: "STOP" | "CONT",
  what: string,
  store?: TaskStore,
): Promise<boolean> {
  const args = taskArgs("signal", task, signal);
  if (store) args.push(...(task.pty ? [] : ["", ""]), store.location);
  const out = await control(args, what, store);
  if (out.code === 4) throw unseenNamespace(task.id ?? "", what);
  if (out.code === 5) {
    throw new TaskStateError(
      task.id ?? "",
      `${what}: a process of it held a lock of the store (a queue's or a completion consumer's: ` +
        `a bgtask it runs) each time it was stopped, for 3 s; it was left running ` +
        `(pausing it then would hold up every bgtask waiting for that lock): try again`,
    );
  }
  if (out.code !== 0 && out.code !== 1) {
    throw bashFailed(what, out.code);
  }
  return out.code === 0;
}

/**
 * Wakes the process that holds a task's stdin (its watchdog) to look whether
 * the stdin was closed: SIGURG, if it is still that process (pid, start
 * time) and the task's (token). False when it is gone.
 *
 * Requires `--allow-run=bash`.
 */
export async function wakeHolder(holder: ProcessId, token: string): Promise<boolean> {
  const what = "Cannot close the task's stdin";
  const out = await control(["wake", String(holder.pid), holder.start, token], what);
  return out.code === 0;
}

/**
 * Sets the size of a task's terminal (the kernel tells its programs with
 * SIGWINCH). False when the terminal's session has ended.
 *
 * Requires `--allow-run=bash`.
 */
export async function resizePty(
  pty: PtyRecord,
  token: string,
  rows: number,
  columns: number,
): Promise<boolean> {
  const out = await control(
    ["resize", String(pty.sid), pty.start, String(pty.ttyNr), token, String(rows), String(columns)],
    "Cannot resize the task's terminal",
  );
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
  const me = await caller();
  return me ? { pid: me.pid, start: me.start } : { pid: Deno.pid, start: "0" };
}

/** This Deno process, and where it runs: see {@linkcode caller}. */
export interface Caller extends ProcessId {
  /** Its process group: a task's pid when it runs in that task (without job control). */
  group: number;
  /** `BGTASK_TASK_ID` of its environment: the task it was started in; "" when none. */
  taskId: string;
  /** `BGTASK_DIR` of its environment: that task's store (for a task of this bgtask); "" when none. */
  taskDir: string;
}

/**
 * This Deno process's pid, start time and process group, and the task id
 * in its environment, as a bash it starts sees them (Deno may read neither
 * `/proc` nor an environment variable it was not allowed); undefined when
 * bash cannot tell.
 *
 * Requires `--allow-run=bash`.
 */
export async function caller(): Promise<Caller | undefined> {
  const out = await control(["whoami"], "Cannot identify this process");
  const m = /^(\d+) (\S+)\n(\d+)\n(.*)\n(.*)\n$/.exec(decoder.decode(out.stdout));
  if (out.code !== 0 || !m) return undefined;
  return { pid: Number(m[1]), start: m[2], group: Number(m[3]), taskId: m[4], taskDir: m[5] };
}

/**
 * Which of these processes are alive (same pid and start time, not a zombie).
 *
 * Requires `--allow-run=bash`.
 */
export function processesAlive(ids: ProcessId[]): Promise<boolean[]> {
  return yesPerArg(
    "procs",
    ids.map((p) => `${p.pid} ${p.start}`),
    "Cannot check whether a process is alive",
  );
}

/**
 * Which of these task tokens a live process carries (a task's processes, or
 * its launcher or supervisor), wherever it is.
 *
 * Requires `--allow-run=bash`.
 */
export function tokensAlive(tokens: string[]): Promise<boolean[]> {
  return yesPerArg("tokens", tokens, "Cannot check whether a task's processes are alive");
}

/**
 * Which of these tasks someone is still starting: a live process carries
 * its token, or (with its id: a task a scheduler launched) a process its
 * launch marker names is alive, its claimer or the launcher that claimer
 * forked, which carries the token only once it has exec'd.
 *
 * Requires `--allow-run=bash`.
 */
export function tasksStarting(
  store: TaskStore,
  tasks: { token: string; id?: string }[],
): Promise<boolean[]> {
  return yesPerArg(
    "starting",
    tasks.map((t) => t.id === undefined ? t.token : `${t.token} ${t.id}`),
    "Cannot check whether a task is still being started",
    store,
  );
}

/**
 * A control verb that answers one line an argument, "1" (yes) or "0"; given
 * a store, its location goes first.
 */
async function yesPerArg(
  verb: string,
  args: string[],
  what: string,
  store?: TaskStore,
): Promise<boolean[]> {
  if (args.length === 0) return [];
  const out = await control(store ? [verb, store.location, ...args] : [verb, ...args], what, store);
  const lines = decoder.decode(out.stdout).split("\n");
  if (out.code !== 0 || lines.length < args.length) throw bashFailed(what, out.code);
  return args.map((_, i) => lines[i] === "1");
}

/**
 * This process's umask and environment, as a process it starts inherits
 * them, byte for byte (read by a bash it starts: Deno's own view leaves out
 * values that are not UTF-8, and needs `--allow-env` and `--allow-sys`).
 * Left out: bgtask's own script variables, names bash cannot export, and
 * the variables bash keeps read-only (see `control.sh environ`).
 *
 * Requires `--allow-run=bash`.
 */
export async function environmentViaBash(): Promise<Inherited> {
  const what = "Cannot record the environment of a task that starts later";
  const out = await control(["environ"], what);
  const bytes = out.stdout;
  const cut = bytes.indexOf(0);
  const head = cut < 0 ? "" : decoder.decode(bytes.subarray(0, cut));
  const umask = /^[0-7]{1,4}$/.test(head) ? parseInt(head, 8) : NaN;
  // Then the limits and nice value, a field of its own ("@limits\n…").
  const end = bytes.indexOf(0, cut + 1);
  const limits = end < 0 ? "" : decoder.decode(bytes.subarray(cut + 1, end));
  if (
    out.code !== 0 || Number.isNaN(umask) || bytes.at(-1) !== 0 || !limits.startsWith("@limits\n")
  ) {
    throw bashFailed(what, out.code);
  }
  return { entries: bytes.slice(end + 1), umask, limits };
}

async function scheduler(store: TaskStore, args: string[], what: string): Promise<void> {
  const out = await control([args[0], store.location, ...args.slice(1)], what, store);
  if (out.code !== 0) {
    const err = decoder.decode(out.stderr).trim().split("\n").at(-1) ?? "";
    throw bashFailed(what, out.code, err ? ` (${err})` : "");
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
