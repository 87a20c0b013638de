/**
 * The records a task is made of, and their text forms. The store decides
 * where they live; this module only says what they hold and how they are
 * written, so that Deno and the bash supervisor read the same bytes.
 *
 * - The spawn record (`SpawnRecord`) is written once, whole, by the spawner:
 *   NUL-separated `key=value` fields after a `bgtask-spec 2` header, so that
 *   bash reads it with one `mapfile -d ''` (values never hold NUL: bgtask
 *   refuses NUL in every field).
 * - The started record is one line of numbers and the working directory,
 *   written once by the supervisor.
 * - The final record is one line of JSON, created exclusively by whoever ends
 *   the task first (supervisor, watchdog, kill, loss).
 *
 * @module
 */

import type { AfterPolicy, StdinMode } from "../types.ts";
import type { FinalStatus } from "../lifecycle.ts";

/** The spawn record: everything needed to run (or run again) a task. */
export interface SpawnRecord {
  id: string;
  command: string;
  description: string;
  /** The absolute working directory. */
  cwd: string;
  /** Milliseconds since the epoch, when the task was created. */
  createdAt: number;
  timeoutMs: number;
  maxOutputBytes: number;
  graceMs: number;
  /** Extra environment variables for the task. */
  env: Record<string, string>;
  stdin: StdinMode;
  columns: number;
  rows: number;
  /** The queue it runs in, or null. */
  queue: string | null;
  /** Tasks that must end first. */
  after: string[];
  afterPolicy: AfterPolicy;
  /** The task this one restarts, or null. */
  restartOf: string | null;
  /**
   * A random token every process of the task carries in its environment
   * (`BGTASK_INVOCATION`): what tells the task's processes from ones that
   * got a reused pid. Empty for tasks of bgtask 0.1.
   */
  token: string;
  /** The command is in the task's `command.sh`, too long for one argument. */
  longCommand: boolean;
  /**
   * The task runs with its spawner's environment and umask as recorded at the
   * spawn ({@linkcode Inherited}), not those of the process that starts it:
   * set for a task that waits (a queue, dependencies), which another process
   * starts later.
   */
  inherited: boolean;
  /**
   * `"PID START"` of the process whose manager spawned it with
   * `killOnDispose`: the task's watchdog ends it once that process is gone
   * (a Ctrl-C, a crash) without having closed the manager. Absent: none.
   */
  spawner?: string;
  /**
   * For a task that inherits ({@linkcode Inherited.limits}): its spawner's
   * resource limits and nice value, which its supervisor gives the command.
   */
  limits?: string;
  /**
   * Written by bgtask 0.1 (`task.json`), whose supervisor reads none of the
   * requests a newer one does (a kill's, a pause's). Absent: a newer version's.
   */
  legacy?: true;
}

/**
 * What a task started later by another process inherits from its spawner:
 * its environment variables and its umask, as they were at the spawn.
 */
export interface Inherited {
  /**
   * `NAME=VALUE` entries, each ended by a NUL byte, as bytes: a value need
   * not be UTF-8 (a process's environment is bytes).
   */
  entries: Uint8Array;
  /** The file-creation mask, e.g. `0o022`. */
  umask: number;
  /**
   * The resource limits and nice value, as the environ verb of
   * `control.sh` gives them (lines: `@limits`, then `R SOFT` and `R HARD`
   * for each of ulimit's letters, and `nice N`); kept in the spawn record.
   */
  limits?: string;
}

/** The environment record of a task that inherits its spawner's: `umask=0022`, NUL, then the entries. */
export function formatInherited(i: Inherited): Uint8Array {
  const head = new TextEncoder().encode(`umask=${i.umask.toString(8).padStart(4, "0")}\0`);
  const out = new Uint8Array(head.length + i.entries.length);
  out.set(head);
  out.set(i.entries, head.length);
  return out;
}

/**
 * A process's start time as bash records it: clock ticks since boot, then
 * `+` and 12 hex digits of the boot's id (a record of bgtask 0.1 has the
 * ticks alone). Opaque to Deno: only compared, in bash (`same_start`).
 */
