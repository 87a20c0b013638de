# shellcheck shell=bash source=lib.sh
. "${BASH_SOURCE[0]%/*}/lib.sh" #@include lib.sh
# shellcheck source=queue.sh
. "${BASH_SOURCE[0]%/*}/queue.sh" #@include queue.sh

# What Deno asks of running tasks: are they alive, end them, stop or continue them.
#
# Run as: BGTASK_SH=<this script> BGTASK_ISH=<stdin.sh> bash --posix -p -c '_pc=…; set +o posix +p; eval "$BGTASK_SH"' bgtask VERB ARGS…
#   alive "SUP_PID SUP_START TASK_PID TASK_START TOKEN TAG[ INPUT]"…
#                    one line per task: 1 alive, 0 not; with INPUT, an alive task's line
#                    also says whether it waits for input: "1 1", "1 0" ("1 -": unknown).
#                    TAG: the pid namespace it was recorded in ("-": none, see ns_look);
#                    "u": it runs in a namespace that cannot be seen from here (alive as far
#                    as we can tell), "n": nothing is left of it there (this namespace sees all)
#                    INPUT: "pipe FIFO_PATH" or "pty SID SID_START TTY_NR" (its terminal)
#   kill TASK_PID TASK_START TOKEN GRACE_MS[:SIGNAL] SUP_PID SUP_START TAG [SID SID_START]
#                    exit 3 if something survived SIGKILL, 4 if the task runs in a pid
#                    namespace that cannot be seen from here (nothing was done); SUP: the
#                    task's supervisor (its session holds the task's strays: see lib.sh);
#                    TAG: as alive's; SID: the task's terminal's session; SIGNAL: the
#                    first (TERM unless given: see kill_group)
#   kills "TASK_PID TASK_START TOKEN GRACE_MS SUP_PID SUP_START TAG[ SIGNAL]"…
#                    kill for many tasks at once (none on a terminal): "N 0" as the Nth
#                    (from 0) is gone, "N 1 PGID…" if something of it survived SIGKILL (in
#                    those process groups), "N 2" if
#                    it runs in a pid namespace that cannot be seen from here
#   signal TASK_PID TASK_START TOKEN SIGNAL SUP_PID SUP_START TAG [SID SID_START [STORE]]
#                    exit 1 if nothing of the task is left, 4 as kill's; with STORE (SID
#                    and SID_START empty for a task on no terminal), a STOP is a pause's:
#                    never left with a lock of that store held by a stopped process of the
#                    task (see pause_stop), exit 5 if it could not be, and it was left running
#   pidns                      this process's pid namespace's tag (see ns_look)
#   uptime                     the boot clock in ms (see mono_ms), as supervisors read it
#   wake PID START TOKEN           SIGURG to a stdin's holder (a watchdog: stdin.sh), if it is
#                                  that process and the task's
#   resize SID SID_START TTY_NR TOKEN ROWS COLS   a task's terminal's size; exit 1 if it is gone
#   environ                    the caller's umask, then its environment: NUL-separated
#   whoami                     "PID START" of the Deno process that asks, then its process
#                              group, then the task id and the store in its environment
#                              (BGTASK_TASK_ID, BGTASK_DIR; empty lines for none)
#   procs "PID START"…                                     one line per process: 1 alive, 0 not
#   tokens TOKEN…              one line per task token: 1 if a live process carries it, 0 not
#   starting STORE "TOKEN[ ID]"…  one line per task: 1 if someone still starts it (a live
#                              process carries its token or, given its id, is named by its
#                              launch marker: see q_claimer), 0 not
#   schedule STORE QUEUE…      frees the slots of tasks that ended or died unseen, starts what
#                              fits (see queue.sh)
#   ended STORE ID…            a task ended without its supervisor: hand its slot on, resolve
#                              the tasks that run after it
#   resolve STORE ID           a new task that runs after others: start it if they ended
# The verbs that may start tasks need the supervisor and queue scripts in
# $BGTASK_SUP and $BGTASK_QSH.
# Every answer opens with a NUL: what comes before it on stdout is no answer
# of ours (a `bash` on PATH that is a script printing a line before it runs
# the real one), and is dropped (control in run.ts).
printf '\0'
unset BGTASK_SH
_sh=${BGTASK_SUP-} _qsh=${BGTASK_QSH-} _ish=${BGTASK_ISH-}
unset BGTASK_SUP BGTASK_QSH BGTASK_ISH
# The queue files and markers it writes are the store's: 0600. (A task it
# starts gets the caller's umask back.)
private_umask

