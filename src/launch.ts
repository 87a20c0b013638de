/**
 * How a task is started: a short-lived bash launcher forks a supervisor that
 * outlives every Deno process, and the supervisor runs the command in its own
 * process group with stdout and stderr redirected straight into the output
 * file. Output never passes through Deno.
 *
 * Process tree, once the launcher has exited:
 *
 * ```
 * init
 *  └─ bash  supervisor   (session of its own; waits, enforces timeout and cap, records the end)
 *      └─ bash -c "$cmd"  the task: leader of its own process group, the pid in TaskInfo
 *          └─ …           its children share the group, so a group kill reaches them
 * ```
 *
 * @module
 */

import { BASH_LIB } from "./bash_lib.ts";
import { rethrowPermission } from "./permissions.ts";

/**
 * The launcher. Arguments: task dir, event file, cwd ("" = inherit), mode
 * (`arg` or `file`), command (or the file holding it), timeout ms, output cap,
 * grace ms, then `NAME=value` pairs for the task's environment.
 *
 * It prints NUL-separated words on stdout: `ok PID` or `error REASON`.
 */
const LAUNCHER = BASH_LIB + `
_lcset=\${LC_ALL+x} _lcval=\${LC_ALL-}
LC_ALL=C
dir=$1 ev=$2 cwd=$3 mode=$4 cmd=$5 tmo=$6 cap=$7 grace=$8
shift 8
if [[ -n $cwd ]]; then
  [[ -e $cwd ]] || { printf 'error\\0cwd-missing\\0'; exit 0; }
  [[ -d $cwd ]] || { printf 'error\\0cwd-not-dir\\0'; exit 0; }
  cd -- "$cwd" 2>/dev/null || { printf 'error\\0cwd-denied\\0'; exit 0; }
fi
out=$dir/output jf=$dir/jobs

# write_final STATUS EXITCODE SIGNAL ERROR BY: claim the final record (first wins).
write_final() {
  local e=null s=null w=0
  [[ -n $4 ]] && e="\\"$4\\""
  [[ $3 != null ]] && s="\\"$3\\""
  now_ms
  set -C
  { printf '{"status":"%s","exitCode":%s,"signal":%s,"error":%s,"finishedAt":%s,"by":"%s"}\\n' \\
    "$1" "$2" "$s" "$e" "$_now" "$5" || w=1; } > "$dir/final.json" || { set +C; return 1; }
  set +C
  # The claim is ours but its write failed (a full disk): remove it rather than
  # leave an empty record no reader can parse; a reader then records the task lost.
  (( w )) && { rm -f -- "$dir/final.json"; return 1; }
  return 0
}

# watchdog: enforce the timeout and the output cap without any Deno process.
watchdog() {
  local reason= size iv rem s err
  trap 'exit 0' TERM
  while :; do
    iv=250
    if (( tmo > 0 )); then
      now_ms; rem=$(( t0 + tmo - _now ))
      (( rem <= 0 )) && { reason=timeout; break; }
      (( rem < iv )) && iv=$rem
    fi
    printf -v s '%d.%03d' $(( iv / 1000 )) $(( iv % 1000 ))
    if [[ -n $wake ]]; then
      # Our stdin is a pipe from the supervisor: a byte on it means the task
      # has ended and we are done; end-of-file means the supervisor is gone.
      read -r -n 1 -t "$s" _
      case $? in 0) exit 0 ;; 1) wake= ;; esac
    else
      sleep "$s"
    fi
    # The supervisor stops us when the task ends; if it was killed instead,
    # guard the task while it runs, and leave once nothing of it is left.
    if ! proc_info "$sup" || [[ $_state == Z || $_start != "$sst" ]]; then
      group_alive "$pid" || exit 0
    elif ! proc_info "$pid" || [[ $_state == Z || $_start != "$tst" ]]; then
      # The task's shell has ended: the supervisor is about to stop us and
      # will wait for us; leave without waiting for its word.
      exit 0
    fi
    if (( cap > 0 )); then
      size=$(wc -c < "$out" 2>/dev/null); size=\${size//[^0-9]/}
      (( \${size:-0} > cap )) && { reason=cap; break; }
    fi
  done
  trap '' TERM
  if [[ $reason == timeout ]]; then err="timed out after $tmo ms (timeoutMs)"
  else err="output passed the limit of $cap bytes (maxOutputBytes)"; fi
  if write_final failed null null "$err" "$reason"; then
    kill_group "$pid" "$grace"
    [[ $reason == cap ]] && truncate -s "$cap" -- "$out" 2>/dev/null
    : >> "$ev"
  fi
  exit 0
}

supervise() {
  local old_umask rc st a b c w1 w2 wd= n
  # The task gets the caller's umask back; our own records are created 0600.
  old_umask=
  if [[ -r /proc/$BASHPID/status ]]; then
    while read -r a b; do [[ $a == Umask: ]] && { old_umask=$b; break; }; done < "/proc/$BASHPID/status"
  fi
  [[ -n $old_umask ]] || old_umask=$(umask)
  umask 077
  [[ -e $dir/final.json ]] && exit 0
  : > "$jf"
  trap 'jobs -l >>"$jf"' CHLD
  set -m
  (
    if [[ -n $_lcset ]]; then export LC_ALL="$_lcval"; else unset LC_ALL; fi
    umask "$old_umask"
    # Export the task's variables using positional parameters only, so that a
    # name like cmd, mode or BASH cannot change what runs.
    set -- "$@" "$BASH" "$mode" "$cmd"
    while (( $# > 3 )); do export "$1"; shift; done
    # "--": a command that starts with "-" is the command, not an option of bash.
    if [[ $2 == file ]]; then exec -a bash "$1" -- "$3"; else exec -a bash "$1" -c -- "$3"; fi
  ) </dev/null >>"$out" 2>&1 &
  pid=$!
  set +m
  now_ms; t0=$_now
  local sup=$BASHPID
  proc_info "$sup"; local sst=\${_start:-0}
  proc_info "$pid"; local tst=\${_start:-0}
  set -C
  printf '%s %s %s %s %s\\n%s' "$BASHPID" "$sst" "$pid" "$tst" "$t0" "$PWD" > "$dir/started"
  set +C
  # SIGPIPE stays ignored from here on (the task, forked above, keeps the
  # default): a launcher that is gone, or a watchdog that left on its own
  # just before we write its stop byte, must fail that write, not kill us
  # before the final record is written (the task would then read as lost).
  trap '' PIPE
  printf 'ok\\0%s\\0%s\\0' "$pid" "$PWD"
  exec </dev/null >/dev/null 2>&1
  local wake=
  if (( tmo > 0 || cap > 0 )); then
    # The watchdog naps reading a pipe from us; a byte on it stops it at once.
    # (A signal proved unreliable: a TERM sent while the subshell was starting
    # was sometimes lost, and the supervisor then waited for its next wake.)
    # A coprocess gives that pipe without forking anything else.
    coproc WATCHDOG { wake=1 watchdog; }
    wd=$WATCHDOG_PID wake=\${WATCHDOG[1]}
  fi

  while :; do
    wait "$pid"; rc=$?
    st=
    while read -r a b c; do [[ $b == "$pid" ]] && st=$c; done < "$jf"
    if [[ -z $st || $st == Running* ]] && kill -0 "$pid" 2>/dev/null; then continue; fi
    break
  done
  if [[ -n $wd ]]; then
    if [[ -n $wake ]]; then printf x >&"$wake"; else kill -TERM "$wd" 2>/dev/null; fi
    wait "$wd"
  fi
  kill_group "$pid" "$grace"
  read -r w1 w2 _ <<< "$st"
  # No final line for the shell in the notes (a CHLD that bash folded into
  # another one): then wait's status is all we have, and it is the real one.
  [[ $w1 == Running ]] && w1=
  if [[ $w1 == Done ]] || { [[ -z $w1 ]] && (( rc == 0 )); }; then
    write_final completed 0 null "" exit
  elif [[ $w1 == Exit && $w2 =~ ^[0-9]+$ ]]; then
    write_final failed "$w2" null "exited with code $w2" exit
  elif (( rc > 128 )); then
    n=$(kill -l $(( rc - 128 )) 2>/dev/null)
    n=SIG\${n#SIG}
    write_final failed null "$n" "killed by signal $n" signal
  else
    write_final failed "$rc" null "exited with code $rc" exit
  fi
  : >> "$ev"
}

supervise "$@" &
exit 0
`;

