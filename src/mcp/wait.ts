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
import { type Field, wholeMs } from "./args.ts";
import { isFinal } from "../lifecycle.ts";
import { every, later, sleep } from "../timers.ts";
import { cleanOutput, decodeOutput } from "./format.ts";
import { LINE_PART_BYTES, LongLine, MAX_LINE_BYTES } from "./long_line.ts";
import { latestLine } from "./read.ts";

/** The longest a tool call waits: several clients cut a tool call at about 60 s. */
export const MAX_WAIT_S = 50;

/**
 * The `wait_s` argument of a tool that acts, then waits a while for the
 * result (default 10 s; a value over {@linkcode MAX_WAIT_S} is taken as it:
 * see {@linkcode waitLimit}).
 */
export function waitSecondsField(description: string): Field {
  return {
    type: "number",
    minimum: 0,
    default: 10,
    unit: "seconds",
    description,
  };
}

/**
 * A wait's seconds argument as the whole milliseconds it waits: at most
 * {@linkcode MAX_WAIT_S}. Models pass 60, 120 or 300 by habit, and a
 * refusal cost them a retry: a larger value is taken as the most, and
 * `note` says so for the answer ("" when nothing was cut).
 *
 * @example
 * ```ts
 * import { waitLimit } from "./wait.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(waitLimit("wait_s", 2, "no wait"), { ms: 2000, note: "" });
 * deepEqual(waitLimit("timeout_s", 120, "no wait"), {
 *   ms: 50_000,
 *   note: "timeout_s 120 was taken as 50, the most one call waits.",
 * });
 * ```
 */