export const START_TIME_PATTERN = "\\d+(?:\\+[0-9a-f]{12})?";

/** What the supervisor records once the task's command runs. */
export interface StartedRecord {
  supervisorPid: number;
  /** The supervisor's start time (see {@linkcode START_TIME_PATTERN}). */
  supervisorStart: string;
  /** The task's shell: leader of its process group. */
  taskPid: number;
  /** The task's shell's start time (see {@linkcode START_TIME_PATTERN}). */
  taskStart: string;
  /** Milliseconds since the epoch, when the command started. */
  startedAt: number;
  /** The working directory as the shell resolved it. */
  cwd: string;
  /**
   * The pid namespace those pids are of: the start time of its pid 1 (see
   * {@linkcode START_TIME_PATTERN}), "u" where its supervisor could not tell
   * (no /proc of its own). Absent in records written before: the same
   * namespace as anyone's.
   */
  pidns?: string;
}

/**
 * A task on a terminal: the session its command leads on the terminal, as
 * the wrapper records it (`SID START TTY_NR`) before the command runs.
 */
export interface PtyRecord {
  /** The session id: the pid of the session's leader (the command's shell). */
  sid: number;
  /** The leader's start time (see {@linkcode START_TIME_PATTERN}). */
  start: string;
  /** The terminal, as the kernel numbers it (`tty_nr` in /proc/PID/stat). */
  ttyNr: number;
}

const PTY_RECORD = new RegExp(`^(\\d+) (${START_TIME_PATTERN}) (\\d+)\n$`);

/** Parses a terminal record; undefined when it is not (yet) complete. */
export function parsePty(text: string): PtyRecord | undefined {
  const m = PTY_RECORD.exec(text);
  return m ? { sid: Number(m[1]), start: m[2], ttyNr: Number(m[3]) } : undefined;
}

/** The final record. */
export interface FinalRecord {
  status: FinalStatus;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  /** Milliseconds since the epoch. */
  finishedAt: number;
  /** Who wrote it: exit, signal, timeout, cap, kill, lost, start, dependency. */
  by: string;
  /** The task's shell left processes running in its group, which its supervisor ended. */
  leftovers?: true;
}

/**
 * Pause bookkeeping: total paused time so far (ms), since when it is paused
 * (ms since the epoch; 0: not), and that moment on the boot clock the
 * watchdog counts timeouts on (ms), for a resume to measure the pause with
 * (a pause by a build before it has none: by the wall clock, then).
 */
export interface PausedRecord {
  totalMs: number;
  since: number;
  sinceBoot?: number;
}

const SPEC_HEADER = "bgtask-spec 2";
const decoder = new TextDecoder();

/** The spawn record as bytes on disk. */
export function formatSpec(s: SpawnRecord): string {
  const fields: [string, string | number][] = [
    ["id", s.id],
    ["command", s.longCommand ? "" : s.command],
    // JSON: a description may hold anything, NUL included (bash never reads it).
    ["description", JSON.stringify(s.description)],
    ["cwd", s.cwd],
    ["createdAt", s.createdAt],
    ["timeoutMs", s.timeoutMs],
    ["maxOutputBytes", s.maxOutputBytes],
    ["graceMs", s.graceMs],
    ["stdin", s.stdin],
    ["columns", s.columns],
    ["rows", s.rows],
    ["queue", s.queue ?? ""],
    ["after", s.after.join(",")],
    ["afterPolicy", s.afterPolicy],
    ["restartOf", s.restartOf ?? ""],
    ["token", s.token],
    ["longCommand", s.longCommand ? 1 : 0],
    ["inherited", s.inherited ? 1 : 0],
    ...(s.spawner ? [["spawner", s.spawner] as [string, string]] : []),
    ...(s.limits ? [["limits", s.limits] as [string, string]] : []),
  ];
  const parts = [SPEC_HEADER, ...fields.map(([k, v]) => `${k}=${v}`)];
  for (const [k, v] of Object.entries(s.env)) parts.push(`env=${k}=${v}`);
  return parts.join("\0") + "\0";
}

function jsonString(v: string | undefined): string {
  try {
    const s = JSON.parse(v ?? '""');
    return typeof s === "string" ? s : "";
  } catch {
    return "";
  }
}

