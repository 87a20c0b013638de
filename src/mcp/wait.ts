/**
 * Waiting on tasks for `task_wait` and `task_start`: until one (or every)
 * task ends, prints something new, or prints a line matching a pattern —
 * returning the moment that holds, or at the deadline. While waiting, a
 * callback gets each task's latest output line about once a second (the
 * tools turn it into `notifications/progress`).
 *
 * @module
 */

import { shownSize } from "../output_cap.ts";
import type { TaskInfo, TaskManager } from "../../mod.ts";
import type { Field } from "./args.ts";
import { isFinal } from "../lifecycle.ts";
import { concat } from "../bytes.ts";
import { every, later, sleep } from "../timers.ts";
import { cleanOutput } from "./format.ts";
import { latestLine } from "./read.ts";
import { incompleteTail } from "../ops/read.ts";

/** The longest a tool call waits: several clients cut a tool call at about 60 s. */
export const MAX_WAIT_S = 50;

/**
 * The `wait_s` argument of a tool that acts, then waits a while for the
 * result (default 10 s, at most {@linkcode MAX_WAIT_S}).
 */
export function waitSecondsField(description: string): Field {
  return {
    type: "number",
    minimum: 0,
    maximum: MAX_WAIT_S,
    default: 10,
    unit: "seconds",
    description,
  };
}

/** What to wait for ("input": the task waits for input, or ends). */
export type Until = "exit" | "output" | "pattern" | "input";

/** A wait request. */
export interface WaitRequest {
  /** The tasks, as they are now (their ids must exist). */
  tasks: TaskInfo[];
  /** Return when any task meets the condition, or only once every task has. */
  mode: "any" | "all";
  until: Until;
  /** For `until: "pattern"`. */
  pattern?: RegExp;
  /**
   * Output already seen, per task, as a byte offset: `output` waits for bytes
   * past it, `pattern` searches from it. Default: the current end for
   * `output`, 0 for `pattern`.
   */
  cursors?: Map<string, number>;
  /** Give up after this long (`Infinity`: never). */
  timeoutMs: number;
  /** Stops waiting early (the client cancelled): the answer is what holds at that moment. */
  signal?: AbortSignal;
  /**
   * Brings the deadline to now when it aborts (the client has gone): the
   * answer is what holds then, as at the deadline.
   */
  deadline?: AbortSignal;
  /** Called about once a second with a task's id and its latest output line. */
  onProgress?: (id: string, line: string) => void;
  /**
   * For `pattern` and `output`: search all that is written when the wait
   * begins, whatever the deadline (the CLI's `--timeout 0` check; a tool
   * call keeps to its deadline and hands on a cursor instead).
   */
  wholeFirstLook?: boolean;
}

/** How one task stands at the end of a wait. */
export interface TaskOutcome {
  /** The task as it is at the end of the wait. */
  info: TaskInfo;
  /** `met`: it met the condition; `ended`: it ended without meeting it; `waiting`: neither. */
  state: "met" | "ended" | "waiting";
  /**
   * For `input`: met because whether it reads cannot be told (a process of
   * it may not be looked at); it may be at a prompt.
   */
  unknown?: boolean;
  /** For `pattern`: the matching line; for `output`: the first new line. */
  line?: string;
  /** For `pattern` and `output`: the offset just past `line` (a cursor for the next call). */
  lineEnd?: number;
  /**
   * For `pattern` and `output`, when the wait stopped before the search was
   * done: the start of the first line not searched yet (a cursor to search
   * on from).
   */
  searchedTo?: number;
}

/** The answer to a wait. */
export interface WaitOutcome {
  /** Whether the condition held (for any task, or for all, as asked). */
  met: boolean;
  /** Why it stopped when not met. */
  stoppedBy?: "timeout" | "cancelled" | "shutdown";
  elapsedMs: number;
  /** One per task, in the order asked. */
  outcomes: TaskOutcome[];
}

const NL = 0x0a;
/** How much of one output line a pattern is matched against (its first bytes). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** A line still being written is looked at while it is at most this long. */
const PARTIAL_LINE_BYTES = 64 * 1024;
/**
 * A line without its newline that matches a pattern counts once its task
 * ends, or waits for input (a prompt: a process of it reads its stdin), or
 * has written nothing more for this long: a line written in two pieces, as
 * block-buffered output is, goes on ("listening on 80", then "00").
 */
