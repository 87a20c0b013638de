/**
 * The one waiting primitive: a filesystem watch on the store's change feed
 * (the completion log, appended whenever a task ends), a deadline on every
 * sleep, and an abort signal. `wait`, `follow` and `completions` all wait
 * through it, so a missed event (a filesystem without inotify) costs
 * latency, never a hang.
 *
 * The watcher exists only while someone waits: the last waiter to leave
 * closes it and awaits its loop, so Deno's sanitizers see nothing left open.
 *
 * @module
 */

import { later } from "./timers.ts";

/**
 * The reason a manager's iterators are aborted with when it is closed: a
 * follower then reads what was written up to that moment before it ends.
 */
export const CLOSED: unique symbol = Symbol("bgtask: the TaskManager was closed");

/** A shared, reference-counted watcher over one file. */
export class ChangeHub {
  readonly #path: string;
  #users = 0;
  #watcher?: Deno.FsWatcher;
  #loop?: Promise<void>;
  #generation = 0;
  #waiters = new Set<() => void>();
  /** The watcher whose loop still runs (a closed or broken one is no longer heard). */
  #live?: Deno.FsWatcher;

  /** @param path The file (or folder) to watch. */
  constructor(path: string) {
    this.#path = path;
  }

  /**
   * Starts waiting: the watch is opened if nobody else holds it. Dispose the
   * result (`await using`) to leave.
   */
  watch(signal?: AbortSignal): Watch {
    this.#acquire();
    return new Watch(this, signal);
  }

  /** Wakes everyone (this process itself changed something). */
  notify(): void {
    this.#bump();
  }

  /** Increases with every change seen. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * True while the watch is open and working: changes are heard. False
   * without one (a filesystem without inotify, a missing file, a broken
   * watch), where only deadlines end a sleep.
   */
  get watching(): boolean {
    return this.#live !== undefined;
  }

  #acquire(): void {
    if (this.#users++ > 0) return;
    try {
      const watcher = Deno.watchFs(this.#path, { recursive: false });
      this.#watcher = watcher;
      this.#live = watcher;
      this.#loop = (async () => {
        try {
          for await (const _ of watcher) this.#bump();
        } catch {
          // The file vanished or the watcher broke: waiters fall back to their deadlines.
        } finally {
          // (Not a newer watcher's: this loop may end after one was opened.)
          if (this.#live === watcher) this.#live = undefined;
        }
      })();
    } catch {
      // No watcher (permission, platform, no store yet): deadlines alone.
      this.#watcher = undefined;
    }
  }

  /** @internal Stops watching when the last user leaves, once the watcher is fully closed. */
  async release(): Promise<void> {
    if (--this.#users > 0) return;
    this.#users = 0;
    const watcher = this.#watcher;
    const loop = this.#loop;
    this.#watcher = undefined;
    this.#loop = undefined;
    try {
      watcher?.close();
    } catch {
      // already closed
    }
    await loop;
  }

  #bump(): void {
    this.#generation++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }

  /**
   * @internal Resolves when a change newer than `since` is seen, after
   * `timeoutMs`, or when `signal` aborts — whichever comes first. Never
   * rejects. Leaves no timer or listener behind.
   */
  sleep(since: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#generation !== since || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        cancel();
        signal?.removeEventListener("abort", done);
        this.#waiters.delete(done);
        resolve();
      };
      const cancel = later(timeoutMs, done);
      signal?.addEventListener("abort", done, { once: true });
      this.#waiters.add(done);
    });
  }
}

/**
 * One waiter's hold on a {@linkcode ChangeHub}: call {@linkcode mark} before
 * looking at the state, then {@linkcode sleep}; a change that lands between
 * the two makes the sleep return at once, so nothing is missed.
 */
export class Watch implements AsyncDisposable {
  readonly #hub: ChangeHub;
  readonly #signal?: AbortSignal;
  #since: number;

  /** @internal */
  constructor(hub: ChangeHub, signal?: AbortSignal) {
    this.#hub = hub;
    this.#signal = signal;
    this.#since = hub.generation;
  }

  /** True once the signal aborted. */
  get aborted(): boolean {
    return this.#signal?.aborted ?? false;
  }

  /** True when a change was seen since the last {@linkcode mark}. */
  get changed(): boolean {
    return this.#hub.generation !== this.#since;
  }

  /** True while changes are heard (see {@linkcode ChangeHub.watching}). */
  get watching(): boolean {
    return this.#hub.watching;
  }

  /** Remembers "now"; a later change ends the next {@linkcode sleep} early. */
  mark(): void {
    this.#since = this.#hub.generation;
  }

  /** Sleeps until a change since the last mark, `ms` passed, or the signal aborted. */
  async sleep(ms: number): Promise<void> {
    await this.#hub.sleep(this.#since, ms, this.#signal);
  }

  /** Leaves the hub (closing the watch if this was the last waiter). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#hub.release();
  }
}
