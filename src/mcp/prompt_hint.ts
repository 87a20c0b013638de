/**
 * What to tell an agent about an interactive task that runs on without
 * waiting for input, as bgtask sees it, while its output ends in an
 * unfinished line: the prompt of a program that polls its input (`select`
 * with a timeout, an event loop) rather than blocking in a read is not
 * detected, and a wait until "input" would not end for it.
 *
 * @module
 */

import type { TaskInfo, TaskManager } from "../../mod.ts";
import { openLine } from "./read.ts";

/**
 * The hint for `info` (an interactive task running, not waiting for input,
 * whose output ends in an unfinished line), or "" when it needs none.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { TaskManager } from "../../mod.ts";
 * import { undetectedPromptHint } from "./prompt_hint.ts";
 * const tasks = new TaskManager({ dir: await Deno.makeTempDir() });
 * const t = await tasks.spawnShell("echo hi", { stdin: "pipe" });
 * const done = await tasks.wait(t.id);
 * equal(await undetectedPromptHint(tasks, done), ""); // ended: no prompt to answer
 * ```
 */
export async function undetectedPromptHint(tasks: TaskManager, info: TaskInfo): Promise<string> {
  if (info.status !== "running" || info.stdin === "null" || info.waitingForInput) return "";
  const line = await openLine(tasks, info);
  if (line === "") return "";
  const end = info.stdin === "pty" ? "\\r" : "\\n";
  return `${info.id}'s output ends in an unfinished line, ${JSON.stringify(line)}: if that is a ` +
    "prompt bgtask does not detect (a program that polls its input rather than reading it), a " +
    `wait until "input" does not end: answer it with task_write_stdin {"id": "${info.id}", ` +
    `"data": "…${end}"}, or wait for a prompt's text with task_wait {"ids": ["${info.id}"], ` +
    `"pattern": "…"}.`;
}