const PARTIAL_QUIET_MS = 1000;
/** How often a match on a line still being written is looked at again meanwhile. */
const PARTIAL_LOOK_MS = 100;
/** How much output one read takes while following. */
const READ_BYTES = 256 * 1024;
const decoder = new TextDecoder();

/**
 * Follows one task's output line by line from byte `from`; resolves on the
 * first line `match` accepts, with the byte offset just past it. Offsets
 * are counted on the bytes (invalid UTF-8 included), so a cursor handed on
 * is exact. A line longer than {@linkcode MAX_LINE_BYTES} is matched on
 * its first bytes. `followBytes` is only the wake-up: the bytes are read here.
 * `searched.at` (`from` to begin with) is kept at the start of the first line not searched yet;
 * the search stops as soon as `signal` aborts (undefined), but not before
 * one block is read (the first `opening.wholeTo` bytes, when given). Null:
 * searched to the end of a task that has ended (`opening.ended`: it had when
 * it was read) without a match.
 */
async function watchLines(
  tasks: TaskManager,
  id: string,
  from: number,
  match: (line: string) => boolean,
  signal: AbortSignal,
  searched: { at: number },
  opening: { ended: boolean; wholeTo?: number; interactive?: boolean; anyBytes?: boolean },
): Promise<{ line: string; lineEnd: number } | null | undefined> {
  let at = from; // the next byte to read
  let pending: Uint8Array[] = []; // the current line's first bytes, up to MAX_LINE_BYTES
  let pendingBytes = 0;
  const lineOf = (parts: Uint8Array[]) => cleanOutput(decoder.decode(concat(parts)));
  const keep = (bytes: Uint8Array) => {
    const room = MAX_LINE_BYTES - pendingBytes;
    if (room <= 0) return;
    const part = bytes.length > room ? bytes.slice(0, room) : bytes.slice();
    pending.push(part);
    pendingBytes += part.length;
  };
  let reads = 0;
  let full = false; // the last block read was a whole READ_BYTES
  let lastLook = true; // the read past the deadline that finds the end of a short output
  let toEnd = false; // the last scan read all there was
  let firstScan = true;
  /** A match on the last line, not ended yet: it counts if nothing follows for a while. */
  let partial = false;
  const scan = async (): Promise<{ line: string; lineEnd: number } | undefined> => {
    partial = false;
    toEnd = false;
    for (;;) {
      // (A long output: the call is over. But what is written is looked at
      // once, to its end when it is short: a wait with timeout 0 is a check,
      // not a refusal to look.)
      // (With `wholeTo`, the first scan reads that far whatever the deadline:
      // not past it, which a task writing fast would never let it reach.)
      const owed = firstScan && opening.wholeTo !== undefined && at <= opening.wholeTo;
      if (signal.aborted && reads > 0 && !owed) {
        if (full || !lastLook) return undefined;
        lastLook = false;
      }
      reads++;
      const block = await tasks.readOutputBytes(id, { offset: at, maxBytes: READ_BYTES });
      full = block.length === READ_BYTES;
      if (block.length === 0) {
        toEnd = true;
        // All read: a last line without its newline yet counts as it is now
        // (a prompt, "Server ready> ", a progress bar); its cursor is where it
        // stands. (Not a long one: it would be decoded again at every wake.)
        // A character not whole yet waits for its last bytes: it is no new
        // output, and a cursor never points into it.
        if (pendingBytes === 0 || pendingBytes > PARTIAL_LINE_BYTES) return undefined;
        const bytes = concat(pending);
        const cut = incompleteTail(bytes);
        const line = cleanOutput(decoder.decode(bytes.subarray(0, bytes.length - cut)));
        if (line === "" || !match(line)) return undefined;
        partial = true;
        return { line, lineEnd: at - cut };
      }
      let i = 0;
      const first = block.indexOf(NL);
      if (first >= 0) {
        // The line under way ends here.
        keep(block.subarray(0, first));
        const line = lineOf(pending);
        pending = [];
        pendingBytes = 0;
        if (match(line)) return { line, lineEnd: at + first + 1 };
        i = first + 1;
        // The whole lines after it, decoded at once (a newline byte is never
        // part of a UTF-8 sequence).
        const last = block.lastIndexOf(NL);
        if (last > first) {
          const lines = decoder.decode(block.subarray(i, last)).split("\n");
          for (let k = 0; k < lines.length; k++) {
            const line = cleanOutput(lines[k]);
            if (!match(line)) continue;
            let end = i - 1;
            for (let m = 0; m <= k; m++) end = block.indexOf(NL, end + 1);
            return { line, lineEnd: at + end + 1 };
          }
          i = last + 1;
        }
        searched.at = at + i;
      }
      if (i < block.length) keep(block.subarray(i));
      at += block.length;
    }
  };
  /**
   * Whether a match on the last line, not ended yet, stands (see
   * {@linkcode PARTIAL_QUIET_MS}); false once more is written. New output
   * (`anyBytes`) is new at once, whole line or not.
   */
  const settled = async (): Promise<boolean> => {
    if (opening.ended || opening.anyBytes || signal.aborted) return true;
    const until = Date.now() + PARTIAL_QUIET_MS;
    for (;;) {
      await sleep(Math.max(0, Math.min(PARTIAL_LOOK_MS, until - Date.now())), signal);
      if ((await tasks.readOutputBytes(id, { offset: at, maxBytes: 1 })).length > 0) return false;
      if (signal.aborted || Date.now() >= until) return true;
      if (opening.interactive) {
        const now = await tasks.getStatus(id);
        if (!now || isFinal(now.status) || now.waitingForInput === true) return true;
      }
    }
  };
  // What is written already, searched first; a task that had ended when it
  // was read has nothing more to write, so all of it searched ends the search.
  const now = await scan();
  firstScan = false;
  if (now && (!partial || await settled())) return now;
  if (!(opening.ended && toEnd)) {
    if (signal.aborted) return undefined;
    for await (const _ of tasks.followBytes(id, { offset: from, signal })) {
      const hit = await scan();
      if (hit && (!partial || await settled())) return hit;
    }
    if (signal.aborted) return undefined;
    // The task has ended: what it printed last.
    const hit = await scan();
    if (hit) return hit;
    if (!toEnd) return undefined; // (stopped half-way)
  }
  // And a last line without a newline.
  if (pendingBytes > 0) {
    const line = lineOf(pending);
    if (match(line)) return { line, lineEnd: at };
  }
  return null;
}

