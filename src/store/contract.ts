/**
 * The task store contract: what every verb may rely on, whatever keeps the
 * records. The filesystem store (`fs_store.ts`, its layout in
 * `fs/layout.ts`) is the implementation bgtask ships; a store shared across
 * machines would implement this interface and nothing else. Only the store knows where and under which names records live.
 *
 * Guarantees every implementation keeps:
 *
 * 1. **Ids are claimed, never reused.** {@linkcode TaskStore.claimId} gives each
 *    caller a different id, across processes, and an id once issued is never
 *    issued again, not after the task is removed.
 * 2. **Readers never see half a record.** A record is either absent or whole
 *    (written elsewhere and moved into place, or created exclusively in one write).
 * 3. **The first final record wins.** {@linkcode TaskStore.commitFinal} succeeds
 *    for exactly one writer per task, and the record never changes afterwards.
 * 4. **Each completion is delivered once per consumer.** A consumer's claim on
 *    a finished task is exclusive ({@linkcode TaskStore.claimCompletion});
 *    every finished task is announced in the completion log at least once.
 * 5. **Reading never creates.** Methods that only read work on a store that
 *    does not exist (it reads as empty) or that may not be written.
 * 6. **A task's helpers write only into their own task.** The supervisor of a
 *    task whose store was deleted (and maybe made again) never writes into the
 *    new store.
 *
 * @module
 */

import type { FinalStatus, TaskRecords } from "../lifecycle.ts";
import type { KillSignal } from "../types.ts";
import type { FinalRecord, Inherited, PausedRecord, SpawnRecord } from "./records.ts";

/** A consumer's claim on one finished task. */
export type ClaimState =
  | { state: "none" }
  | { state: "done" }
  | { state: "pending"; pid: number; start: string };

/**
 * The process an ephemeral consumer belongs to: its pid and start time (as a
 * pending claim's), and its pid namespace's tag (as a task's `started`
 * record's), without which a process of another namespace (a container, a
 * sandbox sharing the store) cannot be told alive or dead.
 */
export interface ConsumerOwner {
  pid: number;
  start: string;
  ns: string;
}

/** Where a consumer is in the completion log. */
export interface ConsumerCursor {
  /** The offset in the log before which every entry is handled. */
  offset: number;
}

/** The part of the completion log after an offset. */
export interface LogSlice {
  /** The task ids, in the order they finished (an id may repeat). */
  entries: { id: string; end: number }[];
  /** Where reading goes on: the end of the last whole line read (an entry or a stray line). */
  end: number;
  /**
   * The log no longer matches the offset read from (it was truncated or
   * replaced since): read it again from 0.
   */
  restart?: true;
}

/** Where a task's stdin stands (stdin "pipe" or "pty"). */
export interface InputState {
  /** It was closed: nothing more may be written. */
  closed: boolean;
  /** The last byte written ended no line (a terminal's end-of-input then takes two Ctrl-D). */
  midLine: boolean;
  /** The process that holds the FIFO's write end (the watchdog), once it has said so. */
  holder?: { pid: number; start: string };
}

/** How a task's shell exited, as its supervisor heard it before it could record it. */
export interface EndNote {
  /** The exit code (a death by signal is not noted here). */
  exitCode: number;
  /** When it was heard (milliseconds since the epoch). */
  at: number;
}

/** A queue's settings. */
export interface QueueConf {
  /** How many of its tasks may run at once. */
  parallel: number;
  /** No new starts while paused. */
  paused: boolean;
}

/** A queue's slots and waiting line, as the scheduler left them. */
export interface QueueState {
  /** Tasks holding a slot that have not ended (some may have died unseen). */
  running: number;
  /** True when tasks wait in line (or the line holds entries not yet skipped). */
  waiting: boolean;
}

/**
 * Where a consumer began. A task is its to hear of when the log names it
 * after `offset` and it is not among `ended`: the log only grows, so that is
 * a task that ended after it began, whatever any clock says (a wall clock
 * stepped back an hour made every task that ended in that hour read as
 * ended before it). Without an offset (a consumer registered by an older
 * build) or a position in the log (the log was replaced under it, or a task
 * is not in it yet), by time: a task that finished at `at` or later.
 */
export interface ConsumerStart {
  /** When it was registered (ms since the epoch; 0 for one opened `fromStart`). */
  at: number;
  /** The log's size then (0 `fromStart`); undefined when not recorded. */
  offset?: number;
  /** The tasks that had ended then but were still active (a sweep may name them again). */
  ended: ReadonlySet<string>;
}

/** The task store. */
export interface TaskStore {
  /** Where the store is, for messages (an absolute folder path for the filesystem store). */
  readonly location: string;

