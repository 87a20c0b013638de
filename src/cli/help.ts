/**
 * The help texts: `bgtask --help` and `bgtask VERB --help`.
 *
 * @module
 */

import { DURATION_FORMS } from "./duration.ts";
import { SIZE_FORMS } from "./size.ts";
import { VERSION } from "./version.ts";

const EXIT_CODES = `Exit codes of wait and run --wait:
  0        every task completed
  N        the task exited with code N (1-255)
  128+N    the task was ended by signal N (e.g. 139 for SIGSEGV)
  124      wait --timeout passed first, or the task's own --timeout ended it
  125      the task passed --max-output, or was lost (no exit status recorded)
  143      the task was ended by bgtask kill (128 + SIGTERM)
  130      interrupted (Ctrl-C); the tasks run on
With several ids: 124 if any is still running at the timeout, else the
first non-zero code in the order given, else 0.`;

const MAIN = `bgtask ${VERSION}: run shell commands in the background; check on them later.

Usage: bgtask [--dir DIR] VERB [options] [args]

Verbs:
  run [options] COMMAND…  start a task in the background; print its id
  list                    the tasks, as a table
  status ID               one task in full
  logs ID                 a task's output, byte for byte (--follow to stream)
  kill ID…                end tasks and their whole process trees
  wait ID…                wait for tasks; exit with their exit code
  send ID TEXT…           write to a task's stdin (run --stdin pipe|pty)
  attach ID               type into a task's terminal (run --stdin pty)
  completions             finished tasks not reported before, each once
  rm ID…                  delete finished tasks and their output
  clean                   delete finished tasks in bulk
  mcp                     an MCP server for agents (stdio, or --http)
  help [VERB]             this help, or a verb's (same as bgtask VERB --help)

Options (--dir and -h/--help may also follow the verb):
  --dir DIR      the store (default: $BGTASK_DIR, else <cache dir>/bgtask,
                 e.g. ~/.cache/bgtask)
  -h, --help     show help
  --version      show the version

Task ids are b1, b2, … (a bare number means the same: 3 is b3).
Durations: ${DURATION_FORMS}.
Sizes: ${SIZE_FORMS}.
Both count whole units (milliseconds, bytes): a fraction rounds to the
nearest, and a value under one unit is an error unless it is exactly 0
(0 keeps its meaning: no timeout, no cap, …).
--json (list, status, kill, wait, completions, rm, clean, run) prints the
TaskInfo shape of the bgtask module: one object for status and run, an array
otherwise. Tables cut the TASK column to the terminal's width, and not at all
when stdout is not a terminal. Colour only on a terminal, never with NO_COLOR.
Task text (descriptions, commands) is printed with control characters escaped.

Exit codes:
  0   success
  1   the request failed: no such task, rm of a running task, an unusable
      store, a missing permission
  2   usage error: unknown verb or option, a bad value, a missing argument

${EXIT_CODES}

Examples:
  id=$(bgtask run --description build 'make -j4')
  bgtask logs --follow "$id"
  bgtask wait "$id" && echo built
  bgtask list --status running,failed
  bgtask clean --older-than 1d

Permissions: --allow-run=bash --allow-read=<store> --allow-write=<store>
  --allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR
`;