/** The output's size as readers see it; 0 when it cannot be read. */
function sizeOf(info: TaskInfo): Promise<number> {
  return shownSize(info).catch(() => 0);
}

/**
 * The current snapshots of `ids`, by id, read together (one liveness look
 * for all); a task missing from the read is left out.
 */
export async function snapshots(
  tasks: TaskManager,
  ids: string[],
): Promise<Map<string, TaskInfo>> {
  if (ids.length === 0) return new Map();
  return new Map((await tasks.list({ ids })).map((t) => [t.id, t]));
}

/**
 * Waits as asked. Never throws on the deadline or on the signal: the
 * outcome says which tasks met the condition and which still run.
 *
 * @throws {TaskNotFoundError} When a task is removed while waiting.
 */
export async function waitFor(tasks: TaskManager, req: WaitRequest): Promise<WaitOutcome> {
  const t0 = Date.now();
  const stop = new AbortController();
  // (Infinity: no deadline.)
  const cancelTimer = Number.isFinite(req.timeoutMs)
    ? later(req.timeoutMs, () => stop.abort(new DOMException("timeout", "TimeoutError")))
    : undefined;
  const onCancel = () => stop.abort(new DOMException("cancelled", "AbortError"));
  req.signal?.addEventListener("abort", onCancel, { once: true });
  if (req.signal?.aborted) onCancel();
  const onDeadline = () => stop.abort(new DOMException("shutting down", "ShutdownError"));
  req.deadline?.addEventListener("abort", onDeadline, { once: true });
  if (req.deadline?.aborted) onDeadline();
  const found = new Map<string, TaskOutcome>();
  const searchedBy = new Map<string, { at: number }>();
  let failure: unknown;

  const watch = async (info: TaskInfo): Promise<TaskOutcome | undefined> => {
    const signal = stop.signal;
    if (req.until === "exit" || req.until === "input") {
      // (null: a look could not tell, and it has not ended: met as far as can be known.)
      const outcome = (now: TaskInfo): TaskOutcome => {
        const unknown = req.until === "input" && now.waitingForInput === null &&
          !isFinal(now.status);
        const met = req.until === "exit" || now.waitingForInput === true || unknown;
        return { info: now, state: met ? "met" : "ended", ...(unknown ? { unknown } : {}) };
      };
      // A task the snapshot given says has ended is, whatever the deadline (a
      // wait with timeout 0 is a check). (Whether it waits for input is looked
      // at again: a write may have answered it since.)
      if (isFinal(info.status)) return outcome(info);
      try {
        return outcome(await tasks.wait(info.id, { signal, until: req.until }));
      } catch (e) {
        if (signal.aborted) return undefined;
        throw e;
      }
    }
    const from = req.cursors?.get(info.id) ?? (req.until === "output" ? await sizeOf(info) : 0);
    const match = req.until === "output" ? () => true : (l: string) => req.pattern!.test(l);
    const searched = { at: from };
    searchedBy.set(info.id, searched);
    const hit = await watchLines(tasks, info.id, from, match, signal, searched, {
      ended: isFinal(info.status),
      wholeTo: req.wholeFirstLook ? await sizeOf(info) : undefined,
      interactive: info.stdin !== "null",
      anyBytes: req.until === "output",
    });
    if (hit === undefined) return undefined; // stopped: the deadline, or cancelled
    const now = (await tasks.getStatus(info.id)) ?? info;
    if (hit) return { info: now, state: "met", ...hit };
    // Searched to the end of an ended task without a hit.
    return { info: now, state: "ended" };
  };

  const done = new Promise<void>((resolve) => {
    let left = req.tasks.length;
    // At the deadline (or a cancel), what the watchers found by then counts:
    // each stops within a read (and has read one block at least: a wait
    // with timeout 0 is a check of what is there).
    let running = req.tasks.length;
    stop.signal.addEventListener("abort", () => running === 0 && resolve(), { once: true });
    for (const info of req.tasks) {
      watch(info).then((o) => {
        if (!o) return;
        found.set(info.id, o);
        left--;
        // any: the first task to meet the condition or to end; all: every task.
        if (req.mode === "any" || left === 0) resolve();
      }, (e) => {
        failure ??= e;
        resolve();
      }).finally(() => {
        if (--running === 0 && stop.signal.aborted) resolve();
      });
    }
  });

  let stopProgress: (() => void) | undefined;
  if (req.onProgress) {
    const lastSent = new Map<string, string>();
    const tick = async () => {
      for (const info of req.tasks) {
        if (found.has(info.id)) continue;
        const line = await latestLine(tasks, info).catch(() => "");
        if (line === "" && !lastSent.has(info.id)) continue;
        lastSent.set(info.id, line);
        req.onProgress?.(info.id, line);
      }
    };
    stopProgress = every(1000, () => void tick());
  }
  try {
    await done;
  } finally {
    cancelTimer?.();
    stopProgress?.();
    req.signal?.removeEventListener("abort", onCancel);
    req.deadline?.removeEventListener("abort", onDeadline);
  }
  const reason = stop.signal.aborted ? stop.signal.reason : undefined;
  stop.abort(); // ends the other watchers
  if (failure !== undefined) throw failure;
  // The tasks still waited for, as they are now: read together (one look at
  // their processes, where a look each cost a bash process).
  const left = req.tasks.filter((t) => !found.has(t.id)).map((t) => t.id);
  const current = await snapshots(tasks, left);
  const outcomes: TaskOutcome[] = [];
  for (const info of req.tasks) {
    const o = found.get(info.id);
    if (o) {
      outcomes.push(o);
      continue;
    }
    // (Missing from the read: removed, or damaged, which a look at it alone says.)
    const now = current.get(info.id) ?? (await tasks.getStatus(info.id)) ?? info;
    const searched = searchedBy.get(info.id);
    if (searched) {
      // Output searched (pattern, output), and the search not done: not
      // ended as far as the wait knows, even if the task has.
      outcomes.push({ info: now, state: "waiting", searchedTo: searched.at });
      continue;
    }
    outcomes.push({ info: now, state: isFinal(now.status) ? "ended" : "waiting" });
  }
  const metCount = outcomes.filter((o) => o.state === "met").length;
  const met = req.mode === "any" ? metCount > 0 : metCount === outcomes.length;
  let stoppedBy: WaitOutcome["stoppedBy"];
  // (Stopped by the deadline only if it left a task to wait for.)
  if (!met && reason && outcomes.some((o) => o.state === "waiting")) {
    const name = (reason as DOMException).name;
    stoppedBy = name === "TimeoutError"
      ? "timeout"
      : name === "ShutdownError"
      ? "shutdown"
      : "cancelled";
  }
  return { met, stoppedBy, elapsedMs: Date.now() - t0, outcomes };
}