export function waitLimit(
  name: string,
  seconds: number,
  zero: string,
): { ms: number; note: string } {
  const ms = wholeMs(name, seconds, zero);
  if (ms <= MAX_WAIT_S * 1000) return { ms, note: "" };
  return {
    ms: MAX_WAIT_S * 1000,
    note: `${name} ${seconds} was taken as ${MAX_WAIT_S}, the most one call waits.`,
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
  /** For `pattern` and `output`: lines judged in part (over {@linkcode MAX_LINE_BYTES}). */
  inPart?: InPart;
  /**
   * For `pattern` and `output`: how often the output was found truncated
   * during the wait (smaller than what was read: a process of the task
   * reopened it with `>`); the search went on from its byte 0 each time, and
   * `lineEnd`, `searchedTo` count in the new content.
   */
  truncated?: number;
}

/**
 * Lines longer than {@linkcode MAX_LINE_BYTES} (after their last `\r`
 * redraw) that a search judged on their first and last
 * {@linkcode LINE_PART_BYTES} only: a match in their middle is not seen.
 */
export interface InPart {
  /** How many. */
  lines: number;
  /** The last of them: the offset it starts at (or where the search began, inside it)… */
  start: number;
  /** … its size in bytes, redraws included … */
  bytes: number;
  /** … and, when it is the matching line, the part of it that matched. */
  matched?: "first" | "last";
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
export { LINE_PART_BYTES, MAX_LINE_BYTES };
/**
 * A line still being written is judged on each new piece while it is at
 * most this long; a longer one, once it has been quiet for
 * {@linkcode PARTIAL_QUIET_MS} (judging it costs a decode of up to 1 MiB).
 */
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
/**
 * While the output does not grow, how often it is looked at all the same:
 * a truncation just as the follower that wakes the search starts (its
 * offset then looks like one not written yet) is noticed by then.
 */
const LOOK_AGAIN_MS = 1000;
const TICK = Symbol("tick");

/** What a search of one task's output has done so far (see {@linkcode watchLines}). */
interface Searched {
  /** The start of the first line not searched yet. */
  at: number;
  /** How often the output was found truncated: the search went on from byte 0 each time. */
  truncated: number;
  /** The lines judged in part (see {@linkcode TaskOutcome.inPart}). */
  inPart?: InPart;
}

/** A line found, and the offset just past it. */
interface Found {
  line: string;
  lineEnd: number;
}

/**
 * Follows one task's output line by line from byte `from`; resolves on the
 * first line `match` accepts, with the byte offset just past it. Offsets
 * are counted on the bytes (invalid UTF-8 included), so a cursor handed on
 * is exact. A line is judged as a terminal shows it (see `LongLine`): a
 * progress bar's last drawing, and a line still over
 * {@linkcode MAX_LINE_BYTES} on its first and last parts (`searched.inPart`
 * says so). An output found smaller than what was read (truncated: a process
 * of the task reopened it with `>`) is searched again from byte 0
 * (`searched.truncated` counts it). `followBytes` is only the wake-up: the
 * bytes are read here. `searched.at` (`from` to begin with) is kept at the
 * start of the first line not searched yet; the search stops as soon as
 * `signal` aborts (undefined), but not before one block is read (the first
 * `opening.wholeTo` bytes, when given). Null: searched to the end of a task
 * that has ended (`opening.ended`: it had when it was read) without a match.
 */
async function watchLines(
  tasks: TaskManager,
  id: string,
  from: number,
  match: (line: string) => boolean,
  signal: AbortSignal,
  searched: Searched,
  opening: {
    ended: boolean;
    wholeTo?: number;
    interactive?: boolean;
    anyBytes?: boolean;
    /** The output's size as the task's snapshot had it, before the wait. */
    known: number;
    size: () => Promise<number>;
  },
): Promise<Found | null | undefined> {
  let at = from; // the next byte to read
  let since = from; // new output (anyBytes) is past this
  let line = new LongLine(); // the line under way
  let lineStart = from; // (or where the search began, inside it)
  // Whether the output was seen at least `at` long: below it then, it was
  // truncated (not so a cursor past the end, not written yet).
  // (The snapshot the wait was given had that much already: a truncation
  // since then is one.)
  let reached = from <= opening.known || await opening.size() >= from;
  /** `line` judged; a line judged in part is noted in `searched`. */
  const judged = (test: (text: string) => boolean, open = false) => {
    const j = line.judge(test, open);
    if (line.inPart) {
      const seen = searched.inPart;
      const again = seen?.start === lineStart; // (a line not ended, judged again)
      searched.inPart = {
        lines: (seen?.lines ?? 0) + (again ? 0 : 1),
        start: lineStart,
        bytes: line.bytes,
        ...(j && j.part !== "whole" ? { matched: j.part } : {}),
      };
    }
    return j;
  };
  /** The last line, not ended yet, if it matches: its cursor is where it stands. */
  const openLine = (): Found | undefined => {
    const j = judged((t) => t !== "" && match(t), true);
    return j && { line: j.text, lineEnd: at - j.cut };
  };
  let reads = 0;
  let full = false; // the last block read was a whole READ_BYTES
  let lastLook = true; // the read past the deadline that finds the end of a short output
  let toEnd = false; // the last scan read all there was
  let firstScan = true;
  /** A match on the last line, not ended yet: it counts if nothing follows for a while. */
  let partial = false;
  /** The last line, not ended yet, is too long to judge at each piece: judged once quiet. */
  let quietLong = false;
  const scan = async (): Promise<Found | undefined> => {
    partial = false;
    quietLong = false;
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
      if (block.length > 0) reached = true;
      if (block.length === 0) {
        const size = at > 0 ? await opening.size() : 0;
        if (size >= at) reached = true;
        else if (reached) {
          // Truncated (`echo … > /dev/stderr` in the task reopens its output
          // with O_TRUNC): its new content from byte 0, as `tail -f` does.
          searched.truncated++;
          at = 0;
          since = 0;
          lineStart = 0;
          searched.at = 0;
          line = new LongLine();
          continue;
        }
        toEnd = true;
        // All read: a last line without its newline yet counts as it is now
        // (a prompt, "Server ready> ", a progress bar); its cursor is where it
        // stands. A character not whole yet waits for its last bytes: it is
        // no new output, and a cursor never points into it.
        if (line.bytes === 0) return undefined;
        if (opening.anyBytes) {
          // Any new byte is new output, whole line or not.
          const j = judged(() => true, true)!;
          if (at - j.cut <= since) return undefined;
          partial = true;
          return { line: j.text, lineEnd: at - j.cut };
        }
        if (line.bytes > PARTIAL_LINE_BYTES) {
          quietLong = true;
          return undefined;
        }
        const hit = openLine();
        partial = hit !== undefined;
        return hit;
      }
      let i = 0;
      const first = block.indexOf(NL);
      if (first >= 0) {
        // The line under way ends here.
        line.push(block.subarray(0, first));
        const j = judged(match);
        line = new LongLine();
        lineStart = at + first + 1;
        if (j) return { line: j.text, lineEnd: at + first + 1 };
        i = first + 1;
        // The whole lines after it, decoded at once (a newline byte is never
        // part of a UTF-8 sequence, nor escaped).
        const last = block.lastIndexOf(NL);
        if (last > first) {
          const lines = decodeOutput(block.subarray(i, last)).split("\n");
          for (let k = 0; k < lines.length; k++) {
            const text = cleanOutput(lines[k]);
            if (!match(text)) continue;
            let end = i - 1;
            for (let m = 0; m <= k; m++) end = block.indexOf(NL, end + 1);
            return { line: text, lineEnd: at + end + 1 };
          }
          i = last + 1;
          lineStart = at + i;
        }
        searched.at = at + i;
      }
      if (i < block.length) line.push(block.subarray(i));
      at += block.length;
    }
  };
  /**
   * Whether the last line, not ended yet, stands (see
   * {@linkcode PARTIAL_QUIET_MS}); false once more is written. New output
   * (`anyBytes`) is new at once, whole line or not.
   */
  const settled = async (): Promise<boolean> => {
    if (opening.ended || opening.anyBytes || signal.aborted) return true;
    const until = performance.now() + PARTIAL_QUIET_MS;
    for (;;) {
      await sleep(Math.max(0, Math.min(PARTIAL_LOOK_MS, until - performance.now())), signal);
      if ((await tasks.readOutputBytes(id, { offset: at, maxBytes: 1 })).length > 0) return false;
      if (signal.aborted || performance.now() >= until) return true;
      if (opening.interactive) {
        const now = await tasks.getStatus(id);
        if (!now || isFinal(now.status) || now.waitingForInput === true) return true;
      }
    }
  };
  /** A scan, and the last line not ended yet judged once it stands. */
  const look = async (): Promise<Found | undefined> => {
    const hit = await scan();
    if (hit) return !partial || await settled() ? hit : undefined;
    return quietLong && await settled() ? openLine() : undefined;
  };
  // What is written already, searched first; a task that had ended when it
  // was read has nothing more to write, so all of it searched ends the search.
  const now = await look();
  firstScan = false;
  if (now) return now;
  if (!(opening.ended && toEnd)) {
    if (signal.aborted) return undefined;
    const wakes = tasks.followBytes(id, { offset: from, signal });
    let next = wakes.next();
    let tick = sleep(LOOK_AGAIN_MS, signal).then((): typeof TICK => TICK);
    try {
      for (;;) {
        const woken = await Promise.race([next, tick]);
        if (woken === TICK) tick = sleep(LOOK_AGAIN_MS, signal).then((): typeof TICK => TICK);
        else if (woken.done) break;
        else next = wakes.next();
        const hit = await look();
        if (hit) return hit;
        if (signal.aborted) break;
      }
    } finally {
      // (Ends with the signal, which the wait aborts once it is over.)
      next.catch(() => {});
    }
    if (signal.aborted) return undefined;
    // The task has ended: what it printed last.
    const hit = await scan();
    if (hit) return hit;
    if (!toEnd) return undefined; // (stopped half-way)
  }
  // And a last line without a newline.
  if (line.bytes > 0) {
    const j = judged(match);
    if (j) return { line: j.text, lineEnd: at };
  }
  return null;
}

/** What a search noted on its way, for its outcome. */
function notes(s: Searched): Pick<TaskOutcome, "inPart" | "truncated"> {
  return {
    ...(s.inPart ? { inPart: s.inPart } : {}),
    ...(s.truncated > 0 ? { truncated: s.truncated } : {}),
  };
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
  const t0 = performance.now();
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
  const searchedBy = new Map<string, Searched>();
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
    const searched: Searched = { at: from, truncated: 0 };
    searchedBy.set(info.id, searched);
    const hit = await watchLines(tasks, info.id, from, match, signal, searched, {
      ended: isFinal(info.status),
      wholeTo: req.wholeFirstLook ? await sizeOf(info) : undefined,
      interactive: info.stdin !== "null",
      anyBytes: req.until === "output",
      known: info.outputBytes,
      size: () => sizeOf(info),
    });
    if (hit === undefined) return undefined; // stopped: the deadline, or cancelled
    const now = (await tasks.getStatus(info.id)) ?? info;
    if (hit) return { info: now, state: "met", ...hit, ...notes(searched) };
    // Searched to the end of an ended task without a hit.
    return { info: now, state: "ended", ...notes(searched) };
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
        // (Every watcher done: met, failed, stopped, or ended with nothing
        // found by a follow that ended with the manager, close(): what
        // they found is all there will be. That last left the wait for ever.)
        if (--running === 0) resolve();
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
      outcomes.push({ info: now, state: "waiting", searchedTo: searched.at, ...notes(searched) });
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
  return { met, stoppedBy, elapsedMs: Math.round(performance.now() - t0), outcomes };
}
