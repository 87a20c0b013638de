/**
 * Waiting for a task's end, and following its output as it grows, through
 * the one waiting primitive (`watch.ts`).
 *
 * @module
 */

import { TaskNotFoundError } from "../errors.ts";
import type { TaskRecords } from "../lifecycle.ts";
import {
  FOLLOW_POLL_MAX_MS,
  FOLLOW_POLL_MIN_MS,
  INPUT_POLL_MS,
  VANISHED_SETTLE_MS,
  WAIT_POLL_MS,
} from "../timing.ts";
import type { FollowOptions, TaskInfo, WaitOptions } from "../types.ts";
import { sleep } from "../timers.ts";
import { CLOSED } from "../watch.ts";
import { type Ctx, infoOf, requireTask, shownOutputSize, showValue } from "./context.ts";
import { outputRecords, readOptions, readPiece } from "./read.ts";
import { settle } from "./settle.ts";
import { checkOptionNames, OPTION_NAMES } from "../options.ts";

/**
 * The task's records, for a task that existed a moment ago. If it vanished,
 * it is looked for once more after a moment: its folder goes first when the
 * whole store is being deleted, and then the error says so.
 */
async function stillThere(ctx: Ctx, id: string): Promise<TaskRecords> {
  try {
    return await requireTask(ctx, id);
  } catch (e) {
    if (!(e instanceof TaskNotFoundError)) throw e;
    await sleep(VANISHED_SETTLE_MS);
    return await requireTask(ctx, id);
  }
}

/** Resolves with the task's final snapshot; see {@linkcode TaskManager.wait}. */
export async function wait(ctx: Ctx, id: string, options: WaitOptions): Promise<TaskInfo> {
  checkOptionNames(options, OPTION_NAMES.wait, "Cannot wait");
  const { signal, until = "exit" } = options;
  if (until !== "exit" && until !== "input") {
    throw new TypeError(
      `Cannot wait: until must be "exit" or "input", got ${JSON.stringify(until)}`,
    );
  }
  let r: TaskRecords = await requireTask(ctx, id);
  if (r.final) return await infoOf(ctx, r);
  signal?.throwIfAborted();
  if (until === "input" && r.spec.stdin !== "null") return await waitInput(ctx, id, signal);
  await using w = ctx.hub.watch(signal);
  using _waiting = ctx.checks.join(id);
  for (;;) {
    signal?.throwIfAborted();
    w.mark();
    r = await stillThere(ctx, id);
    if (!r.final && await ctx.checks.lookIfDue(ctx)) r = await stillThere(ctx, id);
    // (Ended as the last look found it, its record not in the store yet: a full disk.)
    if (!r.final) r = ctx.checks.endedOf(id) ?? r;
    if (r.final) return await infoOf(ctx, r);
    await w.sleep(WAIT_POLL_MS);
  }
}

/**
 * Until the task waits for input or ends: each look is a liveness check,
 * which also says whether a process of the task is blocked reading its input
 * — or that it cannot be told (`null`: a process bgtask may not look at,
 * such as a setuid `sudo` at its prompt, run by a user who is not root), and
 * then waiting longer could only wait for the end: the caller hears it now.
 */
async function waitInput(ctx: Ctx, id: string, signal?: AbortSignal): Promise<TaskInfo> {
  await using w = ctx.hub.watch(signal);
  for (;;) {
    signal?.throwIfAborted();
    w.mark();
    let r = await stillThere(ctx, id);
    if (!r.final && r.started) r = await settle(ctx, r);
    if (r.final || r.waitingForInput || r.waitingForInput === null) return await infoOf(ctx, r);
    await w.sleep(INPUT_POLL_MS);
  }
}

/** Yields output bytes as they are written; see {@linkcode TaskManager.followBytes}. */
export function followBytes(
  ctx: Ctx,
  id: string,
  options: FollowOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  return pieces(ctx, id, options, 1, options.onTruncated);
}