/** What the launcher needs to start one task. */
export interface LaunchSpec {
  /** The task's folder in the store. */
  taskDir: string;
  /** The file to touch in the store's events folder when the task ends. */
  eventFile: string;
  /** The working directory, or undefined to inherit ours. */
  cwd?: string;
  /** The command, passed as an argument, or undefined when `commandFile` holds it. */
  command?: string;
  /** A file holding a command too long for one argument. */
  commandFile?: string;
  /** 0 for none. */
  timeoutMs: number;
  /** 0 for none. */
  maxOutputBytes: number;
  /** Grace between SIGTERM and SIGKILL for timeouts and the cap. */
  graceMs: number;
  /** Extra environment for the task. */
  env: Record<string, string>;
}

/** The result of a launch: the task's pid, or why it did not start. */
export type LaunchResult = { ok: true; pid: number; cwd: string } | {
  ok: false;
  reason: "cwd-missing" | "cwd-not-dir" | "cwd-denied" | "launcher-failed";
  detail: string;
};

/**
 * Starts the supervisor and returns once the task runs. The launcher is
 * awaited (it exits at once); the supervisor is not a child of this process,
 * so nothing is left for Deno to track and the process may exit at any time.
 *
 * Requires `--allow-run=bash`.
 */
export async function launch(spec: LaunchSpec): Promise<LaunchResult> {
  const args = [
    "-c",
    LAUNCHER,
    "bgtask",
    spec.taskDir,
    spec.eventFile,
    spec.cwd ?? "",
    spec.commandFile ? "file" : "arg",
    spec.commandFile ?? spec.command ?? "",
    String(spec.timeoutMs),
    String(spec.maxOutputBytes),
    String(spec.graceMs),
    ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
  ];
  let out: Deno.CommandOutput;
  try {
    const child = new Deno.Command("bash", {
      args,
      detached: true,
      stdin: "null",
      stdout: "piped",
      stderr: "null", // one pipe fewer to wait for: each costs the spawn a little
    }).spawn();
    out = await child.output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error("Cannot spawn task: bash was not found on PATH", { cause: e });
    }
    rethrowPermission(e, "Cannot spawn task", "--allow-run=bash");
  }
  const words = new TextDecoder().decode(out.stdout).split("\0");
  if (words[0] === "ok" && /^\d+$/.test(words[1] ?? "") && words.length >= 3) {
    return { ok: true, pid: Number(words[1]), cwd: words[2] };
  }
  if (words[0] === "error") {
    return { ok: false, reason: words[1] as "cwd-missing", detail: "" };
  }
  return {
    ok: false,
    reason: "launcher-failed",
    detail: `bash exited with code ${out.code} without starting the task`,
  };
}
