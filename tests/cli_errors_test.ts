/**
 * User mistakes: one clear line on stderr naming the problem, a non-zero exit
 * code (2 for a wrong command line, 1 for a failed request), no stack trace.
 */

import assert from "node:assert/strict";
import { childOptions, cli, cliArgs, mistakeProblems, start, withStore } from "./cli_helpers.ts";
import { DENO_DIR, minimalFlags } from "./_helpers/common.ts";

/** [arguments, exit code, what the line must say]. */
const MISTAKES: [string[], number, RegExp][] = [
  // unknown id
  [["status", "b99"], 1, /^bgtask: no task "b99" in the store$/],
  [["logs", "b99"], 1, /no task "b99"/],
  [["kill", "b99"], 1, /no task "b99"/],
  [["wait", "b99"], 1, /no task "b99"/],
  [["rm", "b99"], 1, /no task "b99"/],
  [["status", "not-an-id"], 2, /"not-an-id" is not a task id/],
  [
    ["status", "b99999999999999999999"],
    2,
    /^bgtask: "b99999999999999999999" is too long for a task id \(ids are b1, b2, …, of at most 16 digits\)$/,
  ],
  // comma lists of ids are taken (a test in cli_lifecycle_test.ts); near-misses get a hint
  [["kill", "b1,,b2"], 2, /^bgtask: "b1,,b2" has an empty id in its list \(several ids: b1,b2/],
  [["wait", "b1,"], 2, /^bgtask: "b1," has an empty id in its list/],
  [["send", "b1,b2", "x"], 2, /^bgtask: "b1,b2" is not a task id \(bgtask send takes one id, not/],
  [
    ["wait", "b3..b5"],
    2,
    /^bgtask: "b3\.\.b5" is a range, which bgtask does not take: name each id \(b3 b4 b5; in a shell, \$\(seq 3 5\)\)$/,
  ],
  [
    ["kill", "1-30"],
    2,
    /^bgtask: "1-30" is a range, .*\(b1 b2 … b30; in a shell, \$\(seq 1 30\)\)$/,
  ],
  [
    ["logs", "lats"],
    2,
    /^bgtask: "lats" is not a task id: did you mean last \(the newest task\)\?$/,
  ],
  [["status", "LAST"], 2, /^bgtask: "LAST" is not a task id: did you mean last/],
  [["wait", "latest"], 2, /^bgtask: "latest" is not a task id: did you mean last/],
  [
    ["kill", "all"],
    2,
    /^bgtask: "all" is not a task id \(for every unfinished task: bgtask kill --all\)$/,
  ],
  [
    ["rm", "all"],
    2,
    /^bgtask: "all" is not a task id \(for finished tasks in bulk: bgtask clean\)$/,
  ],
  // (The hint stands alone: no "for queue all: …" after it, which said otherwise.)
  [
    ["pause", "all"],
    2,
    /^bgtask: "all" is not a task id \(for every running task: bgtask pause --all\)$/,
  ],
  // A list given to a verb of one id is quoted as typed (last not rewritten in it).
  [["send", "last,b1", "x"], 2, /^bgtask: "last,b1" is not a task id \(bgtask send takes one id/],
  // tsp's verbs default to the last job: the error says last is the newest task
  [["logs"], 2, /^bgtask: missing task id for bgtask logs \(last is the newest task; bgtask list/],
  // pueue's, rustup's and deno's shell completion verb: bgtask's completions are task
  // notices, its completion script is bgtask completion SHELL
  [
    ["completions", "bash"],
    2,
    /^bgtask: unexpected argument "bash" for bgtask completions: completions lists the finished tasks not reported before \(notices, once each\); the shell's completion script is bgtask completion bash \(see bgtask completions --help\)$/,
  ],
  [["completions", "zsh"], 2, /the shell's completion script is bgtask completion zsh /],
  [["completions", "powershell"], 2, /the shell's completion script is bgtask completion bash /],
  [
    ["completion"],
    2,
    /^bgtask: bgtask completion takes one shell, bash, zsh, fish: e\.g\. source <\(bgtask completion bash\)/,
  ],
  [
    ["completion", "tcsh"],
    2,
    /^bgtask: no completion script for "tcsh": bgtask has them for bash, zsh, fish$/,
  ],
  // habits of pueue, task-spooler and kill(1): what does their work here
  [
    ["run", "--delay", "5s", "true"],
    2,
    /^bgtask: unknown option "--delay" for bgtask run: bgtask has no delayed start: run 'sleep N; CMD'/,
  ],
  [["run", "--delay=30s", "true"], 2, /no delayed start: run 'sleep 30s; CMD'/],
  [
    ["run", "--immediate", "true"],
    2,
    /^bgtask: unknown option "--immediate" for bgtask run: a task with no --queue starts at once/,
  ],
  ...[["-9", "9"], ["-KILL", "KILL"], ["-SIGKILL", "SIGKILL"]].map((
    [flag, name],
  ): [string[], number, RegExp] => [
    ["kill", flag, "b1"],
    2,
    new RegExp(
      `for bgtask kill: did you mean --signal ${name}\\? \\(kill\\(1\\)'s ${flag}: the first ` +
        "signal, TERM unless given; SIGKILL follows after --grace\\)",
    ),
  ]),
  [["-V"], 2, /^bgtask: unknown option "-V" for bgtask: did you mean --version\? \(see/],
  [["-v"], 2, /^bgtask: unknown option "-v" for bgtask: did you mean --version\?/],
  // task-spooler's actions, typed before a verb as `tsp -t 3` is: bgtask's form, or that it
  // has none (-S is tsp's slots before it is Deno's --allow-sys)
  ...([
    ["-t", "task-spooler's -t ID is bgtask logs -n 10 -f ID \\(the last 10 lines"],
    ["-c", "task-spooler's -c ID is bgtask logs -f ID \\(all the output"],
    ["-l", "task-spooler's -l is bgtask list"],
    ["-k", "task-spooler's -k ID is bgtask kill ID \\("],
    ["-S", "task-spooler's -S N is bgtask queue set Q --parallel N, for a queue Q[^]*--allow-sys"],
    ["-r", "task-spooler's -r ID is bgtask rm ID"],
    ["-w", "task-spooler's -w ID is bgtask wait ID \\("],
    ["-i", "task-spooler's -i ID is bgtask status ID"],
    ["-s", "task-spooler's -s ID is bgtask status ID \\(status --json ID: its \\.status"],
    ["-p", "task-spooler's -p ID is bgtask status ID \\(status --json ID: its \\.pid"],
    ["-o", "task-spooler's -o ID is bgtask status ID \\(status --json ID: its \\.outputFile"],
    ["-C", "task-spooler's -C is bgtask clean \\("],
    ["-K", "bgtask has no server to kill \\(task-spooler's -K\\)[^]*bgtask kill --all"],
    ["-u", "bgtask has no reordering \\(task-spooler's -u ID puts a job first\\)"],
    ["-U", "bgtask has no reordering \\(task-spooler's -U ID-ID swaps two jobs\\)"],
    // and its options for the job it adds (`tsp -d make`): bgtask run's, tsp's before Deno's
    [
      "-d",
      "did you mean --dir DIR\\? \\(task-spooler's -d CMD, [^]*bgtask run --after last CMD\\)",
    ],
    ["-D", "task-spooler's -D ID CMD is bgtask run --after ID --after-any CMD \\("],
    [
      "-W",
      "task-spooler's -W ID,ID CMD is bgtask run --after ID,ID CMD [^]*Deno's -W \\(--allow-write\\)",
    ],
    ["-L", "task-spooler's -L LABEL CMD is bgtask run --description LABEL CMD"],
    ["-N", "bgtask has no slots per task \\(task-spooler's -N N\\)[^]*--allow-net"],
    ["-f", "task-spooler's -f CMD is bgtask run --wait CMD"],
    ["-n", "bgtask always keeps the output \\(task-spooler's -n does not\\)"],
    ["-E", "bgtask keeps no stderr apart \\(task-spooler's -E\\)[^]*--allow-env"],
    ["-z", "bgtask keeps the output as written \\(task-spooler's -z gzips it\\)"],
    ["-m", "bgtask sends no mail \\(task-spooler's -m\\)"],
  ] as const).map(([flag, hint]): [string[], number, RegExp] => [
    [flag, "3"],
    2,
    new RegExp(`^bgtask: unknown option "${flag}" for bgtask: ${hint}.* \\(see bgtask --help\\)$`),
  ]),
  [["list", "-n", "5"], 2, /^bgtask: unknown option "-n" for bgtask list: did you mean --last N/],
  [["list", "--tail", "5"], 2, /"--tail" for bgtask list: did you mean --last N \(the newest N/],
  [
    ["queue", "sett", "x"],
    2,
    /^bgtask: unknown action "sett" for bgtask queue: did you mean set\? \(/,
  ],
  [
    ["queue", "set", "x", "3"],
    2,
    /^bgtask: unexpected argument "3" for bgtask queue set: did you mean bgtask queue set x --parallel 3\? \(see/,
  ],
  // only close matches are suggested: tsp is 2 edits from mcp, which it does not mean
  [["tsp"], 2, /^bgtask: unknown verb "tsp" \(see bgtask --help\)$/],
  [["wiat", "b1"], 2, /^bgtask: unknown verb "wiat": did you mean wait\?/],
  // unknown verb
  [["frobnicate"], 2, /^bgtask: unknown verb "frobnicate" \(see bgtask --help\)$/],
  [["help", "frobnicate"], 2, /unknown verb "frobnicate"/],
  // names every object has are not verbs either
  [["toString"], 2, /^bgtask: unknown verb "toString" \(see bgtask --help\)$/],
  [["help", "constructor"], 2, /^bgtask: unknown verb "constructor"/],
  [["help", "run", "extra"], 2, /^bgtask: unexpected argument "extra" for bgtask help/],
  [["\x1b[2Jboom"], 2, /unknown verb "\\x1b\[2Jboom"/],
  // a close name is suggested (as the library does for its options); a far one is not
  [["lsit"], 2, /^bgtask: unknown verb "lsit": did you mean list\? \(see bgtask --help\)$/],
  // another tool's verb or option: what does its work here, not a look-alike
  [["add", "true"], 2, /^bgtask: unknown verb "add": bgtask calls it run \(see bgtask --help\)$/],
  [
    ["start"],
    2,
    /^bgtask: unknown verb "start": bgtask calls it resume \(a paused task\), or queue resume Q/,
  ],
  [["tail", "b1"], 2, /^bgtask: unknown verb "tail": bgtask calls it logs --tail N/],
  [["run", "--label", "x", "true"], 2, /"--label" for bgtask run: did you mean --description\?/],
  [["kill", "--group", "q"], 2, /"--group" for bgtask kill: did you mean --queue\?/],
  // … and their one-letter options (a pueue user's pass: -g was only "unknown")
  [
    ["kill", "-g", "q"],
    2,
    /"-g" for bgtask kill: did you mean --grace, or --queue \(pueue's -g\)\?/,
  ],
  [["wait", "-g", "q"], 2, /"-g" for bgtask wait: did you mean --queue \(pueue's -g\)\?/],
  [
    ["run", "-d", "true"],
    2,
    /"-d" for bgtask run: did you mean --dir, --description, or --after last \(task-spooler's -d\)\?/,
  ],
  [
    ["run", "-L", "x", "true"],
    2,
    /"-L" for bgtask run: did you mean --description \(task-spooler's -L\)\?/,
  ],
  [
    ["run", "-w", "/", "true"],
    2,
    /"-w" for bgtask run: did you mean --wait, or --cwd \(pueue's -w\)\?/,
  ],
  [["status", "-g", "q"], 2, /^bgtask: unknown option "-g" for bgtask status \(see/],
  // task-spooler's and pueue's options that are also Deno permission letters (-E, -N, -W):
  // theirs, not Deno's (a tsp user was told to reinstall bgtask with a permission)
  [
    ["run", "-E", "make"],
    2,
    /^bgtask: unknown option "-E" for bgtask run: task-spooler's -E keeps stderr apart, bgtask does not: a task's stderr is interleaved with its stdout in its one output \(bgtask logs ID\); to keep it apart, redirect it in the command \('make 2>make\.err'\) \(see/,
  ],
  [
    ["run", "-N", "2", "make"],
    2,
    /^bgtask: unknown option "-N" for bgtask run: bgtask has no slots per task \(task-spooler's -N N\): each task takes one slot of its queue; to run N at a time, bgtask queue set Q --parallel N, then bgtask run --queue Q CMD \(see/,
  ],
  [
    ["run", "-W", "b1", "make"],
    2,
    /"-W" for bgtask run: did you mean --wait, or --after \(task-spooler's -W\)\?/,
  ],
  [["run", "-f", "make"], 2, /"-f" for bgtask run: did you mean --wait \(task-spooler's -f\)\?/],
  [
    ["run", "-n", "make"],
    2,
    /"-n" for bgtask run: bgtask always keeps the output \(task-spooler's -n does not\): to drop it, redirect it in the command \('CMD >\/dev\/null 2>&1'\)/,
  ],
  [["run", "-m", "make"], 2, /"-m" for bgtask run: bgtask sends no mail \(task-spooler's -m\)/],
  [
    ["run", "--stashed", "make"],
    2,
    /"--stashed" for bgtask run: bgtask has no stash \(pueue's --stashed\): queue pause Q, then run --queue Q/,
  ],
  [
    ["run", "-p", "make"],
    2,
    /"-p" for bgtask run: bgtask run prints only the new task's id already \(pueue's --print-task-id\)/,
  ],
  [
    ["run", "-o", "1", "make"],
    2,
    /"-o" for bgtask run: bgtask has no priorities \(pueue's --priority\)/,
  ],
  [
    ["logs", "-t", "b1"],
    2,
    /^bgtask: unknown option "-t" for bgtask logs: did you mean --follow\? \(task-spooler's -t is bgtask logs -n 10 -f ID: the last 10 lines, then the new ones\) \(see/,
  ],
  [
    ["logs", "-c", "b1"],
    2,
    /"-c" for bgtask logs: did you mean --follow\? \(task-spooler's -c is bgtask logs -f ID: all the output/,
  ],
  [["logs", "--lines", "5", "b1"], 2, /"--lines" for bgtask logs: did you mean --tail\? \(see/],
  [["logs", "-l", "5", "b1"], 2, /"-l" for bgtask logs: did you mean --tail \(pueue's -l\)\?/],
  [
    ["logs", "--full", "b1"],
    2,
    /"--full" for bgtask logs: bgtask logs writes the whole output already \(pueue's --full\)/,
  ],
  [
    ["logs", "-j", "b1"],
    2,
    /"-j" for bgtask logs: .*bgtask status --json ID gives the task, and outputFile/,
  ],
  ...[["--all-failed"], ["-a"]].map(([flag]): [string[], number, RegExp] => [
    ["restart", flag],
    2,
    new RegExp(
      `^bgtask: unknown option "${flag}" for bgtask restart: bgtask restart takes ids \\(pueue's --all-failed\\): ` +
        "bgtask restart \\$\\(bgtask list --status failed,killed --json \\| jq -r '\\.\\[\\]\\.id'\\) \\(see",
    ),
  ]),
  [
    ["restart", "-g", "q"],
    2,
    /\(pueue's --failed-in-group\): bgtask restart \$\(bgtask list --queue Q --status failed,killed --json/,
  ],
  [
    ["restart", "--in-place", "b1"],
    2,
    /"--in-place" for bgtask restart: a restart is always a new task/,
  ],
  [["restart", "-k", "b1"], 2, /"-k" for bgtask restart: a restart is always a new task/],
  [
    ["restart", "-e", "b1"],
    2,
    /"-e" for bgtask restart: bgtask restart runs the same command again \(pueue's --edit\)/,
  ],
  [
    ["wait", "-q", "b1"],
    2,
    /"-q" for bgtask wait: .*\(pueue's --quiet .*bgtask wait … >\/dev\/null/,
  ],
  [["wait", "-a"], 2, /"-a" for bgtask wait: did you mean --any, or --all \(pueue's -a\)\?/],
  [["kill", "-a"], 2, /"-a" for bgtask kill: did you mean --all \(pueue's -a\)\?/],
  [["list", "-j"], 2, /"-j" for bgtask list: did you mean --json \(pueue's -j\)\? \(see/],
  // … while Deno's letters stay Deno's where no other tool has them for that verb
  [["kill", "-N", "b1"], 2, /"-N" for bgtask kill: that is a permission flag of Deno's/],
  [["run", "-A", "make"], 2, /"-A" for bgtask run: that is a permission flag of Deno's/],
  [["run", "-R", "make"], 2, /"-R" for bgtask run: that is a permission flag of Deno's/],
  [["env", "b1"], 2, /^bgtask: unknown verb "env": bgtask calls it run --env NAME=VALUE/],
  [["stash", "b1"], 2, /^bgtask: unknown verb "stash": bgtask calls it queue pause Q, then/],
  [["stauts", "b1"], 2, /^bgtask: unknown verb "stauts": did you mean status\? \(see/],
  [["help", "kil"], 2, /^bgtask: unknown verb "kil": did you mean kill\? \(see bgtask --help\)$/],
  [["xy"], 2, /^bgtask: unknown verb "xy" \(see bgtask --help\)$/],
  // missing command, missing or extra ids
  [["run"], 2, /missing command for bgtask run/],
  [["run", "--description", "x"], 2, /missing command/],
  [["run", "--"], 2, /missing command/],
  [["run", "   "], 2, /the command is empty/],
  [["status"], 2, /missing task id for bgtask status/],
  [["wait"], 2, /missing task id for bgtask wait/],
  [["logs", "b1", "b2"], 2, /too many task ids for bgtask logs/],
  // bad durations
  [["run", "--timeout", "5x", "true"], 2, /invalid duration "5x" for --timeout/],
  [["wait", "b1", "--timeout", "soon"], 2, /invalid duration "soon" for --timeout/],
  [["kill", "b1", "--grace", "1y"], 2, /invalid duration "1y" for --grace/],
  [["clean", "--older-than", "1w"], 2, /invalid duration "1w" for --older-than/],
  [
    ["kill", "b1", "--grace", "1H30M"],
    2,
    /units are lower case \(m is minutes\); did you mean 1h30m\?/,
  ],
  [
    ["run", "--timeout", "1000000000d", "true"],
    2,
    /^bgtask: invalid duration "1000000000d" for --timeout \(too long: the most is 2\^53 - 1 ms, just over 104249991d\)$/,
  ],
  // bad sizes
  [["run", "--max-output", "10XB", "true"], 2, /invalid size "10XB" for --max-output/],
  [["logs", "b1", "--offset", "lots"], 2, /invalid size "lots" for --offset/],
  // a limit under one unit would round to 0, which means "none": every such flag refuses it
  [
    ["run", "--timeout", "0.4ms", "true"],
    2,
    /^bgtask: invalid duration "0\.4ms" for --timeout \(under 1ms: give at least 1ms, or 0 for no timeout\)$/,
  ],
  [["run", "--timeout", "0.0001", "true"], 2, /"0\.0001" for --timeout \(under 1ms/],
  [["wait", "b1", "--timeout", "0.4ms"], 2, /"0\.4ms" for --timeout .*0 for a check without/],
  [["kill", "b1", "--grace", "0.5ms"], 2, /"0\.5ms" for --grace .*0 for SIGKILL at once/],
  [["clean", "--older-than", "0.1ms"], 2, /"0\.1ms" for --older-than .*0 for any age\)$/],
  [
    ["run", "--max-output", "0.4", "true"],
    2,
    /^bgtask: invalid size "0\.4" for --max-output \(under 1 byte: give at least 1, or 0 for no cap\)$/,
  ],
  [["logs", "b1", "--offset", "0.5B"], 2, /"0\.5B" for --offset .*0 for the start\)$/],
  [["logs", "b1", "--tail", "0.5"], 2, /invalid number "0\.5" for --tail \(a whole number ≥ 0\)/],
  // unknown flags and bad flag values
  [["list", "--bogus"], 2, /^bgtask: unknown option "--bogus" for bgtask list/],
  [["--bogus", "list"], 2, /unknown option "--bogus" for bgtask /],
  [["kill", "-x", "b1"], 2, /unknown option "-x" for bgtask kill \(see bgtask kill --help\)$/],
  [
    ["wait", "--timout", "5", "b1"],
    2,
    /^bgtask: unknown option "--timout" for bgtask wait: did you mean --timeout\? \(see bgtask wait --help\)$/,
  ],
  [["send", "--timout=0", "b1", "x"], 2, /"--timout" for bgtask send: did you mean --timeout\? \(/],
  [["run", "--descripton", "x", "true"], 2, /for bgtask run: did you mean --description\? \(/],
  [["--verison"], 2, /^bgtask: unknown option "--verison" for bgtask: did you mean --version\? \(/],
  [["list", "--timout", "5"], 2, /^bgtask: unknown option "--timout" for bgtask list \(see/],
  [["list", "--json=yes"], 2, /option --json takes no value/],
  [["kill", "b1", "--grace"], 2, /option --grace needs a value/],
  [["list", "--status", "done"], 2, /invalid status "done" for --status/],
  [["clean", "--status", "running"], 2, /invalid status "running"/],
  [["logs", "b1", "--tail", "-3"], 2, /invalid number "-3" for --tail \(a whole number ≥ 0\)$/],
  [["logs", "b1", "-n"], 2, /^bgtask: option -n needs a value \(see bgtask logs --help\)$/],
  [["logs", "b1", "--tail"], 2, /^bgtask: option --tail needs a value \(see bgtask logs --help\)$/],
  [["logs", "-n", "-3", "b1"], 2, /invalid number "-3" for --tail/],
  // The count forgotten: the id was taken for it, and that is what is said.
  [["logs", "-n", "b1"], 2, /^bgtask: invalid number "b1" for --tail \(a whole number ≥ 0\)$/],
  [["logs", "b1", "-f=1"], 2, /^bgtask: unknown option "-=" in "-f=1" for bgtask logs/],
  [["--dir"], 2, /^bgtask: option --dir needs a value \(see bgtask --help\)$/],
  [["run", "--cwd", "--wait", "true"], 2, /option --cwd needs a value \("--wait" looks like/],
  [["logs", "b1", "--tail", "x"], 2, /invalid number "x" for --tail/],
  [
    ["logs", "b1", "--tail", "1", "--offset", "2"],
    2,
    /--tail and --offset cannot be used together/,
  ],
  [["run", "--env", "NOEQUALS", "true"], 2, /invalid --env "NOEQUALS" \(expected NAME=VALUE\)/],
  [["run", "--env", "1X=2", "true"], 2, /environment name "1X" is not valid/],
  [
    ["run", "--env", "A=1", "--env", "A=2", "true"],
    2,
    /^bgtask: --env "A" is given twice: give each name once$/,
  ],
  [
    ["run", "--timeout", "1h30m1h30m", "true"],
    2,
    /invalid duration "1h30m1h30m" for --timeout \(.*each unit once, the largest first/,
  ],
  [["run", "--cwd", "/no/such/dir", "true"], 2, /directory "\/no\/such\/dir" does not exist/],
  [
    ["wait", "--match", "^(a+)\\1$", "b1"],
    2,
    /--match: "\^\(a\+\)\\\\1\$" uses a backreference \(\\1\), which could take hours on one long line/,
  ],
  [["list", "extra"], 2, /unexpected argument "extra" for bgtask list/],
  // queues, dependencies, pause/resume/restart, completions consumers
  [
    ["wait"],
    2,
    /^bgtask: missing task id for bgtask wait \(give ids, last for the newest task, --queue Q or --all; see/,
  ],
  [
    ["kill"],
    2,
    /^bgtask: missing task id for bgtask kill \(give ids, last for the newest task, --queue Q or --all; see/,
  ],
  [["run", "--queue", "a b", "true"], 2, /^bgtask: invalid name "a b" for --queue \(letters,/],
  [["run", "--queue", "-x", "true"], 2, /option --queue needs a value \("-x" looks like/],
  [["run", "--queue=-x", "true"], 2, /invalid name "-x" for --queue/],
  [["run", "--queue", "x".repeat(65), "true"], 2, /invalid name "x{60}…" for --queue/],
  [["run", "--queue", "ci/../../etc", "true"], 2, /invalid name "ci\/\.\.\/\.\.\/etc"/],
  [["list", "--queue", "a b"], 2, /invalid name "a b" for --queue/],
  [["kill", "--queue", "a\x1b[2Jb"], 2, /invalid name "a\\x1b\[2Jb" for --queue/],
  [["wait", "--queue", ""], 2, /invalid name "" for --queue/],
  [["kill", "--queue", "nope"], 1, /^bgtask: no queue "nope" in the store \(see bgtask queue\)$/],
  [["wait", "--queue", "nope"], 1, /^bgtask: no queue "nope" in the store/],
  // The ids are checked first (b98: no mistake here claims that many ids, even for a moment).
  [["wait", "b98", "--queue", "nope"], 1, /^bgtask: no task "b98" in the store$/],
  [
    ["run", "--after", "bogus", "true"],
    2,
    /^bgtask: "bogus" is not a task id for --after \(ids look like b1, b2, …; several: --after b1,b2\)$/,
  ],
  [["run", "--after", "b1,", "true"], 2, /^bgtask: "" is not a task id for --after/],
  [
    ["run", "--after", "b99", "true"],
    1,
    /^bgtask: --after b99: no such task in the store; give tasks still in the store \(see bgtask list\)$/,
  ],
  [["run", "--after-any", "true"], 2, /^bgtask: --after-any needs --after ID/],
  [["run", "--after-any=yes", "--after", "1", "true"], 2, /option --after-any takes no value/],
  [["queue", "bogus"], 2, /^bgtask: unknown action "bogus" for bgtask queue \(expected set, pause/],
  [["queue", "set"], 2, /^bgtask: missing queue name for bgtask queue set \(see bgtask queue/],
  [["queue", "set", "ci"], 2, /^bgtask: missing --parallel N for bgtask queue set/],
  [
    ["queue", "set", "ci", "--parallel", "0"],
    2,
    /^bgtask: invalid number "0" for --parallel \(a whole number ≥ 1\)$/,
  ],
  [["queue", "set", "ci", "--parallel", "-1"], 2, /invalid number "-1" for --parallel/],
  [["queue", "set", "ci", "--parallel=-1"], 2, /invalid number "-1" for --parallel/],
  [
    ["wait", "--queue", "a", "--queue", "b"],
    2,
    /option --queue was given twice; it takes one value/,
  ],
  [["kill", "--grace", "1s", "--grace=2s", "b1"], 2, /option --grace was given twice/],
  [
    ["wait", "--match", "ready", "--all"],
    2,
    /--match waits for a line of each task named: give their ids/,
  ],
  [["queue", "set", "ci", "--parallel", "1.5"], 2, /invalid number "1\.5" for --parallel/],
  [["queue", "set", "ci", "--parallel", "two"], 2, /invalid number "two" for --parallel/],
  [["queue", "set", "a b", "--parallel", "2"], 2, /invalid name "a b" for a queue \(/],
  [["queue", "set", "ci", "4"], 2, /^bgtask: unexpected argument "4" for bgtask queue set/],
  [["queue", "pause"], 2, /missing queue name for bgtask queue pause/],
  [
    ["queue", "resume", "ci", "--parallel", "2"],
    2,
    /--parallel is only used with bgtask queue set, not resume/,
  ],
  [["queue", "--parallel", "2"], 2, /^bgtask: --parallel is only used with bgtask queue set Q/],
  [["queue", "pause", "ci/x"], 2, /invalid name "ci\/x" for a queue \(/],
  [
    ["pause"],
    2,
    /^bgtask: missing task id for bgtask pause \(give ids, last for the newest task, --queue Q or --all; see bgtask pause --help\)$/,
  ],
  [["resume", "x1"], 2, /^bgtask: "x1" is not a task id/],
  [["restart"], 2, /missing task id for bgtask restart/],
  [["pause", "b99"], 1, /^bgtask: no task "b99" in the store$/],
  [
    ["pause", "ci"],
    2,
    /"ci" is not a task id .*; for queue ci: bgtask queue pause ci \(its waiting tasks\), bgtask pause --queue ci \(its running ones\)$/,
  ],
  [["resume", "b99"], 1, /no task "b99"/],
  [["restart", "b99"], 1, /no task "b99"/],
  [["pause", "b1", "--grace", "1s"], 2, /unknown option "--grace" for bgtask pause/],
  [
    ["send", "b1", "-", "--timeout", "1s"],
    2,
    /^bgtask: - \(send what bgtask's stdin reads\) takes no words after it, and options go before the id: bgtask send --timeout 1s b1 - /,
  ],
  [["completions", "--consumer", "a b"], 2, /^bgtask: invalid name "a b" for --consumer/],
  [["completions", "--consumer"], 2, /option --consumer needs a value/],
  [["completions", "--peek=1"], 2, /option --peek takes no value/],
  [["clean", "--status", "queued"], 2, /invalid status "queued" for --status \(expected completed/],
  [
    ["list", "--status", "waiting"],
    2,
    /expected queued, running, paused, completed, failed, killed/,
  ],
];

Deno.test("every user mistake prints one line naming it and exits non-zero", async () => {
  await withStore(async (dir) => {
    // A store in which a task ran, made first: --queue and --all answer a folder that is
    // no store "no store at", and one where no task ever ran "no task has ever run" (a
    // test in cli_scripts_test.ts). Not left to the mistakes, which run at once: "run
    // --cwd /no/such/dir" claims an id (its launcher finds the folder missing), so what
    // "wait --queue nope" answered hung on which of them ran first (a CI failure, once).
    assert.equal((await cli(dir, ["run", "--wait", "true"])).code, 0);
    assert.equal((await cli(dir, ["rm", "b1"])).code, 0);
    const results = await Promise.all(MISTAKES.map(([args]) => cli(dir, args)));
    const failures: string[] = [];
    for (const [i, r] of results.entries()) {
      const [args, code, pattern] = MISTAKES[i];
      const problems = mistakeProblems(r);
      if (r.code !== code) problems.push(`exit ${r.code}, expected ${code}`);
      if (!pattern.test(r.stderr.trimEnd())) problems.push(`stderr ${JSON.stringify(r.stderr)}`);
      if (problems.length) failures.push(`${JSON.stringify(args)}: ${problems.join("; ")}`);
    }
    assert.deepEqual(failures, []);
    // None of the mistakes started a task or made a queue.
    assert.deepEqual(JSON.parse((await cli(dir, ["list", "--json"])).stdout), []);
    assert.deepEqual(JSON.parse((await cli(dir, ["queue", "--json"])).stdout), []);
  });
});

Deno.test("a working directory whose path is not UTF-8 is named as such, with the fix (not as gone)", async () => {
  await withStore(async (dir) => {
    // Made and entered by bash: Deno cannot name such a path.
    const r = await new Deno.Command("bash", {
      args: [
        "-c",
        'bad=$1/$(printf "bad\\377dir") && mkdir "$bad" && cd "$bad" && shift && exec "$@" && ' +
        "exit 1",
        "bash",
        dir,
        Deno.execPath(),
        ...cliArgs(dir, ["run", "pwd"]),
      ],
      ...childOptions(),
    }).output();
    const stderr = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 2, stderr);
    assert.match(
      stderr,
      /^bgtask: cannot spawn task: this process's working directory has a path that is not valid UTF-8, which Deno cannot pass on \(.*\): give the task a directory whose path is, e\.g\. a symlink to it \(cwd; --cwd DIR on the command line\)\n$/,
    );
    // Named on the command line, it reaches Deno with U+FFFD in it: said so.
    const named = await cli(dir, ["run", "--cwd", `${dir}/bad\uFFFDdir`, "pwd"]);
    assert.equal(named.code, 2);
    assert.match(
      named.stderr,
      /--cwd ".*bad\uFFFDdir" holds U\+FFFD .*; give a path that is UTF-8/,
    );
  });
});

/**
 * Runs the CLI with `args` through bash, which turns each `\xHH` in them
 * into that byte (Deno cannot pass a byte that is not UTF-8 in an argument).
 */
async function withBytes(dir: string, args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command("bash", {
    args: [
      "-c",
      'a=(); for w in "$@"; do a+=("$(printf "%b" "$w")"); done; ' +
      'for v in $BYTES_ENV; do export "$(printf "%b" "$v")"; done; exec "${a[@]}"',
      "bash",
      Deno.execPath(),
      // (A --dir of its own: the store's not added.)
      ...cliArgs(dir, args, { noDir: args.includes("--dir") }),
    ],
    ...childOptions({ BYTES_ENV: Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ") }),
  }).output();
  return { code: r.code, stdout: r.stdout, stderr: new TextDecoder().decode(r.stderr) };
}

Deno.test("bytes that are not UTF-8 on the command line are refused (exit 2) naming the argument and what carries them, not passed on as U+FFFD; the inherited environment keeps them", async () => {
  await withStore(async (dir) => {
    const cases: [string[], RegExp][] = [
      [
        ["run", "--env", "X=caf\\xe9", "true"],
        /^bgtask: --env "X=caf\uFFFD" holds U\+FFFD .*cannot pass through the command line.*; the task inherits bgtask's own environment byte for byte/,
      ],
      [
        ["--dir", `${dir}/s\\xffx`, "list"],
        /^bgtask: --dir ".*s\uFFFDx" holds U\+FFFD/,
      ],
      [
        ["list", "--dir", `${dir}/s\\xffx`],
        /^bgtask: --dir ".*s\uFFFDx" holds U\+FFFD/,
      ],
      [
        ["run", "echo caf\\xe9"],
        /^bgtask: the command "echo caf\uFFFD" holds U\+FFFD .*write them escaped in the command/,
      ],
      [
        ["run", "--description", "caf\\xe9", "true"],
        /^bgtask: --description "caf\uFFFD" holds U\+FFFD/,
      ],
      [
        ["send", "b1", "caf\\xe9"],
        /^bgtask: the text "caf\uFFFD" holds U\+FFFD .*bgtask send ID - sends its stdin byte for byte/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await withBytes(dir, args);
      assert.equal(r.code, 2, `${args}: ${r.stderr}`);
      assert.match(r.stderr, message, `${args}`);
    }
    // Nothing ran, and no store of another name was made.
    assert.deepEqual([...Deno.readDirSync(dir)].filter((e) => e.name.includes("\uFFFD")), []);
    assert.equal((await cli(dir, ["list", "--json"])).stdout.trim(), "[]");
    // The way the error names: the task gets the variable byte for byte.
    const r = await withBytes(dir, ["run", "--wait", 'printf %s "$X" | od -An -tx1'], {
      X: "caf\\xe9",
    });
    assert.equal(r.code, 0, r.stderr);
    const id = new TextDecoder().decode(r.stdout).match(/^b\d+/m)?.[0] ?? "b1";
    assert.equal((await cli(dir, ["logs", id])).stdout.trim(), "63 61 66 e9");
  });
});

Deno.test('HOME, XDG_CACHE_HOME or BGTASK_DIR that is not UTF-8 is named, with --dir as the fix (not Deno\'s "environment variable was not valid unicode")', async () => {
  await withStore(async (dir) => {
    for (const name of ["HOME", "XDG_CACHE_HOME", "BGTASK_DIR"]) {
      const r = await new Deno.Command("bash", {
        args: [
          "-c",
          `export ${name}="$(printf '/tmp/caf\\351')"; exec "$@"`,
          "bash",
          Deno.execPath(),
          ...cliArgs(dir, ["list"], { noDir: true }),
        ],
        ...childOptions({ HOME: "/tmp", DENO_DIR }),
      }).output();
      const stderr = new TextDecoder().decode(r.stderr);
      assert.notEqual(r.code, 0, stderr);
      assert.match(
        stderr,
        new RegExp(
          `^bgtask: cannot find the bgtask store: \\$${name} holds bytes that are not UTF-8.*--dir DIR`,
        ),
      );
    }
  });
});

Deno.test("a missing permission is one line naming the flag to add", async () => {
  await withStore(async (dir) => {
    const noEnv = await cli(dir, ["list"], { noDir: true, flags: [`--allow-read=${dir}`] });
    assert.deepEqual(mistakeProblems(noEnv), []);
    assert.equal(noEnv.code, 1);
    assert.match(noEnv.stderr, /--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR/);
    // What it needs once it finds the store is said too: one more try is enough.
    assert.match(
      noEnv.stderr,
      // (list only reads: no --allow-write.)
      /; then it needs --allow-run=bash and --allow-read on the store, if not given \(\$BGTASK_DIR, else bgtask in the cache folder\)/,
    );

    const noRun = await cli(dir, ["run", "true"], {
      flags: [`--allow-read=${dir}`, `--allow-write=${dir}`],
    });
    assert.deepEqual(mistakeProblems(noRun), []);
    assert.equal(noRun.code, 1);
    assert.match(noRun.stderr, /--allow-run=bash/);
    // An installed bgtask cannot be given flags per call: the line says to reinstall.
    // (Bash is on PATH: the flag was simply not given, and no PATH note is added.)
    assert.match(
      noRun.stderr,
      / \(if this is an installed bgtask, its permissions are built in: install it again with them\)\n$/,
    );
    // Given, but bash is not on PATH (cron, an MCP client's bare environment):
    // Deno then reports the permission as missing (after a line of its own);
    // ours says to fix PATH first.
    const noBash = await cli(dir, ["run", "true"], { env: { PATH: "/nonexistent" } });
    assert.equal(noBash.code, 1);
    assert.match(
      noBash.stderr,
      /\nbgtask: cannot spawn task: bash is not on this process's PATH, where Deno looks for the bash --allow-run=bash grants: start it with a PATH that has bash .*, and with --allow-run=bash /,
    );
    // With every permission (the library's usual case): the same advice.
    const allowed = await cli(dir, ["run", "true"], {
      env: { PATH: "/nonexistent" },
      flags: ["--allow-all"],
    });
    assert.deepEqual([allowed.code, allowed.stderr], [
      1,
      "bgtask: cannot spawn task: bash was not found on PATH (bgtask runs every task with " +
      "bash: start this program with a PATH that has it, such as PATH=/usr/bin:/bin)\n",
    ]);

    // The store exists, but may not be written: "write to", not "create".
    await cli(dir, ["list"]);
    const noWrite = await cli(dir, ["run", "true"], {
      flags: ["--allow-run=bash", `--allow-read=${dir}`],
    });
    assert.equal(noWrite.code, 1);
    // Another store than the one granted: the PATH note is for --allow-run=bash alone.
    const other = await Deno.makeTempDir();
    try {
      const elsewhere = await cli(other, ["list"], { flags: minimalFlags(dir) });
      assert.equal(elsewhere.code, 1);
      // (Bash was given: only the store's flags are named, and a look needs no --allow-write.)
      assert.match(elsewhere.stderr, /run again with --allow-read=\S+ \(/);
      assert.doesNotMatch(elsewhere.stderr, /not on this process's PATH/);
    } finally {
      await Deno.remove(other, { recursive: true });
    }
    assert.match(
      noWrite.stderr,
      /^bgtask: cannot write to the bgtask store "[^"]+": missing permission/,
    );
    // Nor read: whether it exists is unknown, so neither "create" nor "write to".
    const noRead = await cli(dir, ["run", "true"], {
      flags: ["--allow-run=bash", `--allow-write=${dir}`],
    });
    assert.equal(noRead.code, 1);
    assert.match(
      noRead.stderr,
      /^bgtask: cannot open the bgtask store "[^"]+": missing permission, run again with .*--allow-read=/,
    );
  });
});

Deno.test("a default store the permissions do not cover names BGTASK_DIR as the other fix", async () => {
  // An installed bgtask whose permissions name one store, started (by an MCP
  // client's config, say) without BGTASK_DIR: it looks in the cache folder.
  const home = await Deno.makeTempDir({ prefix: "bgtask-home-" });
  const store = await Deno.makeTempDir({ prefix: "bgtask-test-" });
  try {
    const r = await cli(store, ["list"], {
      noDir: true,
      flags: minimalFlags(store),
      env: { HOME: home, DENO_DIR },
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^bgtask: cannot open the bgtask store "${home}/\\.cache/bgtask": missing permission, ` +
          `run again with .*; or, to use the store these permissions are for, set BGTASK_DIR to it`,
      ),
    );
    // With BGTASK_DIR pointing elsewhere, that is what to change.
    const named = await cli(store, ["list"], {
      noDir: true,
      flags: minimalFlags(store),
      env: { HOME: home, BGTASK_DIR: `${home}/other`, DENO_DIR },
    });
    assert.equal(named.code, 1);
    assert.match(named.stderr, /; or set BGTASK_DIR to the store these permissions are for/);
  } finally {
    await Deno.remove(home, { recursive: true });
    await Deno.remove(store, { recursive: true });
  }
});

Deno.test("a store folder that cannot be made says so (not that it was removed)", async () => {
  const r = await cli("/proc/bgtask-no-such-store", ["run", "true"], { flags: ["-A"] });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^bgtask: cannot create the bgtask store "\/proc\/bgtask-no-such-store": /,
  );
});

Deno.test("--help and --version need no permissions at all", async () => {
  await withStore(async (dir) => {
    for (const args of [["--help"], ["--version"], ["run", "--help"]]) {
      const r = await cli(dir, args, { noDir: true, flags: [] });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
    }
  });
});

Deno.test("a store removed under a following command is said in the command line's words, not as a missing task", async () => {
  // From a new user's walk: the message spoke of a TaskManager. (Moved away
  // at once: rm -rf empties the folder first, and a follow that looks
  // meanwhile finds the store without its task, and says that.)
  for (let round = 0; round < 3; round++) {
    const dir = await Deno.makeTempDir({ prefix: "bgtask-cli-gone-" });
    const id = await start(dir, "echo ready; sleep 30");
    const child = new Deno.Command(Deno.execPath(), {
      args: cliArgs(dir, ["logs", "-f", id]),
      ...childOptions(),
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await out.read()).value ?? "", /ready/);
    await Deno.rename(dir, `${dir}.gone`);
    const { code } = await child.status;
    await Deno.remove(`${dir}.gone`, { recursive: true });
    await out.cancel();
    const said = await stderr;
    assert.equal(code, 1, said);
    assert.match(
      said,
      /^bgtask: store ".*" does not exist \(was it removed\?\): this command stops here; bgtask run starts a new store there\n$/,
    );
  }
});

Deno.test("a U+FFFD far into a long command is shown in the refusal (the quote cut it off), and Deno's short permission flags given to bgtask get the hint the long ones get", async () => {
  await withStore(async (dir) => {
    const long = await cli(dir, ["run", `echo ${"a".repeat(70)}caf\uFFFD`]);
    assert.equal(long.code, 2);
    assert.match(long.stderr, /^bgtask: the command "…a+caf\uFFFD" holds U\+FFFD/);
    for (const flag of ["-R", "-W", "-E", "-N"]) {
      const r = await cli(dir, ["list", flag]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /that is a permission flag of Deno's, not an option of bgtask/);
    }
  });
});
