/**
 * Killing: ask the supervisor to record the task as killed, end the whole
 * process group, and come back with the record once nothing of it is left.
 * A task that never started is recorded killed at once.
 *
 * @module
 */

import { isFinal, isImmediate, type TaskRecords } from "../lifecycle.ts";
import { DamagedRecordError } from "../store/fs_store.ts";
import type { FinalRecord } from "../store/records.ts";
import {
  aliveMany,
  killComing,
  killGroup,
  pidNamespace,
  tasksEnded,
  unseenNamespace,
} from "../supervisor/run.ts";
import {
  KILL_DELEGATED_WAIT_MS,
  KILL_RECORD_POLL_MS,
  LAUNCH_PATIENCE_MS,
  LAUNCHING_POLL_MS,
  LAUNCHING_WAIT_MS,
  START_DEADLINE_MS,
} from "../timing.ts";
import type { KillOptions, KillSignal, TaskInfo } from "../types.ts";
import { killSignalOf } from "../kill_signal.ts";
import { sleep } from "../timers.ts";
import { requireRunBash } from "../permissions.ts";
import { type Ctx, infoOf, nonNegativeInt, requireTask } from "./context.ts";
import { commitUnlessFull, requireSettledRead } from "./settle.ts";
import { DEFAULT_GRACE_MS } from "./spawn.ts";
import { checkOptionNames, OPTION_NAMES } from "../options.ts";
import { listActive } from "./list.ts";
import { queueName } from "./queue.ts";

/**
 * A task whose supervisor has not written `started` yet, but will soon: an
 * immediate task just spawned, or one a scheduler just launched (its queue
 * handed it a slot, or the tasks it runs after ended).
 */
function launching(r: TaskRecords): boolean {
  if (r.final || r.started) return false;
  const since = isImmediate(r.spec) ? r.spec.createdAt : r.launchedAt;
  return since !== undefined && since > Date.now() - START_DEADLINE_MS;
}

/** Ends a task's whole tree; see {@linkcode TaskManager.kill}. */
export async function kill(ctx: Ctx, id: string, options: KillOptions): Promise<TaskInfo> {
  checkOptionNames(options, OPTION_NAMES.kill, "Cannot kill task", ["signal"]);
  const signal = killSignalOf(options, "Cannot kill task");
  const grace = nonNegativeInt(options.graceMs, "graceMs", "Cannot kill task");
  // (SIGKILL first: no grace to give, whatever was given.)
  const given = signal === "SIGKILL" ? 0 : grace;
  // (Kills called together are made together: see killGroup.)
  const coming = killComing();
  try {
    // Without a grace of its own, the kill gives the task the one it was
    // spawned with (what its timeout and close() give it).
    const r = await requireSettledRead(ctx, id);
    return await killRead(ctx, r, given ?? r.spec.graceMs, signal, coming);
  } catch (e) {
    // Only an unreadable start record hides processes that may run; any
    // other damage (an ended task's record, its spawn record) is reported.
    // (Found at any read: one just modified reads as not written yet, for a
    // few seconds, then as damaged.)
    if (!(e instanceof DamagedRecordError) || e.record !== "start" || e.id !== id) throw e;
    coming();
    return await killDamaged(ctx, id, given ?? DEFAULT_GRACE_MS, signal, e);
  } finally {
    coming();
  }
}

/**
 * {@linkcode kill}, from the task's records as first read; `coming` is said
 * done once its kill is asked for, or will not be (see killComing).
 */
async function killRead(
  ctx: Ctx,
  r: TaskRecords,
  graceMs: number,
  signal: KillSignal,
  coming: () => void,
): Promise<TaskInfo> {
  const id = r.spec.id;
  // A task being launched right now has no `started` record for a moment
  // (a wait the kills asked together do not share).
  if (launching(r)) coming();
  for (let waited = 0; launching(r) && waited < LAUNCHING_WAIT_MS; waited += LAUNCHING_POLL_MS) {
    await sleep(LAUNCHING_POLL_MS);
    r = await requireTask(ctx, id);
  }
  if (r.final) return await infoOf(ctx, r);
  if (r.spec.legacy) return await killLegacy(ctx, r, graceMs, signal, coming);
  const record = killRecord(graceMs, signal);
  // If a scheduler claimed its start first, it is being started: killed as
  // a running task, below (its supervisor looks for our request).
  if (waiting(r) && await killWaiting(ctx, id)) {
    return await infoOf(ctx, await requireTask(ctx, id));
  }
  // Started (or being started): its supervisor records "killed" once the tree
  // is gone, so nobody reads the record while the tree still runs, and all its
  // last words are in the output by then. (No room to ask, on a disk without
  // a file left: the tree is ended all the same, and its supervisor records
  // the signal that ended it. A runaway task filling the disk must be
  // stoppable.) Bash is asked for first: a kill refused for want of it must
  // change nothing (its request would stand, and its watchdog finish it).
  requireRunBash("Cannot kill task", ctx.store.location);
  // A task of a pid namespace not seen from here is refused before its kill
  // is asked for: its watchdog would finish a kill asked and not carried out.
  if (r.started?.pidns !== undefined && r.started.pidns !== await pidNamespace()) {
    const [look] = await aliveMany([{ started: r.started, token: r.spec.token, pty: r.pty }]);
    if (look.view === "unseen") {
      coming();
      throw unseenNamespace(id, "Cannot kill task");
    }
  }
  const asked = await ctx.store.requestKill(id, graceMs, false, signal);
  // Read again after our write: a supervisor that was starting the task
  // either sees our request before it runs the command, or has written
  // `started` by now (it looks for a request after that write).
  r = await requireTask(ctx, id);
  if (r.started && !r.final) {
    await killGroup(
      { id, started: r.started, token: r.spec.token, pty: r.pty },
      graceMs,
      coming,
      signal,
    );
  }
  coming();
  if (!asked) {
    // Its tree is gone (killGroup returns once it is); its supervisor, not
    // told, waits for room to record the signal that ended it.
    r = await requireTask(ctx, id);
    if (r.final) return await infoOf(ctx, r);
    const error = `${record.error}; not recorded: the disk has no room (its supervisor records ` +
      "how it ended once there is)";
    return await infoOf(ctx, { ...r, final: { ...record, error, finishedAt: Date.now() } });
  }
  return await infoOf(ctx, await recorded(ctx, id, record));
}

