/**
 * task-spooler's actions, typed before any verb out of habit (`bgtask -t 3`,
 * as `tsp -t 3`): what does their work here, or that bgtask has none.
 *
 * @module
 */

/** task-spooler's one-letter actions (`tsp -h`), by letter: the rest of the error's hint. */
const TSP_ACTIONS: ReadonlyMap<string, string> = new Map([
  ["-l", "task-spooler's -l is bgtask list"],
  ["-t", "task-spooler's -t ID is bgtask logs -n 10 -f ID (the last 10 lines, then the new ones)"],
  ["-c", "task-spooler's -c ID is bgtask logs -f ID (all the output, then the new ones)"],
  ["-k", "task-spooler's -k ID is bgtask kill ID (the task's whole process tree)"],
  [
    "-S",
    "task-spooler's -S N is bgtask queue set Q --parallel N, for a queue Q that tasks join " +
    "with bgtask run --queue Q CMD (bgtask queue shows each queue's); Deno's -S " +
    "(--allow-sys) goes to deno, before the script",
  ],
  ["-r", "task-spooler's -r ID is bgtask rm ID"],
  ["-w", "task-spooler's -w ID is bgtask wait ID (it exits with the task's exit code)"],
  ["-i", "task-spooler's -i ID is bgtask status ID"],
  ["-s", "task-spooler's -s ID is bgtask status ID (status --json ID: its .status)"],
  ["-p", "task-spooler's -p ID is bgtask status ID (status --json ID: its .pid)"],
  [
    "-o",
    "task-spooler's -o ID is bgtask status ID (status --json ID: its .outputFile); bgtask logs " +
    "ID writes the output",
  ],
  ["-C", "task-spooler's -C is bgtask clean (the finished tasks)"],
  [
    "-K",
    "bgtask has no server to kill (task-spooler's -K): each task has its own supervisor; " +
    "bgtask kill --all ends the tasks",
  ],
  [
    "-u",
    "bgtask has no reordering (task-spooler's -u ID puts a job first): a queue's tasks start " +
    "in the order they were run",
  ],
  [
    "-U",
    "bgtask has no reordering (task-spooler's -U ID-ID swaps two jobs): a queue's tasks " +
    "start in the order they were run",
  ],
]);

/**
 * The hint for a task-spooler action typed where bgtask wants a verb: the
 * bgtask command that does its work, or that there is none. (Before Deno's
 * permission flags: `-S` is tsp's number of slots before it is `--allow-sys`.)
 *
 * @param typed The option as typed: `-t`.
 *
 * @example
 * ```ts
 * import { tspActionHint } from "./tsp_habits.ts";
 * import { equal } from "node:assert/strict";
 * equal(tspActionHint("-l"), "task-spooler's -l is bgtask list");
 * equal(tspActionHint("-x"), undefined);
 * ```
 */
export function tspActionHint(typed: string): string | undefined {
  return TSP_ACTIONS.get(typed);
}
