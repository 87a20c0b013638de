/**
 * task-spooler's actions and job options, typed before any verb out of habit
 * (`bgtask -t 3` as `tsp -t 3`, `bgtask -d make` as `tsp -d make`): what
 * does their work here, or that bgtask has none.
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

/** Deno's permission flag of a letter task-spooler also has, said after tsp's meaning. */
const denoToo = (letter: string, long: string) =>
  `; Deno's -${letter} (--allow-${long}) goes to deno, before the script`;

/**
 * task-spooler's options for the job it adds (`tsp -d make`), typed before
 * any verb: `bgtask run` takes the job, with its own option where it has one.
 */
const TSP_JOB_OPTIONS: ReadonlyMap<string, string> = new Map([
  [
    "-d",
    "did you mean --dir DIR? (task-spooler's -d CMD, run after the last job, is bgtask run " +
    "--after last CMD)",
  ],
  [
    "-D",
    "task-spooler's -D ID CMD is bgtask run --after ID --after-any CMD (it runs however ID " +
    "ends; task-spooler 1.0.1's -D is --after ID)",
  ],
  [
    "-W",
    "task-spooler's -W ID,ID CMD is bgtask run --after ID,ID CMD (it runs once each has " +
    "completed)" + denoToo("W", "write"),
  ],
  ["-L", "task-spooler's -L LABEL CMD is bgtask run --description LABEL CMD"],
  [
    "-N",
    "bgtask has no slots per task (task-spooler's -N N): to run N at a time, bgtask queue " +
    "set Q --parallel N, then bgtask run --queue Q CMD" + denoToo("N", "net"),
  ],
  ["-f", "task-spooler's -f CMD is bgtask run --wait CMD"],
  [
    "-n",
    "bgtask always keeps the output (task-spooler's -n does not): to drop it, bgtask run " +
    "'CMD >/dev/null 2>&1'",
  ],
  [
    "-E",
    "bgtask keeps no stderr apart (task-spooler's -E): it is interleaved with stdout in the " +
    "task's one output; to keep it apart, bgtask run 'CMD 2>CMD.err'" + denoToo("E", "env"),
  ],
  [
    "-z",
    "bgtask keeps the output as written (task-spooler's -z gzips it): bgtask run " +
    "'CMD | gzip >out.gz' to have it compressed",
  ],
  [
    "-m",
    "bgtask sends no mail (task-spooler's -m): mail the output once the task ends " +
    "(bgtask wait ID; bgtask logs ID | mail -s done $USER)",
  ],
]);

/**
 * The hint for a task-spooler action, or an option of the job it adds,
 * typed where bgtask wants a verb: the bgtask command that does its work,
 * or that there is none. (Before Deno's permission flags: `-S` is tsp's
 * number of slots before it is `--allow-sys`, `-W` its dependencies before
 * it is `--allow-write`.)
 *
 * @param typed The option as typed: `-t`.
 *
 * @example
 * ```ts
 * import { tspActionHint } from "./tsp_habits.ts";
 * import { equal } from "node:assert/strict";
 * equal(tspActionHint("-l"), "task-spooler's -l is bgtask list");
 * equal(tspActionHint("-L"), "task-spooler's -L LABEL CMD is bgtask run --description LABEL CMD");
 * equal(tspActionHint("-x"), undefined);
 * ```
 */
export function tspActionHint(typed: string): string | undefined {
  return TSP_ACTIONS.get(typed) ?? TSP_JOB_OPTIONS.get(typed);
}