const VERBS: Record<string, string> = {
  run: `Usage: bgtask run [options] COMMAND…

Starts COMMAND with bash in the background and prints its id on stdout; the
task runs on after bgtask exits. Options are read only up to the first word
of the command (as with the env and timeout commands), so "bgtask run ls -la"
needs no "--"; "--" also ends the options. Several words are joined with
spaces: quote the command as one string to keep its quoting:

  bgtask run 'grep -r "a b" .'

The task's stdin is /dev/null: a command that reads input gets end-of-file.
With --stdin pipe, bgtask send writes to it (from any shell, later); with
--stdin pty, the command runs on a terminal (its output is what the terminal
shows, echo included), which bgtask send and bgtask attach type into. list
and status say when a task waits for input.

Options:
  --description D    a description, shown by list
  --cwd DIR          run in DIR (default: the current directory)
  --env NAME=VALUE   set a variable for the task (repeatable)
  --timeout DUR      end the task's whole process tree after DUR
                     (default: never; 0 = never)
  --max-output SIZE  end it once its output passes SIZE
                     (default 1GiB; 0 = no cap)
  --stdin MODE       null (default: /dev/null), pipe, or pty (a terminal:
                     needs util-linux script or python3)
  --columns N        the terminal's width (--stdin pty; default 80)
  --rows N           the terminal's height (--stdin pty; default 24)
  --wait             wait for the task, then exit like bgtask wait
  --json             print the task (TaskInfo) instead of its id
  --dir DIR          the store

Exits 0 once the task has started; with --wait, with the task's code as
bgtask wait does (0 completed, N its exit code, 128+N signal N, 124 its
--timeout, 125 --max-output or lost, 143 killed; see bgtask wait --help).

Examples:
  id=$(bgtask run 'npm test')
  bgtask run --description "dev server" --cwd ./web --env PORT=8080 npm run dev
  bgtask run --timeout 10m --max-output 50MB -- ./crawl.sh --deep
  bgtask run --wait 'make -j4' && echo built
  bgtask run --stdin pipe 'read -p "name? " n; echo "hi $n"'
  bgtask run --stdin pty --columns 120 --rows 40 python3
`,
  list: `Usage: bgtask list [--status S] [--json]

Lists the tasks of the store, oldest first: ID, STATUS, EXIT (the exit code,
the signal, or timeout/max-output/lost), STARTED (relative), DURATION, and
TASK (the description, or the command when there is none; cut to the
terminal's width; control characters escaped).

Options:
  --status S   only tasks with this status: running, completed, failed, killed
               (repeatable, or comma-separated: --status failed,killed)
  --json       print a JSON array of TaskInfo objects
  --dir DIR    the store

Examples:
  bgtask list
  bgtask list --status running
  bgtask list --json | jq -r '.[] | select(.status == "failed") | .id'
`,
  status: `Usage: bgtask status ID [--json]

Shows one task in full: status, exit code or signal, error, description,
command, cwd, pid, times, limits, and the output file.

Options:
  --json       print the TaskInfo object
  --dir DIR    the store

Examples:
  bgtask status b3
  bgtask status b3 --json | jq .exitCode
`,
  logs: `Usage: bgtask logs ID [--follow] [--tail N | --offset BYTES]

Writes the task's output (stdout and stderr interleaved) to stdout, byte for
byte, as it is stored.

Options:
  -f, --follow      keep streaming new output until the task ends
  -n, --tail N      start with the last N lines
                    (0: none, so that -f shows only new output)
  --offset BYTES    start at this byte (a size: 4096, 1MiB; 0 = the start)
  --dir DIR         the store

Examples:
  bgtask logs b3
  bgtask logs -f -n 20 b3
  bgtask logs b3 --offset 1MiB | less
`,
  kill: `Usage: bgtask kill ID… [--grace DUR] [--json]

Ends each task's whole process group: SIGTERM, then SIGKILL to whatever is
left after the grace period; returns once nothing of it is alive. A task that
has already finished is left as it is. Prints the tasks afterwards. Nothing
is killed when an id is unknown.

Options:
  --grace DUR   time between SIGTERM and SIGKILL (default 2s; 0 = at once)
  --json        print a JSON array of TaskInfo objects
  --dir DIR     the store

Examples:
  bgtask kill b3
  bgtask kill --grace 100ms b3 b4
`,
  wait: `Usage: bgtask wait ID… [--timeout DUR] [--json]

Waits until every task has finished, prints them, and exits with their exit
code. On a terminal, a spinner with the elapsed time is shown on stderr.

Options:
  --timeout DUR   stop waiting after DUR (exit 124; the tasks run on);
                  0 = check once, without waiting
  --json          print a JSON array of TaskInfo objects
  --dir DIR       the store

${EXIT_CODES}

Examples:
  bgtask wait b3 && echo done
  bgtask wait --timeout 5m b3 b4; echo "exit $?"
`,
  send: `Usage: bgtask send [options] ID [TEXT… | -]

Writes to the stdin of a task started with --stdin pipe or --stdin pty, from
any shell, also after the task's spawner has exited. TEXT (words joined with
spaces) is written with a newline after it: Enter, as a terminal's keyboard
sends it (CR on a terminal, LF on a pipe). "-" copies bgtask's own stdin to
the task until its end. Options come before the id; every word after the id
is text, so "bgtask send b3 ls -la" needs no "--".

What is sent is kept nowhere by bgtask. A terminal echoes what it is sent
into the task's output, unless the program turns echo off (read -s): send
secrets only to such a prompt. Refused (exit 1), saying why, when the task
cannot take input: its stdin is /dev/null, it has not started, it has ended,
or its stdin was closed.

Options:
  -n, --no-newline  send TEXT as it is
  --key KEY         then type KEY (repeatable): ctrl-c (also C-c, ^C),
                    ctrl-d, ctrl-z, ctrl-a … ctrl-z, ctrl-] …, enter, tab,
                    esc, backspace, space, up, down, left, right, home,
                    end, insert, delete, pageup, pagedown
  --eof             then end the task's input: end-of-file on a pipe (after
                    what was written), Ctrl-D on a terminal; no more sends
  --timeout DUR     how long to wait for a task that does not read while its
                    64 KiB buffer is full (default 10s; 0 = no waiting)
  --dir DIR         the store

Examples:
  id=$(bgtask run --stdin pipe 'read -p "continue? " a; echo "got $a"')
  bgtask send "$id" yes
  bgtask send --eof b3 - < data.csv
  bgtask send --key ctrl-c b4
  bgtask send --no-newline --key enter b4 'print(6 * 7)'
`,
  attach: `Usage: bgtask attach ID

Attaches this terminal to a task started with --stdin pty, as tmux attach
does: what you type goes to the task (Ctrl-C too), its output shows as it
comes (from the last screenful), and its terminal takes this window's size
and follows it. Ctrl-] detaches and leaves the task running; when the task
ends, attach exits with its code, as bgtask wait does. Needs a terminal: from
a script or a pipe, use bgtask send.

Options:
  --dir DIR    the store

Examples:
  id=$(bgtask run --stdin pty bash)
  bgtask attach "$id"
  bgtask attach b5    # then Ctrl-] to leave it running
`,
  completions: `Usage: bgtask completions [--json]

Lists the tasks that finished (completed, failed or killed) and were not
reported by an earlier completions call, and marks them reported: each
finished task is reported once per store, whoever asks (an agent using the
bgtask module shares the same claim).

Options:
  --json       print a JSON array of TaskInfo objects
  --dir DIR    the store

Examples:
  bgtask completions
  bgtask completions --json | jq -r '.[].id'
`,
  rm: `Usage: bgtask rm ID… [--json]

Deletes finished tasks and their output. A running task is refused (kill it
first; exit 1); the others are still removed. Ids are never reused. Nothing
is removed when an id is unknown.

Options:
  --json       print a JSON array of the removed tasks
  --dir DIR    the store

Examples:
  bgtask rm b3
  bgtask rm b3 b4 b5
`,
  clean: `Usage: bgtask clean [--older-than DUR] [--status S] [--json]

Deletes finished tasks and their output; running tasks are never touched.
With no options, every finished task goes. Prints what it removed.

Options:
  --older-than DUR   only tasks that finished at least DUR ago (0 = any age)
  --status S         only tasks with this status: completed, failed, killed
                     (repeatable, or comma-separated)
  --json             print a JSON array of the removed tasks
  --dir DIR          the store

Examples:
  bgtask clean --older-than 1d
  bgtask clean --status completed
`,
  mcp: `Usage: bgtask mcp [--http [HOST:]PORT [--token T] [--allow-remote]]

Serves bgtask to AI agents over the Model Context Protocol: tools task_start,
task_wait, task_write_stdin, task_read, task_status, task_list, task_kill,
task_completions, on the same store as the CLI. Without --http it speaks MCP on stdin/stdout (the
agent starts it); with --http it serves Streamable HTTP at /mcp until
interrupted.

Options:
  --http [HOST:]PORT  serve HTTP on HOST (default 127.0.0.1) and PORT
  --token T           the bearer token HTTP requests must carry (default:
                      $BGTASK_MCP_TOKEN if --allow-env grants it, else the
                      store's mcp-token file, created with mode 0600)
  --allow-remote      allow a non-loopback HOST (the token is still required)
  --dir DIR           the store

HTTP requests with a Host or Origin other than this machine's (localhost, a
loopback or, with --allow-remote, an IP address) are refused, against DNS
rebinding. Permissions: the usual ones, plus --allow-net=HOST:PORT for --http.

Examples:
  claude mcp add bgtask -- bgtask mcp
  bgtask mcp --http 8765
  curl -H "Authorization: Bearer $(cat ~/.cache/bgtask/mcp-token)" ...
`,
};

/**
 * The help for `verb`, or the main help when `verb` is undefined.
 *
 * @example
 * ```ts
 * import { helpText } from "./help.ts";
 * console.log(helpText("logs").split("\n")[0]);
 * // "Usage: bgtask logs ID [--follow] [--tail N | --offset BYTES]"
 * ```
 */
export function helpText(verb?: string): string {
  return verb === undefined ? MAIN : VERBS[verb];
}

/** The verbs that have help (every verb). */
export const VERB_NAMES: readonly string[] = Object.keys(VERBS);
