/**
 * Queues, seen from Deno: their settings, and the nudges that make the
 * scheduler (in the supervisor scripts, `queue.sh`) run now. The scheduling
 * itself never needs a Deno process: a finishing task's supervisor hands its
 * slot on.
 *
 * @module
 */

import { TaskStateError } from "../errors.ts";
import { isFinal } from "../lifecycle.ts";
import { DamagedRecordError } from "../store/fs_store.ts";
import { requireRunBash } from "../permissions.ts";
import { scheduleQueues } from "../supervisor/run.ts";
import type { QueueInfo, QueueLine, QueueOptions } from "../types.ts";
import { type Ctx, showValue } from "./context.ts";
import { listActive } from "./list.ts";
import { checkOptionNames, OPTION_NAMES } from "../options.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The validated queue name, or a TypeError naming what is wrong. */
export function queueName(name: unknown, what: string): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      `${what}: queue ${JSON.stringify(name)} is not a valid name ` +
        `(letters, digits, "_", "." and "-", up to 64, starting with a letter or digit)`,
    );
  }
  return name;
}

/** See {@linkcode TaskManager.setQueue}. */
export async function setQueue(ctx: Ctx, name: string, options: QueueOptions): Promise<QueueInfo> {
  const what = "Cannot set the queue";
  queueName(name, what);
  checkOptionNames(options ?? {}, OPTION_NAMES.queue, what);
  const parallel = options?.parallel;
  if (parallel === undefined) {
    throw new TypeError(
      `${what}: parallel is missing: give how many of its tasks may run at once, ` +
        `e.g. setQueue(${JSON.stringify(name)}, { parallel: 2 })`,
    );
  }
  if (typeof parallel !== "number" || !Number.isSafeInteger(parallel) || parallel < 1) {
    throw new TypeError(`${what}: parallel must be a whole number ≥ 1, got ${showValue(parallel)}`);
  }
  requireRunBash(what, ctx.store.location);
  await ctx.store.writeQueue(name, { parallel });
  // Raised: more may start now.
  await startWaiting(ctx, name);
  return await queueInfo(ctx, name);
}

/** See {@linkcode TaskManager.pauseQueue} and {@linkcode TaskManager.resumeQueue}. */
export async function pauseQueue(ctx: Ctx, name: string, paused: boolean): Promise<QueueInfo> {
  const what = paused ? "Cannot pause the queue" : "Cannot resume the queue";
  queueName(name, what);
  requireRunBash(what, ctx.store.location);
  await ctx.store.writeQueue(name, { paused });
  if (!paused) await startWaiting(ctx, name);
  return await queueInfo(ctx, name);
}

/**
 * Runs the scheduler for a queue whose new settings may let more tasks
 * start, if any waits in its line (a bash process saved when none does). A
 * task that joins the line after this look is started by its own spawner,
 * which reads the settings under the queue's lock (spawn.ts).
 */
async function startWaiting(ctx: Ctx, name: string): Promise<void> {
  const { waiting } = await ctx.store.withQueue(name, () => ctx.store.queueState(name));
  if (waiting) await scheduleQueues(ctx.store, [name]);
}

/**
 * See {@linkcode TaskManager.removeQueue}. Refused while a task of the queue
 * has not ended (queued, running, paused, or waiting for its dependencies
 * before it joins): those would have no queue to run in. Looked at twice:
 * first with every task settled (a task whose processes died unseen is
 * recorded lost, which needs the scheduler, and so no lock held), then under
 * the queue's lock from the records alone, where no task can join meanwhile.
 */
export async function removeQueue(ctx: Ctx, name: string): Promise<boolean> {
  const what = `Cannot remove queue ${JSON.stringify(name)}`;
  queueName(name, "Cannot remove the queue");
  requireRunBash(what, ctx.store.location);
  if (!(await ctx.store.queueNames()).includes(name)) return false;
  const busy = (ids: string[]) => {
    if (ids.length === 0) return;
    const shown = ids.length > 5 ? `${ids.slice(0, 5).join(", ")}, …` : ids.join(", ");
    throw new TaskStateError(
      ids[0],
      `${what}: ${ids.length === 1 ? "its task" : `${ids.length} of its tasks`} ${shown} ` +
        `${ids.length === 1 ? "has" : "have"} not ended (kill them or wait for them first)`,
    );
  };
  busy(
    (await listActive(ctx)).filter((t) => t.queue === name && !isFinal(t.status)).map((t) => t.id),
  );
  await ctx.store.withQueue(name, async () => {
    const left = [];
    for (const id of await ctx.store.activeIds()) {
      // (A damaged task cannot run: it holds nothing up.)
      const r = await ctx.store.read(id).catch((e) => {
        if (e instanceof DamagedRecordError) return undefined;
        throw e;
      });
      if (r?.spec.queue === name && !r.final) left.push(id);
    }
    busy(left);
    await ctx.store.removeQueue(name);
  });
  return true;
}

/**
 * See {@linkcode TaskManager.getQueues}. Looking at the queues lets them
 * catch up first: a slot held by a task that died unseen is freed, and what
 * fits starts.
 */
export async function getQueues(ctx: Ctx): Promise<QueueInfo[]> {
  const names = await ctx.store.queueNames();
  if (names.length === 0) return [];
  await scheduleQueues(ctx.store, names);
  // (Only unfinished tasks count, and every one is in the active set.)
  const tasks = await listActive(ctx);
  const out: QueueInfo[] = [];
  for (const name of names) {
    const conf = await ctx.store.readQueue(name) ?? { parallel: 1, paused: false };
    const mine = tasks.filter((t) => t.queue === name && !isFinal(t.status));
    out.push({
      name,
      parallel: conf.parallel,
      paused: conf.paused,
      running: mine.filter((t) => t.status !== "queued").length,
      queued: mine.filter((t) => t.status === "queued").length,
    });
  }
  return out;
}

/** See {@linkcode TaskManager.getQueueLine}: the store's line and settings, no task read. */
export async function getQueueLine(ctx: Ctx, name: string): Promise<QueueLine> {
  queueName(name, "Cannot read the queue's line");
  const conf = await ctx.store.readQueue(name);
  return { name, paused: conf?.paused ?? false, waiting: await ctx.store.queueLine(name) };
}

async function queueInfo(ctx: Ctx, name: string): Promise<QueueInfo> {
  return (await getQueues(ctx)).find((q) => q.name === name)!;
}
