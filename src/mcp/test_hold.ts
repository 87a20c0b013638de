/**
 * A test-only hook: holds a tool call's answer after its handler has
 * finished, before the SDK decides to send it, so that a test can cancel
 * the call at that moment (the one where a cancel used to lose the ends the
 * answer told of). Off unless the process may read the environment variable
 * {@linkcode HOLD_ENV} and it names a folder (`bgtask mcp` as documented is
 * not allowed to: it is never on there).
 *
 * In that folder, a file `<tool>.hold` holds the next call of that tool: the
 * hook removes it, writes `<tool>.held`, and waits for `<tool>.go` (which it
 * removes) before the answer goes on.
 *
 * @module
 */

import { isGranted } from "../permissions.ts";
import { sleep } from "../timers.ts";

/** The environment variable that turns the hook on: a folder. */
export const HOLD_ENV = "BGTASK_TEST_HOLD_ANSWER";

/** How often a held answer looks for its `.go` file. */
const POLL_MS = 5;

/** The folder of the hook, when it is on (read once). */
const folder: string | undefined = (() => {
  if (!isGranted({ name: "env", variable: HOLD_ENV })) return undefined;
  return Deno.env.get(HOLD_ENV) || undefined;
})();

/** Whether a file exists (false for any failure). */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Holds the answer of a call of `tool` when the test asked for it (see the
 * module's doc); returns at once otherwise.
 */
export async function holdAnswer(tool: string): Promise<void> {
  if (folder === undefined) return;
  const at = `${folder}/${tool}`;
  try {
    await Deno.remove(`${at}.hold`);
  } catch {
    return; // not asked for this call
  }
  await Deno.writeTextFile(`${at}.held`, "");
  while (!(await exists(`${at}.go`))) await sleep(POLL_MS);
  await Deno.remove(`${at}.go`).catch(() => {});
}
