/**
 * Bash functions shared by the supervisor, the liveness check and kill.
 *
 * Everything that touches processes runs in bash, not in Deno: `Deno.kill`
 * demands unscoped `--allow-run` and `/proc` reads demand `--allow-all`, while
 * bash may signal and read `/proc` freely under `--allow-run=bash`.
 *
 * Conventions: functions set globals (`_now`, `_state`, `_start`)
 * instead of printing, so that no call forks a subshell.
 *
 * @module
 */

/** The shared functions, as bash source. */
export const BASH_LIB = `
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
