/**
 * The filesystem task store: {@linkcode TaskStore} over one folder. Its
 * layout (every folder and file name) lives in `fs/layout.ts`; each family
 * of records in a module of its own under `fs/`:
 *
 * - `fs/folder.ts`: opening the store, knowing it is still the one opened,
 *   and errors that name the store and the fix;
 * - `fs/ids.ts`: ids claimed, never issued twice;
 * - `fs/task_read.ts`, `fs/task_write.ts`: a task's records;
 * - `fs/removal.ts`: tombstones and removals;
 * - `fs/task_io.ts`: output and stdin;
 * - `fs/consumers.ts`: the completion log, consumers and their claims;
 * - `fs/queues.ts`: queues and dependencies;
 * - `fs/files.ts`: reads and writes readers never see half done.
 *
 * @module
 */

import type { TaskRecords } from "../lifecycle.ts";
import type { KillSignal } from "../types.ts";
import type {
  ClaimState,
  ConsumerOwner,
  ConsumerStart,
  EndNote,
  InputState,
  LogSlice,
  QueueConf,
  QueueState,
  TaskStore,
} from "./contract.ts";
import type { FinalStatus } from "../lifecycle.ts";
import type { FinalRecord, Inherited, PausedRecord, SpawnRecord } from "./records.ts";
import * as consumers from "./fs/consumers.ts";
import { StoreFolder, type StoreSource } from "./fs/folder.ts";
import { activeIds, claimId, issuedAny, taskIds } from "./fs/ids.ts";
import { isStoreEntry } from "./fs/layout.ts";
import * as queues from "./fs/queues.ts";
import {
  finishRemovals,
  mergeRemoved,
  removedAs,
  removedEnding,
  removeTask,
} from "./fs/removal.ts";
import * as io from "./fs/task_io.ts";
import { readTask } from "./fs/task_read.ts";
import * as write from "./fs/task_write.ts";

export { DamagedRecordError } from "./fs/damaged.ts";

/**
 * The entries of the folder `dir` that are not bgtask's (sorted; none when
 * it cannot be read): a store made among them was made in someone's folder,
 * most likely by a mistyped `--dir` (or one meant as `--cwd`).
 */
export function foreignEntries(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => !isStoreEntry(n)).sort();
  } catch {
    return [];
  }
}
export type { StoreSource } from "./fs/folder.ts";

/** The task store in one folder. */
export class FsStore implements TaskStore {
  /** The absolute store folder. */
  readonly dir: string;
  readonly #f: StoreFolder;

  /**
   * @param dir The store folder (need not exist yet).
   * @param source How it was chosen (for advice in errors).
   */
  constructor(dir: string, source: StoreSource = "option") {
    this.#f = new StoreFolder(dir, source);
    this.dir = this.#f.dir;
  }

  /** The store folder. */
  get location(): string {
    return this.dir;
  }

  /** The completion log: appended whenever a task ends. */
  get changeFeed(): string {
    return this.#f.layout.log;
  }

  /** Where `bgtask mcp --http` keeps its bearer token (open the store to write first). */
  get mcpTokenPath(): string {
    return this.#f.layout.mcpToken;
  }

  open(mode: "read" | "write"): Promise<boolean> {
    return this.#f.open(mode);
  }

  // ---- ids and tasks ----