  /**
   * Makes the store usable: `write` creates it if needed and checks it is
   * safe; `read` checks what exists and creates nothing. Resolves false when
   * a `read` finds no store.
   */
  open(mode: "read" | "write"): Promise<boolean>;

  /** Claims a new id (guarantee 1). */
  claimId(): Promise<string>;

  /**
   * Writes a claimed task's spawn record (guarantee 2), and the long command
   * if there is one, and the environment it inherits if it was recorded
   * (`spec.inherited`), and marks the task active.
   */
  create(spec: SpawnRecord, longCommand?: string, inherited?: Inherited): Promise<void>;

  /**
   * Everything recorded about a task; undefined when there is no such task
   * (never created, or removed). Throws a `DamagedRecordError` when its
   * records cannot be read.
   */
  read(id: string): Promise<TaskRecords | undefined>;

  /**
   * How `id`'s task went, when it was issued and its task is gone
   * ({@linkcode remove} keeps the id used: guarantee 1): `"removed"`, or
   * `"refused"` for a spawn that failed after claiming it; undefined for an
   * id never issued (or whose task is there). For saying why
   * {@linkcode read} found no task: a removed task is not a typo.
   */
  removedAs(id: string): Promise<"removed" | "refused" | undefined>;

  /**
   * How a removed task had ended, as the record of its removal keeps it;
   * undefined when that is not kept (merged by {@linkcode mergeRemoved}, a
   * removal on a full disk, another user's task) or the id names no task
   * removed after it ended.
   */
  removedEnding(id: string): Promise<FinalStatus | undefined>;

  /**
   * Lets the records of removed ids below `below` that are older than
   * `olderThanMs` merge into one, their ids staying used (guarantee 1):
   * {@linkcode removedAs} then says `"removed"` of them (no longer
   * `"refused"`), and how such a task ended is no longer kept, so the caller
   * passes no id that a task still to run after it names. Tasks below
   * `below` are untouched, and one removed later is recorded as any other.
   * Resolves with how many records merged.
   */
  mergeRemoved(below: number, olderThanMs: number): Promise<number>;

  /** Every task id, in id order. */
  ids(): Promise<string[]>;

  /**
   * Whether an id was ever claimed in this store (a task has been run there,
   * or refused, or removed since); false for a store with none, or none at
   * all. Creates nothing.
   */
  issuedAny(): Promise<boolean>;

  /** Ids of tasks that may not have ended or been announced yet (a superset). */
  activeIds(): Promise<string[]>;

  /**
   * Drops a task from the active set once it has ended and been announced,
   * with whatever it kept only for its start (a recorded environment).
   */
  deactivate(id: string): Promise<void>;

  /** Creates the final record if there is none (guarantee 3); true if this one won. */
  commitFinal(id: string, record: FinalRecord): Promise<boolean>;

  /**
   * Claims the start of a task that waits (for a slot or for other tasks):
   * marks it launched if nobody has, exclusively. Every start of a waiting
   * task claims it first (the scheduler, {@linkcode takeSlot}), so a caller
   * that gets true knows the task never runs unless it starts it; false:
   * someone is starting it (or it was removed).
   */
  claimLaunch(id: string): Promise<boolean>;

  /** Adds a finished task to the completion log (again is harmless). */
  announce(id: string): Promise<void>;

  /**
   * Whether the task was added to the completion log: its helpers said so,
   * or it has left the active set (it leaves only once announced). A sweep
   * {@linkcode announce}s a finished task only when not: one that read the
   * active set before another process dropped the task from it would
   * otherwise name it in the log again, after the cursor of a consumer
   * registered meanwhile.
   */
  announced(id: string): Promise<boolean>;

  /**
   * How the started task whose shell is `pid` exited, when its supervisor
   * heard the exit but wrote no final record (it was killed just then, or
   * the disk was full); undefined when no exit was heard.
   */
  endNote(id: string, pid: number): Promise<EndNote | undefined>;

  /**
   * Asks a started task's supervisor to record it as killed when its tree is
   * gone (the asker ends the tree; with `delegate`, for an asker that cannot
   * find the tree, the task's watchdog ends it). Asking twice is harmless:
   * the first request stands, with the shorter of the two graces (and its
   * own first signal: `signal`, SIGTERM unless given, is the one the record
   * names and a watchdog that finishes the kill sends). False
   * when there is no room to ask (a full disk with no file left to make):
   * the asker ends the tree all the same, and the supervisor, not told,
   * records how it ended.
   */
  requestKill(
    id: string,
    graceMs: number,
    delegate?: boolean,
    signal?: KillSignal,
  ): Promise<boolean>;

