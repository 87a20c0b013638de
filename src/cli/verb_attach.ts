/**
 * `bgtask attach ID`: the user's terminal becomes the task's terminal, for a
 * task started with `--stdin pty`: keystrokes go to it, its output shows
 * live, its size follows the window's; Ctrl-] leaves it running.
 *
 * @module
 */

import { type TaskInfo, type TaskManager, TaskStateError } from "../../mod.ts";
import { sleep } from "../timers.ts";
import { type Parsed, parseIds } from "./args.ts";
import { type Context, findTasks, type Verb } from "./context.ts";
import { escapeControl } from "./escape.ts";
import { exitCodeFor } from "./exit_codes.ts";
import { printErr, writeOut } from "./output.ts";
import { endBy, listen } from "./signals.ts";
import { errorText, taskLabel } from "./task_view.ts";

/** Ctrl-]: leaves the task running (as telnet's escape). */
const DETACH = 0x1d;
/** How much of the output's end is looked at for the last screenful. */
const RECENT_BYTES = 64 * 1024;
/** Output is polled, backing off to this. */
const POLL_MAX_MS = 30;

/** Where the last `lines` lines of the output begin. */
async function recentStart(tasks: TaskManager, id: string, lines: number): Promise<number> {
  const size = (await tasks.getStatus(id))?.outputBytes ?? 0;
  if (size === 0) return 0; // nothing printed yet (a silent prompt, cat)
  const from = Math.max(0, size - RECENT_BYTES);
  const bytes = await tasks.readOutputBytes(id, { offset: from, maxBytes: size - from });
  let seen = 0;
  for (let i = bytes.length - 2; i >= 0; i--) {
    if (bytes[i] === 0x0a && ++seen === lines) return from + i + 1;
  }
  return from;
}

/** The signals that end an attached session (Ctrl-C is a keystroke for the task, not one of them). */
const LEAVE_ON: readonly Deno.Signal[] = ["SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT"];

/**
 * What undoes the modes a task's program may have set on the terminal it
 * shared with us (as tmux and screen do on detach): application cursor keys
 * and keypad, bracketed paste, mouse reports, a hidden cursor, colours. (The
 * alternate screen apart: see AltScreen.)
 */
const RESET_MODES = "\x1b[?1l\x1b>\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l" +
  "\x1b[?1006l\x1b[?25h\x1b[0m";

/**
 * Whether what was written to the user's terminal left it on the alternate
 * screen (ESC [ ? 1049 h, 1047 or 47): only then is it left on detach. Its
 * leaving (1049 l) also puts the cursor back where it was saved, which,
 * when this session never entered it, is where some earlier full-screen
 * program (vi, less) left it: the detach note and the shell's prompt would
 * be written over the session's output.
 */
export class AltScreen {
  /** The mode that entered the alternate screen, while it is on. */
  on: string | undefined;
  #carry = "";

