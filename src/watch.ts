/**
 * Wakes waiters when a task of the store finishes. The supervisor (or a
 * killer) touches `events/<id>` after it commits a final record; one
 * `Deno.watchFs` on that folder, shared by all waiters of a manager, turns
 * that into a wake-up within milliseconds. Every wait also has a deadline, so
 * a missed event (a filesystem without inotify) costs latency, never a hang.
 *
 * The watcher exists only while someone waits: the last waiter to leave
 * closes it and awaits its loop, so Deno's sanitizers see nothing left open.
 *
 * @module
 */

/** A shared, reference-counted watcher over one folder. */
export class ChangeHub {
  readonly #dir: string;
  #users = 0;
  #watcher?: Deno.FsWatcher;
  #loop?: Promise<void>;
  #generation = 0;
  #waiters = new Set<() => void>();

  /** @param dir The folder to watch. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Increases with every change seen. Read it before checking state, then pass it to {@linkcode wait}. */
  get generation(): number {
    return this.#generation;
  }

  /** Starts watching (if no one else is). Pair with {@linkcode release}. */
  acquire(): void {
    if (this.#users++ > 0) return;
    try {
      const watcher = Deno.watchFs(this.#dir, { recursive: false });
      this.#watcher = watcher;
      this.#loop = (async () => {
        try {
          for await (const _ of watcher) this.#bump();
        } catch {
          // The folder vanished or the watcher broke: waiters fall back to their deadlines.
        }
      })();
    } catch {
      // No watcher (permission, platform): deadlines alone.
      this.#watcher = undefined;
    }
  }

  /** Stops watching when the last user leaves, and waits until the watcher is fully closed. */
  async release(): Promise<void> {
    if (--this.#users > 0) return;
    this.#users = 0;
    const watcher = this.#watcher;
    const loop = this.#loop;
    this.#watcher = undefined;
    this.#loop = undefined;
    if (watcher) {
      try {
        watcher.close();
      } catch {
        // already closed
      }
    }
    await loop;
  }

  /** Wakes everyone (used when this process itself changed something). */
  notify(): void {
    this.#bump();
  }

  #bump(): void {
    this.#generation++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }

  /**
   * Resolves when a change newer than `since` is seen, after `timeoutMs`, or
   * when `signal` aborts — whichever comes first. Never rejects; the caller
   * checks the signal. Leaves no timer or listener behind.
   */
  wait(since: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#generation !== since || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      this.#waiters.add(done);
    });
  }
}

/**
 * Sleeps `ms` milliseconds, or less if `signal` aborts. Leaves no timer behind.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
