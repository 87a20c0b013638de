/**
 * `bgtask logs ID [--follow] [--tail N] [--offset BYTES] [--raw]`: a task's
 * output, byte for byte (on a terminal, without what would make it answer or
 * change its modes, unless `--raw`).
 *
 * @module
 */

import { shownSize } from "../output_cap.ts";
import type { TaskManager } from "../../mod.ts";
import { lastLinesStart, readerOf } from "../tail.ts";
import { parseCount, type Parsed, parseIds } from "./args.ts";
import { type Context, findTasks, type Verb } from "./context.ts";
import { describeError, UsageError } from "./errors.ts";
import { DamagedRecordError } from "../store/fs_store.ts";
import { printErr, writeOut } from "./output.ts";
import { parseSize } from "./size.ts";
import { isFinished } from "./task_view.ts";
import { TerminalSafe } from "./terminal_safe.ts";

/** Copied at a time: small enough for V8 to collect young (1 MiB chunks piled up to ~128 MiB RSS). */
const CHUNK = 128 * 1024;

/**
 * The byte offset where the last `lines` lines of the output begin (a last
 * line without a newline counts), found by reading backwards from `size`
 * through one open file, in steps that grow to 1 MiB (a read a step through
 * the manager looked the task up each time: 29 s for a 300 MiB line). 0
 * when the file cannot be opened (the copy that follows says why).
 */
async function tailOffset(path: string, size: number, lines: number): Promise<number> {
  if (lines === 0 || size === 0) return size;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return 0; // (gone, or not ours to read: the copy's read says so, as the manager words it)
  }
  using _ = file;
  return await lastLinesStart(readerOf(file), size, lines);
}

/**
 * Copies output from `offset` to stdout until nothing is left; with
 * `follow`, until the task has finished and nothing is left (an output
 * truncated meanwhile, said on stderr, from its start again, as `tail -f`
 * does). Resolves with the offset reached.
 */
async function copyOutput(
  tasks: TaskManager,
  id: string,
  offset: number,
  follow: boolean,
  safe?: TerminalSafe,
): Promise<number> {
  const write = (bytes: Uint8Array) => writeOut(safe ? safe.push(bytes) : bytes);
  if (follow) {
    const onTruncated = () => {
      offset = 0;
      printErr(
        `bgtask: ${id}'s output was truncated (a process of the task reopened it with '>'); ` +
          "reading from its start",
      );
    };
    for await (const bytes of tasks.followBytes(id, { offset, maxBytes: CHUNK, onTruncated })) {
      await write(bytes);
      offset += bytes.length;
    }
  } else {
    for (;;) {
      const bytes = await tasks.readOutputBytes(id, { offset, maxBytes: CHUNK });
      if (bytes.length === 0) break;
      await write(bytes);
      offset += bytes.length;
    }
  }
  if (safe) await writeOut(safe.end());
  return offset;
}

/** The `logs` verb. */
export const logsVerb: Verb = {
  name: "logs",
  options: {
    follow: { type: "boolean", short: "f" },
    tail: { type: "string", short: "n" },
    offset: { type: "string" },
    raw: { type: "boolean" },
  },
  positionals: "some",
  ids: "every",
  async run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    // The options first: `logs -n b3` took the id for the count, and is
    // told so, not that the id is missing.
    const tail = values.tail === undefined
      ? undefined
      : parseCount(values.tail as string, "--tail");
    const offset = values.offset === undefined
      ? undefined
      : parseSize(values.offset as string, "--offset", "the start");
    if (tail !== undefined && offset !== undefined) {
      throw new UsageError("--tail and --offset cannot be used together");
    }
    const [id] = parseIds("bgtask logs", positionals, true);
    const tasks = ctx.tasks();
    // A task whose final record is damaged has ended, its output intact:
    // shown, and the damage told on stderr.
    let damaged = false;
    const task = await findTasks(tasks, [id]).then(([t]) => t, (e) => {
      if (!(e instanceof DamagedRecordError) || e.id !== id || !e.ended) throw e;
      damaged = true;
      printErr(describeError(e).line);
      return { outputFile: e.ended.outputFile, maxOutputBytes: e.ended.spec.maxOutputBytes };
    });
    // (The size 0 when it cannot be read: then everything is shown.)
    const start = tail === undefined
      ? offset ?? 0
      : await tailOffset(task.outputFile, await shownSize(task).catch(() => 0), tail);
    // On a terminal, what would make it answer or change its modes is left
    // out (a task's own terminal's queries, its alternate screen); piped
    // or redirected, and with --raw, every byte as it was written.
    const safe = Deno.stdout.isTerminal() && values.raw !== true ? new TerminalSafe() : undefined;
    const reached = await copyOutput(tasks, id, start, values.follow === true, safe);
    if (safe?.fullScreen) {
      // Without its alternate screen, a full-screen program's screen is
      // drawn over the viewer's (a terminal-user walk: top wiped it, vim's
      // lines sat among the prompt's): said, with what shows it whole.
      printErr(
        `bgtask: note: ${id} drew a full screen (vim, top, less: a terminal's alternate ` +
          "screen), replayed here over yours; bgtask attach " +
          `${id} shows it as it is while it runs, bgtask logs --raw ${id} | less -R its bytes`,
      );
    }
    if (offset !== undefined && reached === offset && !damaged) {
      // Nothing shown: an offset past the end (a typo, the size of another
      // task's output) would look like a task that printed nothing. Still
      // exit 0, as for any offset: reading past the end is no error to the
      // module either (an empty read).
      const now = await tasks.getStatus(id);
      if (now && now.outputBytes < offset) {
        const soFar = isFinished(now.status) ? "" : " so far";
        printErr(
          `bgtask: --offset ${values.offset} is past the end of the output of ${id}: it has ` +
            `${now.outputBytes} bytes${soFar}, so nothing was shown`,
        );
      }
    }
    return 0;
  },
};