  /** Whether someone asked to kill the task ({@linkcode requestKill}). */
  killRequested(id: string): Promise<boolean>;

  /** Records pause bookkeeping for a running task. */
  writePaused(id: string, record: PausedRecord): Promise<void>;

  /**
   * Removes a task and its output; its id stays used, and how it ended is
   * kept (a task that runs after it still can tell). Removing a removed task
   * is not an error. With `refused`, the task never was: its spawn failed
   * after claiming the id (the spawner was told why), and
   * {@linkcode removedAs} says so. Resolves true for the one call that
   * removed it, false for any other (two cleans at once: each task is one's).
   */
  remove(id: string, refused?: boolean): Promise<boolean>;

  /**
   * Finishes removals that were cut short (a process ended between a task's
   * tombstone and the last of its files): what is left of those tasks is
   * deleted. Of `ids` only, or of the whole store. Such a task reads as
   * removed meanwhile ({@linkcode read}: undefined; {@linkcode removedAs}
   * says so) once its spawn record, the first file to go, is gone; before,
   * it reads whole, and removing it again finishes it. Resolves with the ids
   * finished.
   */
  finishRemovals(ids?: string[]): Promise<string[]>;

  /** The absolute path of a task's output. */
  outputPath(id: string): string;

  /** The absolute path of a task's stdin FIFO (stdin "pipe" or "pty"; made by its supervisor). */
  inputPath(id: string): string;

  /**
   * Takes the task's stdin lock (one writer at a time, across processes);
   * resolves with the function that releases it.
   */
  lockInput(id: string): Promise<() => void>;

  /**
   * Takes the task's stdin lock if no other writer holds it, without waiting;
   * resolves with the function that releases it, or undefined when it is held.
   */
  tryLockInput(id: string): Promise<(() => void) | undefined>;

  /** Where the task's stdin stands. */
  inputState(id: string): Promise<InputState>;

  /** Records that the stdin was closed, or whether the last byte written ended a line. */
  setInputState(id: string, change: { closed?: true; midLine?: boolean }): Promise<void>;

  /** The output's size in bytes (0 when there is none yet). */
  outputSize(id: string): Promise<number>;

  /**
   * Up to `maxBytes` of output from `offset`; `eof` when the end was reached.
   * Missing output (a task not started yet) reads as empty.
   */
  readOutput(
    id: string,
    offset: number,
    maxBytes: number,
  ): Promise<{ bytes: Uint8Array; eof: boolean }>;

  /**
   * Registers a consumer if new: `fromStart` sees every finished task,
   * otherwise only the tasks that finish from now on (see
   * {@linkcode TaskStore.consumerStart}); and marks it as used now (see
   * {@linkcode TaskStore.consumers}). One removed `anew` (see
   * {@linkcode TaskStore.removeConsumer}) starts where it was removed, even
   * `fromStart`. With `owner`, the consumer is that process's (ephemeral),
   * registered already or not (the last process to open a name so is the
   * one it belongs to): {@linkcode consumers} says whose, for a caller to
   * forget it once that process has ended. Without, whose it is stays.
   */
  openConsumer(name: string, fromStart: boolean, owner?: ConsumerOwner): Promise<void>;

  /**
   * The registered consumers, each with when it last read completions (ms),
   * and the process it belongs to, for an ephemeral one.
   */
  consumers(): Promise<{ name: string; lastUse: number; owner?: ConsumerOwner }[]>;

  /**
   * Marks a registered consumer as used now (see {@linkcode consumers}) if
   * it was last used more than `unusedMs` ago: a reader that waits for
   * completions and gets none for days is still a reader. One not
   * registered stays so.
   */
  keepConsumer(name: string, unusedMs: number): Promise<void>;

  /**
   * Forgets a consumer: its registration and cursor go (its claims go with
   * their tasks). Resolves false when none is registered. With `anew`, its
   * next registration starts from this call, even `fromStart`, and even in a
   * process registering it meanwhile: a consumer that starts with every
   * finished task (`"default"`), forgotten, is not told again of the tasks
   * it was told of.
   */
  removeConsumer(name: string, anew?: boolean): Promise<boolean>;

  /**
   * Where the consumer began (see {@linkcode ConsumerStart}): which finished
   * tasks are not its to hear of, even when the log names them after its
   * cursor (a sweep announces again a finished task it finds still active).
   */
  consumerStart(name: string): Promise<ConsumerStart>;

  /**
   * Forgets where in the log the consumer began (its start's `offset`): the
   * log was replaced under it, and positions in the new one say nothing of
   * when a task ended. From then on, by time.
   */
  forgetConsumerOffset(name: string): Promise<void>;

