/**
 * Completions, per consumer. Every task that ends is appended to the store's
 * completion log. Each consumer keeps a cursor in that log and a claim per
 * task it was told about:
 *
 * - `drainCompletions` claims what is new as `pending` (naming this
 *   process) and marks it `done` as it returns it (or once its `handle` is
 *   done; of those a `handle` says it passed on, the rest given back as
 *   `none`): exactly once per consumer, across processes (claims are
 *   exclusive, under the consumer's lock); at least once across a crash.
 * - `completions()` claims one task at a time as `pending` (naming this
 *   process), yields it, and marks it `done` when the next one is requested or
 *   the loop ends. A pending claim whose process has died is taken over by the
 *   next reader of that consumer: at least once across a crash.
 * - `peekCompletions` reads what is pending and claims nothing.
 * - `acknowledgeCompletions` marks given tasks done for a consumer, unclaimed:
 *   told of their end some other way, it is not told again.
 *
 * @module
 */

import { DamagedRecordError } from "../store/fs_store.ts";
import type { ClaimState, ConsumerOwner, ConsumerStart, LogSlice } from "../store/contract.ts";
import { pidNamespace, processesAlive, type ProcessId } from "../supervisor/run.ts";
import {
  COMPLETIONS_POLL_MS,
  CONSUMER_IDLE_MS,
  CONSUMER_KEEP_MS,
  LIVENESS_CHECK_MS,
  nextLivenessCheck,
  SWEEP_SPACING,
} from "../timing.ts";
import type { CompletionsOptions, DrainOptions, TaskInfo } from "../types.ts";
import type { TaskRecords } from "../lifecycle.ts";
import { type Ctx, infoOf, showValue } from "./context.ts";
import type { Watch } from "../watch.ts";
import { sweep } from "./settle.ts";
import { checkOptionNames, OPTION_NAMES } from "../options.ts";
import { mayRunBash } from "../permissions.ts";
import { isValidId, showId } from "../ids.ts";

/** The consumer used when none is named. */
export const DEFAULT_CONSUMER = "default";
const CONSUMER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The validated consumer name of the options. */
export function consumerOf(options: CompletionsOptions, what: string): string {
  const c = options.consumer ?? DEFAULT_CONSUMER;
  if (typeof c !== "string" || !CONSUMER.test(c)) {
    throw new TypeError(
      `${what}: consumer ${JSON.stringify(c)} is not a valid name ` +
        `(letters, digits, "_", "." and "-", up to 64, starting with a letter or digit)`,
    );
  }
  const { ephemeral } = options;
  if (ephemeral !== undefined && typeof ephemeral !== "boolean") {
    throw new TypeError(`${what}: ephemeral must be true or false, got ${showValue(ephemeral)}`);
  }
  if (ephemeral && c === DEFAULT_CONSUMER) {
    throw new TypeError(
      `${what}: the default consumer cannot be ephemeral (it is everyone's); name a consumer ` +
        `of this process's own`,
    );
  }
  return c;
}

/**
 * Registers consumer `c` if new (see {@linkcode TaskStore.openConsumer}):
 * an ephemeral one as this process's.
 */
async function openConsumer(ctx: Ctx, c: string, options: CompletionsOptions): Promise<void> {
  await ctx.store.openConsumer(c, c === DEFAULT_CONSUMER, await ownerOf(ctx, options));
}

/**
 * This process, for an ephemeral consumer: undefined when it cannot be
 * told (bash could not read its start time, "0", or it may not run bash):
 * then the consumer is kept as a named one is, never forgotten while its
 * process may live.
 */
async function ownerOf(ctx: Ctx, options: CompletionsOptions): Promise<ConsumerOwner | undefined> {
  if (!options.ephemeral || !mayRunBash()) return undefined;
  const me = await ctx.self();
  if (me.start === "0") return undefined;
  return { pid: me.pid, start: me.start, ns: await pidNamespace() };
}

