/**
 * `bgtask wait --match REGEX ID…`: waits until a line of each task's output
 * matches, the readiness check of a CI job (`bgtask wait --match 'ready' b3
 * && run-tests`) without a `logs -f | grep -q` pipe, which could not end
 * before the task wrote again (nothing tells Deno that a pipe's reader left
 * until it writes to it).
 *
 * @module
 */

import type { TaskInfo, TaskManager } from "../../mod.ts";
import { formatDuration } from "./duration.ts";
import { UsageError } from "./errors.ts";
import { EXIT_TIMEOUT } from "./exit_codes.ts";
import { escapeControl } from "./escape.ts";
import { printErr, printOut, unlessClosed } from "./output.ts";
import { taskLabel } from "./task_view.ts";
import { withSpinner } from "./wait_tasks.ts";
import type { TaskOutcome } from "../mcp/wait.ts";
import { formatSize } from "./size.ts";
import {
  FALLBACK_FLAG,
  linearFallback,
  linearRegExp,
  PatternProblem,
  PatternTooLarge,
  quotedPattern,
} from "../linear_regexp.ts";

/**
 * `--match`'s value as a regular expression (JavaScript syntax, matched
 * against each line of output; in any case with `ignoreCase`, as grep -i),
 * or a usage error naming the problem. (Slashes are text: `/api/health`.)
 *
 * @example
 * ```ts
 * import { equal, throws } from "node:assert/strict";
 * import { matchPattern } from "./wait_match.ts";
 * equal(matchPattern("listening on \\d+").test("listening on 3000"), true);
 * equal(matchPattern("READY", true).test("ready"), true);
 * equal(matchPattern("/api/health").test("GET /api/health 200"), true);
 * throws(() => matchPattern("("), /--match: "\(" is not a regular expression/);
 * throws(() => matchPattern("(a+)\\1"), /--match: "\(a\+\)\\\\1" uses a backreference/);
 * throws(() => matchPattern("(?i:x)"), /--ignore-case/);
 * throws(() => matchPattern("x".repeat(5000)), /--match: the pattern is 5,000 characters long/);
 * ```
 */
export function matchPattern(source: string, ignoreCase = false): RegExp {
  if (source === "") throw new UsageError("--match needs a pattern, e.g. --match 'ready'");
  try {
    // Only what V8's linear-time engine can run: a pattern that backtracks
    // could block this process for hours on one long line (the timeout too).
    return linearRegExp(source, ignoreCase ? "i" : "");
  } catch (e) {
    if (e instanceof PatternTooLarge) {
      throw new UsageError(`--match: the pattern ${e.message}: ${e.fix}`);
    }
    if (e instanceof PatternProblem) {
      // (Its fix speaks of /…/i, a flag the command line gives with -i.)
      const fix = e.message.startsWith("uses an inline modifier")
        ? "give --ignore-case (-i) for any case instead"
        : e.fix;
      throw new UsageError(
        `--match: ${
          escapeControl(quotedPattern(source))
        } ${e.message}, which could take hours on one long ` +
          `line of output: ${fix}`,
      );
    }
    throw new UsageError(
      // (V8's message quotes the pattern as it is: escaped, as the pattern.)
      `--match: ${escapeControl(quotedPattern(source))} is not a regular expression (${
        escapeControl((e as Error).message)
      })`,
    );
  }
}

/**
 * A task as `--json` shows it after `--match`: its TaskInfo, and `match`,
 * the line that matched and the output offset just past it (where a
 * `logs --offset` reads on), or `null` for a task that has none; with
 * `inPart`, the lines searched on their first and last parts only (see
 * {@linkcode TaskOutcome.inPart}), with `truncated`, how often its output
 * was found truncated (searched again from its start).
 */
function withMatch(
  o: TaskOutcome,
):
  & TaskInfo
  & { match: { line: string; offset: number } | null }
  & Pick<
    TaskOutcome,
    "inPart" | "truncated"
  > {
  return {
    ...o.info,
    match: o.state === "met" ? { line: o.line ?? "", offset: o.lineEnd ?? 0 } : null,
    ...(o.inPart ? { inPart: o.inPart } : {}),
    ...(o.truncated ? { truncated: o.truncated } : {}),
  };
}

/**
 * What stderr says of a task's search beyond its match: its output
 * truncated meanwhile, lines too long to be judged whole.
 */
