/**
 * `task_write_stdin`: answers an interactive task (stdin "pipe" or "pty"),
 * and returns what it printed in reply, once it waits for input again.
 *
 * @module
 */

import { TaskStateError } from "../../errors.ts";
import { isFinal } from "../../lifecycle.ts";
import { ArgumentError } from "../args.ts";
import { statusLine, textResult } from "../format.ts";
import { lastLineStart, outputSize, readWindow, showPiece } from "../read.ts";
import { defineTool, noteTold, remember, startedHere } from "../tool.ts";
import { MAX_WAIT_S, waitFor, waitLimit, waitSecondsField } from "../wait.ts";

/** What `task_write_stdin` returns at most of the reply. */
const REPLY_BYTES = 16 * 1024;
/**
 * The longest line a terminal in line (canonical) mode keeps: the kernel's
 * line buffer (4096 bytes, one kept for the line's end) drops the rest.
 */
const PTY_LINE_BYTES = 4095;

/**
 * A note for data written to a terminal with a line (Enter is \r, or \n)
 * longer than {@linkcode PTY_LINE_BYTES}, which line mode cut silently; ""
 * when there is none.
 */
function longLineNote(data: string): string {
  let longest = 0;
  for (const line of data.split(/[\r\n]/)) {
    // (Three bytes at most a UTF-16 unit: a short line needs no encoding.)
    if (line.length * 3 > PTY_LINE_BYTES) {
      longest = Math.max(longest, new TextEncoder().encode(line).length);
    }
  }
  if (longest <= PTY_LINE_BYTES) return "";
  return `Note: a line of it is ${longest.toLocaleString("en-US")} bytes, and a terminal in ` +
    "line mode keeps 4,095 bytes of a line (the rest is dropped, unless the program reads " +
    "keys one by one): send shorter lines, or put the data in a file and send its path.";
}

interface Args {
  id: string;
  data?: string;
  eof: boolean;
  wait_s: number;
}

/**
 * What to do next about a task still working after a write: wait for its
 * next prompt. Some programs' prompts are not detected, and a wait until
 * "input" would not end for them: one for the prompt's text does, from
 * `lineStart` (the start of the reply's last line: a prompt already shown
 * there is found too).
 */
function stillWorking(id: string, lineStart: number): string {
  return `${id} is still working: task_wait {"ids": ["${id}"], "until": "input"} waits for ` +
    "its next prompt; for a program whose prompt is not detected (that wait would not end), " +
    `task_wait {"ids": ["${id}"], "pattern": "…", "cursor": ${lineStart}} waits for the ` +
    "prompt's text, from the reply's last line on.";
}

/**
 * A note for control keys written to a pipe: only a terminal turns Ctrl-C
 * into a SIGINT and Ctrl-D into an end of input (the CLI's `send --key`
 * refuses them there); on a pipe they are bytes like any other.
 */
function pipeKeysNote(data: string): string {
  const keys = [["\u0003", "Ctrl-C"], ["\u0004", "Ctrl-D"], ["\u001a", "Ctrl-Z"]]
    .filter(([k]) => data.includes(k)).map(([, name]) => name);
  if (keys.length === 0) return "";
  return `Note: ${keys.join(" and ")} went to the program as ${
    keys.length === 1 ? "a byte" : "bytes"
  }: its stdin is a pipe, not a terminal, so no signal and no end of input comes of ${
    keys.length === 1 ? "it" : "them"
  } (task_kill ends the task; eof: true ends its input).`;
}

/**
 * A note for line ends that do not end a line as meant: on a terminal
 * `"\r\n"` is two Enters (the `\n` answers whatever reads next with an
 * empty line); on a pipe `"\r"` is a byte of the line (the answer is
 * `"yes\r"`). "" when there is none.
 */
