/**
 * `task_wait`: blocks (at most 50 s) until tasks end, print something, or
 * print a line matching a pattern; sends progress meanwhile.
 *
 * @module
 */

import type { TaskInfo, TaskManager } from "../../../mod.ts";
import { ArgumentError } from "../args.ts";
import { isFinal } from "../../lifecycle.ts";
import { formatDuration } from "../../cli/duration.ts";
import { cutText, fenced, n, statusLine, textResult } from "../format.ts";
import {
  GREP_LINE_CHARS,
  latestLine,
  outputSize,
  readTailLines,
  readWindow,
  showPiece,
  tailHeading,
} from "../read.ts";
import { undetectedPromptHint } from "../prompt_hint.ts";
import { defineTool, noteTold, remember, startedHere } from "../tool.ts";
import {
  type InPart,
  LINE_PART_BYTES,
  MAX_LINE_BYTES,
  MAX_WAIT_S,
  snapshots,
  type TaskOutcome,
  type Until,
  waitFor,
  waitLimit,
} from "../wait.ts";
import { shownPattern, toolPattern } from "../pattern.ts";
import { MAX_PATTERN_CHARS } from "../../linear_regexp.ts";
import { endedEarly } from "../cancel.ts";
import { pastEndMessage } from "../past_end.ts";
import { queuedNext, type Standing, standingOf } from "../queued.ts";
/** Output shown per task, in all. */
const OUTPUT_BUDGET = 16 * 1024;

interface Args {
  ids: string[];
  mode?: "any" | "all";
  timeout_s: number;
  until?: Until;
  pattern?: string;
  cursor?: number;
}

/** What the wait was for, in a few words (`pattern`: as the model gave it). */
function describeUntil(until: Until, pattern?: string): string {
  switch (until) {
    case "exit":
      return "ended";
    case "output":
      return "printed new output";
    case "pattern":
      return `printed a line matching ${pattern}`;
    case "input":
      return "waited for input";
  }
}

/** The wait ended before the search had read all the task's output there is. */
function searchCut(o: TaskOutcome): boolean {
  return o.searchedTo !== undefined && o.searchedTo < o.info.outputBytes;
}

/** What a wait says of the lines it judged in part (see `TaskOutcome.inPart`). */
function inPartNote(p: InPart): string {
  const where = `at bytes ${n(p.start)}–${n(p.start + p.bytes)} (${n(p.bytes)} bytes)`;
  const what = p.lines === 1
    ? `${p.matched ? "The matching line" : "A line"}, ${where}, is`
    : `${n(p.lines)} lines (the last ${where}${p.matched ? ", the matching one" : ""}) are`;
  const its = p.lines === 1 ? "its" : "their";
  return `${what} longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB even after ${its} last ` +
    `\\r redraw: matched on ${its} first and last ${LINE_PART_BYTES / 1024} KiB only (a ` +
    `match in the middle is not seen)${p.matched ? `; its ${p.matched} part matched` : ""}`;
}