/**
 * Forgets the ephemeral consumers whose processes have ended (a `bgtask
 * mcp` SIGKILLed, its session with it): nobody reads for them any more,
 * and what they had not read kept finished tasks from `clean`. Where bash
 * may not run, none is looked at. Returns the names forgotten.
 */
export async function forgetOrphans(ctx: Ctx): Promise<string[]> {
  if (!mayRunBash()) return [];
  const all = (await ctx.store.consumers()).filter((c) => c.owner !== undefined);
  if (all.length === 0) return [];
  // Only a process of this pid namespace can be told dead from here (a
  // container's, a sandbox's, is not seen: it would read dead, and its
  // consumer be forgotten under it).
  const ns = await pidNamespace();
  const owned = ns === "u" ? [] : all.filter((c) => c.owner!.ns === ns);
  if (owned.length === 0) return [];
  const alive = await processesAlive(owned.map((c) => c.owner!));
  const out: string[] = [];
  for (let i = 0; i < owned.length; i++) {
    if (!alive[i] && await ctx.store.removeConsumer(owned[i].name)) out.push(owned[i].name);
  }
  return out;
}

/**
 * The records of a finished task to tell a consumer about: not when it was
 * removed, or is damaged.
 */
async function readFinished(ctx: Ctx, id: string): Promise<TaskRecords | undefined> {
  try {
    const r = await ctx.store.read(id);
    return r?.final ? r : undefined;
  } catch (e) {
    if (e instanceof DamagedRecordError) return undefined; // reported by list, never delivered
    throw e;
  }
}

/**
 * Which finished tasks a consumer is to hear of (see {@linkcode ConsumerStart}):
 * those that finished after it began by their time, and, of those whose time
 * says before, the ones the log names after where it began and not before it
 * (the wall clock stepped back since: a task named before was named again,
 * by a sweep of an older build that read the active set before another
 * process dropped the task from it). One look at the log before the start,
 * and only for such a task, a call.
 */
class Theirs {
  readonly #ctx: Ctx;
  #start: ConsumerStart;
  #before?: Promise<Map<string, number>>;

  constructor(ctx: Ctx, start: ConsumerStart) {
    this.#ctx = ctx;
    this.#start = start;
  }

  /** Where the consumer began. */
  get start(): ConsumerStart {
    return this.#start;
  }

  /** Forgets its start's offset (the log was replaced under the consumer). */
  forgetOffset(): void {
    this.#start = { ...this.#start, offset: undefined };
    this.#before = undefined;
  }

