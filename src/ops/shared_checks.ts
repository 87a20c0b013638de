/**
 * Liveness checks shared by a manager's waiters: whoever waits (`wait`,
 * `follow`) joins, and one look at a time covers every task waited for, so
 * that 50 waits cost one bash process a second, not 50.
 *
 * @module
 */

import type { TaskRecords } from "../lifecycle.ts";
import { FIRST_LIVENESS_CHECK_MS, LIVENESS_CHECK_MS, nextLivenessCheck } from "../timing.ts";
import type { Ctx } from "./context.ts";
import { settleWaiting } from "./settle.ts";

/**
 * The tasks waited for, and when they are next looked at. Nothing runs in
 * the background: the look is made by a waiter that finds it due (and
 * awaits it), so none outlives the calls that asked for it.
 */
export class SharedChecks {
  /** How many waiters each task has. */
  readonly #waited = new Map<string, number>();
  /** When the next look is due (ms since the epoch). */
  #due = Infinity;
  #running = false;
  /** The interval to the next look: grows while the same waits go on. */
  #every = LIVENESS_CHECK_MS;
  /**
   * The tasks the last look found ended, as it read them: a final record the
   * store could not take (a full disk) is in no file, and a waiter that read
   * only the store would wait on a task every `list` shows ended.
   */
  #ended = new Map<string, TaskRecords>();

  /** The task as the last look found it, if it found it ended. */
  endedOf(id: string): TaskRecords | undefined {
    return this.#ended.get(id);
  }

  /** Waits for `id` until disposed; the first look comes soon. */
  join(id: string): Disposable {
    this.#waited.set(id, (this.#waited.get(id) ?? 0) + 1);
    // Soon, not at once: most tasks report their own end.
    this.#due = Math.min(this.#due, performance.now() + FIRST_LIVENESS_CHECK_MS);
    this.#every = LIVENESS_CHECK_MS;
    let left = false;
    return {
      [Symbol.dispose]: () => {
        if (left) return;
        left = true;
        const n = this.#waited.get(id)! - 1;
        if (n > 0) this.#waited.set(id, n);
        else this.#waited.delete(id);
        if (this.#waited.size === 0) this.#due = Infinity;
      },
    };
  }

  /**
   * Looks at every task waited for, if a look is due and none is under way;
   * true when one was made (the caller reads its task again). A look that
   * fails (a missing permission, say) is due again at once, for the next
   * waiter to meet the error too.
   */
  async lookIfDue(ctx: Ctx): Promise<boolean> {
    if (this.#running || performance.now() < this.#due) return false;
    this.#running = true;
    this.#due = Infinity;
    let ok = false;
    try {
      const records: TaskRecords[] = [];
      for (const id of this.#waited.keys()) {
        const r = await ctx.store.read(id).catch(() => undefined);
        if (r && !r.final) records.push(r);
      }
      const out = await settleWaiting(ctx, records);
      this.#ended = new Map(out.filter((r) => r.final).map((r) => [r.spec.id, r]));
      ok = true;
    } finally {
      this.#running = false;
      // (A waiter that joined meanwhile may have asked for a look sooner.)
      const next = ok ? performance.now() + this.#every : 0;
      if (ok) this.#every = nextLivenessCheck(this.#every);
      this.#due = this.#waited.size === 0 ? Infinity : Math.min(this.#due, next);
    }
    return true;
  }
}