# task_alive PGID TOKEN LEADER_START: our_group, or the task's terminal's session.
task_alive() {
  our_group "$@" || { [[ -n ${_pty_sid-} ]] && pty_sess "$2" 0; }
}

# with_pty SID SID_START: the code of interactive tasks, and a task's terminal's session.
with_pty() {
  [[ -n ${_ish_loaded-} ]] || eval "$_ish"
  _ish_loaded=1 _pty_sid=$1 _pty_start=$2
}

# task_here SUP_PID SUP_START TASK_PID TASK_START TOKEN TAG [SID SID_START]:
# what a kill or a signal acts on, as seen from here (see ns_look): tp = the
# task's group, and its terminal's session (with_pty) or its supervisor's
# (sup_sess, for its strays). Status 4 when it runs in a pid namespace not
# seen from here, 1 when nothing of it is left there.
# shellcheck disable=SC2154 # _ntp, _nsp, _nsid: set by ns_look and ns_id (lib.sh)
task_here() {
  ns_look "$1" "$3" "$5" "$6"
  case $_nsv in unseen) return 4 ;; gone) return 1 ;; esac
  tp=$_ntp
  if [[ -n ${7-} ]]; then
    ns_id "$7"
    with_pty "$_nsid" "$8"
  else
    sup_sess "$_nsp" "$2" "$tp" "$4" "$5"
  fi
}

# task_stop PGID TOKEN LEADER_START: (pause) SIGSTOP to the task: its terminal's
# session (with_pty), its group and its strays. Status 1 when nothing of it is left.
task_stop() {
  local r=1
  [[ -n ${_pty_sid-} ]] && pty_stop "$2" && r=0
  signal_group "$1" "$2" "$3" STOP && r=0
  return "$r"
}

# task_cont PGID TOKEN LEADER_START: task_stop undone (SIGCONT).
task_cont() {
  if [[ -n ${_pty_sid-} ]]; then pty_cont "$@"; else signal_group "$@" CONT; fi
}

# store_locks STORE: _locks = the files of the store that a bgtask run by the
# task may hold a lock on (flock(2): Deno's lock, flock(1)): each queue's and
# each completion consumer's lock, and the ids folder (removal's). (A glob:
# no fork.)
store_locks() {
  local f
  _locks=()
  for f in "$1/$F_QUEUES"/*/lock "$1/$F_CONSUMERS"/*/lock "$1/$F_IDS"; do
    [[ -e $f ]] && _locks+=("$f")
  done
}

# fd_locked PROCDIR FD: status 0 when the process's descriptor FD is open on
# one of _locks (-ef: no fork) and holds a lock (the kernel lists, in its
# fdinfo, the locks its open file holds: "lock:" lines).
fd_locked() {
  local k l
  for l in "${_locks[@]}"; do
    [[ $1/fd/$2 -ef $l ]] || continue
    while read -r k _; do [[ $k == lock: ]] && return 0; done 2>/dev/null <"$1/fdinfo/$2"
    return 1
  done
  return 1
}