function int(v: string | undefined, fallback: number): number {
  if (v === undefined || !/^\d+$/.test(v)) return fallback;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : fallback;
}

/** The latest moment a Date holds (ms since the epoch): 275760-09-13. */
const LAST_MOMENT = 8.64e15;

/**
 * A record's moment (ms since the epoch): a whole number a Date can hold.
 * Any other (a hand's edit, a torn write) makes the record no record: read
 * as one, it made every list of the store fail ("Invalid time value").
 */
function isMoment(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= LAST_MOMENT;
}

/** An exit code as bash gives it: 0 to 255. */
function isExitCode(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 255;
}

/** A signal's name as the supervisor writes it (`SIGTERM`, `SIGRTMIN+3`). */
const SIGNAL_NAME = /^SIG[A-Z0-9]*(?:[+-]\d+)?$/;

/**
 * Parses a spawn record; undefined when it is not one (half-written records
 * never exist on disk: they are renamed into place whole). A long command is
 * read from `command.sh` by the caller and passed as `longCommand`.
 */
export function parseSpec(text: string, longCommand?: () => string): SpawnRecord | undefined {
  const parts = text.split("\0");
  if (parts[0] !== SPEC_HEADER || parts.at(-1) !== "") return undefined;
  const f = new Map<string, string>();
  const env: Record<string, string> = {};
  for (const p of parts.slice(1, -1)) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    const k = p.slice(0, eq);
    const v = p.slice(eq + 1);
    if (k === "env") {
      const e = v.indexOf("=");
      if (e > 0) env[v.slice(0, e)] = v.slice(e + 1);
    } else f.set(k, v);
  }
  const id = f.get("id");
  const command = f.get("command");
  const createdAt = int(f.get("createdAt"), -1);
  if (!id || command === undefined || !isMoment(createdAt)) return undefined;
  const long = f.get("longCommand") === "1";
  const stdin = f.get("stdin");
  return {
    id,
    command: long && longCommand ? longCommand() : command,
    description: jsonString(f.get("description")),
    cwd: f.get("cwd") ?? "",
    createdAt,
    timeoutMs: int(f.get("timeoutMs"), 0),
    maxOutputBytes: int(f.get("maxOutputBytes"), 0),
    graceMs: int(f.get("graceMs"), 2000),
    env,
    stdin: stdin === "pipe" || stdin === "pty" ? stdin : "null",
    columns: int(f.get("columns"), 80),
    rows: int(f.get("rows"), 24),
    queue: f.get("queue") || null,
    after: (f.get("after") ?? "").split(",").filter((x) => x !== ""),
    afterPolicy: f.get("afterPolicy") === "any" ? "any" : "success",
    restartOf: f.get("restartOf") || null,
    token: f.get("token") ?? "",
    longCommand: long,
    inherited: f.get("inherited") === "1",
    ...(f.get("spawner") ? { spawner: f.get("spawner") } : {}),
    ...(f.get("limits") ? { limits: f.get("limits") } : {}),
  };
}