async function taskSection(
  tasks: TaskManager,
  o: TaskOutcome,
  until: Until,
  budget: number,
  from: number | undefined,
  began: "cursor" | "given" | "now" | "shrunk",
  given: (cursor: number) => void,
  where: Standing | undefined,
  mine: boolean,
): Promise<string> {
  const lines = [statusLine(o.info, Date.now(), where, mine)];
  const id = o.info.id;
  if (o.truncated) {
    lines.push(
      `${id}'s output was truncated during this wait (a process of the task reopened it with ` +
        `'>'): ${until === "output" ? "read" : "searched"} again from its start, byte 0; ` +
        "cursors given before count in the old content",
    );
    from = 0;
  }
  if (began === "shrunk") {
    lines.push(
      `${id}'s output is smaller than the last next_cursor this session was given for it: ` +
        "it was truncated since (a process of the task reopened it with '>'), so this wait " +
        "began at its start, byte 0",
    );
  }
  if (o.inPart) lines.push(inPartNote(o.inPart));
  const cut = searchCut(o);
  if (cut) {
    lines.push(
      `searched its output up to byte ${n(o.searchedTo!)} of ${n(o.info.outputBytes)}: ` +
        `call task_wait with cursor ${o.searchedTo} to search on from there`,
    );
    given(o.searchedTo!);
  }
  if (o.state === "met" && until === "pattern") {
    given(o.lineEnd!);
    lines.push(
      `matched at next_cursor ${o.lineEnd} (pass it as cursor to wait for a later match):`,
    );
    // A matching line can be megabytes long: shown cut, as grep shows one.
    const line = o.line ?? "";
    const long = line.length > GREP_LINE_CHARS;
    // (A line judged in part: `line` is the part that matched.)
    const part = o.inPart?.matched;
    const what = part ? `the ${part} part of a line` : "line";
    lines.push(
      fenced(
        long
          ? `${what} of ${id}'s output, its first ${n(GREP_LINE_CHARS)} of ${
            n(line.length)
          } characters`
          : `${what} of ${id}'s output`,
        long ? cutText(line, GREP_LINE_CHARS) + "…" : line,
      ),
    );
  } else if (o.state === "met" && until === "input") {
    const t = await readTailLines(tasks, o.info, 0, 10, budget);
    given(t.end);
    const how = o.unknown
      ? "whether it waits for input cannot be told (a process of it may not be looked at: a " +
        "setuid program such as sudo, su or passwd, and this server does not run as root); " +
        "if its last lines end in a prompt, task_write_stdin answers it"
      : "it waits for input (task_write_stdin answers)";
    lines.push(`next_cursor: ${t.end} · ${how}; ${tailHeading(t)}:`, showPiece(id, t));
  } else if (o.state === "met" && until === "output" && from !== undefined) {
    const piece = await readWindow(tasks, o.info, from, budget);
    given(piece.end);
    // Without a cursor the wait began at the last next_cursor given, or at
    // the output's end then: say so, so that nobody takes what came before
    // for nothing.
    const note = began === "cursor" || from === 0
      ? ""
      : began === "given"
      ? ` (this wait began at byte ${n(from)}, the last next_cursor this session was given ` +
        `for ${id})`
      : ` (this wait began at byte ${n(from)}: task_read with cursor 0 shows what came before)`;
    lines.push(`next_cursor: ${piece.end}${note}`, showPiece(id, piece));
  } else if (o.info.status !== "running") {
    const t = await readTailLines(tasks, o.info, 0, 30, budget);
    if (!cut) given(t.end);
    // (No next_cursor when the search was cut: that is the cursor above.)
    lines.push(
      `${cut ? "" : `next_cursor: ${t.end} · `}${tailHeading(t)}:`,
      showPiece(id, t),
    );
  } else {
    const line = await latestLine(tasks, o.info);
    lines.push(
      line ? fenced(`latest line of ${id}'s output`, line) : `(${id} has printed nothing)`,
    );
  }
  return lines.join("\n");
}