function lineEndNote(data: string, stdin: "pipe" | "pty"): string {
  if (stdin === "pty" && data.includes("\r\n")) {
    return 'Note: on a terminal "\\r\\n" is two Enters: "\\r" ended the line, and "\\n" sent an ' +
      "empty line to whatever read next (a second prompt got an empty answer, if one was " +
      'asked): end a line with "\\r" alone.';
  }
  if (stdin === "pipe" && data.includes("\r")) {
    return 'Note: on a pipe "\\r" is no Enter but a byte of the line: the program got it as ' +
      'part of its input ("yes\\r" for "yes"): end a line with "\\n" alone.';
  }
  return "";
}

/**
 * A note for data that ends in a backslash and `n` or `r` with no line end
 * in it: a client that passed `data=yes\r` from a command line sent the two
 * characters, not the control character; "" otherwise.
 */
function literalEscapeNote(data: string): string {
  const m = /\\([nr])$/.exec(data);
  if (!m || /[\r\n]/.test(data)) return "";
  return `Note: what you wrote ends in a backslash and "${m[1]}", two characters, not a line ` +
    `end (your client sent them as they were typed): the program has no line end yet; send the ` +
    `control character itself (JSON "\\${m[1]}").`;
}

/** The `task_write_stdin` tool. */
export const taskWriteStdin = defineTool<Args>({
  name: "task_write_stdin",
  title: "Write to a task's stdin",
  description:
    'Send input to a task started by task_start with stdin "pipe" or "pty": answer a prompt, ' +
    'drive a REPL. data is written as it is: on a pipe end a line with "\\n" ("\\r" would be ' +
    'part of the line); on a terminal "\\r" is Enter (not "\\r\\n": two Enters), ' +
    '"\\u0003" is Ctrl-C, "\\u0004" Ctrl-D and "\\u001b" Escape, and a line is kept to ' +
    "4,095 bytes. eof: true then ends its input " +
    "(end-of-file; Ctrl-D on a terminal). The call then waits up to wait_s seconds (default " +
    "10) until the task waits for input again or ends, and returns what it printed since the " +
    "write. bgtask keeps no copy of what you send; a terminal echoes it into the output unless " +
    "the program turned echo off (as password prompts do).",
  fields: {
    id: { type: "id", required: true, description: 'the task id, e.g. "b3"' },
    data: {
      type: "string",
      description: 'what to write, e.g. "yes\\n" (may be left out with eof: true)',
    },
    eof: {
      type: "boolean",
      default: false,
      description: "after writing, end the task's input (no more writes)",
    },
    wait_s: waitSecondsField(
      "how long to wait for the task to want input again, or end (default 10; at most " +
        `${MAX_WAIT_S}: a larger value counts as ${MAX_WAIT_S})`,
    ),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
  async run(session, args, call) {
    const { tasks, cursors } = session;
    const { ms: waitMs, note: capped } = waitLimit("wait_s", args.wait_s, "no wait for a reply");
    if ((args.data === undefined || args.data === "") && !args.eof) {
      throw new ArgumentError("give data to write, or eof: true to end the input");
    }
    const before = await tasks.getStatusOrThrow(args.id);
    const from = await outputSize(before);
    const bytes = new TextEncoder().encode(args.data ?? "").length;
    const t0 = performance.now();
    try {
      if (args.data) {
        // A program that does not read makes the write wait: at most wait_s (at least 1 s).
        const timeoutMs = Math.max(waitMs, 1000);
        await tasks.writeStdin(args.id, args.data, { signal: call.signal, timeoutMs });
      }
      if (args.eof) await tasks.closeStdin(args.id);
    } catch (e) {
      // A refusal that says the task has ended tells its end, as an answer
      // would (a walk had the next task_completions tell it again).
      if (e instanceof TaskStateError && /: it has ended \(/.test(e.message)) {
        const now = await tasks.getStatus(args.id);
        if (now && isFinal(now.status)) {
          call.errorTells?.();
          noteTold(session, [now], call);
        }
      }
      throw e;
    }
    let info = before;
    const leftMs = waitMs - (performance.now() - t0);
    if (leftMs > 0) {
      // (Input still on its way to the program does not count as waiting: see wfi_scan.)
      // Its input ended, it has nothing more to wait for but its end.
      const outcome = await waitFor(tasks, {
        tasks: [before],
        mode: "any",
        until: args.eof ? "exit" : "input",
        timeoutMs: leftMs,
        signal: call.signal,
        deadline: call.ending,
        onProgress: (id, line) => call.progress(`${id}: ${line}`),
      });
      info = outcome.outcomes[0].info;
    } else {
      info = (await tasks.getStatus(args.id)) ?? before;
    }
    noteTold(session, [info], call);
    const piece = await readWindow(tasks, info, from, REPLY_BYTES);
    remember(cursors, info.id, piece.end);
    const wrote = [
      args.data ? `Wrote ${bytes} byte${bytes === 1 ? "" : "s"} to ${info.id}'s stdin` : "",
      args.eof ? `${args.data ? "then " : ""}ended its input` : "",
    ].filter((x) => x).join(", ");
    // A line left open: the program waits for its end, not for another answer.
    // Not when it took what was written (a `read -n1`: it went on to print a
    // line, and asks the next question, which an Enter would answer), nor for
    // keys on a terminal (Ctrl-C, an arrow: no line is begun by them), nor
    // control bytes alone on a pipe (a Ctrl-C written there, said above).
    const keys = before.stdin === "pty"
      // deno-lint-ignore no-control-regex
      ? /^(\x1b|[\x00-\x1f\x7f]+$)/.test(args.data ?? "")
      // deno-lint-ignore no-control-regex
      : /^[\x00-\x08\x0b-\x1f\x7f]+$/.test(args.data ?? "");
    const open = args.data !== undefined && args.data !== "" && !args.eof && !keys &&
      !(before.stdin === "pty" ? /[\r\n]$/ : /\n$/).test(args.data) && !piece.text.includes("\n");
    const next = info.status !== "running"
      ? ""
      : args.eof
      ? `${info.id} is still working: task_wait {"ids": ["${info.id}"]} waits for it to end.`
      : info.waitingForInput && open
      ? before.stdin === "pty"
        // (A program that reads keys one by one, an editor or a menu, took
        // them: an Enter would be one more key. Which mode the terminal is
        // in is not known here.)
        ? `${info.id} waits for input again: what you wrote ends without a line end. If it ` +
          `reads a line (a prompt; not an editor or a menu, which take keys one by one), it ` +
          `waits for the line's end: write "\\r" (Enter) to end it, rather than the answer again.`
        : `${info.id} waits for input again: what you wrote ends without a line end, and a ` +
          `program that reads a line waits for it (write "\\n" to end the line, rather than ` +
          `the answer again).`
      : info.waitingForInput && info.stdin === "pipe"
      // (A program reading a pipe may wait for its end: it does not know it is done.)
      ? `${info.id} waits for input again (if it is done, task_write_stdin ` +
        `{"id": "${info.id}", "eof": true} ends its input).`
      : info.waitingForInput
      ? `${info.id} waits for input again.`
      : stillWorking(info.id, await lastLineStart(tasks, info, from, piece.end));
    return textResult(
      [
        `${wrote[0].toUpperCase()}${wrote.slice(1)}.`,
        before.stdin === "pty" && args.data ? longLineNote(args.data) : "",
        before.stdin === "pipe" && args.data ? pipeKeysNote(args.data) : "",
        args.data && before.stdin !== "null" ? lineEndNote(args.data, before.stdin) : "",
        args.data ? literalEscapeNote(args.data) : "",
        statusLine(info, Date.now(), undefined, startedHere(session, info.id)),
        `next_cursor: ${piece.end} · its output since the write:`,
        showPiece(info.id, piece),
        next,
        capped,
      ].filter((x) => x).join("\n"),
    );
  },
});