  /** Runs `fn` while holding the consumer's lock (short critical sections only). */
  withConsumer<T>(name: string, fn: () => Promise<T>): Promise<T>;

  /** The consumer's cursor; undefined for a consumer never opened. */
  readCursor(name: string): Promise<number | undefined>;

  /** Moves the consumer's cursor forward. */
  writeCursor(name: string, offset: number): Promise<void>;

  /**
   * The completion log from `offset` (whole entries only). An offset past
   * the log's end, or not just after a line end, gives `restart`: the log
   * was cut or replaced (by hand: bgtask only appends). A replaced log with
   * a line end just before the offset is not told apart.
   */
  readLog(offset: number): Promise<LogSlice>;

  /**
   * A consumer's claim on a task (`none` also when the task was removed).
   * Rejects with a `DamagedRecordError` when the task's folder
   * cannot hold one (a file stands where the folder should be).
   */
  readClaim(id: string, consumer: string): Promise<ClaimState>;

  /**
   * Every consumer's claim on a task, in one look (consumers without one
   * are not in it); empty for a task that is not there.
   */
  claims(id: string): Promise<Map<string, ClaimState>>;

  /**
   * Sets a consumer's claim (`none` gives a pending claim back). `expect`
   * guards the change (guarantee 4): a claim from `none` is exclusive, so two
   * claimers never both win. Resolves false when the claim was not in the
   * expected state, or the task is gone.
   */
  claimCompletion(
    id: string,
    consumer: string,
    expect: ClaimState["state"],
    next: ClaimState,
  ): Promise<boolean>;

  /** The names of the queues that exist. */
  queueNames(): Promise<string[]>;

  /** A queue's settings; undefined for a queue that was never used. */
  readQueue(name: string): Promise<QueueConf | undefined>;

  /**
   * Creates or changes a queue: the settings given replace the current ones,
   * the others stay (a new queue's are `parallel` 1, not paused). Under its
   * lock, so never one being removed, and a change made at the same time by
   * someone else is kept. Returns the settings written.
   */
  writeQueue(name: string, change: Partial<QueueConf>): Promise<QueueConf>;

  /**
   * Runs `fn` while holding the queue's lock (the scheduler in the supervisor
   * scripts takes the same lock): what is enqueued under it keeps id order.
   * The queue exists while `fn` runs (it is created if it did not): a lock
   * taken on a queue that was removed meanwhile is let go and taken anew.
   */
  withQueue<T>(name: string, fn: () => Promise<T>): Promise<T>;

  /**
   * Deletes a queue: its settings, its line and its lock (hold its lock, and
   * check that none of its tasks is unfinished). Whoever waited for its lock
   * finds the queue gone once it holds it (see {@linkcode withQueue}).
   */
  removeQueue(name: string): Promise<void>;

  /** Adds a task to the end of a queue (hold its lock). */
  enqueue(name: string, id: string): Promise<void>;

  /** The queue's slots and line (hold its lock). */
  queueState(name: string): Promise<QueueState>;

  /**
   * The tasks the queue knows: those waiting in its line and those holding
   * its slots (hold its lock for an answer that cannot change meanwhile).
   */
  queueMembers(name: string): Promise<Set<string>>;

  /**
   * Whether the queue's line holds an entry that names no task (garbled):
   * tasks that waited in it may be missing from it, and are put back in
   * line by whoever finds them (see `settleMany`), not recorded lost.
   */
  queueDamaged(name: string): Promise<boolean>;

  /**
   * The tasks waiting in the queue's line for a slot, first to start first:
   * its entries not taken yet, without those the scheduler passes over
   * (started by a spawner meanwhile, ended while waiting, removed). Read
   * without the lock, and without reading the tasks' records: a snapshot of
   * what the next starts will take. Empty for a queue that does not exist.
   */
  queueLine(name: string): Promise<string[]>;

  /**
   * Gives a slot of the queue to a task that starts now (hold its lock, and
   * check that a slot is free and nobody waits in line): marks it launched.
   */
  takeSlot(name: string, id: string): Promise<void>;

  /** Records that `id` runs after `dep`. */
  addDependent(dep: string, id: string): Promise<void>;

  /** True when some task runs after `id`. */
  hasDependents(id: string): Promise<boolean>;

  /**
   * What the supervisor scripts need: the store folder, and the record names
   * they write, as bash variable assignments.
   */
  supervisorLayout(): string;

  /** The file whose changes mean "a task has ended" (what waiters watch). */
  readonly changeFeed: string;
}