/** The `task_wait` tool. */
export const taskWait = defineTool<Args>({
  name: "task_wait",
  title: "Wait for tasks",
  description:
    "Wait until background tasks end — or print new output, or print a line matching a " +
    "pattern — and return the moment that happens, with their status and the end of their " +
    "output. Use this instead of calling task_read or task_status in a loop. It waits at most " +
    `timeout_s seconds (default and most ${MAX_WAIT_S}: a larger value counts as ${MAX_WAIT_S}); ` +
    "if that passes first, it says which " +
    "tasks still run: call it again to keep waiting, or do other work meanwhile.\n" +
    'mode "any" (default) returns when the first task meets the condition or ends; "all" ' +
    'waits for every task. until: "exit" (default), "output" (any new output after cursor, ' +
    "default: after the last next_cursor this session was given for the task, else after " +
    'now), "pattern" (a line matching pattern, the last one also before its ' +
    "newline, as a prompt; searched from cursor, default from the start, so a line you were " +
    "already shown matches again, and the answer says so: pass your next_cursor to wait for " +
    'a new one; e.g. wait for a dev server\'s "listening on"), "input" (an interactive ' +
    "task waits for input: a prompt to answer with task_write_stdin).",
  fields: {
    ids: {
      type: "ids",
      required: true,
      maxItems: 20,
      description: 'the tasks to wait for, e.g. ["b3"] or ["b3", "b4"]',
    },
    mode: {
      type: "string",
      enum: ["any", "all"],
      description: '"any" (default): the first task to meet the condition; "all": every task',
    },
    timeout_s: {
      type: "number",
      minimum: 0,
      default: MAX_WAIT_S,
      unit: "seconds",
      description: `the longest to wait (default ${MAX_WAIT_S}, the most one call waits: a ` +
        `larger value counts as ${MAX_WAIT_S})`,
    },
    until: {
      type: "string",
      enum: ["exit", "output", "pattern", "input"],
      description: 'what to wait for: "exit" (default), "output", "pattern" or "input"',
    },
    pattern: {
      type: "string",
      nonEmpty: true,
      description: 'for until "pattern": a JavaScript regular expression matched against each ' +
        'line, e.g. "listening on|ready", or /listening on/i for any case (flags i, m, s; g ' +
        "is accepted and means nothing: each line is matched on its own; no backreferences " +
        "or lookarounds; at most " +
        `${n(MAX_PATTERN_CHARS)} characters)`,
    },
    cursor: {
      type: "integer",
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      unit: "bytes",
      description: "output already seen (a next_cursor): wait for output, or search, after it " +
        '(until "output" without it: after the last next_cursor you were given for the task; ' +
        'until "pattern" without it: from the start)',
    },
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(session, args, call) {
    const { tasks, cursors } = session;
    const { ms: timeoutMs, note: capped } = waitLimit(
      "timeout_s",
      args.timeout_s,
      "a look now, without waiting",
    );
    const until: Until = args.until ?? (args.pattern !== undefined ? "pattern" : "exit");
    if (until === "pattern" && args.pattern === undefined) {
      throw new ArgumentError('until "pattern" needs a pattern, e.g. "listening on|ready"');
    }
    if (until !== "pattern" && args.pattern !== undefined) {
      throw new ArgumentError(`pattern is only used with until "pattern" (until is "${until}")`);
    }
    if ((until === "exit" || until === "input") && args.cursor !== undefined) {
      throw new ArgumentError(
        `cursor is only used with until "output" or "pattern" (until is "${until}")`,
      );
    }
    const pattern = args.pattern === undefined ? undefined : toolPattern(args.pattern, "pattern");
    const known: TaskInfo[] = [];
    // Read together: one look at their processes (a look each cost a bash process).
    const current = await snapshots(tasks, args.ids);
    for (const id of args.ids) {
      // (Missing from the read: getStatusOrThrow's error says why.)
      const info = current.get(id) ?? await tasks.getStatusOrThrow(id);
      if (until === "input" && info.stdin === "null") {
        throw new ArgumentError(
          `${id}'s stdin is /dev/null: it can never wait for input (a task takes input when ` +
            'task_start gave it stdin "pipe" or "pty"); wait with until "exit" or "output"',
        );
      }
      if (until === "input" && info.stdinClosed && !isFinal(info.status)) {
        throw new ArgumentError(
          `${id}'s stdin was closed (task_write_stdin with eof): it can never wait for input ` +
            'again; wait with until "exit" or "output"',
        );
      }
      known.push(info);
    }
    // Where each task's output counts from: the cursor, else now (output) or the start (pattern).
    const froms = new Map<string, number>();
    const givenFrom = new Set<string>();
    // The tasks whose output is smaller than the last next_cursor given: truncated since.
    const shrunk = new Set<string>();
    // until "pattern" without a cursor searches from byte 0: the output this
    // session was already shown for each task ends here (its last next_cursor).
    const shownTo = new Map<string, number>();
    for (const t of known) {
      const size = await outputSize(t);
      if (args.cursor !== undefined && args.cursor > size) {
        throw new ArgumentError(pastEndMessage({
          id: t.id,
          cursor: args.cursor,
          size,
          shownTo: cursors?.get(t.id),
          status: t.status,
          fix: "or leave it out",
        }));
      }
      // (until "output" without a cursor: from the last next_cursor this
      // session gave for the task, so that output printed since, not yet
      // seen, counts; else from now. One past the end: the output was
      // truncated since, and all of its new content is new.)
      const remembered = cursors?.get(t.id);
      const shrank = remembered !== undefined && remembered > size;
      if (shrank && until === "output" && args.cursor === undefined) shrunk.add(t.id);
      const given = remembered === undefined ? undefined : shrank ? 0 : remembered;
      if (args.cursor === undefined && until === "output" && given !== undefined) {
        givenFrom.add(t.id);
      }
      froms.set(t.id, args.cursor ?? (until === "output" ? given ?? size : 0));
      if (args.cursor === undefined && until === "pattern" && given) shownTo.set(t.id, given);
    }
    const mode = args.mode ?? "any";
    const outcome = await waitFor(tasks, {
      tasks: known,
      mode,
      until,
      pattern,
      cursors: froms,
      timeoutMs,
      signal: call.signal,
      deadline: call.ending,
      onProgress: (id, line) => call.progress(`${id}: ${line}`),
    });
    // (Now: a task_completions alongside waits for this answer's fate before
    // it leaves these ends out; sent, they are not told again.)
    noteTold(session, outcome.outcomes.map((o) => o.info), call);
    const took = formatDuration(outcome.elapsedMs);
    // (Said as it was given, not as it was rewritten for the linear engine.)
    const what = describeUntil(until, args.pattern && shownPattern(args.pattern));
    const running = outcome.outcomes.filter((o) => o.info.status === "running").map((o) =>
      o.info.id
    );
    const met = outcome.outcomes.filter((o) => o.state === "met").map((o) => o.info.id);
    // (until "output": a task that had ended before the wait printed nothing
    // new during it; what it printed after the cursor is shown, said so.)
    const endedBefore = new Set(
      until === "output" ? known.filter((t) => isFinal(t.status)).map((t) => t.id) : [],
    );
    // A task at a prompt does not end until it is answered: waiting for its
    // end again would wait for good (a walk found the answer said only
    // "call task_wait again", and later both that and "answer it").
    const asking = outcome.outcomes.filter((o) =>
      o.info.status === "running" && o.info.waitingForInput === true
    ).map((o) => o.info.id);
    // The running tasks a second wait could see meet the condition: not
    // met, nor at a prompt (unless a prompt is the condition).
    const waitOn = running.filter((id) =>
      !met.includes(id) && (until === "input" || !asking.includes(id))
    );
    let summary: string;
    if (outcome.met) {
      const unsure = outcome.outcomes.filter((o) => o.unknown).map((o) => o.info.id);
      const fresh = met.filter((id) => !endedBefore.has(id));
      const old = met.filter((id) => endedBefore.has(id));
      summary = `Done after ${took}: ` + [
        fresh.length ? `${fresh.join(", ")} ${what}` : "",
        old.length
          ? `${old.join(", ")} had already ended (what it printed after the cursor is below)`
          : "",
      ].filter(Boolean).join("; ") +
        (unsure.length ? ` (${unsure.join(", ")}: as far as can be told, see below).` : ".");
      // Searched from byte 0 (no cursor): the line found may be one the
      // session was shown already (a watcher's last "build ok"), not a new
      // one. (An ended task prints no new one: a search of its past.)
      for (const o of outcome.outcomes) {
        const shown = shownTo.get(o.info.id);
        if (o.state !== "met" || shown === undefined || o.truncated) continue;
        if (isFinal(o.info.status)) continue;
        if (o.lineEnd! > shown) continue;
        summary += ` ${o.info.id}'s matching line was in output already shown to you (before ` +
          `byte ${shown}): to wait for a new one, call task_wait with cursor ${shown}.`;
      }
    } else if (outcome.stoppedBy) {
      const waiting = outcome.outcomes.filter((o) => o.state === "waiting").map((o) => o.info.id);
      const unsearched = outcome.outcomes.filter((o) => o.info.status !== "running" && searchCut(o))
        .map((o) => o.info.id);
      const ended = outcome.outcomes.filter((o) => o.state === "ended").map((o) => o.info.id);
      const stopped = outcome.stoppedBy === "timeout"
        ? "Timed out"
        : outcome.stoppedBy === "shutdown"
        ? `Stopped early (${endedEarly(call.ending)})`
        : "Cancelled";
      summary = `${stopped} after ${took}; ` +
        [
          waiting.length ? `not yet ${what}: ${waiting.join(", ")}` : "",
          ended.length ? `ended without having ${what}: ${ended.join(", ")}` : "",
        ].filter(Boolean).join("; ") + "." +
        // (Those that met the condition need no wait for it: mode all.)
        (waitOn.length
          ? ` Still running: ${waitOn.join(", ")} — call task_wait again to keep waiting.`
          : "") +
        (unsearched.length
          ? ` The search of ${unsearched.join(", ")} was not done (a long output): ` +
            "call task_wait again with the cursor given below to search on."
          : "");
    } else {
      const ended = outcome.outcomes.filter((o) => o.state === "ended").map((o) => o.info.id);
      const fresh = ended.filter((id) => !endedBefore.has(id));
      const old = ended.filter((id) => endedBefore.has(id));
      // (mode "all": some may have met the condition, and are said to.)
      summary = `After ${took}: ` + [
        fresh.length ? `${fresh.join(", ")} ended without having ${what}` : "",
        ...old.map((id) =>
          `${id} had already ended, with no output after byte ${n(froms.get(id)!)}`
        ),
      ].filter(Boolean).join("; ") +
        (met.length > 0 ? `; ${met.join(", ")} did.` : ".") +
        // (Those that did need no further wait for this.)
        (waitOn.length
          ? ` Still running: ${waitOn.join(", ")} — call task_wait again to wait for them.`
          : "");
    }
    // A paused task does not go on until it is resumed (no tool resumes it).
    const paused = outcome.outcomes.filter((o) => o.info.status === "paused").map((o) => o.info.id);
    if (!outcome.met && paused.length) {
      summary += ` Paused: ${paused.join(", ")} — it does not go on until someone resumes it ` +
        `(bgtask resume ${paused.join(" ")}).`;
    }
    if (!outcome.met && until !== "input" && asking.length) {
      summary +=
        ` Waiting for input: ${asking.join(", ")} — ${
          asking.length === 1 ? "it does" : "they do"
        } not go on until answered: task_write_stdin {"id": "${asking[0]}", "data": "…"} ` +
        "(the reply says when it asks again).";
    }
    // A prompt bgtask cannot see (a program that polls its input): a wait
    // for input, or for the end, would go on for good.
    if (!outcome.met && until !== "output" && until !== "pattern") {
      for (const o of outcome.outcomes) {
        const hint = await undetectedPromptHint(tasks, o.info);
        if (hint) summary += ` ${hint}`;
      }
    }
    // A queued task: why it has not started (a paused queue, its place in line, its dependencies).
    const where = await standingOf(tasks, outcome.outcomes.map((o) => o.info));
    if (!outcome.met) {
      for (const o of outcome.outcomes) {
        if (o.info.status === "queued") summary += ` ${queuedNext(o.info, where)}`;
      }
    }
    if (capped) summary += ` (${capped})`;
    // (At most 20 ids, so at least 819 bytes each, and the budget holds in all.)
    const budget = Math.max(512, Math.floor(OUTPUT_BUDGET / known.length));
    const sections: string[] = [];
    for (const o of outcome.outcomes) {
      sections.push(
        await taskSection(
          tasks,
          o,
          until,
          budget,
          froms.get(o.info.id),
          args.cursor !== undefined
            ? "cursor"
            : shrunk.has(o.info.id)
            ? "shrunk"
            : givenFrom.has(o.info.id)
            ? "given"
            : "now",
          (cursor) => remember(cursors, o.info.id, cursor),
          where,
          startedHere(session, o.info.id),
        ),
      );
    }
    return textResult([summary, ...sections].join("\n\n"));
  },
});