  claimId(): Promise<string> {
    return claimId(this.#f);
  }
  create(spec: SpawnRecord, longCommand?: string, inherited?: Inherited): Promise<void> {
    return write.createTask(this.#f, spec, longCommand, inherited);
  }
  read(id: string): Promise<TaskRecords | undefined> {
    return readTask(this.#f, id);
  }
  ids(): Promise<string[]> {
    return taskIds(this.#f);
  }
  issuedAny(): Promise<boolean> {
    return issuedAny(this.#f);
  }
  activeIds(): Promise<string[]> {
    return activeIds(this.#f);
  }
  deactivate(id: string): Promise<void> {
    return write.deactivate(this.#f, id);
  }
  commitFinal(id: string, record: FinalRecord): Promise<boolean> {
    return write.commitFinal(this.#f, id, record);
  }
  claimLaunch(id: string): Promise<boolean> {
    return write.claimLaunch(this.#f, id);
  }
  announce(id: string): Promise<void> {
    return write.announce(this.#f, id);
  }
  announced(id: string): Promise<boolean> {
    return write.announced(this.#f, id);
  }
  endNote(id: string, pid: number): Promise<EndNote | undefined> {
    return write.endNote(this.#f, id, pid);
  }
  killRequested(id: string): Promise<boolean> {
    return write.killRequested(this.#f, id);
  }
  requestKill(
    id: string,
    graceMs: number,
    delegate = false,
    signal: KillSignal = "SIGTERM",
  ): Promise<boolean> {
    return write.requestKill(this.#f, id, graceMs, delegate, signal);
  }
  writePaused(id: string, record: PausedRecord): Promise<void> {
    return write.writePaused(this.#f, id, record);
  }

  // ---- removal ----

  removedAs(id: string): Promise<"removed" | "refused" | undefined> {
    return removedAs(this.#f, id);
  }
  removedEnding(id: string): Promise<FinalStatus | undefined> {
    return removedEnding(this.#f, id);
  }
  mergeRemoved(below: number, olderThanMs: number): Promise<number> {
    return mergeRemoved(this.#f, below, olderThanMs);
  }
  remove(id: string, refused = false): Promise<boolean> {
    return removeTask(this.#f, id, refused);
  }
  finishRemovals(ids?: string[]): Promise<string[]> {
    return finishRemovals(this.#f, ids);
  }

  // ---- output and stdin ----

  outputPath(id: string): string {
    return this.#f.layout.taskFile(id, "output");
  }
  outputSize(id: string): Promise<number> {
    return io.outputSize(this.#f, id);
  }
  readOutput(
    id: string,
    offset: number,
    maxBytes: number,
  ): Promise<{ bytes: Uint8Array; eof: boolean }> {
    return io.readOutput(this.#f, id, offset, maxBytes);
  }
  inputPath(id: string): string {
    return this.#f.layout.taskFile(id, "stdin");
  }
  lockInput(id: string): Promise<() => void> {
    return io.lockInput(this.#f, id);
  }
  tryLockInput(id: string): Promise<(() => void) | undefined> {
    return io.tryLockInput(this.#f, id);
  }
  inputState(id: string): Promise<InputState> {
    return io.inputState(this.#f, id);
  }
  setInputState(id: string, change: { closed?: true; midLine?: boolean }): Promise<void> {
    return io.setInputState(this.#f, id, change);
  }

  // ---- completions ----

  openConsumer(name: string, fromStart: boolean, owner?: ConsumerOwner): Promise<void> {
    return consumers.openConsumer(this.#f, name, fromStart, owner);
  }
  keepConsumer(name: string, unusedMs: number): Promise<void> {
    return consumers.keepConsumer(this.#f, name, unusedMs);
  }
  consumers(): Promise<{ name: string; lastUse: number; owner?: ConsumerOwner }[]> {
    return consumers.consumers(this.#f);
  }
  removeConsumer(name: string, anew?: boolean): Promise<boolean> {
    return consumers.removeConsumer(this.#f, name, anew);
  }
  consumerStart(name: string): Promise<ConsumerStart> {
    return consumers.consumerStart(this.#f, name);
  }
  forgetConsumerOffset(name: string): Promise<void> {
    return consumers.forgetConsumerOffset(this.#f, name);
  }
  withConsumer<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return consumers.withConsumer(this.#f, name, fn);
  }
  readCursor(name: string): Promise<number | undefined> {
    return consumers.readCursor(this.#f, name);
  }
  writeCursor(name: string, offset: number): Promise<void> {
    return consumers.writeCursor(this.#f, name, offset);
  }
  readLog(offset: number): Promise<LogSlice> {
    return consumers.readLog(this.#f, offset);
  }
  readClaim(id: string, consumer: string): Promise<ClaimState> {
    return consumers.readClaim(this.#f, id, consumer);
  }
  claims(id: string): Promise<Map<string, ClaimState>> {
    return consumers.claims(this.#f, id);
  }
  claimCompletion(
    id: string,
    consumer: string,
    expect: ClaimState["state"],
    next: ClaimState,
  ): Promise<boolean> {
    return consumers.claimCompletion(this.#f, id, consumer, expect, next);
  }

  // ---- queues and dependencies ----

  queueNames(): Promise<string[]> {
    return queues.queueNames(this.#f);
  }
  readQueue(name: string): Promise<QueueConf | undefined> {
    return queues.readQueue(this.#f, name);
  }
  writeQueue(name: string, change: Partial<QueueConf>): Promise<QueueConf> {
    return queues.writeQueue(this.#f, name, change);
  }
  withQueue<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return queues.withQueue(this.#f, name, fn);
  }
  removeQueue(name: string): Promise<void> {
    return queues.removeQueue(this.#f, name);
  }
  enqueue(name: string, id: string): Promise<void> {
    return queues.enqueue(this.#f, name, id);
  }
  queueState(name: string): Promise<QueueState> {
    return queues.queueState(this.#f, name);
  }
  queueMembers(name: string): Promise<Set<string>> {
    return queues.queueMembers(this.#f, name);
  }
  queueDamaged(name: string): Promise<boolean> {
    return queues.queueDamaged(this.#f, name);
  }
  queueLine(name: string): Promise<string[]> {
    return queues.queueLine(this.#f, name);
  }
  takeSlot(name: string, id: string): Promise<void> {
    return queues.takeSlot(this.#f, name, id);
  }
  addDependent(dep: string, id: string): Promise<void> {
    return queues.addDependent(this.#f, dep, id);
  }
  hasDependents(id: string): Promise<boolean> {
    return queues.hasDependents(this.#f, id);
  }

  // ---- the supervisor's view ----

  supervisorLayout(): string {
    return this.#f.layout.supervisorLayout();
  }
}
