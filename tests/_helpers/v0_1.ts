/**
 * bgtask 0.1 (commit 71dcf4c), as far as tests need it: its spawn, writing
 * what 0.1 wrote (`task.json`, its store's `events/`) and starting the task
 * with 0.1's own launcher and supervisor, copied verbatim below. A test can
 * thus run a newer bgtask on a store with 0.1 tasks running, as after an
 * upgrade, with no copy of 0.1 installed.
 *
 * @module
 */

const BASH_LIB = `
set +o errexit +o nounset +o pipefail +o noclobber +o xtrace 2>/dev/null
shopt -u nullglob failglob 2>/dev/null

# now_ms: _now = milliseconds since the epoch.
now_ms() {
  local t=\${EPOCHREALTIME:-}
  if [[ -n $t ]]; then t=\${t/[.,]/}; _now=$(( 10#$t / 1000 )); else printf -v _now '%(%s)T' -1; _now=$(( _now * 1000 )); fi
}

# proc_info PID: _state (one letter), _start (start time); status 1 when no such process.
proc_info() {
  _state= _start=
  local s
  if [[ -d /proc/self ]]; then
    read -r s 2>/dev/null < "/proc/$1/stat" || return 1
    s=\${s##*) }
    local -a f
    read -r -a f <<< "$s"
    _state=\${f[0]} _start=\${f[19]}
    return 0
  fi
  s=$(ps -o stat=,lstart= -p "$1" 2>/dev/null) || return 1
  [[ -n $s ]] || return 1
  read -r _state _start <<< "$s"
  _state=\${_state:0:1} _start=\${_start// /_}
}

# group_alive PGID: status 0 when a process that is not a zombie is in the group.
group_alive() {
  kill -0 -- "-$1" 2>/dev/null || return 1
  [[ -d /proc/self ]] || return 0
  local p s re="^[^Z] [0-9]+ $1 "
  for p in /proc/[0-9]*; do
    read -r s 2>/dev/null < "$p/stat" || continue
    [[ \${s##*) } =~ $re ]] && return 0
  done
  return 1
}

# nap SECONDS: sleep without forking a sleep(1) (a read that times out on a
# pipe nobody writes to); falls back to sleep(1).
nap() {
  [[ -n \${_napfd:-} ]] || exec {_napfd}<> <(:) 2>/dev/null || { sleep "$1"; return 0; }
  read -r -t "$1" -u "$_napfd" _ 2>/dev/null
  return 0
}

# kill_group PGID GRACE_MS: SIGTERM the group, SIGKILL it after the grace, and
# return once nothing of it is alive (status 1 if something still is after 5 s).
kill_group() {
  local g=$1 grace=$2 deadline n=0
  kill -TERM -- "-$g" 2>/dev/null || return 0
  kill -CONT -- "-$g" 2>/dev/null
  now_ms; deadline=$(( _now + grace ))
  # Zombies count as gone: orphans wait for init to reap them, which can take a while.
  local expired=0
  while group_alive "$g"; do
    now_ms; (( _now >= deadline )) && { expired=1; break; }
    if (( n++ < 20 )); then nap 0.005; else nap 0.025; fi
  done
  (( expired )) || return 0
  kill -KILL -- "-$g" 2>/dev/null
  now_ms; deadline=$(( _now + 5000 ))
  while group_alive "$g"; do
    (( _now >= deadline )) && return 1
    nap 0.005; now_ms
  done
  return 0
}
`;

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

/** What {@linkcode spawnV01} takes: 0.1's spawn options. */
export interface V01Options {
  /** The working directory; 0.1 records `"cwd": null` without one (the caller's). */
  cwd?: string;
  /** Where the spawner runs (without `cwd`, where the task runs): this process's by default. */
  spawnerCwd?: string;
  timeoutMs?: number;
  graceMs?: number;
  maxOutputBytes?: number;
}

/**
 * Spawns `command` as bgtask 0.1's `spawnShell` did, in the store at `dir`
 * (made as 0.1 made it, if there is none): claims an id, writes `output`,
 * `task.json` and `active/<id>`, and starts 0.1's supervisor, which records
 * `started`, then `final.json`, and touches `events/<id>` when the task ends.
 * Returns the id once the task runs.
 */
export async function spawnV01(
  dir: string,
  command: string,
  options: V01Options = {},
): Promise<string> {
  for (const sub of ["", "/tasks", "/events", "/active", "/ids"]) {
    try {
      Deno.mkdirSync(dir + sub, { mode: 0o700 });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
  let n = Number(readOr(`${dir}/next`, "0").trim()) + 1;
  for (;; n++) {
    try {
      Deno.mkdirSync(`${dir}/tasks/b${n}`, { mode: 0o700 });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) continue;
      throw e;
    }
    break;
  }
  Deno.writeTextFileSync(`${dir}/next`, `${n}\n`, { mode: 0o600 });
  const id = `b${n}`;
  const taskDir = `${dir}/tasks/${id}`;
  const timeoutMs = options.timeoutMs ?? 0;
  const maxOutputBytes = options.maxOutputBytes ?? 1024 ** 3;
  const graceMs = options.graceMs ?? 2000;
  Deno.writeFileSync(`${taskDir}/output`, new Uint8Array(), { createNew: true, mode: 0o600 });
  const spec = {
    v: 1,
    id,
    command,
    description: "",
    cwd: options.cwd ?? null,
    createdAt: Date.now(),
    timeoutMs,
    maxOutputBytes,
    graceMs,
  };
  const tmp = `${taskDir}/task.json.${crypto.randomUUID()}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify(spec) + "\n", { createNew: true, mode: 0o600 });
  Deno.renameSync(tmp, `${taskDir}/task.json`);
  Deno.writeFileSync(`${dir}/active/${id}`, new Uint8Array(), { append: true, mode: 0o600 });
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      LAUNCHER,
      "bgtask",
      taskDir,
      `${dir}/events/${id}`,
      options.cwd ?? "",
      "arg",
      command,
      String(timeoutMs),
      String(maxOutputBytes),
      String(graceMs),
    ],
    detached: true,
    cwd: options.spawnerCwd,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const words = new TextDecoder().decode(out.stdout).split("\0");
  if (words[0] !== "ok") throw new Error(`0.1's launcher did not start ${id}: ${words.join(" ")}`);
  return id;
}

function readOr(path: string, fallback: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return fallback;
    throw e;
  }
}