# any_locked: status 0 when /proc/locks names one of _locks' files (by inode,
# as this bash's own fdinfo gives it for the file opened): someone holds a
# lock on it; 1 when none does, and no process need be looked at.
any_locked() {
  local f fd k v ino=' '
  for f in "${_locks[@]}"; do
    { exec {fd}<"$f"; } 2>/dev/null || continue
    while read -r k v; do [[ $k == ino: ]] && ino+="$v " && break; done \
      2>/dev/null <"/proc/$BASHPID/fdinfo/$fd"
    exec {fd}<&-
  done
  while read -r _ _ _ _ _ v _; do
    [[ $ino == *" ${v##*:} "* ]] && return 0
  done 2>/dev/null </proc/locks
  return 1
}

# held_lock PGID: status 0 when a live process of the task (of group PGID, of
# the groups in _strays, of its terminal's session _pty_sid) holds a lock on
# one of _locks (fd_locked); then _hl_p is its /proc folder, _hl_n the
# descriptor. Its processes are found by one look (snap, as a kill's);
# processes this user may not look at are not seen (nor could they be
# stopped).
# shellcheck disable=SC2154 # _proc, _strays, _gm, _sm, _w: lib.sh's (strays, snap, words)
held_lock() {
  local p f g e
  local -a procs=()
  ((_proc && ${#_locks[@]})) || return 1
  any_locked || return 1
  unset _wg _ws
  declare -gA _wg=(["$1"]=1) _ws=()
  for g in "${_strays[@]}"; do _wg[$g]=1; done
  [[ -n ${_pty_sid-} ]] && _ws[$_pty_sid]=1
  snap
  for g in "${!_wg[@]}"; do
    words "${_gm[$g]-}"
    procs+=("${_w[@]}")
  done
  if [[ -n ${_pty_sid-} ]]; then
    words "${_sm[$_pty_sid]-}"
    for e in "${_w[@]}"; do procs+=("${e%:*}"); done
  fi
  for p in "${procs[@]}"; do
    for f in "/proc/$p"/fdinfo/[0-9]*; do
      fd_locked "/proc/$p" "${f##*/}" && _hl_p=/proc/$p _hl_n=${f##*/} && return 0
    done
  done 2>/dev/null
  return 1
}

# pause_stop PGID TOKEN LEADER_START STORE: task_stop for a pause, which must
# not leave a lock of the store held by a stopped process: a task that runs
# bgtask itself (a script that queues its shards with `bgtask run --queue`)
# stopped while its bgtask held a queue's lock kept that queue, and every
# bgtask that wanted its lock, waiting the whole pause. Stopped holding one
# (held_lock), the task is continued until that descriptor lets go of it
# (looked at every millisecond: one small read, no fork), and stopped again
# at once; and again if it took one meanwhile. Status 1 when nothing of it is
# left; 5 when it still held one 3 s after the first stop (its looks and its
# running in all: a deadline, not a sum of runs, which a holder that let go
# and took the lock again within each look never used up): it is then left
# running (the pause is refused), not stopped with it.
# shellcheck disable=SC2154 # _mono: lib.sh's (mono_ms)
pause_stop() {
  local start
  mono_ms
  start=$_mono
  task_stop "$1" "$2" "$3" || return 1
  for (( ; ; )); do
    group_stopped "$1"
    store_locks "$4"
    held_lock "$1" || return 0
    task_cont "$1" "$2" "$3"
    while fd_locked "$_hl_p" "$_hl_n"; do
      mono_ms
      ((_mono - start >= 3000)) && return 5
      nap 0.001
    done
    mono_ms
    ((_mono - start >= 3000)) && return 5
    task_stop "$1" "$2" "$3" || return 1
  done
}

# shellcheck disable=SC2034,SC2154 # w_*, _pty_dev: stdin.sh's
case ${1-} in
alive)
  shift
  w_mode=() w_sid=() w_in=() w_via=() w_vst=() out=()
  i=0
  for spec in "$@"; do
    # (Not read from a here-string: see words.) The rest is a path, kept whole.
    sp='' ss='' tp='' ts='' token='' tag='' mode='' rest=''
    if [[ $spec =~ ^([^ ]*)\ ([^ ]*)\ ([^ ]*)\ ([^ ]*)\ ([^ ]*)\ ([^ ]*)(\ ([^ ]*)\ ?(.*))?$ ]]; then
      sp=${BASH_REMATCH[1]} ss=${BASH_REMATCH[2]} tp=${BASH_REMATCH[3]} ts=${BASH_REMATCH[4]}
      token=${BASH_REMATCH[5]} tag=${BASH_REMATCH[6]} mode=${BASH_REMATCH[8]} rest=${BASH_REMATCH[9]}
    fi
    _pty_sid=''
    if [[ $mode == pty ]]; then
      words "$rest"
      a=${_w[0]-} b=${_w[1]-} c=${_w[2]-}
      with_pty "$a" "$b"
      _pty_tty=$c
    fi
    if alive_one "$sp" "$ss" "$tp" "$ts" "$token" "$tag" || { [[ -z $_nsv ]] && task_alive "$tp" "$token" "$ts"; }; then
      out[i]=1
      if [[ $_nsv == unseen ]]; then
        out[i]=u
        ((i++))
        continue
      fi
      # (Another namespace's task, seen from here: its pids as seen here.)
      if [[ $_nsv == seen ]]; then
        tp=$_ntp
        [[ -n $_pty_sid ]] && ns_id "$_pty_sid" && _pty_sid=$_nsid
      fi
      if [[ $mode == pipe ]]; then
        w_mode[i]=pipe w_sid[i]=$tp w_in[i]=$rest out[i]='1 -'
      elif [[ $mode == pty ]]; then
        out[i]='1 -'
        # Only while the terminal's session leader lives: once it has gone, the
        # terminal is hung up and nobody can read it.
        [[ -n $_pty_sid ]] && pty_dev "$c" && pty_leader &&
          w_mode[i]=pty w_sid[i]=$_pty_sid w_in[i]=$_pty_dev w_via[i]=$tp w_vst[i]=$ts
      fi
    else
      out[i]=0
      [[ $_nsv == gone ]] && out[i]=n
    fi
    ((i++))
  done
  if ((${#w_sid[@]})); then
    [[ -n ${_ish_loaded-} ]] || eval "$_ish"
    if ((_proc)); then
      wfi_scan
      for i in "${!w_res[@]}"; do out[i]="1 ${w_res[i]}"; done
    fi
  fi
  printf '%s\n' "${out[@]}"
  ;;
kill)
  # (Its asker may be gone before it ends: see kill_many.)
  trap '' PIPE
  task_here "$6" "$7" "$2" "$3" "$4" "${8-}" "${9-}" "${10-}"
  case $? in 4) exit 4 ;; 1) exit 0 ;; esac
  sig=''
  [[ $5 == *:* ]] && sig=${5#*:}
  kill_task "$tp" "$4" "$3" "${5%%:*}" "$sig" || exit 3
  ;;
kills)
  shift
  kill_many "$@"
  ;;
signal)
  r=1
  task_here "$6" "$7" "$2" "$3" "$4" "${8-}" "${9-}" "${10-}"
  case $? in 4) exit 4 ;; 1) exit 1 ;; esac
  if [[ $5 == STOP && -n ${11-} ]]; then
    pause_stop "$tp" "$4" "$3" "${11}"
    exit
  fi
  if [[ -n ${9-} ]]; then
    [[ $5 == CONT ]] && { pty_cont "$tp" "$4" "$3"; exit; }
    if [[ $5 == STOP ]]; then pty_stop "$4" && r=0; else pty_sess "$4" "$5" && r=0; fi
  fi
  signal_group "$tp" "$4" "$3" "$5" && r=0
  exit "$r"
  ;;
