/**
 * How much of a task's output readers are shown when it has a cap.
 *
 * @module
 */

/**
 * The bytes of a task's output of `size` bytes that readers are shown: never
 * more than its cap (`maxOutputBytes`; 0 for none). A fast writer passes the
 * cap in the moments before the task's watchdog sees it, and the file is
 * then cut back to exactly the cap: what lies past it is never shown, so
 * that what a reader saw (a follower's stream, a size) is what the output
 * keeps.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { shownBytes } from "./output_cap.ts";
 *
 * equal(shownBytes(5_000_000, 10_240), 10_240);
 * equal(shownBytes(100, 10_240), 100);
 * equal(shownBytes(5_000_000, 0), 5_000_000);
 * ```
 */
export function shownBytes(size: number, cap: number): number {
  return cap > 0 && size > cap ? cap : size;
}

/**
 * The size of a task's output file as readers are shown it (see
 * {@linkcode shownBytes}), for callers that hold its `TaskInfo`; 0 while
 * there is no file.
 */
export async function shownSize(
  task: { outputFile: string; maxOutputBytes: number },
): Promise<number> {
  try {
    return shownBytes((await Deno.stat(task.outputFile)).size, task.maxOutputBytes);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
}
