/**
 * Queues, seen from Deno: their settings, and the nudges that make the
 * scheduler (in the supervisor scripts, `queue.sh`) run now. The scheduling
 * itself never needs a Deno process: a finishing task's supervisor hands its
 * slot on.
 *
 * @module
 */

import { isFinal } from "../lifecycle.ts";
import { requireRunBash } from "../permissions.ts";
import { scheduleQueues } from "../supervisor/run.ts";
import type { QueueInfo, QueueOptions } from "../types.ts";
import type { Ctx } from "./context.ts";
import { list } from "./list.ts";

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
  const parallel = options?.parallel;
  if (typeof parallel !== "number" || !Number.isSafeInteger(parallel) || parallel < 1) {
    throw new TypeError(`${what}: parallel must be a whole number ≥ 1, got ${String(parallel)}`);
  }
  requireRunBash(what);
  const current = await ctx.store.readQueue(name);
  await ctx.store.writeQueue(name, { parallel, paused: current?.paused ?? false });
  // Raised: more may start now.
  await scheduleQueues(ctx.store, [name]);
  return await queueInfo(ctx, name);
}

/** See {@linkcode TaskManager.pauseQueue} and {@linkcode TaskManager.resumeQueue}. */
export async function pauseQueue(ctx: Ctx, name: string, paused: boolean): Promise<QueueInfo> {
  const what = paused ? "Cannot pause the queue" : "Cannot resume the queue";
  queueName(name, what);
  requireRunBash(what);
  const current = await ctx.store.readQueue(name);
  await ctx.store.writeQueue(name, { parallel: current?.parallel ?? 1, paused });
  if (!paused) await scheduleQueues(ctx.store, [name]);
  return await queueInfo(ctx, name);
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
  const tasks = await list(ctx, {});
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

async function queueInfo(ctx: Ctx, name: string): Promise<QueueInfo> {
  return (await getQueues(ctx)).find((q) => q.name === name)!;
}
