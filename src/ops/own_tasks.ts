/**
 * The tasks a manager started, for `killOnDispose`: known by id and token
 * (a store deleted and made again issues the same ids to other tasks), the
 * spawns still under way included (a close must not miss one that returns
 * a moment later), and refused once the manager is closed.
 *
 * @module
 */

/** Past this many, the ended ones are let go at the next spawn (then at twice as many). */
const FIRST_PRUNE = 512;

/** One task this manager started. */
export interface OwnTask {
  id: string;
  /** Its token (see `SpawnRecord.token`): the same id in a new store is another task. */
  token: string;
}

/**
 * The tasks of one manager.
 *
 * @example
 * ```ts
 * import { OwnTasks } from "./own_tasks.ts";
 * import { deepEqual, rejects } from "node:assert/strict";
 * const own = new OwnTasks();
 * await own.spawn(async () => own.add("b1", "t1"));
 * deepEqual(await own.close(), [{ id: "b1", token: "t1" }]);
 * await rejects(own.spawn(async () => {}), /closed/);
 * ```
 */
export class OwnTasks {
  readonly #tasks = new Map<string, string>();
  readonly #underWay = new Set<Promise<unknown>>();
  #closed = false;
  #pruneAt = FIRST_PRUNE;

  /**
   * Runs a spawn, so that a close waits for it.
   *
   * @throws {Error} Once closed: its task would outlive the close.
   */
  async spawn<T>(run: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      throw new Error(
        "Cannot spawn task: this TaskManager was closed (killOnDispose: its tasks are ended " +
          "when it closes, so it starts no more); open a new one",
      );
    }
    const p = run();
    this.#underWay.add(p);
    try {
      return await p;
    } finally {
      this.#underWay.delete(p);
    }
  }

  /** Records a task this manager started. */
  add(id: string, token: string): void {
    this.#tasks.set(id, token);
  }

  /**
   * Lets go of the ended tasks when there are many (`active`: the ids still
   * unfinished in the store), so that a long-lived manager does not grow.
   */
  async prune(active: () => Promise<string[]>): Promise<void> {
    if (this.#tasks.size < this.#pruneAt) return;
    const live = new Set(await active());
    for (const id of this.#tasks.keys()) if (!live.has(id)) this.#tasks.delete(id);
    this.#pruneAt = Math.max(FIRST_PRUNE, this.#tasks.size * 2);
  }

  /** Closes: no more spawns; once those under way have ended, every task recorded. */
  async close(): Promise<OwnTask[]> {
    this.#closed = true;
    await Promise.allSettled([...this.#underWay]);
    const all = [...this.#tasks].map(([id, token]) => ({ id, token }));
    this.#tasks.clear();
    return all;
  }
}
