/**
 * `bgtask send ID TEXT…` (and `send ID -`, `--key K`, `--eof`): writes to the
 * stdin of a task started with `--stdin pipe` or `--stdin pty`.
 *
 * @module
 */

import { escapeControl } from "./escape.ts";
import { StdinTimeoutError, TaskStateError } from "../errors.ts";
import { type OptionSpecs, type Parsed, parseId } from "./args.ts";
import { COMMON_OPTIONS, type Context, findTasks, type Verb } from "./context.ts";
import { parseDuration } from "./duration.ts";
import { UsageError } from "./errors.ts";
import { keyBytes } from "./keys.ts";
import { printErr } from "./output.ts";
import { queuedRefusal } from "./paused_queues.ts";
import { holdSignals, stoppedBy } from "./signals.ts";
import { isFinished } from "./task_view.ts";

/** Keys that a terminal turns into a signal or an end of input, by the byte they send. */
const PIPE_INERT: Record<string, string> = {
  "\x03": "ctrl-c",
  "\x04": "ctrl-d",
  "\x1a": "ctrl-z",
  "\x1c": "ctrl-\\",
};

const encoder = new TextEncoder();

/**
 * A failed write of one piece of bgtask's stdin, told for the whole stream:
 * `sent` bytes of earlier pieces had reached the task. A timeout's counts
 * were the piece's (its first 64 KiB read as "of 65536 bytes" of a 200 kB
 * input): they are said as what was read of bgtask's stdin so far, which is
 * all bgtask knows of it (what follows is not read, so not counted).
 */
function afterPieces(e: unknown, sent: number): unknown {
  if (e instanceof StdinTimeoutError) {
    return new Error(
      e.message.replace(
        /(\d+) of (\d+) bytes were written(, the rest was not)?/,
        `${sent + e.written} of the ${sent + e.total} bytes read so far from bgtask's stdin ` +
          `were written, the rest was not, and no more of it was read`,
      ),
      { cause: e },
    );
  }
  if (e instanceof TaskStateError && sent > 0) {
    return new TaskStateError(
      e.id,
      `${e.message} (${sent} bytes of bgtask's stdin had been written before)`,
    );
  }
  return e;
}

/**
 * The longest line a terminal in line (canonical) mode keeps: the kernel's
 * line buffer (4096 bytes, one kept for the line's end) drops the rest.
 */
const PTY_LINE_BYTES = 4095;

/**
 * The longest line among pieces of bytes, as they come (a line may span
 * pieces; Enter is \r on a terminal, \n too).
 */
class LongestLine {
  /** The longest line seen, in bytes. */
  longest = 0;
  #current = 0;
  /** Counts the lines of `bytes`. */
  add(bytes: Uint8Array): void {
    for (const b of bytes) {
      if (b === 0x0d || b === 0x0a) {
        this.#current = 0;
      } else if (++this.#current > this.longest) {
        this.longest = this.#current;
      }
    }
  }
}

/**
 * Options as they would be written after the id by mistake (`--key`, `-n`),
 * each with whether it takes a value (the word after it, when not written
 * with `=`).
 */
function optionWords(specs: OptionSpecs): Map<string, boolean> {
  const words = new Map<string, boolean>();
  for (const [name, spec] of Object.entries(specs)) {
    words.set(`--${name}`, spec.type === "string");
    if (spec.short !== undefined) words.set(`-${spec.short}`, spec.type === "string");
  }
  return words;
}

