/**
 * `bgtask clean [--older-than DUR] [--status S] [--queue Q] [--keep N]
 * [--include-unread] [--json]`: deletes finished tasks in bulk (those a
 * completion consumer has not read are kept, and said so, unless
 * `--include-unread`).
 *
 * @module
 */

import { parseCount, type Parsed, parseName, parseStatuses } from "./args.ts";
import { noStoreAt, requireQueue, requireStore } from "./targets.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { parseDuration } from "./duration.ts";
import { describeError } from "./errors.ts";
import { shortList } from "./escape.ts";
import { printDone, printErr } from "./output.ts";
import { holdSignals, stoppedBy } from "./signals.ts";

/** The `clean` verb. */
export const cleanVerb: Verb = {
  name: "clean",
  writes: true,
  options: {
    "older-than": { type: "string" },
    status: { type: "string", multiple: true },
    queue: { type: "string" },
    keep: { type: "string" },
    "include-unread": { type: "boolean" },
    ...JSON_OPTION,
  },
  positionals: "none",
  async run(ctx: Context, { values }: Parsed): Promise<number> {
    const olderThanMs = values["older-than"] === undefined
      ? undefined
      : parseDuration(values["older-than"] as string, "--older-than", "any age");
    const status = parseStatuses(values.status as string[] | undefined, true);
    const keep = values.keep === undefined
      ? undefined
      : parseCount(values.keep as string, "--keep");
    const queue = values.queue as string | undefined;
    if (queue !== undefined) {
      // As wait, kill and pause --queue: a mistyped store or queue is said so
      // (a queue removed whose tasks still name it is theirs to clean).
      await requireStore(ctx);
      const name = parseName(queue, "--queue");
      const named = await ctx.tasks().list({ queue: name, last: 1 });
      if (named.length === 0) await requireQueue(ctx.tasks(), name);
    } else {
      // (As list: nothing to clean, all the same, but a mistyped --dir is said so.)
      const missing = await ctx.missingStore();
      if (missing !== undefined) printErr(`bgtask: note: ${noStoreAt(missing)}`);
    }
    // A damaged task is left: said so, with how to remove it by hand.
    const kept = new Map<string, string[]>();
    const forgotten: string[] = [];
    const ended: string[] = [];
    // A Ctrl-C (SIGTERM, SIGHUP) stops it between two removals, never inside
    // one, and what was removed is still shown.
    const hold = holdSignals();
    let removed;
    try {
      removed = await ctx.tasks().clean({
        olderThanMs,
        status,
        keep,
        queue,
        unread: values["include-unread"] === true,
        onDamaged: (_id, error) => printErr(`${describeError(error).line} (left in place)`),
        onUnread: (t, consumers) => kept.set(t.id, consumers),
        onForgotten: (consumer, why) => (why === "ended" ? ended : forgotten).push(consumer),
        signal: hold.signal,
      });
    } finally {
      hold.release();
    }
    await printDone(hold, () => ctx.printTasks(removed, values.json === true));
    if (hold.heard) {
      printErr(
        `bgtask: interrupted (${hold.heard}) after removing ${removed.length} task${
          removed.length === 1 ? "" : "s"
        }; bgtask clean again removes the rest`,
      );
      return stoppedBy(hold.heard);
    }
    if (forgotten.length > 0) {
      printErr(
        `bgtask: forgot completion consumer${forgotten.length === 1 ? "" : "s"} ` +
          `${shortList(forgotten)}, unused for 30 days`,
      );
    }
    if (ended.length > 0) {
      printErr(
        `bgtask: forgot completion consumer${ended.length === 1 ? "" : "s"} ` +
          `${shortList(ended)}, ephemeral, whose process${
            ended.length === 1 ? " has" : "es have"
          } ended (as a bgtask mcp session's does when its server is killed)`,
      );
    }
    if (kept.size > 0) {
      const who = [...new Set([...kept.values()].flat())].sort();
      printErr(
        `bgtask: kept ${kept.size} finished task${kept.size === 1 ? "" : "s"} not yet read by ` +
          `completion consumer${who.length === 1 ? "" : "s"} ${shortList(who)} ` +
          `(${shortList([...kept.keys()])}); --include-unread removes them too, and ` +
          `bgtask completions --consumer NAME --forget forgets a consumer (one unused for a ` +
          `day is not waited for; forgetting one a running bgtask mcp session reads, mcp-…, ` +
          `loses it the notices of tasks that end before it reads again)`,
      );
    }
    return 0;
  },
};