/**
 * A task bgtask 0.1 runs: its supervisor reads no kill request, and records
 * the signal that ended its shell unless a final record is there first. So,
 * as 0.1 itself killed, the "killed" record is claimed first (the first final
 * record wins), then the tree is ended. (Unlike a newer task's, the record
 * may be read a moment before the tree is gone.)
 */
async function killLegacy(
  ctx: Ctx,
  r: TaskRecords,
  graceMs: number,
  signal: KillSignal,
  coming: () => void,
): Promise<TaskInfo> {
  requireRunBash("Cannot kill task", ctx.store.location);
  const id = r.spec.id;
  const record = killRecord(graceMs, signal);
  const won = await commitUnlessFull(ctx, id, record);
  // It ended first, by itself: that record stands, and nothing of it runs.
  if (won === false) return await infoOf(ctx, await requireTask(ctx, id));
  if (won) ctx.hub.notify();
  if (r.started) {
    await killGroup({ started: r.started, token: r.spec.token }, graceMs, coming, signal);
  }
  coming();
  if (won && await ctx.store.hasDependents(id)) await tasksEnded(ctx.store, [id]);
  r = await requireTask(ctx, id);
  if (r.final) return await infoOf(ctx, r);
  // No room for the record: its tree is gone all the same.
  const error = `${record.error}; not recorded: the disk has no room`;
  return await infoOf(ctx, { ...r, final: { ...record, error, finishedAt: Date.now() } });
}

/**
 * The record of a task killed on request once nothing of it is left (its
 * words are those of the supervisor's killed_on_request).
 */
function killRecord(graceMs: number, signal: KillSignal): FinalRecord {
  return {
    status: "killed",
    exitCode: null,
    signal: null,
    error: signal === "SIGKILL"
      ? "killed on request (SIGKILL)"
      : `killed on request (${signal}; SIGKILL if anything was left after ${graceMs} ms)`,
    finishedAt: Date.now(),
    by: "kill",
  };
}

/** A task waiting in a queue or for its dependencies, not launched. */
function waiting(r: TaskRecords): boolean {
  return !r.final && !r.started && r.launchedAt === undefined && !isImmediate(r.spec);
}

/**
 * Ends a task waiting in a queue or for its dependencies before it starts:
 * its start is claimed first, as every start is, so that no scheduler can
 * start it, and it never runs. False when a scheduler claimed it first (it
 * is being started, and nothing was done).
 */
export async function killWaiting(ctx: Ctx, id: string): Promise<boolean> {
  const unrun = await recordUnrun(ctx, id);
  if (unrun === undefined) return false;
  if (unrun && await ctx.store.hasDependents(id)) await tasksEnded(ctx.store, [id]);
  return true;
}

/**
 * Records a waiting task as killed before it started, if its start can still
 * be claimed (the store's `claimLaunch`): undefined when someone is starting
 * it; else whether this record won (another final may have come first). Its
 * queue holds no slot for it; the tasks that run after it are the caller's
 * to resolve (`tasksEnded`).
 */
async function recordUnrun(ctx: Ctx, id: string): Promise<boolean | undefined> {
  if (!(await ctx.store.claimLaunch(id))) return undefined;
  const won = await ctx.store.commitFinal(id, {
    ...killRecord(0, "SIGTERM"),
    error: "killed on request before it started (it never ran)",
  });
  if (won) ctx.hub.notify();
  return won;
}

/**
 * See {@linkcode TaskManager.killQueue}: its waiting tasks first, under the
 * queue's lock, so that no slot freed meanwhile starts one of them; then the
 * others as {@linkcode kill} ends them, all at once.
 */