function searchNotes(o: TaskOutcome, bounds: { whole: number; part: number }): string[] {
  const notes: string[] = [];
  const id = o.info.id;
  if (o.truncated) {
    notes.push(
      `bgtask: ${id}'s output was truncated (a process of the task reopened it with '>'); ` +
        "searched from its start again",
    );
  }
  const p = o.inPart;
  if (p) {
    const at = `at bytes ${p.start}–${p.start + p.bytes} (${p.bytes} bytes, ${
      formatSize(p.bytes)
    })`;
    notes.push(
      `bgtask: note: ${
        p.lines === 1
          ? `the line of ${id} ${at} was`
          : `${p.lines} lines of ${id} (the last ${at}) were`
      } matched on ${p.lines === 1 ? "its" : "their"} first and last ` +
        `${bounds.part / 1024} KiB only: longer than ${bounds.whole / 1024 / 1024} MiB even ` +
        `after ${p.lines === 1 ? "its" : "their"} last \\r redraw (a match in the middle is ` +
        `not seen)${p.matched ? `; the match is in its ${p.matched} part` : ""}`,
    );
  }
  return notes;
}

/**
 * Waits until a line of every task's output (from its start) matches
 * `pattern`; prints each matching line; returns the exit code: 0 when
 * every task printed one, 1 when one ended without, 124 at the deadline.
 * `given`: the pattern as the person wrote it (shown escaped). With `mode`
 * `"any"`, until the first task prints one (0) or ends without (1).
 */
export async function waitForMatch(
  tasks: TaskManager,
  known: TaskInfo[],
  pattern: RegExp,
  timeoutMs: number | undefined,
  json: boolean,
  given = `/${pattern.source}/`,
  mode: "all" | "any" = "all",
): Promise<number> {
  // (The person's pattern, shown on a terminal: its control characters escaped.)
  const shown = escapeControl(given);
  // A person's own pattern: said, not refused (a Ctrl-C cannot stop a
  // pattern that runs for hours: the signal is heard between reads only).
  if (!linearFallback()) {
    printErr(
      `bgtask: note: started without ${FALLBACK_FLAG} (the install's flags have it): a ` +
        "pattern that backtracks badly (nested repeats: ^(a+)+$) can run for hours on a line of " +
        "40 characters, and then neither --timeout nor Ctrl-C stops it",
    );
  }
  const { waitFor, LINE_PART_BYTES, MAX_LINE_BYTES } = await import("../mcp/wait.ts");
  const outcome = await withSpinner(
    () =>
      known.length === 1
        ? `waiting for a line of ${known[0].id} (${taskLabel(known[0])}) matching ${shown}`
        : `waiting for ${mode === "any" ? "a line of any task" : "lines"} matching ${shown}`,
    () => "the tasks run on",
    () =>
      waitFor(tasks, {
        tasks: known,
        mode,
        until: "pattern",
        pattern,
        timeoutMs: timeoutMs ?? Infinity,
        // --timeout 0 checks all that is written (a longer one keeps to its
        // deadline: a task that writes fast has more than it can read).
        wholeFirstLook: timeoutMs === 0,
      }),
    // Off a terminal too, as the exit codes' help says of wait: a script's
    // log then says the wait stopped and the tasks did not.
    "always",
  );
  const lines = outcome.outcomes.filter((o) => o.state === "met").map((o) => o.line ?? "");
  await unlessClosed(
    json
      ? printOut(JSON.stringify(outcome.outcomes.map(withMatch), null, 2) + "\n")
      : printOut(lines.map((l) => escapeControl(l) + "\n").join("")),
  );
  const bounds = { whole: MAX_LINE_BYTES, part: LINE_PART_BYTES };
  for (const note of outcome.outcomes.flatMap((o) => searchNotes(o, bounds))) printErr(note);
  const ended = outcome.outcomes.filter((o) => o.state === "ended").map((o) => o.info);
  // (Of any, a line that matched is the answer, whatever ended beside it.)
  if (ended.length > 0 && !(mode === "any" && outcome.met)) {
    printErr(
      `bgtask: ${
        ended.map((t) => `${t.id} (${t.status})`).join(", ")
      } ended without a line matching ${shown}`,
    );
    return 1;
  }
  if (!outcome.met) {
    const waiting = outcome.outcomes.filter((o) => o.state !== "met").map((o) => o.info.id);
    printErr(
      `bgtask: stopped waiting after ${formatDuration(timeoutMs ?? 0)}; no line matching ` +
        `${shown} yet from ${waiting.join(", ")}`,
    );
    return EXIT_TIMEOUT;
  }
  return 0;
}
