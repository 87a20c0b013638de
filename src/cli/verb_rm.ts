/**
 * `bgtask rm ID… [--json]`: deletes finished tasks and their output. A task
 * that has not ended is refused; the others are still removed. A task a
 * completion consumer had not been told of is removed too (`clean` keeps
 * it), and said so: that consumer, an agent's perhaps, never will be.
 *
 * @module
 */

import type { Verb } from "./context.ts";
import { eachTaskVerb } from "./each_task.ts";
import { shortList } from "./escape.ts";
import { printErr } from "./output.ts";

/**
 * What `rm` says of the removed tasks whose end these consumers had not
 * been told of (`unread`: id → consumers), or undefined for none.
 *
 * @example
 * ```ts
 * import { unreadNote } from "./verb_rm.ts";
 * import { equal } from "node:assert/strict";
 * equal(
 *   unreadNote(new Map([["b3", ["agent"]]])),
 *   "bgtask: removed b3 before completion consumer agent was told of its end: it never will " +
 *     "be (bgtask clean keeps such a task until it is read)",
 * );
 * ```
 */
export function unreadNote(unread: ReadonlyMap<string, readonly string[]>): string | undefined {
  if (unread.size === 0) return undefined;
  const who = [...new Set([...unread.values()].flat())].sort();
  const one = unread.size === 1;
  const them = who.length === 1 ? "it" : "they";
  return `bgtask: removed ${shortList([...unread.keys()], ", ")} before completion consumer${
    who.length === 1 ? "" : "s"
  } ${shortList(who, ", ")} ${who.length === 1 ? "was" : "were"} told of ${
    one ? "its" : "their"
  } end: ${them} never will be (bgtask clean keeps such a task until it is read)`;
}

/** The `rm` verb. */
export const rmVerb: Verb = {
  ...eachTaskVerb("rm", (tasks, id) => tasks.remove(id)),
  run: async (ctx, parsed) => {
    const unread = new Map<string, string[]>();
    const verb = eachTaskVerb(
      "rm",
      (tasks, id) => tasks.remove(id, { onUnread: (t, who) => void unread.set(t.id, who) }),
    );
    try {
      return await verb.run(ctx, parsed);
    } finally {
      const note = unreadNote(unread);
      if (note) printErr(note);
    }
  },
};