export async function killQueue(ctx: Ctx, name: string, options: KillOptions): Promise<TaskInfo[]> {
  const what = "Cannot kill the queue's tasks";
  checkOptionNames(options, OPTION_NAMES.kill, what, ["signal"]);
  // (Each task's own grace, without one given: see kill.)
  const graceMs = nonNegativeInt(options.graceMs, "graceMs", what);
  // (Checked before anything is killed; its queued tasks never run: theirs is irrelevant.)
  const signal = killSignalOf(options, what);
  queueName(name, what);
  if (!(await ctx.store.queueNames()).includes(name)) return [];
  const ids = (await listActive(ctx))
    .filter((t) => t.queue === name && !isFinal(t.status))
    .map((t) => t.id);
  const unrun = new Set<string>();
  const ended: string[] = [];
  await ctx.store.withQueue(name, async () => {
    for (const id of ids) {
      const r = await ctx.store.read(id).catch((e) => {
        if (e instanceof DamagedRecordError) return undefined; // (kill() says why, below)
        throw e;
      });
      if (!r || !waiting(r)) continue;
      const won = await recordUnrun(ctx, id);
      if (won === undefined) continue;
      unrun.add(id);
      if (won) ended.push(id);
    }
  });
  const resolve = [];
  for (const id of ended) if (await ctx.store.hasDependents(id)) resolve.push(id);
  await tasksEnded(ctx.store, resolve);
  // Every kill is made, though one is refused (a task in a PID namespace
  // this process cannot see into): then the first refusal, once all are done.
  const settled = await Promise.allSettled(
    ids.filter((id) => !unrun.has(id)).map((id) => kill(ctx, id, { graceMs, signal })),
  );
  const refused = settled.find((s) => s.status === "rejected");
  if (refused) throw refused.reason;
  const rest = settled.map((s) => (s as PromiseFulfilledResult<TaskInfo>).value);
  const byId = new Map(rest.map((t) => [t.id, t]));
  const out: TaskInfo[] = [];
  for (const id of ids) out.push(byId.get(id) ?? await infoOf(ctx, await requireTask(ctx, id)));
  return out;
}

/**
 * A task whose records cannot all be read (its start record damaged: which
 * processes are its is unknown here): its watchdog, which knows them, is
 * asked to end the tree, and its supervisor records the kill. Without a
 * record in time (nobody acted: its supervisor and watchdog are gone too),
 * the damage is reported.
 */
async function killDamaged(
  ctx: Ctx,
  id: string,
  graceMs: number,
  signal: KillSignal,
  damage: DamagedRecordError,
): Promise<TaskInfo> {
  if (!(await ctx.store.requestKill(id, graceMs, true, signal))) {
    throw new DamagedRecordError(
      id,
      `${damage.message}; its watchdog, which alone knows its processes, could not be asked to ` +
        `end them: the disk has no room for the request (free some: bgtask clean), or end ` +
        `them by hand (they have BGTASK_TASK_ID=${id} in their environment)`,
    );
  }
  const deadline = performance.now() + graceMs + KILL_DELEGATED_WAIT_MS;
  await using w = ctx.hub.watch();
  for (;;) {
    w.mark();
    try {
      const r = await requireTask(ctx, id);
      if (r.final) return await infoOf(ctx, r);
    } catch (e) {
      if (!(e instanceof DamagedRecordError)) throw e;
    }
    if (performance.now() > deadline) {
      throw new DamagedRecordError(
        id,
        `${damage.message}; asked to end it, nothing answered: end its processes by hand ` +
          `(they have BGTASK_TASK_ID=${id} in their environment), then remove its folder`,
      );
    }
    await w.sleep(KILL_RECORD_POLL_MS);
  }
}

/**
 * The task's records once it has a final one: its supervisor's (who knows
 * the tree is gone), or ours if the supervisor is gone too.
 */
async function recorded(ctx: Ctx, id: string, record: FinalRecord): Promise<TaskRecords> {
  await using w = ctx.hub.watch();
  // A launch nobody carries out (its launcher died after claiming it) is not
  // waited for long: a supervisor that comes later finds the kill and stops.
  const patience = performance.now() + LAUNCH_PATIENCE_MS;
  for (;;) {
    w.mark();
    const r = await requireTask(ctx, id);
    if (r.final) return r;
    const alive = r.started
      ? (await aliveMany([{ started: r.started, token: r.spec.token, pty: r.pty }]))[0].alive
      : launching(r) && performance.now() < patience;
    if (!alive) {
      const final = { ...record, finishedAt: Date.now() };
      const won = await commitUnlessFull(ctx, id, final);
      if (won === undefined) return { ...r, final }; // nothing of it is left: killed all the same
      if (won) {
        ctx.hub.notify();
        if (!isImmediate(r.spec) || await ctx.store.hasDependents(id)) {
          await tasksEnded(ctx.store, [id]);
        }
      }
      continue;
    }
    await w.sleep(KILL_RECORD_POLL_MS);
  }
}
