/**
 * The help texts: `bgtask --help` and `bgtask VERB --help`.
 *
 * @module
 */

import { SIZE_FORMS } from "./size.ts";
import { VERSION } from "./version.ts";

const EXIT_CODES = `Exit codes of wait and run --wait:
  0        every task completed
  N        the task exited with code N (1-255)
  128+N    the task was ended by signal N (e.g. 139 for SIGSEGV)
  124      wait --timeout passed first, or the task's own --timeout ended it
  125      the task passed --max-output, was lost, or never ran (a task it
           ran after failed, or its cwd was gone when its turn came); no
           exit status recorded
  143      the task was ended by bgtask kill (128 + SIGTERM, whichever
           --signal it sent)
  130      interrupted (Ctrl-C; 143 SIGTERM, 129 SIGHUP): bgtask ends by
           that signal, as a shell reports it; the tasks run on
With several ids (or --queue): 124 if any has not ended at the timeout,
else the first non-zero code in the order given (a queue's tasks by id),
else 0. wait --match: 0 once a line of each task matched, 1 when a task
ended without one, 124 at --timeout. wait --any: the code of the task that
ended first (of several at once, the first non-zero in the order given);
124 if none ended by the timeout.`;

const MAIN = `bgtask ${VERSION}: run shell commands in the background; check on them later.

Usage: bgtask [--dir DIR] [--color WHEN] VERB [options] [args]

Verbs:
  run [options] COMMAND…  start a task in the background; print its id
  list                    the tasks, as a table
  status ID               one task in full
  logs ID                 a task's output, byte for byte (--follow to stream)
  kill ID…                end tasks and their whole process trees
  wait ID…                wait for tasks; exit with their exit code
  pause ID…               stop running tasks, children included (SIGSTOP)
  resume ID…              continue paused tasks (SIGCONT)
  restart ID…             run ended tasks again, each as a new task
  queue [ACTION Q]        queues: set how many run at once, pause, resume, rm
  send ID TEXT…           write to a task's stdin (run --stdin pipe|pty)
  attach ID               type into a task's terminal (run --stdin pty)
  completions             finished tasks not reported before, each once
                          (--wait, --follow: as they finish)
  rm ID…                  delete finished tasks and their output
  clean                   delete finished tasks in bulk
  mcp                     an MCP server for agents (stdio, or --http)
  completion SHELL        the shell's completion script (bash, zsh, fish)
  help [VERB]             this help, or a verb's (same as bgtask VERB --help)

Options (--dir, --color and -h/--help may also follow the verb):
  --dir DIR      the store (default: $BGTASK_DIR, else <cache dir>/bgtask,
                 e.g. ~/.cache/bgtask); once, before or after the verb
  --color WHEN   auto (default: colour on a terminal, unless NO_COLOR is
                 set), always (watch -c, less -R), or never
  -h, --help     show help
  --version      show the version

Task ids are b1, b2, … (a bare number means the same: 3 is b3); last is the
newest task (bgtask logs -f last, bgtask wait last). Several go as words or
comma-separated (bgtask wait b1,b2); ranges (b3..b5) are not taken.
Durations: e.g. 500ms, 30s, 5m, 2h, 1d, 1h30m (each unit once, the largest
first); a plain number means seconds.
Sizes: ${SIZE_FORMS}.
Both count whole units (milliseconds, bytes): a fraction rounds to the
nearest, and a value under one unit is an error unless it is exactly 0
(0 keeps its meaning: no timeout, no cap, …).
--json (on every verb that reports tasks) prints the TaskInfo shape of the
bgtask module: one object for status and run, an array otherwise; queue
--json prints QueueInfo (an array; one object after set, pause, resume).
Tables fit the terminal's width: TASK and QUEUE (QUEUE at most 28 columns)
are cut, the wider first, then STARTED and DURATION are left out; bgtask
queue cuts NAME. Nothing is cut when stdout is not a terminal. Colour as
--color says (by default only on a terminal, never with NO_COLOR). Task text
(descriptions, commands) is printed with control characters escaped.

Exit codes:
  0   success
  1   the request failed: no such task or queue, a task in the wrong state
      (rm of a running task, pause of a queued one), an unusable store, a
      missing permission
  2   usage error: unknown verb or option, a bad value, a missing argument
  124 a --timeout passed (wait, completions --wait, send)
  130 interrupted by Ctrl-C (SIGINT; 143 SIGTERM, 129 SIGHUP) while a verb
      waits (logs -f, kill, attach, wait, completions --wait/--follow): once
      it has said what it leaves, bgtask ends by that signal, so a script's
      loop stops at a Ctrl-C as it does for sleep

${EXIT_CODES}

Examples:
  id=$(bgtask run --description build 'make -j4')
  bgtask logs --follow "$id"
  bgtask wait "$id" && echo built
  bgtask list --status running,failed
  bgtask queue set shards --parallel 4
  for i in $(seq 200); do bgtask run --queue shards "./test.sh $i"; done
  bgtask run --after b1,b2 --description deploy ./deploy.sh
  bgtask clean --older-than 1d

Permissions: --allow-run=bash --allow-read=<store> --allow-write=<store>
  --allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR (and TERM: TERM=dumb then gets
  no colour and no spinner)
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
  --env NAME=VALUE   set a variable for the task (repeatable; not
                     BGTASK_TASK_ID or BGTASK_INVOCATION, bgtask's own)
  --timeout DUR      end the task's whole process tree after DUR
                     (default: never; 0 = never)
  --max-output SIZE  end it once its output passes SIZE
                     (default 1GiB; 0 = no cap)
  --queue Q          run in queue Q: the task is queued until one of Q's
                     slots is free, first in, first out (see bgtask queue)
  --after ID[,ID…]   start only after these tasks have ended (repeatable;
                     last: the newest task, as tsp -d);
                     if one of them does not complete, this task fails
                     without running (exit 125)
  --after-any        with --after: start once they have ended, however
  --stdin MODE       null (default: /dev/null), pipe, or pty (a terminal:
                     needs util-linux script or python3)
  --columns N        the terminal's width (--stdin pty; default 80)
  --rows N           the terminal's height (--stdin pty; default 24)
  --wait             print its id, wait for the task, and exit with the
                     code bgtask wait gives (--json: the ended task)
  --json             print the task (TaskInfo) instead of its id
  --dir DIR          the store

Exits 0 once the task has started (or is queued); with --wait, with the
task's code as bgtask wait does (0 completed, N its exit code, 128+N signal
N, 124 its --timeout, 125 --max-output, lost or never ran, 143 killed; see
bgtask wait --help). A Ctrl-C (SIGTERM, SIGHUP) once the start has begun
lets it finish: the id is printed, stderr says the task was started all the
same and how to kill it, and run ends by that signal (130, 143, 129). With
--wait, one that stops the wait says which task runs on, off a terminal
too.

Examples:
  id=$(bgtask run 'npm test')
  bgtask run --description "dev server" --cwd ./web --env PORT=8080 npm run dev
  bgtask run --timeout 10m --max-output 50MB -- ./crawl.sh --deep
  bgtask run --wait 'make -j4' && echo built
  bgtask run --queue shards './test.sh 7'
  bgtask run --after b3,b4 --description deploy ./deploy.sh
  bgtask run --after b3 --after-any 'rm -rf /tmp/build'
  bgtask run --stdin pipe 'printf "name? "; read n; echo "hi $n"'
  bgtask run --stdin pty --columns 120 --rows 40 python3
`,
  list: `Usage: bgtask list [--status S] [--queue Q] [--last N] [--json]

Lists the tasks of the store, oldest first: ID, STATUS, EXIT (the exit code,
the signal, or why there is none: timeout, max-output, lost, dependency,
start; - for a task killed on request), STARTED (relative; - until it
starts), DURATION, and TASK (the description, or the command when there is
none; cut to the terminal's width; control characters escaped).

A running task that waits for input (a prompt; run --stdin pipe or pty)
shows as "running (input)".

When a task is in a queue or waits for others, a QUEUE column follows
STATUS: "ci" for a task of queue ci, "ci #3" for the 3rd to start of its
queued tasks (by id, among those that wait only for a slot; "ci #3 paused"
while the queue is paused: bgtask queue resume ci), "ci after b3,b4" for
one still waiting for b3 and b4 to end ("after b3" without a queue).

Options:
  --status S   only tasks with this status: queued, running, paused,
               completed, failed, killed (repeatable, or comma-separated:
               --status failed,killed)
  --queue Q    only the tasks of queue Q
  --last N     only the newest N of those (older tasks are not read: quick
               in a store of thousands)
  --json       print a JSON array of TaskInfo objects
  --dir DIR    the store

Examples:
  bgtask list
  bgtask list --last 20
  bgtask list --status running
  bgtask list --queue shards --status queued
  bgtask list --json | jq -r '.[] | select(.status == "failed") | .id'
`,
  status: `Usage: bgtask status ID [--json]

Shows one task in full: status, exit code or signal, error, description,
command, cwd, pid, its queue (and its place there while queued), the tasks
it runs after (with their status), the task it restarted, when it was
created and started, limits, and the output file.

Options:
  --json       print the TaskInfo object
  --dir DIR    the store

Examples:
  bgtask status b3
  bgtask status b3 --json | jq .exitCode
`,
  logs: `Usage: bgtask logs ID [--follow] [--tail N | --offset BYTES] [--raw]

Writes the task's output (stdout and stderr interleaved) to stdout, byte for
byte, as it is stored. On a terminal, what would make that terminal answer
or change its modes is left out (a task run with --stdin pty wrote its
programs' queries, alternate screen and mouse modes): colours and text stay.
Exits 0 once the output is written, however the task ended (with --follow
too): for its exit code, use bgtask wait ID afterwards. To wait for a line
("ready"), use bgtask wait --match: a logs -f piped into grep -q ends only
once the task writes again after the match.

Options:
  -f, --follow      keep streaming new output until the task ends
  -n, --tail N      start with the last N lines
                    (0: none, so that -f shows only new output)
  --offset BYTES    start at this byte (a size: 4096, 1MiB; 0 = the start)
  --raw             on a terminal too, every byte as it was written
  --dir DIR         the store

Examples:
  bgtask logs b3
  bgtask logs -f -n 20 b3
  bgtask logs b3 --offset 1MiB | less
`,
  kill: `Usage: bgtask kill ID… [--queue Q] [--signal SIG] [--grace DUR] [--json]
       bgtask kill --all [--signal SIG] [--grace DUR] [--json]

Ends each task's whole process group: SIGTERM (or --signal), then SIGKILL to
whatever is left after the grace period; returns once nothing of it is
alive. A paused task is continued after the signal, so that it can act on
it. A queued task is ended before it starts and never runs. A task that has
already finished is left as it is. Prints the tasks afterwards. Nothing is
killed when an id or the queue is unknown. A task whose kill is refused (one
in a PID namespace this process cannot see into) is one line on stderr and
exit 1; the others are killed all the same.

Options:
  --queue Q     also every unfinished task of queue Q (its queued tasks
                first, so that none of them starts)
  --all         every unfinished task of the store (queued, running,
                paused), instead of ids; run from a task, not that one
  -s, --signal SIG
                the first signal: TERM (default), INT, HUP, QUIT, USR1,
                USR2 or KILL (no grace), with or without SIG, in any case,
                or its number (2 for INT); a shell script's background jobs
                (cmd &) ignore INT and QUIT, and end at the SIGKILL
  --grace DUR   time between the first signal and SIGKILL (default: the
                task's own, 2s unless a library spawn set graceMs; 0 = at once)
  --json        print a JSON array of TaskInfo objects
  --dir DIR     the store

Examples:
  bgtask kill b3
  bgtask kill --grace 100ms b3 b4
  bgtask kill --signal INT --grace 10s b3   # as a Ctrl-C would stop it
  bgtask kill --queue shards
  bgtask kill --all
`,
  wait: `Usage: bgtask wait ID… [--queue Q] [--until input] [--timeout DUR] [--json]
       bgtask wait --all [--until input] [--timeout DUR] [--json]
       bgtask wait --match REGEX [-i] ID… [--timeout DUR] [--json]
       bgtask wait --any ID…|--queue Q|--all [--until input] [--timeout DUR]

Waits until every task has finished, prints them, and exits with their exit
code. On a terminal, a spinner with the elapsed time is shown on stderr.
Run inside a task, it refuses that task's own id (it could never end), and
--queue and --all leave it out.
With --match, waits instead until a line of each task's output matches,
prints those lines, and exits 0 (1 if a task ended without one).

Options:
  --queue Q       also every task of queue Q in the store, those that have
                  ended included (rm or clean them to start afresh), and
                  those that join it while the wait lasts
  --all           every task of the store that has not ended yet, and any
                  that starts meanwhile, instead of ids; run from a task,
                  not that one. A task that ended before the wait began is
                  not counted (one that failed is named on stderr, with a
                  wait command that counts it, if it ended in the last
                  10 minutes or since the oldest task waited for was
                  started, within the hour): a script waits on the ids
                  run printed instead (see below)
  --until input   until each task has ended or waits for input (a prompt;
                  run --stdin pipe|pty; a task named without one, or whose
                  stdin was closed, is refused, exit 2; --queue and --all
                  leave such tasks out):
                  exit 0 for one that waits, and for one where it cannot
                  be told (a setuid prompt such as sudo's, for a user who
                  is not root: a note on stderr, waitingForInput null);
                  exit 1 when one of the ids ended without asking (said
                  on stderr; with --all or --queue, the ended tasks' codes)
                  (--until exit, the default: until each has ended)
  --match REGEX   until a line of each task's output (from its start)
                  matches REGEX (JavaScript syntax, without what
                  cannot run in linear time: backreferences,
                  lookarounds, counts over 16 on a group (nested ones
                  multiplied) or over 1024 on one character or class):
                  a server's "ready"; with ids only. Lines are matched
                  as a terminal shows them: a line redrawn with \\r (a
                  progress bar) on its last drawing, so --match
                  compiling does not match a line whose last drawing
                  is "linking"; colour codes left out. A line still
                  over 1 MiB after its last \\r redraw is matched on
                  its first and last 512 KiB only (said on stderr,
                  with the line's offset and size). A last line
                  without its newline counts once the task waits for
                  input at it (a prompt), ends, or has been quiet for
                  1 s, whatever its length. An output truncated
                  meanwhile (a '>' to /dev/stderr in the task) is
                  searched again from its start (said on stderr)
  -i, --ignore-case  with --match: in any case (as grep -i)
  --any           until the first of the tasks has ended (with --until
                  input, or waits for input; with --match, or printed a
                  matching line), as bash's wait -n: prints those that
                  have (bgtask list shows the rest, which run on) and
                  exits with their code; one that had ended before
                  answers at once. With --queue or --all, the tasks not
                  ended when the wait begins (none: a note, exit 0)
  --timeout DUR   stop waiting after DUR (exit 124; the tasks run on);
                  0 = check once, without waiting
  --json          print a JSON array of TaskInfo objects (with --match,
                  each with "match": {"line", "offset": the output
                  offset past it, for logs --offset}, or null for a
                  task without one; "inPart" for lines matched in
                  part, "truncated" when its output was truncated
                  meanwhile)
  --dir DIR       the store

${EXIT_CODES}

Examples:
  bgtask wait b3 && echo done
  bgtask wait --match 'ready to accept connections' --timeout 1m b3
  bgtask wait --timeout 5m b3 b4; echo "exit $?"
  bgtask wait --queue shards && echo "every shard passed"
  bgtask wait --until input b7 && bgtask send b7 yes
  bgtask wait --any --json b3 b4 | jq -r '.[0].id'   # which ended first
  ids=(); for s in 1 2 3; do ids+=("$(bgtask run ./test.sh "$s")"); done
  bgtask wait "\${ids[@]}" || exit 1   # a shard that failed at once counts
`,
  send: `Usage: bgtask send [options] ID [TEXT… | -]

Writes to the stdin of a task started with --stdin pipe or --stdin pty, from
any shell, also after the task's spawner has exited. TEXT (words joined with
spaces) is written with a newline after it: Enter, as a terminal's keyboard
sends it (CR on a terminal, LF on a pipe). "-" copies bgtask's own stdin to
the task until its end. Options come before the id; every word after the id
is text, so "bgtask send b3 ls -la" needs no "--". A first word that is one
of send's own options (--key, --eof, --timeout, -n, --dir, --color, -h,
--help) is refused as misplaced; "bgtask send b3 -- --eof" sends it as text
(a -- right after the id).

What is sent is kept nowhere by bgtask. A terminal echoes what it is sent
into the task's output, unless the program turns echo off (read -s): send
secrets only to such a prompt. Refused (exit 1), saying why, when the task
cannot take input: its stdin is /dev/null, it has not started, it has ended,
or its stdin (a pipe) was closed. A terminal takes keys after --eof: its
Ctrl-D is the program's to read (readline after a partial line beeps).

On a terminal a line is at most 4095 bytes (the kernel's limit for a line
being typed): the rest of a longer one is dropped; send long lines or data
through --stdin pipe. script(1), which runs the terminal, holds what it is
sent until the program reads it, so a send there does not wait (python3's
stand-in holds 64 KiB, then waits as a pipe does).

Options:
  -n, --no-newline  send TEXT as it is
  --key KEY         then type KEY (repeatable): ctrl-c (also C-c, ^C),
                    ctrl-d, ctrl-z, ctrl-a … ctrl-z, ctrl-] …, enter, tab,
                    esc, backspace, space, up, down, left, right, home,
                    end, insert, delete, pageup, pagedown, shift-tab,
                    f1 … f12; on a pipe, enter
                    is LF, and ctrl-c, ctrl-d, ctrl-z and ctrl-\\ are refused
                    (no terminal turns them into a signal or an end of input)
  --eof             then end the task's input: end-of-file on a pipe (after
                    what was written; no more sends), Ctrl-D on a terminal
  --timeout DUR     how long to wait for a task that does not read while its
                    64 KiB buffer is full (default 10s; 0 = no waiting);
                    exit 124 when it passes, as every timeout
  --dir DIR         the store

Examples:
  id=$(bgtask run --stdin pipe 'printf "continue? "; read a; echo "got $a"')
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
ends, attach exits with its code, as bgtask wait does. A SIGTERM, SIGHUP,
SIGINT or SIGQUIT sent to attach itself detaches too (and attach ends by
that signal: 128 + N), and the terminal is given back as it was. Needs a
terminal: from a script or a pipe, use bgtask send. A task whose stdin was
closed (send --eof) is refused: no keystroke could reach it.

Options:
  --dir DIR    the store

Examples:
  id=$(bgtask run --stdin pty bash)
  bgtask attach "$id"
  bgtask attach b5    # then Ctrl-] to leave it running
`,
  completions: `Usage: bgtask completions [--consumer NAME] [--peek] [--json]
       bgtask completions [--consumer NAME] --wait [--timeout DUR] [--json]
       bgtask completions [--consumer NAME] --follow [--json]
       bgtask completions --consumer NAME --forget

Lists the tasks that finished (completed, failed or killed) and were not
reported to this consumer before, and marks them reported once printed (if
stdout has gone, they are reported next time; a stdout that discards them,
>/dev/null or a closed one, which the runtime opens on /dev/null, takes
them: --peek looks without taking): each finished task is reported once
per consumer. Through a pipe whose reader stops part-way (| head -3), a
task counts as printed when the pipe took its whole line (--json: its
element), which may be more than the reader showed; the others, a line
cut in the middle too, are reported next time. Consumers do not take
from each other: a script with its own --consumer never steals what an
agent is told. The
default consumer, "default", is also the bgtask module's
drainCompletions() default; each MCP session is a consumer of its own.
(These are task notices; the shell's completion script is bgtask completion
bash, zsh or fish.)

A consumer used for the first time starts from then on: it is told about
the tasks that finish after its first completions call (--peek counts as
one). "default" starts with every finished task.

--wait and --follow wait for tasks to finish instead of polling: they wake
within milliseconds of a task's end, whichever process started it. A
Ctrl-C (SIGTERM, SIGHUP) stops them: bgtask ends by that signal (130,
143, 129); what they had not printed stays for the next reader.

Options:
  --consumer NAME  whose reports (letters, digits, "_", "." and "-", up to
                   64, starting with a letter or digit; default: "default")
  --peek           show what would be reported, and mark nothing
  --wait           when nothing is to be reported, wait until a task
                   finishes; then print what there is and exit 0
  --timeout DUR    with --wait: give up after DUR (exit 124, nothing
                   printed; [] with --json); 0 = look once, without waiting
  --follow         print each task as it finishes, one line each (ID,
                   STATUS, EXIT, DURATION, TASK; no header), until
                   interrupted; with --json, one TaskInfo object a line
  --forget         forget the consumer: clean no longer keeps the tasks it
                   has not read (a consumer unused for a day is not waited
                   for either); used again, it hears of what finishes from
                   then on (default too); exit 1 when there is none
  --json           print a JSON array of TaskInfo objects
  --dir DIR        the store

Examples:
  bgtask completions
  bgtask completions --consumer ci-bot --json | jq -r '.[].id'
  bgtask completions --peek
  bgtask completions --wait --timeout 10m
  bgtask completions --follow --consumer notify --json |
    while read -r t; do
      notify-send "bgtask: $(jq -r '.id + " " + .status' <<<"$t")"
    done
  bgtask completions --consumer old-dashboard --forget
`,
  rm: `Usage: bgtask rm ID… [--json]

Deletes finished tasks and their output. A queued task (one that never
started) is killed, so it never runs, and removed: it is printed as killed.
A running or paused task is refused (kill it first; exit 1); the others are
still removed. Ids are never reused. Nothing is removed when an id is unknown.
A task a completion consumer (an agent's) has not been told of yet is
removed too (clean keeps it), and a line on stderr names those consumers:
they never will be told of it.

Options:
  --json       print a JSON array of the removed tasks
  --dir DIR    the store

Examples:
  bgtask rm b3
  bgtask rm b3 b4 b5
`,
  pause: `Usage: bgtask pause ID… [--queue Q] [--json]
       bgtask pause --all [--json]

Stops each running task's whole process group (SIGSTOP), children included;
its status is paused until bgtask resume. Paused time does not count toward
its --timeout, and it keeps its queue slot. A task that is not running
(queued, already paused, or ended) is refused: one line on stderr, exit 1;
the others are still paused. Nothing is done when an id is unknown. Prints
the paused tasks. (To keep a queue's waiting tasks from starting, use
bgtask queue pause; pueue's pause -g is both.)

Options:
  --queue Q    also every running task of queue Q
  --all        every running task of the store, instead of ids; run from a
               task, not that one
  --json       print a JSON array of TaskInfo objects
  --dir DIR    the store

Examples:
  bgtask pause b3
  bgtask pause b3 b4 && sleep 60 && bgtask resume b3 b4
  bgtask queue pause ci && bgtask pause --queue ci
`,
  resume: `Usage: bgtask resume ID… [--queue Q] [--json]
       bgtask resume --all [--json]

Continues each paused task's whole process group (SIGCONT). A task that is
not paused is refused: one line on stderr, exit 1; the others are still
resumed. Nothing is done when an id is unknown. Prints the resumed tasks.

Options:
  --queue Q    also every paused task of queue Q
  --all        every paused task of the store, instead of ids
  --json       print a JSON array of TaskInfo objects
  --dir DIR    the store

Examples:
  bgtask resume b3
  bgtask resume b3 b4
  bgtask resume --queue ci && bgtask queue resume ci
`,
  restart: `Usage: bgtask restart ID… [--json]

Starts each ended task again, as a new task with a new id: the same command,
description, cwd, --env, limits, queue and --after (a task it ran after that
was restarted since counts as its newest restart, so restart b8 b14 runs
b14's new task after b8's; the ids are taken oldest first; one removed
since is left out, unless it failed or was killed and the task needs it
completed: that restart is refused, as it would never run); like any run,
it inherits the rest of its environment from this shell. The new task's
restartOf names the old one (see bgtask status). A task that has not ended
is refused: one line on stderr, exit 1; the others are still restarted.
Nothing is done when an id is unknown. Prints the new tasks.

Options:
  --json       print a JSON array of the new tasks (TaskInfo objects)
  --dir DIR    the store

Examples:
  bgtask restart b3
  bgtask restart $(bgtask list --queue shards --status failed --json |
    jq -r '.[].id')
`,
  queue: `Usage: bgtask queue [--json]
       bgtask queue set Q --parallel N [--json]
       bgtask queue pause Q [--json]
       bgtask queue resume Q [--json]
       bgtask queue rm Q [--json]

A queue runs its tasks (bgtask run --queue Q) at most N at a time, first
in, first out; the others are queued until a slot is free. No daemon is
involved: a task that ends starts the next one. A queue comes into being
when it is set or a task is run in it; one never set runs one task at a
time. pause, resume, rm (and list, kill, wait --queue) refuse a name the
store has never seen (exit 1), so a typo makes no queue.

Without an action, lists the queues: NAME, PARALLEL (how many run at once),
PAUSED, RUNNING (its running and paused tasks) and QUEUED (its tasks that
wait for a slot, or for the tasks they run after).

Actions (set, pause and resume print the queue afterwards):
  set Q --parallel N   let N of Q's tasks run at once (N ≥ 1). Raising it
                       starts more now; lowering it lets running ones end.
  pause Q              start none of Q's tasks until resumed; the running
                       ones go on (bgtask pause ID stops those)
  resume Q             start Q's tasks again, as many as fit
  rm Q                 delete Q (its settings and its line); refused, exit
                       1, while one of its tasks has not ended (queued,
                       running, paused, or waiting for others): kill them
                       or wait for them first. Its finished tasks stay.

Queue names: letters, digits, "_", "." and "-", up to 64, starting with a
letter or digit.

Options:
  --parallel N  with set: how many of the queue's tasks run at once
  --json        print QueueInfo: an array of queues, or with an action the
                queue as one object (rm: {"name": Q, "removed": true})
  --dir DIR     the store

Examples:
  bgtask queue set shards --parallel 4
  bgtask queue
  bgtask queue pause shards
  bgtask queue resume shards
  bgtask wait --queue shards && bgtask queue rm shards
  bgtask queue --json | jq '.[] | select(.queued > 0) | .name'
`,
  clean: `Usage: bgtask clean [--older-than DUR] [--status S] [--queue Q] [--keep N]
                    [--include-unread] [--json]

Deletes finished tasks and their output; running tasks are never touched.
With no options, every finished task goes, but those a completion consumer
has not been told about yet: they are kept ("kept N finished tasks not yet
read by completion consumer …" on stderr) until it reads them, has read
nothing for a day, or is forgotten (completions --consumer NAME --forget).
The consumers are those that read completions --consumer NAME (agents,
scripts; each MCP session is one, forgotten by clean once its server has
ended), and "default" too, once anyone has run a plain bgtask completions
(or the module's drainCompletions()): from then on, what finishes is kept
until the next plain bgtask completions, or a day without one. Prints what
it removed.

Options:
  --older-than DUR   only tasks that finished at least DUR ago (0 = any age)
  --status S         only tasks with this status: completed, failed, killed
                     (repeatable, or comma-separated)
  --queue Q          only the tasks of queue Q
  --keep N           keep the N of them that finished last (tsp's
                     TS_MAXFINISHED; 0 = none)
  --include-unread   also those no consumer has read yet
  --json             print a JSON array of the removed tasks
  --dir DIR          the store

Examples:
  bgtask clean --older-than 1d
  bgtask clean --status completed
  bgtask clean --keep 100
  bgtask clean --queue ci --status completed
`,
  mcp: `Usage: bgtask mcp [--consumer NAME]
       bgtask mcp --http [HOST:]PORT [--token T] [--allow-remote]
                  [--allow-host NAME]…

Serves bgtask to AI agents over the Model Context Protocol: tools task_start,
task_wait, task_write_stdin, task_read, task_status, task_list, task_kill,
task_completions, on the same store as the CLI. Without --http it speaks MCP
on stdin/stdout (the agent starts it); with --http it serves Streamable HTTP
at /mcp until interrupted.

Options:
  --consumer NAME     stdio: task_completions reports to the completion
                      consumer NAME, kept when the server exits, so the next
                      server of that name reports what ended meanwhile
                      (default: a new one per session, forgotten at exit);
                      run one server per NAME at a time (it is not
                      checked: two would share the notices, each told
                      some)
  --http [HOST:]PORT  serve HTTP on HOST (default 127.0.0.1) and PORT
  --token T           the bearer token HTTP requests must carry (default:
                      $BGTASK_MCP_TOKEN if --allow-env grants it, else the
                      store's mcp-token file, created with mode 0600, and
                      the startup line says the variable was not read); a
                      token on the command line is visible to every local
                      user in ps: prefer the variable or the file (at
                      least 16 characters)
  --allow-remote      allow a non-loopback HOST (the token is still required)
  --allow-host NAME   allow the host name NAME in Host and Origin (this
                      machine's DNS name, a reverse proxy's); repeatable
  --dir DIR           the store

HTTP requests with a Host or Origin other than this machine's (localhost, a
loopback or, with --allow-remote, an IP address; a name given --allow-host)
are refused, against DNS rebinding. Permissions: the usual ones, plus
--allow-net=HOST:PORT for --http.

Examples:
  claude mcp add bgtask -- bgtask mcp
  claude mcp add bgtask -- bgtask mcp --consumer claude-main
  bgtask mcp --http 8765
  curl -H "Authorization: Bearer $(cat ~/.cache/bgtask/mcp-token)" ...
`,
  completion: `Usage: bgtask completion bash|zsh|fish

Prints the shell's completion script for bgtask: its verbs, their options,
the words some options take (--stdin, --status, --color…), folders for
--dir and --cwd, a command and its files for run; and the store's task ids
and queue names, asked of bgtask list and bgtask queue as you type (of the
store a --dir on the line names). (bgtask completions, with an s, lists
finished tasks: task notices.)

Examples:
  source <(bgtask completion bash)        # in ~/.bashrc
  bgtask completion bash > ~/.local/share/bash-completion/completions/bgtask
  source <(bgtask completion zsh)         # in ~/.zshrc, after compinit
  bgtask completion fish > ~/.config/fish/completions/bgtask.fish
`,
};

/**
 * The help for `verb`, or the main help when `verb` is undefined.
 *
 * @example
 * ```ts
 * import { helpText } from "./help.ts";
 * import { equal } from "node:assert/strict";
 * equal(
 *   helpText("logs").split("\n")[0],
 *   "Usage: bgtask logs ID [--follow] [--tail N | --offset BYTES] [--raw]",
 * );
 * ```
 */
export function helpText(verb?: string): string {
  return verb === undefined ? MAIN : VERBS[verb];
}

/** The verbs that have help (every verb). */
export const VERB_NAMES: readonly string[] = Object.keys(VERBS);
