/**
 * Waiting for a line of a task's output that matches a pattern (a server's
 * "listening on"), for the library: the search the CLI's `wait --match` and
 * MCP's `task_wait` make (`mcp/wait.ts`), one task at a time.
 *
 * @module
 */

import { TaskStateError } from "../errors.ts";
import { isFinal } from "../lifecycle.ts";
import { checkOptionNames, OPTION_NAMES } from "../options.ts";
import { nonNegativeInt } from "./context.ts";
import { shellWord } from "../permissions.ts";
import type { TaskManager } from "../task_manager.ts";
import type { LineMatch, WaitForLineOptions } from "../types.ts";

const WHAT = "Cannot wait for a line";

/** See {@linkcode TaskManager.waitForLine}. */
export async function waitForLine(
  tasks: TaskManager,
  id: string,
  pattern: RegExp,
  options: WaitForLineOptions,
): Promise<LineMatch> {
  checkOptionNames(options, OPTION_NAMES.waitForLine, WHAT);
  if (!(pattern instanceof RegExp)) {
    throw new TypeError(`${WHAT}: the pattern must be a RegExp, e.g. /listening on \\d+/`);
  }
  const offset = nonNegativeInt(options.offset, "offset", WHAT) ?? 0;
  const { signal } = options;
  signal?.throwIfAborted();
  const info = await tasks.getStatusOrThrow(id);
  const { waitFor } = await import("../mcp/wait.ts");
  // A pattern with the flag g or y keeps its place between tests: each line from its start.
  const test = pattern.global || pattern.sticky
    ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""))
    : pattern;
  let from = offset;
  let o;
  for (;;) {
    const outcome = await waitFor(tasks, {
      tasks: [info],
      mode: "all",
      until: "pattern",
      pattern: test,
      cursors: new Map([[id, from]]),
      timeoutMs: Infinity,
      signal,
    });
    o = outcome.outcomes[0];
    // Not met, and the task has not ended: its follow ended with the
    // manager, close() (which the search took for the task's end). It
    // waits on from where it searched to, as wait() does (a call begun after
    // the close runs as any): it said the task "ended (running)".
    if (o.state === "met" || isFinal(o.info.status) || signal?.aborted) break;
    from = o.searchedTo ?? from;
  }
  if (o.state === "met") {
    const line = o.line ?? "";
    // (The match itself, its groups: `listening on (\d+)`'s port. `test`
    // is neither global nor sticky: exec keeps no place.)
    const match = test.exec(line);
    const part = o.inPart?.matched;
    return {
      line,
      offset: o.lineEnd ?? offset,
      match,
      ...(part ? { inPart: { start: o.inPart!.start, bytes: o.inPart!.bytes, part } } : {}),
    };
  }
  signal?.throwIfAborted();
  const end = o.info.error ? `${o.info.status}: ${o.info.error}` : o.info.status;
  // Its last lines (a server's stderr is in its output file, which a test
  // log shows nothing of), and where the rest is. As a terminal shows them
  // (a line redrawn with \r on its last drawing, colours left out) and with
  // every control character escaped: the message is printed on a terminal
  // (`deno test`'s failure), where the task's own escapes would set the
  // clipboard, make the terminal type an answer, or switch its screen.
  const { cleanOutput } = await import("../mcp/format.ts");
  const last = cleanOutput(await tasks.tailOutput(id, TAIL_LINES).catch(() => "")).trimEnd();
  throw new TaskStateError(
    id,
    `Task ${id} ended (${end}) without a line matching ${pattern}` +
      (o.inPart
        ? ` (${o.inPart.lines} line${o.inPart.lines === 1 ? " was" : "s were"} over 1 MiB ` +
          "even after the last \\r redraw, matched on the first and last 512 KiB only)"
        : "") +
      (last ? `; its last lines:\n${last}\n` : "; it printed nothing") +
      `${last ? "" : "; "}its output: readOutput("${id}"), or ` +
      `bgtask --dir ${shellWord(tasks.dir)} logs ${id}`,
  );
}

/** How many of its last lines a task that ended without the line shows in the error. */
const TAIL_LINES = 10;