/** Yields output as it is written, as text; see {@linkcode TaskManager.follow}. */
export async function* follow(
  ctx: Ctx,
  id: string,
  options: FollowOptions,
): AsyncGenerator<string, void, undefined> {
  let decoder = new TextDecoder(); // lossy: invalid bytes become U+FFFD, never throws
  // (New content after a truncation: no character of the old one goes on in it.)
  const truncated = (offset: number) => {
    decoder = new TextDecoder();
    options.onTruncated?.(offset);
  };
  // (A character cut between two pieces waits for its last bytes.)
  for await (const bytes of pieces(ctx, id, options, 4, truncated)) {
    const text = decoder.decode(bytes, { stream: true });
    if (text) yield text;
  }
  // The end of the output (not of an abort): a character cut short there shows as U+FFFD.
  if (options.signal?.aborted) return;
  const rest = decoder.decode();
  if (rest) yield rest;
}

/**
 * The output's pieces as they are written (see {@linkcode followBytes});
 * `minBytes` is the least `maxBytes` may be (4 for text: room for any one
 * character). An output found smaller than what was read was truncated (a
 * process of the task reopened it with `>`): `truncated` hears of it, with
 * the offset reached, and the pieces go on from byte 0 of its new content,
 * as `tail -f` does. (Only a size below that offset tells: a task that
 * writes more than it had before the next look goes unnoticed, as with
 * `tail -f`.)
 */
async function* pieces(
  ctx: Ctx,
  id: string,
  options: FollowOptions,
  minBytes: number,
  truncated?: (offset: number) => void,
): AsyncGenerator<Uint8Array, void, undefined> {
  checkOptionNames(options, OPTION_NAMES.follow, "Cannot follow output");
  if (options.onTruncated !== undefined && typeof options.onTruncated !== "function") {
    throw new TypeError(
      `Cannot follow output: onTruncated must be a function, got ${showValue(options.onTruncated)}`,
    );
  }
  let { offset, maxBytes } = readOptions(options, minBytes);
  const { r } = await outputRecords(ctx, id);
  await using w = ctx.hub.watch(options.signal);
  using _waiting = ctx.checks.join(id);
  let idle = 0;
  // Whether the output was seen at least `offset` long: below it then, it
  // was truncated (not so an offset given past the end, not written yet).
  let reached = offset === 0;
  const size = async () => {
    const now = await shownOutputSize(ctx, r);
    if (now >= offset) reached = true;
    return now;
  };
  while (!w.aborted || options.signal?.reason === CLOSED) {
    w.mark();
    const { bytes, finished, eof } = await readPiece(ctx, id, offset, maxBytes);
    if (bytes.length > 0) {
      offset += bytes.length;
      reached = true;
      idle = 0;
      yield bytes;
      continue;
    }
    // (Caught up: one look at the size, whether the output shrank below it.
    // A store or task removed meanwhile reads as no output: its records say
    // so first, as the error, not as a truncation.)
    if (offset > 0 && reached && await size() < offset) {
      await requireTask(ctx, id);
      truncated?.(offset);
      offset = 0;
      continue;
    }
    // (Its manager closed: what was written up to now, then the end.)
    if ((finished && eof) || w.aborted) return;
    // Output is polled (a watch per write would flood); task ends wake us at
    // once. Until one, a liveness look, or new output, a poll is one look at
    // the output's size, not the task's records (unless no change can be
    // heard: then the records tell the end).
    do {
      if (await ctx.checks.lookIfDue(ctx)) break;
      await w.sleep(Math.min(FOLLOW_POLL_MAX_MS, FOLLOW_POLL_MIN_MS * (1 + idle++)));
    } while (
      !w.aborted && !w.changed && w.watching &&
      // (More: new output. Less: truncated, once it was reached.)
      await size().then((now) => now === offset || (now < offset && !reached))
    );
  }
}