uptime)
  mono_ms
  printf '%s\n' "$_mono"
  ;;
pidns)
  pidns_tag
  printf '%s\n' "$_nstag"
  ;;
wake)
  proc_info "$2" && [[ $_state != Z ]] && same_start "$3" "$_start" && has_token "$2" "$4" || exit 1
  kill -URG "$2" 2>/dev/null || exit 1
  ;;
resize)
  with_pty "$2" "$3"
  _pty_tty=$4
  pty_resize "$5" "$6" "$7" || exit 1
  ;;
environ)
  # The caller's umask, then its environment as this bash was given it, byte
  # for byte: what a task that waits inherits. Left out: bgtask's script
  # variables (and test faults), which no task sees; names bash cannot
  # export, but for exported functions (BASH_FUNC_f%%=…: the task defines
  # them again, see task_fns); and the variables bash keeps read-only, which
  # it would refuse to export for the task.
  printf '%s\0' "${old_umask:-0022}"
  # Then its resource limits and nice value, one field of lines after
  # "@limits": "R SOFT" and "R HARD" for each of ulimit's letters R ("-":
  # none here), and "nice N" (see task_limits in supervisor.sh).
  printf '@limits\n'
  for r in c d e f i l m n q r s t u v x; do
    printf '%s ' "$r"
    ulimit -S "-$r" 2>/dev/null || echo -
    printf '%s ' "$r"
    ulimit -H "-$r" 2>/dev/null || echo -
  done
  nice_of "$$"
  [[ -n $_niceval ]] && printf 'nice %s\n' "$_niceval"
  printf '\0'
  if ((_proc)) && [[ -r /proc/$$/environ ]]; then
    while IFS= read -r -d '' kv; do
      n=${kv%%=*}
      # (An exported function: the task defines it again, see task_fns.)
      [[ $kv == BASH_FUNC_?*%%=* ]] && { printf '%s\0' "$kv"; continue; }
      [[ $kv == *=* && $n =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
      case $n in
      BGTASK_SH | BGTASK_SUP | BGTASK_QSH | BGTASK_ISH | BGTASK_TEST_FAULT) continue ;;
      SHELLOPTS | BASHOPTS | BASH_VERSINFO | EUID | PPID | UID) continue ;;
      esac
      printf '%s\0' "$kv"
    done </proc/$$/environ
  else
    while IFS= read -r n; do
      case $n in
      BGTASK_SH | BGTASK_SUP | BGTASK_QSH | BGTASK_ISH | BGTASK_TEST_FAULT) continue ;;
      SHELLOPTS | BASHOPTS | BASH_VERSINFO | EUID | PPID | UID) continue ;;
      esac
      printf '%s=%s\0' "$n" "${!n}"
    done < <(compgen -e)
  fi
  ;;