/** The `send` verb. */
export const sendVerb: Verb = {
  name: "send",
  writes: true,
  options: {
    "no-newline": { type: "boolean", short: "n" },
    key: { type: "string", multiple: true },
    eof: { type: "boolean" },
    timeout: { type: "string" },
  },
  // Options come first: after the id, every word is text (`send b3 ls -la`).
  positionals: "command",
  ids: "first",
  async run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    if (positionals.length === 0) {
      throw new UsageError("missing task id for bgtask send (see bgtask send --help)");
    }
    const id = parseId(positionals[0], "bgtask send");
    // (A `--` right after the id says that what follows is text, whatever it
    // looks like: `send b3 -- --key` sends "--key".)
    const literal = positionals[1] === "--";
    const words = positionals.slice(literal ? 2 : 1);
    const keys = ((values.key as string[] | undefined) ?? []).map(keyBytes);
    const eof = values.eof === true;
    const fromStdin = words.length === 1 && words[0] === "-";
    // (Sent as text, "- --timeout 1s", while what was piped in went nowhere.)
    if (words[0] === "-" && words.length > 1) {
      throw new UsageError(
        `- (send what bgtask's stdin reads) takes no words after it, and options go before the ` +
          `id: bgtask send ${
            words.slice(1).map(escapeControl).join(" ")
          } ${id} - (to send text that begins with "- ", give it as one quoted word)`,
      );
    }
    if (words.length === 0 && keys.length === 0 && !eof) {
      throw new UsageError(
        "nothing to send: give TEXT, - (bgtask's stdin), --key or --eof (see bgtask send --help)",
      );
    }
    if (fromStdin && values["no-newline"]) {
      throw new UsageError("--no-newline does not go with - (what is read is sent as it is)");
    }
    const timeoutMs = values.timeout === undefined
      ? undefined
      : parseDuration(values.timeout as string, "--timeout", "no waiting");
    // A first word that is one of send's own options was meant as one
    // (wait and logs take options after the id, as pueue's send does): it
    // is refused, not typed into the task (`--key esc` as text put vim in
    // insert mode, and the next send into the file). `--` first sends it
    // as text. (Later words are text: `send b3 head -n 5 log`.)
    // (Every verb's options too, after it as before it: the help says they may
    // follow the verb, and `--dir S` after the id went to another store's task.)
    const own = optionWords({ ...COMMON_OPTIONS, ...sendVerb.options });
    const meant = literal ? undefined : words[0]?.split("=")[0];
    if (meant !== undefined && own.has(meant)) {
      const value = own.get(words[0]) === true && words.length > 1 ? ` ${words[1]}` : "";
      const shown = escapeControl(words[0] + value);
      throw new UsageError(
        `"${escapeControl(words[0])}" after the id would be typed into the task as text: ` +
          `options go before the id (bgtask send ${shown} ${id}${
            words.length > (value ? 2 : 1) ? " …" : ""
          }); to send it as text, put -- after the id (bgtask send ${id} -- ${shown})`,
      );
    }
    const tasks = ctx.tasks();
    const [task] = await findTasks(tasks, [id]);
    if (task.stdin === "null") {
      throw new TaskStateError(
        id,
        `Cannot write to the stdin of task ${id}: its stdin is /dev/null (only a task run ` +
          "with --stdin pipe or --stdin pty takes input)",
      );
    }
    // A pipe has no terminal: Enter is LF there, and the keys a terminal turns
    // into a signal or an end of input would arrive as mere bytes.
    const keyData = task.stdin === "pty" ? keys : keys.map((k) => k === "\r" ? "\n" : k);
    const inert = task.stdin === "pty" ? undefined : keyData.find((k) => k in PIPE_INERT);
    // (An ended task is said so first: no key, nor a kill, could reach it.)
    if (inert !== undefined && !isFinished(task.status)) {
      throw new UsageError(
        `--key ${PIPE_INERT[inert]} to a task whose stdin is a pipe would be one byte, not a ` +
          `keystroke (only a terminal makes it a signal or an end of input): to end its input, ` +
          `--eof; to stop it, bgtask kill ${id}`,
      );
    }
    // A Ctrl-C (SIGTERM, SIGHUP) stops the write, and says how far it got:
    // what had been written reached the task, and nothing can take it back.
    const hold = holdSignals();
    let sent = 0;
    let writing = 0;
    let closed = false;
    // A terminal in line mode keeps 4,095 bytes of a line, silently: said.
    const lines = new LongestLine();
    const write = async (data: string | Uint8Array) => {
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      if (task.stdin === "pty") lines.add(bytes);
      writing = bytes.length;
      await tasks.writeStdin(id, bytes, { timeoutMs, signal: hold.signal }).catch(async (e) => {
        throw await queuedRefusal(tasks, id, e, "send");
      });
      sent += bytes.length;
      writing = 0;
    };
    try {
      if (fromStdin) {
        // As it comes: each piece is one write (another writer's may come between two).
        const reader = Deno.stdin.readable.getReader();
        hold.signal.addEventListener("abort", () => reader.cancel().catch(() => {}));
        for (;;) {
          const { done, value } = await reader.read();
          if (done || hold.signal.aborted) break;
          const before = sent;
          try {
            await write(value);
          } catch (e) {
            throw hold.heard ? e : afterPieces(e, before);
          }
        }
      } else if (words.length > 0) {
        // Enter, as a terminal's keyboard sends it: CR on a terminal, LF on a pipe.
        const newline = values["no-newline"] ? "" : task.stdin === "pty" ? "\r" : "\n";
        await write(words.join(" ") + newline);
      }
      if (!hold.heard && keyData.length > 0) await write(keyData.join(""));
      if (!hold.heard && eof) {
        await tasks.closeStdin(id).catch(async (e) => {
          throw await queuedRefusal(tasks, id, e, "send");
        });
        closed = true;
      }
    } catch (e) {
      if (!hold.heard) throw e;
    } finally {
      hold.release();
    }
    if (lines.longest > PTY_LINE_BYTES) {
      printErr(
        `bgtask send: note: a line of it was ${lines.longest.toLocaleString("en-US")} bytes, and ` +
          `the terminal of ${id}, in line mode, keeps ${
            PTY_LINE_BYTES.toLocaleString("en-US")
          } bytes of a line (the rest was dropped, unless the program reads keys one by one): ` +
          "send shorter lines, put the data in a file and send its path, or run such a task " +
          "with --stdin pipe",
      );
    }
    if (hold.heard) {
      printErr(
        `bgtask: interrupted (${hold.heard}): ${sent} bytes had been written to the stdin of ${id}` +
          (writing > 0 ? `, and part of the ${writing} being written may have reached it` : "") +
          (eof && !closed ? "; its end of input was not sent" : ""),
      );
      return stoppedBy(hold.heard);
    }
    return 0;
  },
};