  /**
   * Whether the task that finished at `finishedAt`, whose line in the log
   * ends at `end` (undefined when not known), is the consumer's.
   */
  async has(id: string, finishedAt: number, end?: number): Promise<boolean> {
    const start = this.#start;
    if (start.ended.has(id)) return false;
    if (finishedAt >= start.at) return true;
    if (start.offset === undefined || end === undefined || end <= start.offset) return false;
    this.#before ??= namedIn(this.#ctx, 0, start.offset);
    return !(await this.#before).has(id);
  }

  /** {@linkcode readFinished}, for a task that is the consumer's. */
  async read(id: string, end?: number): Promise<TaskRecords | undefined> {
    const r = await readFinished(this.#ctx, id);
    return r && await this.has(id, r.final!.finishedAt, end) ? r : undefined;
  }
}

/**
 * The ids the log names from `from` up to `to` (undefined: its end), each
 * with where its last line there ends; those of `wanted` only, when given.
 */
async function namedIn(
  ctx: Ctx,
  from: number,
  to?: number,
  wanted?: ReadonlySet<string>,
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (let at = from; to === undefined || at < to;) {
    const slice = await ctx.store.readLog(at);
    if (slice.restart || slice.end === at) break;
    for (const { id, end } of slice.entries) {
      if (to !== undefined && end > to) return found;
      if (!wanted || wanted.has(id)) found.set(id, end);
    }
    at = slice.end;
  }
  return found;
}

/** A slice of the log this long is looked at against the store's task folders (see goneIn). */
const MANY_ENTRIES = 256;

/**
 * Which ids of a log slice, read just before, name tasks removed since: a
 * folder missing now was removed (a task's folder is made before its end
 * is logged, and never made again). Looked up in one listing of the task
 * folders, for a long slice only (a reader far behind: each removed id
 * cost a handful of failed reads, 2.5-2.9 s for 20,000); a short one is
 * read task by task as before.
 */
async function goneIn(ctx: Ctx, slice: LogSlice): Promise<(id: string) => boolean> {
  if (slice.entries.length < MANY_ENTRIES) return () => false;
  const there = new Set(await ctx.store.ids());
  return (id) => !there.has(id);
}

/** A consumer's claim on a task; a damaged task's reads as done (it is never delivered). */
async function heldClaim(ctx: Ctx, id: string, c: string): Promise<ClaimState> {
  try {
    return await ctx.store.readClaim(id, c);
  } catch (e) {
    if (e instanceof DamagedRecordError) return { state: "done" }; // reported by list
    throw e;
  }
}

/**
 * What a claim scanned past its cursor: from `from` (the cursor it left, at
 * its first claim still pending) to `to`, every entry was handled or is one
 * of its own pending claims. Once those are done, the cursor may move to
 * `to` (see {@linkcode advance}), and the next claim need not scan them again.
 */
interface Skip {
  from: number;
  to: number;
}

/** Claimed tasks, and what the cursor may skip once they are done. */
interface Claimed {
  tasks: TaskInfo[];
  skip?: Skip;
  /** The consumer was found forgotten (not registered): nothing was claimed. */
  forgotten?: true;
}

/**
 * Claims up to `max` finished tasks for consumer `c`: as done (`owner`
 * undefined) or as pending for `owner`. Moves the cursor past every entry
 * that is handled.
 */
async function claim(
  ctx: Ctx,
  c: string,
  owner: ProcessId | undefined,
  max: number,
): Promise<Claimed> {
  const store = ctx.store;
  try {
    return await claimLocked(ctx, c, owner, max);
  } catch (e) {
    // Forgotten meanwhile (its folder went as its lock was taken): nothing
    // claimed; a wait registers it again (see claimWhenAny).
    if (await store.readCursor(c).catch(() => 0) === undefined) {
      return { tasks: [], forgotten: true };
    }
    throw e;
  }
}

/** {@linkcode claim}, under the consumer's lock. */
async function claimLocked(
  ctx: Ctx,
  c: string,
  owner: ProcessId | undefined,
  max: number,
): Promise<Claimed> {
  const store = ctx.store;
  return await store.withConsumer(c, async () => {
    const cursor0 = await store.readCursor(c);
    // Forgotten meanwhile: not read from the log's start as a new one would be.
    if (cursor0 === undefined) return { tasks: [], forgotten: true };
    const start = cursor0;
    const theirs = new Theirs(ctx, await store.consumerStart(c));
    let cursor = start;
    let handledSoFar = true; // the cursor moves only over a run of handled entries
    let foreign = false; // an entry not handled, and not claimed by this call
    let reached = start;
    const out: TaskInfo[] = [];
    const claimedHere = new Set<string>();
    const next: ClaimState = owner ? { state: "pending", ...owner } : { state: "done" };
    const stale: { id: string; owner: ProcessId }[] = [];
    let offset = start;
    scan: for (;;) {
      const slice = await store.readLog(offset);
      if (slice.restart) {
        // The log was cut or replaced under the cursor: from its start (the
        // claims keep what was delivered from being delivered again).
        offset = cursor = 0;
        // (Positions in the new log say nothing of when a task ended: by
        // time, from now on, for every reader of this consumer.)
        if (theirs.start.offset !== undefined) {
          await store.forgetConsumerOffset(c);
          theirs.forgetOffset();
        }
        continue;
      }
      if (slice.end === offset) break;
      const gone = await goneIn(ctx, slice);
      for (const entry of slice.entries) {
        if (out.length >= max) break scan;
        // (Removed since: nothing to tell, as readFinished would find.)
        const held: ClaimState = gone(entry.id)
          ? { state: "done" }
          : await heldClaim(ctx, entry.id, c);
        let handled = held.state === "done";
        let ours = false;
        if (held.state === "none") {
          const r = await theirs.read(entry.id, entry.end);
          if (!r) handled = true; // removed (or damaged), or not this consumer's: nothing to tell
          else if (await store.claimCompletion(entry.id, c, "none", next)) {
            out.push(await infoOf(ctx, r));
            claimedHere.add(entry.id);
            handled = !owner;
            ours = true;
          }
        } else if (held.state === "pending") {
          const mine = owner && held.pid === owner.pid && held.start === owner.start;
          // (A task in the log twice, its supervisor's line and a sweep's:
          // claimed by this call at its first line.)
          ours = mine === true && claimedHere.has(entry.id);
          if (!mine && !stale.some((s) => s.id === entry.id)) {
            stale.push({ id: entry.id, owner: { pid: held.pid, start: held.start } });
          }
        }
        handledSoFar &&= handled;
        if (handledSoFar) cursor = entry.end;
        if (!handled && !ours) foreign = true;
        reached = entry.end;
      }
      // Past what holds no entry (stray lines), once all before is handled.
      if (handledSoFar && out.length < max) cursor = slice.end;
      if (out.length < max) reached = slice.end;
      offset = slice.end;
    }
    // Claims held by processes that died before handling them are delivered again.
    if (stale.length > 0 && out.length < max) {
      const alive = await processesAlive(stale.map((s) => s.owner));
      for (let i = 0; i < stale.length && out.length < max; i++) {
        if (alive[i]) continue;
        const r = await readFinished(ctx, stale[i].id);
        if (r && await store.claimCompletion(stale[i].id, c, "pending", next)) {
          out.push(await infoOf(ctx, r));
        }
      }
    }
    if (cursor !== start) await store.writeCursor(c, cursor);
    const skip = !foreign && stale.length === 0 && reached > cursor
      ? { from: cursor, to: reached }
      : undefined;
    return { tasks: out, skip };
  });
}

/**
 * Once a claim's own pending claims are done: its consumer's cursor moves
 * past them (see {@linkcode Skip}), if nobody moved it meanwhile. (Else a
 * drain that delivered ten thousand tasks left the next one to look at each
 * again: 8 s against 0.04.)
 */
async function advance(ctx: Ctx, c: string, skip: Skip | undefined): Promise<void> {
  if (!skip) return;
  try {
    await ctx.store.withConsumer(c, async () => {
      if (await ctx.store.readCursor(c) === skip.from) await ctx.store.writeCursor(c, skip.to);
    });
  } catch (e) {
    // Forgotten meanwhile (by another process, a clean): no cursor to move.
    // The tasks were delivered all the same: the drain must not fail.
    if (await ctx.store.readCursor(c).catch(() => undefined) === undefined) return;
    throw e;
  }
}

/** See {@linkcode TaskManager.forgetConsumer}. */
export async function forgetConsumer(ctx: Ctx, consumer: string): Promise<boolean> {
  const c = consumerOf({ consumer }, "Cannot forget the consumer");
  // The default consumer begins with every finished task: forgotten, it
  // begins anew from now (not from the log's start, which would tell it
  // again of every task it was told of).
  return await ctx.store.removeConsumer(c, c === DEFAULT_CONSUMER);
}

/**
 * See {@linkcode TaskManager.drainCompletions}. A named consumer's first use
 * registers it even before the store exists (making the store): it starts
 * with what ends from then on. So does a wait on any consumer (the store's
 * change feed is what it watches).
 */
export async function drainCompletions(
  ctx: Ctx,
  options: DrainOptions,
): Promise<TaskInfo[]> {
  checkOptionNames(options, OPTION_NAMES.drain, "Cannot read completions");
  const { handle, signal } = options;
  signal?.throwIfAborted();
  const c = consumerOf(options, "Cannot read completions");
  const wait = options.wait ?? false;
  if (typeof wait !== "boolean") {
    throw new TypeError(
      `Cannot read completions: wait must be true or false, got ${showValue(wait)}`,
    );
  }
  if (!(await ctx.store.open(c === DEFAULT_CONSUMER && !wait ? "read" : "write"))) {
    await handle?.([]); // (nothing: told so all the same)
    return [];
  }
  await sweep(ctx);
  await openConsumer(ctx, c, options);
  // Claimed as pending, this process's: a process that dies before the call
  // returns (or before `handle` is done) leaves them to be delivered again.
  // (A process that may not run bash cannot be told alive by others: without
  // `handle`, its drain claims as done as it scans, as before.)
  const owner = handle || mayRunBash() ? await ctx.self() : undefined;
  let claimed: Claimed;
  if (wait) {
    await using w = ctx.hub.watch(signal);
    claimed = await claimWhenAny(
      ctx,
      c,
      owner,
      Infinity,
      w,
      sharedSweeps(ctx),
      () => openConsumer(ctx, c, options),
    );
    // (It returns empty only once aborted.)
    if (claimed.tasks.length === 0) signal!.throwIfAborted();
  } else {
    claimed = await claim(ctx, c, owner, Infinity);
  }
  const got = claimed.tasks;
  if (!handle) {
    // Handled once returned: done now, not during the scan.
    if (owner) {
      for (const t of got) await ctx.store.claimCompletion(t.id, c, "pending", { state: "done" });
      await advance(ctx, c, claimed.skip);
    }
    return got;
  }
  // Which were passed on (the rest are given back: the next drain delivers them).
  let passed = new Set<string>();
  try {
    passed = passedOnOf(await handle(got), got);
  } finally {
    for (const t of got) {
      const next: ClaimState = { state: passed.has(t.id) ? "done" : "none" };
      await ctx.store.claimCompletion(t.id, c, "pending", next);
    }
  }
  // (Not past one given back: the cursor would leave it behind for good.)
  if (passed.size === got.length) await advance(ctx, c, claimed.skip);
  return got.filter((t) => passed.has(t.id));
}

/**
 * The ids of `got` that a drain's `handle`, which resolved with `result`,
 * passed on: all, unless it says `{ passedOn: ids }` (see
 * {@linkcode DrainOptions.handle}).
 */
function passedOnOf(result: unknown, got: TaskInfo[]): Set<string> {
  const all = new Set(got.map((t) => t.id));
  if (typeof result !== "object" || result === null || !("passedOn" in result)) return all;
  const ids = (result as { passedOn: unknown }).passedOn;
  const what = "Cannot read completions: handle resolved with { passedOn }";
  if (!Array.isArray(ids)) {
    throw new TypeError(
      `${what}, which is not an array of the ids it passed on (got ${showValue(ids)}); ` +
        "all the tasks were given back",
    );
  }
  for (const id of ids) {
    if (!all.has(id)) {
      throw new TypeError(
        `${what} naming ${showId(id)}, which is not one of the ${all.size} tasks given to ` +
          "it; all of them were given back",
      );
    }
  }
  return new Set(ids as string[]);
}

/**
 * The liveness sweeps of the long waits for completions of one manager (its
 * iterators and waiting drains share them: a hundred idle iterators made a
 * hundred sweeps, each a bash looking at every running task): a task whose
 * supervisor died ends (is recorded lost) only when someone looks, and that
 * end is a completion too. After {@linkcode LIVENESS_CHECK_MS} at first, then
 * spaced out as the waits go on (`nextLivenessCheck`, at most 5 s), and more
 * when a sweep takes long (a store of thousands of tasks).
 */
function sharedSweeps(ctx: Ctx): Sweeps {
  let s = sweepsOf.get(ctx);
  if (!s) sweepsOf.set(ctx, s = new Sweeps(ctx));
  s.joined();
  return s;
}
const sweepsOf = new WeakMap<Ctx, Sweeps>();

/** See {@linkcode sharedSweeps}. */
class Sweeps {
  readonly #ctx: Ctx;
  #last = performance.now();
  #every = LIVENESS_CHECK_MS;

  constructor(ctx: Ctx) {
    this.#ctx = ctx;
  }

  /** A new wait: its first sweep comes as soon as a lone wait's would. */
  joined(): void {
    this.#every = Math.min(this.#every, LIVENESS_CHECK_MS);
  }

  /**
   * Sweeps the store if the last sweep was long enough ago: one at a time
   * for all its waits (a sweep's start counts as the last, until it ends).
   */
  async due(): Promise<void> {
    if (performance.now() - this.#last < this.#every) return;
    const began = this.#last = performance.now();
    await sweep(this.#ctx);
    this.#last = performance.now();
    this.#every = Math.max(nextLivenessCheck(this.#every), (this.#last - began) * SWEEP_SPACING);
  }
}

/**
 * Claims up to `max` finished tasks for consumer `c` (see `claim`), waiting
 * through `w` until there is at least one: returns empty only once `w`'s
 * signal has aborted.
 */
async function claimWhenAny(
  ctx: Ctx,
  c: string,
  owner: ProcessId | undefined,
  max: number,
  w: Watch,
  sweeps: Sweeps,
  reopen: () => Promise<void>,
): Promise<Claimed> {
  while (!w.aborted) {
    w.mark();
    await sweeps.due();
    const got = await claim(ctx, c, owner, max);
    if (got.tasks.length > 0) return got;
    // Forgotten while it waited (a forget of another process's, a clean):
    // registered again, from now (it failed on its lock's folder).
    if (got.forgotten) {
      await reopen();
      continue;
    }
    // (Still in use while it waits: see CONSUMER_KEEP_MS.)
    await ctx.store.keepConsumer(c, CONSUMER_KEEP_MS);
    await w.sleep(COMPLETIONS_POLL_MS);
  }
  return { tasks: [] };
}

/** See {@linkcode TaskManager.peekCompletions}. */
export async function peekCompletions(
  ctx: Ctx,
  options: CompletionsOptions,
): Promise<TaskInfo[]> {
  checkOptionNames(options, OPTION_NAMES.peek, "Cannot read completions");
  const c = consumerOf(options, "Cannot read completions");
  const store = ctx.store;
  // A consumer never used starts with what ends from now on (a look is a use:
  // it is registered then): nothing is pending yet.
  // (Opened first: a store that cannot be used says why, not a cursor's path.)
  const there = await store.open("read");
  const cursor = there ? await store.readCursor(c) : undefined;
  if (c !== DEFAULT_CONSUMER && cursor === undefined) {
    await store.open("write");
    await sweep(ctx); // (as drainCompletions: re-announced old tasks land before its cursor)
    await openConsumer(ctx, c, options);
    return [];
  }
  if (!there) return [];
  const out: TaskInfo[] = [];
  for (const r of await pending(ctx, c, cursor ?? 0)) out.push(await infoOf(ctx, r));
  return out;
}

/** See {@linkcode TaskManager.acknowledgeCompletions}. */
export async function acknowledgeCompletions(
  ctx: Ctx,
  ids: readonly string[],
  options: Omit<CompletionsOptions, "signal">,
): Promise<string[]> {
  const what = "Cannot acknowledge completions";
  checkOptionNames(options, OPTION_NAMES.peek, what);
  const c = consumerOf(options, what);
  if (!Array.isArray(ids)) {
    throw new TypeError(`${what}: ids must be an array of task ids, got ${showValue(ids)}`);
  }
  for (const id of ids) {
    if (!isValidId(id)) {
      throw new TypeError(`${what}: ids holds ${showId(id)}, which is not a task id (b1, b2, …)`);
    }
  }
  const store = ctx.store;
  if (!(await store.open("read"))) return [];
  // A named consumer never used has nothing pending (it is not registered by this).
  if (c !== DEFAULT_CONSUMER && await store.readCursor(c) === undefined) return [];
  const theirs = new Theirs(ctx, await store.consumerStart(c));
  const out: string[] = [];
  const doubtful: TaskRecords[] = [];
  for (const id of new Set(ids)) {
    // Only a completion the consumer would be told of: not claimed yet (one
    // in another reader's hands is that reader's; looked at first, one file:
    // an agent's calls about a task it was told of end here), and ended
    // since it began: by time first, and for one that reads as older, by
    // its line in the log (the wall clock may have stepped back since).
    if ((await heldClaim(ctx, id, c)).state !== "none") continue;
    const r = await readFinished(ctx, id);
    if (!r) continue;
    // (No line at hand: for one whose time says older, its line is looked for below.)
    if (!(await theirs.has(id, r.final!.finishedAt))) {
      doubtful.push(r);
      continue;
    }
    if (await store.claimCompletion(id, c, "none", { state: "done" })) out.push(id);
  }
  const offset = theirs.start.offset;
  if (doubtful.length > 0 && offset !== undefined) {
    const after = await namedIn(ctx, offset, undefined, new Set(doubtful.map((r) => r.spec.id)));
    for (const r of doubtful) {
      const id = r.spec.id;
      const end = after.get(id);
      if (end === undefined || !(await theirs.has(id, r.final!.finishedAt, end))) continue;
      if (await store.claimCompletion(id, c, "none", { state: "done" })) out.push(id);
    }
  }
  return out;
}

/**
 * The records of the finished tasks consumer `c` (its log cursor at
 * `offset`) has not had.
 */
async function pending(ctx: Ctx, c: string, offset: number): Promise<TaskRecords[]> {
  const store = ctx.store;
  const theirs = new Theirs(ctx, await store.consumerStart(c));
  const out: TaskRecords[] = [];
  const seen = new Set<string>();
  /** A task once: pending for `c` if it ended after `c` began and `c` has not had it. */
  const consider = async (id: string, end?: number) => {
    if (seen.has(id)) return;
    seen.add(id);
    if ((await heldClaim(ctx, id, c)).state === "done") return;
    const r = await theirs.read(id, end);
    if (r) out.push(r);
  };
  for (;;) {
    const slice = await store.readLog(offset);
    if (slice.restart) {
      offset = 0; // (as claim: the log was cut or replaced under the cursor)
      theirs.forgetOffset();
      continue;
    }
    if (slice.end === offset) break;
    const gone = await goneIn(ctx, slice);
    for (const { id, end } of slice.entries) if (!gone(id)) await consider(id, end);
    offset = slice.end;
  }
  // Ended and not in the log yet: a supervisor records the end first and
  // tells the log after, so a wait() can return in between. Pending all the
  // same (a drain's sweep finds them too). One its marker says was told is
  // in the log, or was: a log damaged since tells a drain nothing of it,
  // and a look must not promise what no drain delivers.
  for (const id of await store.activeIds()) {
    if (!seen.has(id) && !(await store.announced(id))) await consider(id);
  }
  return out;
}

/** See {@linkcode TaskManager.completions}. */
export async function* completions(
  ctx: Ctx,
  options: CompletionsOptions,
): AsyncGenerator<TaskInfo, void, undefined> {
  checkOptionNames(options, OPTION_NAMES.completions, "Cannot read completions");
  const { signal } = options;
  const c = consumerOf(options, "Cannot read completions");
  if (signal?.aborted) return;
  await ctx.store.open("write");
  // As drainCompletions: what the sweep announces again lands before a new consumer's cursor.
  await sweep(ctx);
  await openConsumer(ctx, c, options);
  const owner = await ctx.self();
  await using w = ctx.hub.watch(signal);
  let unacked: string | undefined;
  const ack = async () => {
    if (unacked === undefined) return;
    const id = unacked;
    unacked = undefined;
    await ctx.store.claimCompletion(id, c, "pending", { state: "done" });
  };
  try {
    const sweeps = sharedSweeps(ctx);
    const reopen = () => openConsumer(ctx, c, options);
    for (;;) {
      const [info] = (await claimWhenAny(ctx, c, owner, 1, w, sweeps, reopen)).tasks;
      if (!info) return;
      if (w.aborted) {
        // Not handed over: give it back for the next reader.
        unacked = info.id;
        await ctx.store.claimCompletion(info.id, c, "pending", { state: "none" });
        unacked = undefined;
        return;
      }
      unacked = info.id;
      yield info;
      await ack(); // the next one was requested: this one is handled
    }
  } finally {
    await ack(); // the loop ended (break, return): the last one is handled
  }
}

/**
 * Which of `candidates` (finished tasks) some consumer has not been told
 * about yet, each with those consumers: every registered consumer that read
 * completions within {@linkcode CONSUMER_IDLE_MS} (one gone for longer keeps
 * nothing). As {@linkcode pending} tells it, in one pass over the log and one
 * look at each candidate's claims, whatever the number of consumers (a pass
 * and a claim read per task per consumer took 34 s for 200 consumers and
 * 5,000 tasks): a task is unread by a consumer that began before it ended,
 * whose cursor is before the task's last line in the log (or that task is
 * not in the log yet, ended a moment ago), and that holds no done claim.
 */
export async function unreadAmong(
  ctx: Ctx,
  candidates: TaskInfo[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (candidates.length === 0) return out;
  const idleSince = Date.now() - CONSUMER_IDLE_MS;
  const readers: { name: string; cursor: number; theirs: Theirs }[] = [];
  for (const { name, lastUse } of await ctx.store.consumers()) {
    if (lastUse < idleSince) continue;
    // (A consumer never used holds nothing yet: see peekCompletions.)
    const cursor = await ctx.store.readCursor(name);
    if (name !== DEFAULT_CONSUMER && cursor === undefined) continue;
    readers.push({
      name,
      cursor: cursor ?? 0,
      theirs: new Theirs(ctx, await ctx.store.consumerStart(name)),
    });
  }
  if (readers.length === 0) return out;
  // Where each candidate's last line ends, and which cursors are at a line's
  // end (one elsewhere: the log was cut or replaced under it, read from 0).
  const wanted = new Set(candidates.map((t) => t.id));
  const lastEnd = new Map<string, number>();
  const atLineEnd = new Set<number>([0]);
  const cursors = new Set(readers.map((r) => r.cursor));
  for (let offset = 0;;) {
    const slice = await ctx.store.readLog(offset);
    if (slice.end === offset) break;
    for (const { id, end } of slice.entries) {
      if (wanted.has(id)) lastEnd.set(id, end);
      if (cursors.has(end)) atLineEnd.add(end);
    }
    if (cursors.has(slice.end)) atLineEnd.add(slice.end);
    offset = slice.end;
  }
  for (const r of readers) {
    if (atLineEnd.has(r.cursor)) continue;
    r.cursor = 0;
    r.theirs.forgetOffset();
  }
  const active = new Set(await ctx.store.activeIds());
  for (const t of candidates) {
    const end = lastEnd.get(t.id);
    const finished = Date.parse(t.finishedAt!);
    const behind = [];
    for (const r of readers) {
      if (end === undefined ? !active.has(t.id) : end <= r.cursor) continue;
      if (await r.theirs.has(t.id, finished, end)) behind.push(r);
    }
    if (behind.length === 0) continue;
    const claims = await ctx.store.claims(t.id);
    const unread = behind.filter((r) => claims.get(r.name)?.state !== "done").map((r) => r.name);
    if (unread.length > 0) out.set(t.id, unread);
  }
  return out;
}