whoami)
  proc_info "$PPID" || exit 1
  # (The caller's environment is ours: Deno passes it on. Reading it here
  # needs no --allow-env.)
  printf '%s %s\n%s\n%s\n%s\n' "$PPID" "$_start" "$_pgrp" "${BGTASK_TASK_ID-}" "${BGTASK_DIR-}"
  ;;
procs)
  shift
  for spec in "$@"; do
    words "$spec"
    p=${_w[0]-} st=${_w[1]-}
    if proc_info "$p" && [[ $_state != Z ]] && same_start "$st" "$_start"; then echo 1; else echo 0; fi
  done
  ;;
tokens | starting)
  [[ $1 == starting ]] && store=$2 && shift
  shift
  # (A token has no space: "ID" comes only with starting's store.)
  for spec in "$@"; do
    t=${spec%% *} id=''
    [[ $spec == *" "* ]] && id=${spec#* }
    if [[ -n $id ]] && ((_proc)) && q_claimer "$store/$F_TASKS/$id"; then
      echo 1
    elif [[ -n $t ]] && token_alive "$t"; then echo 1; else echo 0; fi
  done
  ;;
schedule)
  store=$2
  shift 2
  for q in "$@"; do q_schedule "$q" 1; done
  ;;
ended)
  store=$2
  shift 2
  for t in "$@"; do task_ended "$t"; done
  ;;
resolve)
  store=$2
  resolve "$3"
  ;;
*)
  printf 'bgtask control: unknown verb "%s"\n' "${1-}" >&2
  exit 2
  ;;
esac