/** A JSON object, or undefined for anything else. */
function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A spawn record with every optional field at its default: for records that
 * hold less (bgtask 0.1's, or a folder a spawner left without one).
 */
export function plainSpec(
  fields: Pick<SpawnRecord, "id" | "command" | "createdAt"> & Partial<SpawnRecord>,
): SpawnRecord {
  return {
    description: "",
    cwd: "",
    timeoutMs: 0,
    maxOutputBytes: 0,
    graceMs: 2000,
    env: {},
    stdin: "null",
    columns: 80,
    rows: 24,
    queue: null,
    after: [],
    afterPolicy: "success",
    restartOf: null,
    token: "",
    longCommand: false,
    inherited: false,
    ...fields,
  };
}

/** Parses a bgtask 0.1 spawn record (`task.json`), so an old store still lists. */
export function parseLegacySpec(text: string): SpawnRecord | undefined {
  const v = parseObject(text);
  // (Numbers as any record's: a value no writer gives is no record, see isMoment.)
  const whole = (x: unknown) => x === undefined || x === null || isMoment(x);
  if (
    !v || typeof v.id !== "string" || typeof v.command !== "string" ||
    !isMoment(v.createdAt) || !whole(v.timeoutMs) || !whole(v.maxOutputBytes) ||
    !whole(v.graceMs)
  ) return undefined;
  const num = (x: unknown, d: number) => typeof x === "number" ? x : d;
  return plainSpec({
    id: v.id,
    command: v.command,
    description: typeof v.description === "string" ? v.description : "",
    cwd: typeof v.cwd === "string" ? v.cwd : "",
    createdAt: v.createdAt,
    timeoutMs: num(v.timeoutMs, 0),
    maxOutputBytes: num(v.maxOutputBytes, 0),
    graceMs: num(v.graceMs, 2000),
    legacy: true,
  });
}

/**
 * Parses a `started` record; undefined when it is not (yet) complete.
 * Format: `SUP_PID SUP_START TASK_PID TASK_START STARTED_MS\nCWD`.
 */
export function parseStarted(text: string): StartedRecord | undefined {
  const nl = text.indexOf("\n");
  if (nl < 0) return undefined;
  const w = text.slice(0, nl).split(" ");
  // (A sixth word, the pid namespace's tag, is written since it was added.)
  if (
    (w.length !== 5 && (w.length !== 6 || !/^\S+$/.test(w[5]))) || !/^\d+$/.test(w[0]) ||
    !/^\d+$/.test(w[2]) || !/^\d+$/.test(w[4]) || !isMoment(Number(w[4])) ||
    !Number.isSafeInteger(Number(w[0])) || !Number.isSafeInteger(Number(w[2]))
  ) {
    return undefined;
  }
  return {
    supervisorPid: Number(w[0]),
    supervisorStart: w[1],
    taskPid: Number(w[2]),
    taskStart: w[3],
    startedAt: Number(w[4]),
    cwd: text.slice(nl + 1),
    ...(w.length === 6 && { pidns: w[5] }),
  };
}

const FINAL_STATUSES = new Set(["completed", "failed", "killed"]);

/** The final record as one JSON line. */
export function formatFinal(r: FinalRecord): string {
  return JSON.stringify(r) + "\n";
}

/**
 * Parses a final record; undefined when it is not one: a status it cannot
 * have, a moment no Date holds, an exit code bash cannot give, a signal
 * that is no signal's name, or a `completed` that did not exit 0 (each is
 * believed as it reads: `wait` exited 249 for an exit code of -7).
 */
export function parseFinal(text: string): FinalRecord | undefined {
  const v = parseObject(text);
  if (
    !v || !FINAL_STATUSES.has(v.status as string) || !isMoment(v.finishedAt) ||
    (v.exitCode !== undefined && v.exitCode !== null && !isExitCode(v.exitCode)) ||
    (v.signal !== undefined && v.signal !== null &&
      !(typeof v.signal === "string" && SIGNAL_NAME.test(v.signal))) ||
    (v.status === "completed" && (typeof v.exitCode === "number" && v.exitCode !== 0 ||
      typeof v.signal === "string"))
  ) {
    return undefined;
  }
  return {
    status: v.status as FinalStatus,
    exitCode: typeof v.exitCode === "number" ? v.exitCode : null,
    signal: typeof v.signal === "string" ? v.signal : null,
    error: typeof v.error === "string" ? v.error : null,
    finishedAt: v.finishedAt,
    by: typeof v.by === "string" ? v.by : "unknown",
    ...(v.leftovers === true && { leftovers: true }),
  };
}

/** The pause record as the watchdog reads it: `TOTAL_MS SINCE_MS`. */
export function formatPaused(r: PausedRecord): string {
  return `${r.totalMs} ${r.since}\n`;
}

/** Parses a pause record; undefined when it is not one. */
export function parsePaused(text: string): PausedRecord | undefined {
  const m = /^(\d+) (\d+)\n$/.exec(text);
  const [totalMs, since] = m ? [Number(m[1]), Number(m[2])] : [];
  return isMoment(totalMs) && isMoment(since) ? { totalMs, since } : undefined;
}

/** Decodes a record's bytes. */
export function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
