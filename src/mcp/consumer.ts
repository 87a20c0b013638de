/**
 * An MCP session's completion consumer: its name, and its registration in
 * the store. Apart from the server (and the MCP SDK), so that `bgtask mcp`
 * can register its consumer while the SDK is still loading.
 *
 * @module
 */

import type { TaskInfo, TaskManager } from "../../mod.ts";

/** A consumer and its registration (which settles once the store knows it). */
export interface Registration {
  /** The consumer's name. */
  consumer: string;
  /** Settles once registered; a failure is what `task_completions` reports. */
  registered: Promise<unknown>;
}

/** A fresh, session-unique completion consumer name: `mcp-` and 12 hex digits. */
function newConsumer(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return "mcp-" + [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Registers the session's consumer with the store now: it then hears of
 * every task that ends from now on. A new name (the default) is this
 * process's (ephemeral: once the process has ended, a SIGKILL included,
 * `clean` forgets it), registered by its first drain, which takes nothing (a
 * new consumer starts at the end of the completion log). A name given
 * (`--consumer NAME`) is kept for good, and registered by a look that takes
 * nothing: a drain would take the notices kept for it while no server ran,
 * the very ones a named consumer is for.
 */
export function registerConsumer(tasks: TaskManager, named?: string): Registration {
  const consumer = named ?? newConsumer();
  const registered = named === undefined
    ? tasks.drainCompletions({ consumer, ephemeral: true })
    : tasks.peekCompletions({ consumer });
  registered.catch(() => {}); // reported by task_completions, not here
  return { consumer, registered };
}

/**
 * Forgets a session's consumer once its session has ended (a new session
 * gets a new one: a consumer left behind is a folder in the store for ever,
 * and a reader whose unread tasks `clean` keeps). Never rejects.
 */
export async function releaseConsumer(tasks: TaskManager, r: Registration): Promise<void> {
  await r.registered.then(() => tasks.forgetConsumer(r.consumer)).catch(() => {});
}

/**
 * Marks these tasks' ends reported to the session's consumer in the store,
 * once a call's answer that told of them was sent (see `noteTold` of
 * `tool.ts`), so that `task_completions` does not tell of them again, after a
 * restart of a named consumer too: an agent that ran a short command through
 * `task_start`, or waited for a build with `task_wait`, is not told a second
 * time that it ended. Unfinished tasks are passed over. A failure is the
 * next `task_completions`' to report (the task is then told of again): never
 * rejects.
 */
export async function toldOfEnd(
  session: { tasks: TaskManager; consumer: string; registered: Promise<unknown> },
  infos: readonly TaskInfo[],
): Promise<void> {
  const ended = infos.filter((t) => t.finishedAt !== null).map((t) => t.id);
  if (ended.length === 0) return;
  await session.registered
    .then(() => session.tasks.acknowledgeCompletions(ended, { consumer: session.consumer }))
    .catch(() => {});
}