  /** Follows the bytes written to the terminal. */
  feed(bytes: Uint8Array): void {
    // (latin1: a byte per character; a sequence cut between writes is kept)
    const text = this.#carry + new TextDecoder("latin1").decode(bytes);
    // deno-lint-ignore no-control-regex
    for (const m of text.matchAll(/\x1b\[\?([\d;]+)([hl])/g)) {
      const mode = m[1].split(";").find((p) => p === "1049" || p === "1047" || p === "47");
      if (mode !== undefined) this.on = m[2] === "h" ? mode : undefined;
    }
    const esc = text.lastIndexOf("\x1b");
    this.#carry = esc >= 0 && text.length - esc < 64 && !/[hl]/.test(text.slice(esc + 2))
      ? text.slice(esc)
      : "";
  }

  /** What leaves the alternate screen, if the terminal is on it. */
  leave(): string {
    return this.on === undefined ? "" : `\x1b[?${this.on}l`;
  }
}

/** Gives the terminal back: the task's modes undone, raw mode off. */
function giveBack(screen: AltScreen): void {
  try {
    if (Deno.stdout.isTerminal()) {
      Deno.stdout.writeSync(new TextEncoder().encode(screen.leave() + RESET_MODES));
    }
  } catch {
    // no terminal left to reset
  }
  restore();
}

/** Takes the terminal out of raw mode. */
function restore(): void {
  try {
    Deno.stdin.setRaw(false);
  } catch {
    // no terminal left to restore
  }
}

function terminalSize(): { columns: number; rows: number } | undefined {
  try {
    const size = Deno.consoleSize();
    // 0 × 0: a terminal whose size nobody set says nothing about it.
    return size.columns > 0 && size.rows > 0 ? size : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the attached session; resolves with the exit code. */
async function attach(tasks: TaskManager, task: TaskInfo): Promise<number> {
  const id = task.id;
  const size = terminalSize();
  const resize = () => {
    const s = terminalSize();
    if (s) tasks.resizeTerminal(id, s).catch(() => {});
  };
  if (size) await tasks.resizeTerminal(id, size).catch(() => {});
  let offset = await recentStart(tasks, id, size?.rows ?? 24);
  const screen = new AltScreen();
  printErr(`[attached to ${id} (${taskLabel(task)}); Ctrl-] detaches, leaving it running]`);
  const stop = new AbortController();
  let ended: TaskInfo | undefined;
  let detached = false;
  let closedSaid = false;
  const done = tasks.wait(id, { signal: stop.signal }).then((info) => {
    ended = info;
  }, () => {});
  // Ended from outside (kill, a closed terminal, a Ctrl-C sent to the group):
  // the terminal is given back as it was, then bgtask ends by that signal.
  const leave = (signal: Deno.Signal) => () => {
    giveBack(screen);
    printErr(
      `\r\n[detached from ${id} by ${signal}: it runs on; bgtask attach ${id} comes back to it]`,
    );
    endBy(signal);
  };
  const leaving = LEAVE_ON.map((signal) => [signal, leave(signal)] as const);
  // Stopped from outside (SIGTSTP, SIGSTOP; a Ctrl-Z is the task's) and
  // brought back with fg: the shell left the terminal cooked, as it keeps it
  // for itself. Raw again, at the window's size now, as an editor does.
  const resumed = () => {
    try {
      Deno.stdin.setRaw(true);
    } catch {
      // no terminal any more: the read ends
    }
    resize();
  };
  Deno.stdin.setRaw(true);
  Deno.addSignalListener("SIGWINCH", resize);
  Deno.addSignalListener("SIGCONT", resumed);
  const stopLeaving = leaving.map(([signal, handler]) => listen(signal, handler));
  try {
    // Keystrokes, as they come, in order; Ctrl-] ends the session.
    const input = (async () => {
      const buf = new Uint8Array(4096);
      while (!stop.signal.aborted) {
        const n = await Deno.stdin.read(buf);
        if (n === null) break;
        let chunk = buf.slice(0, n);
        const at = chunk.indexOf(DETACH);
        if (at >= 0) chunk = chunk.subarray(0, at);
        if (chunk.length > 0) {
          await tasks.writeStdin(id, chunk).catch((e) => {
            // Closed from elsewhere meanwhile (bgtask send --eof): said once.
            if (e instanceof TaskStateError && !closedSaid) {
              closedSaid = true;
              printErr(
                `\r\n[${
                  escapeControl(e.message)
                }: keystrokes no longer reach it; Ctrl-] detaches]\r\n`,
              );
            }
          });
        }
        if (at >= 0) {
          detached = true;
          stop.abort();
        }
      }
    })();
    input.catch(() => {});
    let idle = 0;
    for (;;) {
      const wasEnded = ended !== undefined;
      const bytes = await tasks.readOutputBytes(id, { offset, maxBytes: 1024 * 1024 });
      if (bytes.length > 0) {
        screen.feed(bytes);
        await writeOut(bytes);
        offset += bytes.length;
        idle = 0;
        continue;
      }
      if (detached || wasEnded) break;
      await Promise.race([done, sleep(Math.min(POLL_MAX_MS, 5 * ++idle), stop.signal)]);
    }
  } finally {
    Deno.removeSignalListener("SIGWINCH", resize);
    Deno.removeSignalListener("SIGCONT", resumed);
    for (const stopListening of stopLeaving) stopListening();
    giveBack(screen);
    stop.abort();
  }
  if (detached || !ended) {
    printErr(`\r\n[detached from ${id}: it runs on; bgtask attach ${id} comes back to it]`);
    return 0;
  }
  const why = ended.error === null ? "" : `: ${escapeControl(errorText(ended.error))}`;
  printErr(`\r\n[${id} ${ended.status}${why}]`);
  return exitCodeFor(ended) ?? 0;
}

/** The `attach` verb. */
export const attachVerb: Verb = {
  name: "attach",
  writes: true,
  options: {},
  positionals: "some",
  ids: "every",
  async run(ctx: Context, { positionals }: Parsed): Promise<number> {
    const [id] = parseIds("bgtask attach", positionals, true);
    const tasks = ctx.tasks();
    const [task] = await findTasks(tasks, [id]);
    const what = `Cannot attach to task ${id}`;
    if (task.stdin !== "pty") {
      throw new TaskStateError(
        id,
        `${what}: it has no terminal (its stdin is ${
          task.stdin === "pipe" ? "a pipe: bgtask send writes to it" : "/dev/null"
        }); attach needs a task started with --stdin pty`,
      );
    }
    if (task.finishedAt !== null) {
      throw new TaskStateError(
        id,
        `${what}: it has ended (${task.status}); bgtask logs ${id} shows what it printed`,
      );
    }
    if (task.startedAt === null) {
      throw new TaskStateError(
        id,
        `${what}: it has not started yet (it is ${task.status}); bgtask wait ${id} --until ` +
          `input waits until it runs and asks, then attach again`,
      );
    }
    if (!Deno.stdin.isTerminal()) {
      throw new Error(
        `${what}: bgtask attach needs a terminal, and its stdin is not one ` +
          `(from a script or a pipe, bgtask send writes to the task)`,
      );
    }
    if (!Deno.stdout.isTerminal()) {
      // (Its keys would reach the task, and nothing of its screen would show.)
      throw new Error(
        `${what}: bgtask attach needs a terminal, and its stdout is not one (the task's ` +
          `screen would not show; what it prints is kept whole: bgtask logs -f ${id} follows it)`,
      );
    }
    return await attach(tasks, task);
  },
};
