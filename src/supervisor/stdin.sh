# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with supervisor.sh, control.sh and lib.sh; F_* from the store
# Interactive tasks: a stdin that is a pipe (FIFO) or a terminal (pty).
#
# Parsed only by the supervisors of tasks that use it (and by control.sh
# when it acts on one): a task with stdin /dev/null never reads this file.
# It needs lib.sh.
#
# stdin "pipe": the task folder's FIFO ($F_STDIN) is the task's stdin. The
# supervisor opens it read-write, then write-only, and drops the read-write
# end (no open blocks). The watchdog, forked next, keeps the write end for
# the task's whole life; the supervisor keeps no copy, and the task never
# gets one: so the FIFO is open for writers (bgtask's writeStdin, from any
# process) as long as the task runs, the task sees end-of-file only once the
# watchdog lets go, and a writer's non-blocking open fails with ENXIO once
# no process of the task reads. closeStdin: Deno creates $F_CLOSE, reads
# "PID START" from $F_HOLDER (written by the watchdog once its trap is set),
# and control.sh sends SIGURG to the watchdog (after checking pid, start time
# and token); the trap drops the write end. The watchdog checks $F_CLOSE
# after it has written $F_HOLDER, so a close sent before is never lost.
#
# stdin "pty": the same FIFO feeds a terminal. The task is util-linux
# script(1) (2.35 or later; else python3's pty module, the same contract):
# it copies the FIFO to the terminal and the terminal to the output file, and
# runs our wrapper as the leader of a second session on the terminal; the
# wrapper sets the size, records "SID START TTY_NR" in $F_PTY and execs the
# command. The tree of a task on a terminal is script's group AND that
# session: its processes carry the task's token (BGTASK_INVOCATION), and the
# session is signalled only while it is known to be the task's. script is
# never signalled while its session lives (on SIGTERM it would stop copying
# and kill only the leader, 2 s later); it leaves by itself ~10 ms after the
# session's leader. Closing a terminal's input types Ctrl-D (Deno writes it);
# the FIFO stays open (script, at end-of-file, sends one ^D and never reads
# again).

# ---- the launcher and the supervisor

# in_start: (the launcher) a task on a terminal needs script or python3.
in_start() {
  [[ $s_stdin == pipe ]] || pty_tool ||
    cannot_start no-pty "stdin \"pty\" needs util-linux script(1) 2.35 or later, or python3; neither was found"
}

# in_open: (the supervisor, before it forks the watchdog) creates the FIFO,
# opens its write end in _hold, and makes it the task's stdin (tin).
in_open() {
  local rw
  if ! { mkfifo -m 600 -- "$F_STDIN" 2>/dev/null && exec {rw}<>"$F_STDIN" && exec {_hold}>"$F_STDIN"; }; then
    cannot_start stdin "its stdin (a FIFO in the task's folder) cannot be created"
  fi
  exec {rw}>&-
  tin=$F_STDIN
}

# pty_status: (the supervisor) script(1) exits with 128+N when the command
# was ended by signal N: taken as that signal (an exit code of 129-159 on a
# terminal reads as a signal too: script cannot tell them apart).
pty_status() {
  [[ $w1 == Exit && $w2 =~ ^[0-9]+$ ]] && ((w2 > 128 && w2 < 160)) && w1='' rc=$w2
  return 0
}

# ---- the watchdog: holds the write end

# in_watch: (the watchdog, once the task runs) a pipe's holder; a terminal's session.
in_watch() {
  if [[ $s_stdin == pipe ]]; then in_hold; else pty_read; fi
}

# in_hold: (stdin "pipe") publishes the watchdog as the holder, closes at once
# if a close came first. The trap body must stay trivial (no read -t in it).
in_hold() {
  trap in_closed URG
  proc_info "$BASHPID"
  printf '%s %s\n' "$BASHPID" "$_start" >"$F_HOLDER"
  in_closed
}

# in_closed: drops the write end once a close was asked for.
in_closed() {
  [[ -n ${_hold-} && -e $F_CLOSE ]] || return 0
  exec {_hold}>&-
  _hold=
}

# in_reopened: (the watchdog, each round once the input is closed) lets
# through a process that opens the task's stdin again by name (/dev/stdin,
# the FIFO: `wc -c /dev/stdin`), which would wait for good: a FIFO's open
# for reading waits for a writer, and none comes after the close. An open
# for reading and writing, which never waits, wakes it; closed at once, it
# leaves the end-of-file a pipe gives.
in_reopened() {
  local fd
  { exec {fd}<>"$F_STDIN" && exec {fd}>&-; } 2>/dev/null
  return 0
}

# ---- stdin "pty"

# pty_tool: _pty_tool (script or python3) and _pty_bin (its path); status 1
# when neither is usable. script must be util-linux 2.35 or later (a stdin
# that is not a terminal is copied, its end-of-file becomes one ^D).
# BGTASK_PTY_TOOL (script, python3, none) narrows the choice, for tests.
pty_tool() {
  local v t=${BGTASK_PTY_TOOL-}
  unset BGTASK_PTY_TOOL
  _pty_tool='' _pty_bin=''
  if [[ $t != python3 && $t != none ]] && hash script 2>/dev/null; then
    _pty_bin=${BASH_CMDS[script]}
    v=$("$_pty_bin" -V 2>/dev/null)
    if [[ $v =~ util-linux\ ([0-9]+)\.([0-9]+) ]] &&
      ((BASH_REMATCH[1] > 2 || (BASH_REMATCH[1] == 2 && BASH_REMATCH[2] >= 35))); then
      _pty_tool=script
      return 0
    fi
  fi
  if [[ $t != script && $t != none ]] && hash python3 2>/dev/null; then
    _pty_bin=${BASH_CMDS[python3]} _pty_tool=python3
    return 0
  fi
  return 1
}

# pty_body: task_body (supervisor.sh) for a task on a terminal; keep
# the two in step. Still in the task's folder, it opens the record the
# wrapper writes; the wrapper gets what it needs in BGTASK_PTY_* variables,
# which it unsets. A terminal needs a type: xterm-256color unless one is set
# (the task's env may set TERM); COLUMNS and LINES would hide its size (from
# a recorded environment too, see inherit_env). The
# task's variables are exported using positional parameters only; after
# that only they and BGTASK_PTY_* count. script runs $SHELL -c: bash, until
# the wrapper gives the task its SHELL (and BASH_ENV, POSIXLY_CORRECT) back.
pty_body() {
  local fd cmd=$s_command long=0
  exec {fd}>"$F_PTY" || exit 126
  if ((s_long)); then cmd=$td/$F_COMMAND long=1; fi
  caller_env
  ((s_inherit)) && inherit_env
  cd -- "$rcwd" || exit 126
  task_vars
  export BGTASK_TASK_ID="$id"
  # The terminal's type: the spawner's (recorded, for a task that waited: the
  # starter's is no longer exported, and does not count), unless it has none
  # or a dumb one; the task's env may set another.
  local term=${TERM-} kv
  ((s_inherit)) && term=
  local -a penv=() pc=()
  caller_pc
  for kv in "${s_penv[@]}"; do
    case $kv in
    TERM=*) term=${kv#TERM=} ;;
    COLUMNS=* | LINES=*) ;;
    *) penv+=("$kv") ;;
    esac
  done
  [[ -z $term || $term == dumb ]] && term=xterm-256color
  unset COLUMNS LINES
  # bgtask's own variables come after the task's, so that they stand: a
  # task's env naming BGTASK_PTY_CMD (or tok) must not change what runs.
  set -- "BGTASK_PTY_FD=$fd" "BGTASK_PTY_ROWS=$s_rows" "BGTASK_PTY_COLS=$s_cols" \
    "BGTASK_PTY_BASH=$BASH" "BGTASK_PTY_CMD=$cmd" "BGTASK_PTY_LONG=$long" \
    "BGTASK_TASK_ID=$id" "BGTASK_INVOCATION=$tok"
  if [[ $_pty_tool == script ]]; then
    set -- "${pc[@]}" "${penv[@]}" "TERM=$term" "BGTASK_DIR=$store" "${s_env[@]}" "$@" \
      "BGTASK_PTY_WRAP=$PTY_WRAPPER" "$_pty_bin" script "$PTY_SCRIPT"
  else
    set -- "${pc[@]}" "${penv[@]}" "TERM=$term" "BGTASK_DIR=$store" "${s_env[@]}" "$@" \
      "BGTASK_PTY_WRAP=$PTY_WRAPPER" \
      "$_pty_bin" python3 "$PTY_PY"
  fi
  while (($# > 3)); do
    export "${1?}"
    shift
  done
  # The task's SHELL and BASH_ENV are those in its environment: exported ones
  # (a value bash set itself, or a starter's no longer exported, is not).
  [[ ${SHELL@a} == *x* ]] || unset SHELL
  [[ ${BASH_ENV@a} == *x* ]] || unset BASH_ENV
  # shellcheck disable=SC2153 # BGTASK_PTY_BASH: exported by the loop above
  export BGTASK_PTY_SH="${SHELL-}" BGTASK_PTY_HS="${SHELL+1}" SHELL="$BGTASK_PTY_BASH"
  # The bash that script starts reads no BASH_ENV (a function named read
  # would break the wrapper), and starts out of POSIX mode (in which an
  # exported function named like a special builtin, exec, is an error that
  # ends it); the wrapper gives both back to the task.
  export BGTASK_PTY_BE="${BASH_ENV-}" BGTASK_PTY_HB="${BASH_ENV+1}"
  unset BASH_ENV
  [[ ${POSIXLY_CORRECT@a} == *x* ]] && export BGTASK_PTY_PC="$POSIXLY_CORRECT" BGTASK_PTY_HP=1
  unset POSIXLY_CORRECT
  ((${#s_pfns[@]} + ${#_unfn[@]})) && task_fns
  if [[ $2 == script ]]; then exec "${_nice[@]}" "${_envfn[@]}" "$1" -q -e -c "$3" /dev/null; fi
  exec "${_nice[@]}" "${_envfn[@]}" "$1" -c "$3"
}

# The wrapper: the leader of the terminal's session (so $$ is the session id).
# With a stdin that is not a terminal, script starts the terminal at 0x0.
# Its bash runs in privileged mode (-p): it imports no function from the
# environment, where the task's are (a function named read would break it),
# and hands them on; it leaves that mode at once (as the supervisor, run.ts).
# script runs $SHELL -c PTY_SCRIPT: a bash that imports the functions, but
# runs one command, whose name is a path (no function's: bash imports none
# by such a name), in its own place (bash -c execs a lone simple command).
# The terminal is in iutf8 mode when the task's locale is UTF-8 (LC_ALL, else
# LC_CTYPE, else LANG: as terminal emulators and tmux set it), so that an
# erase (Backspace) in the line discipline takes a whole character, not its
# last byte.
# shellcheck disable=SC2016 # expanded by the wrapper's bash
PTY_SCRIPT='"$BGTASK_PTY_BASH" -p -c "$BGTASK_PTY_WRAP"'
# shellcheck disable=SC2016 # expanded by the wrapper's bash
PTY_WRAPPER='set +p
if [[ -n $BGTASK_PTY_HS ]]; then export SHELL=$BGTASK_PTY_SH; else unset SHELL; fi
if [[ -n $BGTASK_PTY_HB ]]; then export BASH_ENV=$BGTASK_PTY_BE; fi
_u=${LC_ALL:-${LC_CTYPE:-${LANG-}}}; _u=${_u,,}
if [[ $_u == *utf-8* || $_u == *utf8* ]]; then _u=iutf8; else _u=-iutf8; fi
stty rows "$BGTASK_PTY_ROWS" cols "$BGTASK_PTY_COLS" "$_u" 2>/dev/null
read -r _s </proc/$$/stat; _s=${_s##*) }; read -r -a _f <<<"$_s"
_b=; read -r _b </proc/sys/kernel/random/boot_id 2>/dev/null; _b=${_b//-/}
if [[ $_b =~ ^[0-9a-f]{12} ]]; then _b=+${BASH_REMATCH[0]}; else _b=; fi
printf "%s %s %s\n" "$$" "${_f[19]}$_b" "${_f[4]}" >&"$BGTASK_PTY_FD"
exec {BGTASK_PTY_FD}>&-
_c=$BGTASK_PTY_CMD _l=$BGTASK_PTY_LONG _p=${BGTASK_PTY_PC-} _h=${BGTASK_PTY_HP-}
unset BGTASK_PTY_HS BGTASK_PTY_SH BGTASK_PTY_HB BGTASK_PTY_BE BGTASK_PTY_PC BGTASK_PTY_HP BGTASK_PTY_ROWS BGTASK_PTY_COLS BGTASK_PTY_FD BGTASK_PTY_CMD BGTASK_PTY_LONG BGTASK_PTY_BASH BGTASK_PTY_WRAP _s _f _b _u
if [[ -n $_h ]]; then export POSIXLY_CORRECT=$_p; fi
if [[ $_l == 1 ]]; then exec -a bash "$BASH" -- "$_c"; fi
exec -a bash "$BASH" -c -- "$_c"'

# python3's pty module, when script will not do: the same contract as
# `script -q -e -c WRAPPER /dev/null` (stdin copied to the terminal, its
# end-of-file becomes one ^D; the terminal copied to stdout; the leader's exit
# status, 128+N for signal N), leaving ~50 ms after the leader.
#@verbatim
PTY_PY='
import os, pty, sys, select, signal, errno, fcntl
pid, m = pty.fork()
if pid == 0:
    b = os.environ["BGTASK_PTY_BASH"]
    os.execv(b, ["bash", "-p", "-c", os.environ["BGTASK_PTY_WRAP"]])
fcntl.fcntl(m, fcntl.F_SETFL, fcntl.fcntl(m, fcntl.F_GETFL) | os.O_NONBLOCK)
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
    signal.signal(s, lambda n, f: os.kill(pid, signal.SIGHUP if n == signal.SIGHUP else signal.SIGTERM))
inp, pend, status = 0, b"", None
while True:
    r = [m] + ([inp] if inp is not None and len(pend) < 65536 else [])
    w = [m] if pend else []
    try:
        rr, ww, _ = select.select(r, w, [], 0.05 if status is not None else 0.5)
    except InterruptedError:
        continue
    if m in rr:
        try:
            d = os.read(m, 65536)
        except OSError as e:
            d = b"" if e.errno == errno.EIO else None
        if d:
            while d:
                d = d[os.write(1, d):]
            continue
        if d == b"":
            break
    if inp is not None and inp in rr:
        d = os.read(inp, 65536)
        if d:
            pend += d
        else:
            os.close(inp)
            inp = None
            pend += b"\x04"
    if m in ww and pend:
        try:
            pend = pend[os.write(m, pend):]
        except BlockingIOError:
            pass
    if status is None:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            status = st
    elif not rr:
        break
if status is None:
    status = os.waitpid(pid, 0)[1]
sys.exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
'
#@verbatim

# pty_read: _pty_sid _pty_start _pty_tty from the task's terminal record (in
# the current folder: the task's); status 1 when there is none (yet).
pty_read() {
  local a b c
  _pty_sid='' _pty_start='' _pty_tty=''
  read -r a b c 2>/dev/null <"$F_PTY" || return 1
  [[ $a =~ ^[0-9]+$ && -n $b && $c =~ ^[0-9]+$ ]] || return 1
  _pty_sid=$a _pty_start=$b _pty_tty=$c
}

# pty_wait TPID: (the supervisor) waits until the wrapper has recorded the
# terminal, or the task has ended, or 10 s have passed.
pty_wait() {
  local n=0
  until pty_read; do
    proc_info "$1" && [[ $_state != Z ]] && ((n++ < 10000)) || return 1
    read -r -t 0.001 -u "${WD[0]}" _
  done
}

# pty_dev TTY_NR: _pty_dev = /dev/pts/N for a pseudo-terminal's tty_nr (majors 136-143).
pty_dev() {
  local maj=$((($1 >> 8) & 0xfff)) min=$((($1 & 0xff) | (($1 >> 12) & 0xfff00)))
  _pty_dev=''
  ((maj >= 136 && maj <= 143)) && _pty_dev=/dev/pts/$(((maj - 136) * 256 + min))
  [[ -n $_pty_dev ]]
}

# pty_sess TOKEN SIGNAL: sends SIGNAL (0: none) to every live process of the
# terminal's session (_pty_sid), if the session is still the task's: a live
# member carries TOKEN, or its leader is the very process recorded (pid and
# start). A session id is not reused while any process is in the session, so
# then every member is the task's. Status 1 when nothing of it is left.
pty_sess() {
  local p rc s ours=0
  _pty_m=()
  [[ -n $_pty_sid ]] && ((_proc)) || return 1
  for p in /proc/[0-9]*; do
    # (a plain read first: a member's line holds its session id; most lines
    # do not. The whole file: a command name may hold a newline.)
    s=''
    IFS= read -r -d '' s 2>/dev/null <"$p/stat"
    [[ $s == *" $_pty_sid "* ]] || continue
    stat_read "$p/stat" || continue
    [[ $_st_sid == "$_pty_sid" && $_st_state != Z ]] || continue
    _pty_m+=("${p#/proc/}")
    ((ours)) && continue
    has_token "${p#/proc/}" "$1"
    rc=$?
    if ((rc == 0)); then
      ours=1
    elif ((rc != 3)) && [[ ${p#/proc/} == "$_pty_sid" ]] && same_start "$_pty_start" "$_st_start"; then
      ours=1
    fi
  done
  ((ours)) || return 1
  [[ $2 == 0 ]] || kill "-$2" "${_pty_m[@]}" 2>/dev/null
  return 0
}

# pty_kill PGID TOKEN LEADER_START GRACE_MS [SIGNAL]: ends a task on a
# terminal, as any task: SIGNAL (TERM unless given, see kill_group) and CONT
# to its session (its handlers run, and what they print reaches the output
# while the session's leader lives), KILL after the grace; HUP, as a
# terminal's hangup, only to those that ignore SIGNAL but not HUP
# (interactive shells ignore TERM, and would wait out the grace). Then
# script, which leaves by itself once the session's leader has gone (killed
# only if it has not within a second). Status 1 when something survived
# SIGKILL for 5 s; _signalled=1 when the session had someone of the task's
# to signal.
pty_kill() {
  local g=$1 tok=$2 lst=$3 grace=$4 sig=${5:-TERM} bit deadline n=0 p k v
  # SIGNAL's bit in SigIgn (its number less one); none for HUP itself, or KILL.
  case $sig in HUP | KILL) bit='' ;; INT) bit=1 ;; QUIT) bit=2 ;; USR1) bit=9 ;; USR2) bit=11 ;; *) bit=14 ;; esac
  if pty_sess "$tok" "$sig"; then
    _signalled=1
    pty_sess "$tok" CONT
    for p in "${_pty_m[@]}"; do
      v=''
      while read -r k v; do
        [[ $k == SigIgn: ]] && break
        v=''
      done 2>/dev/null <"/proc/$p/status"
      [[ -n $bit && $v =~ ^[0-9a-f]{1,16}$ ]] && ((16#$v >> bit & 1 && !(16#$v & 1))) &&
        kill -HUP "$p" 2>/dev/null
    done
    mono_ms
    deadline=$((_mono + grace))
    while pty_sess "$tok" 0; do
      mono_ms
      if ((_mono >= deadline)); then
        pty_sess "$tok" KILL
        deadline=$((_mono + 5000))
        while pty_sess "$tok" 0; do
          mono_ms
          ((_mono >= deadline)) && return 1
          nap 0.005
        done
        break
      fi
      if ((n++ < 20)); then nap 0.005; else nap 0.025; fi
    done
  fi
  mono_ms
  deadline=$((_mono + 1000))
  while our_group "$g" "$tok" "$lst"; do
    mono_ms
    ((_mono >= deadline)) && {
      kill_group "$g" "$tok" "$lst" 0
      return
    }
    nap 0.005
  done
  return 0
}

# pty_stop TOKEN: (pause) stops the terminal's session, and waits (up to 2 s)
# until its leader has stopped, so that script, stopped next, has the news of
# that stop before it is stopped itself: read (and stopped itself), or pending
# (seen by pty_cont). Stopped before its leader stops, script could be
# continued by a resume that saw no news, and get the news then. Status 1
# when nothing of the session is left.
pty_stop() {
  local deadline
  pty_sess "$1" STOP || return 1
  mono_ms
  deadline=$((_mono + 2000))
  while stat_read "/proc/$_pty_sid/stat" && [[ $_st_state != [TtZX] ]]; do
    mono_ms
    ((_mono >= deadline)) && break
    nap 0.002
  done
  return 0
}

# pty_unstall HOLDER START: (the watchdog, each round) continues the
# terminal's holder (script, pid HOLDER) when it is stopped while its task is
# neither paused nor stopped itself: the session's leader runs, or has died.
# script had stopped itself on the news of a stop that was undone before it
# read it (a leader stopped and continued by someone, or a race with a resume
# that could not be seen), and the task's output would stall for good.
pty_unstall() {
  local pacc=0 psince=0
  [[ -e $F_PAUSED ]] && read -r pacc psince 2>/dev/null <"$F_PAUSED"
  [[ $psince == 0 ]] || return 0
  proc_info "$1" && [[ $_state == T ]] && same_start "$2" "$_start" || return 0
  # (a leader that died while stopped waits, a zombie, for script to reap it)
  stat_read "/proc/$_pty_sid/stat" && [[ $_st_state == [Tt] ]] && return 0
  kill -CONT "$1" 2>/dev/null
  return 0
}

# pty_cont PGID TOKEN LEADER_START: continues a paused task on a terminal:
# its session, then script, the terminal's holder (the leader of group
# PGID). script stops itself when it learns that its child was stopped by
# SIGSTOP, and continues the child once it is continued itself; if that news
# (a SIGCHLD) is still pending when it is continued, it stops itself again at
# once: then continue it once more, when it has. Status 1 when neither the
# session nor the group is the task's.
pty_cont() {
  local k v again=0 deadline r=1
  while read -r k v; do
    [[ $k == ShdPnd: && $v =~ ^[0-9a-f]+$ ]] || continue
    (((16#$v >> 16) & 1)) && again=1
    break
  done 2>/dev/null <"/proc/$1/status"
  pty_sess "$2" CONT && r=0
  signal_group "$1" "$2" "$3" CONT || return "$r"
  ((again)) || return 0
  mono_ms
  deadline=$((_mono + 2000))
  while proc_info "$1" && [[ $_state != T ]]; do
    mono_ms
    ((_mono >= deadline)) && return 0
    nap 0.005
  done
  signal_group "$1" "$2" "$3" CONT
  return 0
}

# ---- waiting for input

# _fd_reads PROCDIR FD: status 0 when FD is open for reading.
_fd_reads() {
  local k v
  while read -r k v; do
    if [[ $k == flags: ]]; then
      (((8#$v & 3) != 1))
      return
    fi
  done 2>/dev/null <"$1/fdinfo/$2"
  return 1
}

# _fd_waits PROCDIR FD: status 0 when FD could be what a poll or select
# waits on: open for reading, and a socket, a pipe or FIFO, a terminal or
# another device, or a file of no mounted filesystem: an anon_inode (eventfd,
# signalfd, timerfd, epoll, inotify, pidfd; bash's -f holds for those, whose
# mode has no file type) or a memfd. Files, directories, /dev/null, /dev/zero
# and the random devices are always ready: nobody waits on them.
_fd_waits() {
  local f=$1/fd/$2 k v fl=1 mnt=''
  [[ -S $f || -p $f || -c $f || -f $f ]] || return 1
  while read -r k v; do
    case $k in
    flags:) fl=$v ;;
    mnt_id:)
      mnt=$v
      break
      ;;
    esac
  done 2>/dev/null <"$1/fdinfo/$2"
  (((8#$fl & 3) != 1)) || return 1
  if [[ -c $f ]]; then
    [[ $f -ef /dev/null || $f -ef /dev/zero || $f -ef /dev/urandom || $f -ef /dev/random ]] && return 1
  elif [[ -f $f ]]; then
    if [[ -z $_mnts_read ]]; then
      # (once per scan) the mounts this process sees; a task in another mount
      # namespace has its files counted as waited on: not seen waiting
      _mnts_read=1
      while read -r k _; do _mnts[k]=1; done 2>/dev/null </proc/self/mountinfo
    fi
    [[ $mnt =~ ^[0-9]+$ && -n ${_mnts[mnt]-} ]] && return 1
  fi
  return 0
}

# _calm DIR: _calm = the context switch counts (voluntary, nonvoluntary) of
# the process or thread /proc/PID or /proc/PID/task/TID while it sleeps
# (state S), else empty. They change whenever it has run.
_calm() {
  local k v s='' n=''
  _calm=''
  while read -r k v _; do
    case $k in
    State:) s=$v ;;
    voluntary_ctxt_switches:) n=$v ;;
    nonvoluntary_ctxt_switches:) n+=" $v" ;;
    esac
  done 2>/dev/null <"$1/status"
  [[ $s == S ]] && _calm=$n
}

# _wfi_reads PROCDIR THREADDIR K: status 0 when the thread (asleep) of the
# process is blocked reading task K's input; _wfi_sc = its syscall line. The system call it sleeps in
# (THREADDIR/syscall) says what it waits for: a read of the input; an epoll
# watching it; a select or poll that can be waiting on nothing else. Where
# that file cannot be read (another user's process; Yama), the kernel
# function it sleeps in, with fd 0 being the input, stands in. Threads share
# the process's fds (PROCDIR/fd).
_wfi_reads() {
  local p=$1 th=$2 k=$3 sc fd t s w=0 lim seen=1
  local -a a=()
  _wfi_sc=''
  if [[ -n $nr_read ]]; then
    read -r -a a 2>/dev/null <"$th/syscall" || ((${#a[@]})) || seen=0
  fi
  if [[ -n $nr_read ]] && ((seen)) && [[ ${a[0]-} =~ ^[0-9]+$ ]]; then
    sc=${a[0]} _wfi_sc=${a[*]}
    if [[ $nr_read == *" $sc "* ]]; then
      fd=$((a[1]))
      [[ $p/fd/$fd -ef ${w_in[k]} ]] || { [[ ${w_mode[k]} == pty && $p/fd/$fd -ef /dev/tty ]]; }
      return
    elif [[ $nr_ep == *" $sc "* ]]; then
      # epoll: the fds watched by the epoll fd (arg 0) are listed in its fdinfo
      fd=$((a[1]))
      while read -r t s; do
        [[ $t == tfd: && $p/fd/${s%% *} -ef ${w_in[k]} ]] && return 0
      done 2>/dev/null <"$p/fdinfo/$fd"
    elif [[ $nr_sel == *" $sc "* || $nr_poll == *" $sc "* ]]; then
      # select or poll: which fds it watches is in its memory, out of reach.
      # It counts when it has the input open for reading and nothing else it
      # could be waiting on: select watches only fds below nfds (arg 0), poll
      # any. (So a program that waits on its input and a socket at once, as
      # nc does, or holds an eventfd or a pipe to a child, is not seen
      # waiting: better than counting curl, git or pip waiting on a server.)
      lim=-1
      [[ $nr_sel == *" $sc "* ]] && lim=$((a[1]))
      for t in "$p"/fd/*; do
        fd=${t##*/}
        ((lim < 0 || fd < lim)) || continue
        if [[ $t -ef ${w_in[k]} ]] || { [[ ${w_mode[k]} == pty && $t -ef /dev/tty ]]; }; then
          _fd_reads "$p" "$fd" && w=1
        elif _fd_waits "$p" "$fd"; then
          return 1
        fi
      done
      ((w))
      return
    fi
    return 1
  fi
  w=''
  read -r w 2>/dev/null <"$th/wchan" # (no newline at its end: read says 1)
  # Neither its system call nor its wait channel may be read (a setuid
  # program at its prompt, looked at by a user who is not root: sudo, su,
  # passwd; the kernel shows such a reader "0"), and it is still there:
  # whether it reads cannot be told (status 2), which is not "it does not".
  if [[ -n $nr_read ]] && ((!seen)) && [[ -z $w || $w == 0 ]] && [[ -e $th/stat ]]; then
    return 2
  fi
  case $w in
  *pipe_read | n_tty_read | wait_woken | poll_schedule_timeout* | do_select | do_sys_poll | ep_poll | do_epoll_wait) ;;
  *) return 1 ;;
  esac
  [[ $p/fd/0 -ef ${w_in[k]} ]]
}

# wfi_scan: for each task k of the arrays w_mode (pipe or pty), w_sid (pipe:
# the task's pid, which leads its session and group; pty: the terminal's
# session), w_in (the FIFO, or /dev/pts/N) and, for a terminal, w_via (the
# task's pid: script, which copies the FIFO to the terminal; w_vst, its
# start), w_res[k] = 1
# when a thread of one of its processes is blocked reading its input (see
# _wfi_reads), else 0. Every thread counts: a Go program, or any program
# that reads its input on a worker thread, sleeps in its read there while its
# main thread waits elsewhere; a process of one thread is looked at once, in
# /proc/PID. On a terminal, input written may still be on its way (in the
# FIFO, or in script, or in the kernel's terminal buffer) while the program
# still sleeps reading the terminal: see the end. One pass over /proc, no
# fork. On a terminal only its foreground group can read it.
wfi_scan() {
  local p s k t th w nr_read='' nr_ep='' nr_sel='' nr_poll=''
  local _mnts_read=''
  local -a _mnts=()
  local -A by=()
  case $HOSTTYPE in
  x86_64) nr_read=' 0 17 19 295 327 ' nr_ep=' 232 281 441 ' nr_sel=' 23 270 ' nr_poll=' 7 271 ' ;;
  aarch64) nr_read=' 63 65 67 69 286 ' nr_ep=' 22 441 ' nr_sel=' 72 ' nr_poll=' 73 ' ;;
  esac
  local -a calm=() who=() rcalm=() rsc=() rio=() unk=()
  local lead=0 # (this bash leads a session: it may not open a terminal, see _wfi_flush)
  stat_read "/proc/$BASHPID/stat" && [[ $_st_sid == "$BASHPID" ]] && lead=1
  w_res=()
  for k in "${!w_sid[@]}"; do
    w_res[k]=0
    by[${w_sid[k]}]=$k
  done
  for k in "${!w_via[@]}"; do
    _calm "/proc/${w_via[k]}"
    calm[k]=$_calm
  done
  for p in /proc/[0-9]*; do
    # A plain read first: a process of a watched session (or group) has its id
    # in its line (the whole file: a command name may hold a newline).
    s=''
    IFS= read -r -d '' s 2>/dev/null <"$p/stat"
    w=0
    for t in "${!by[@]}"; do
      [[ $s == *" $t "* ]] && w=1 && break
    done
    ((w)) || continue
    stat_read "$p/stat" || continue
    k=${by[$_st_sid]-}
    if [[ -z $k ]]; then
      # a task on a pipe: its process group
      k=${by[$_st_pgrp]-}
      [[ -n $k && ${w_mode[k]} == pipe ]] || continue
    fi
    ((w_res[k])) && continue
    if [[ ${w_mode[k]} == pty ]]; then
      ((_st_tpgid > 0 && _st_pgrp != _st_tpgid)) && continue
    fi
    if [[ $_st_nthr == 1 ]]; then
      [[ $_st_state == S ]] || continue
      _wfi_reads "$p" "$p" "$k"
      case $? in
      0) _wfi_mark "$k" "$p/task/${p#/proc/}" ;;
      2) unk[k]=1 ;;
      esac
      continue
    fi
    for th in "$p"/task/[0-9]*; do
      { stat_read "$th/stat" && [[ $_st_state == S ]]; } || continue
      _wfi_reads "$p" "$th" "$k"
      case $? in
      0)
        _wfi_mark "$k" "$th"
        break
        ;;
      2) unk[k]=1 ;;
      esac
    done
  done
  # On a terminal, input written may still be on its way: in the FIFO, in
  # script, or in the kernel, whose worker hands it to the terminal's line
  # discipline. The program must still sleep in its read once script, having
  # slept through the look (or, as script runs for each piece of output of a
  # task that prints while it asks, at a moment it sleeps with the FIFO
  # empty: _wfi_quiet), has had what it wrote handed on (_wfi_flush).
  # What the program printed before it read takes such a path too, to script
  # (_wfi_drain). Without script (python3's pty), as before.
  mono_ms
  local _wfi_until=$((_mono + 75))
  for k in "${!w_via[@]}"; do
    ((w_res[k])) || continue
    _wfi_drain "$k"
    case $? in
    0) _wfi_flush "$k" && continue ;;
    2)
      _calm "/proc/${w_via[k]}"
      if [[ -n $_calm && $_calm == "${calm[k]}" ]]; then
        _wfi_flush "$k" && continue
      else
        _wfi_quiet "$k" && continue
      fi
      ;;
    esac
    w_res[k]=0
  done
  # Not seen reading, and a process that could not be looked at: unknown.
  for k in "${!unk[@]}"; do
    ((w_res[k])) || w_res[k]='?'
  done
}

# _wfi_mark K THREADDIR: task K waits for input, in that thread; on a
# terminal, notes the thread's system call, the bytes it has read, and its
# context switch counts.
_wfi_mark() {
  w_res[$1]=1 who[$1]=$2
  [[ ${w_mode[$1]} == pty ]] || return 0
  rsc[$1]=$_wfi_sc
  _rchar "$2"
  rio[$1]=$_rchar
  _calm "$2"
  rcalm[$1]=$_calm
}

# _rchar DIR: _rchar = the bytes the thread /proc/PID/task/TID has read
# (rchar of its io), or empty where that cannot be read.
_rchar() {
  local k v
  _rchar=''
  while read -r k v; do
    if [[ $k == rchar: ]]; then
      _rchar=$v
      break
    fi
  done 2>/dev/null <"$1/io"
}

# _wfi_drain K: (wfi_scan, on a terminal held by script) what the program
# printed before it was seen reading is in the output, and nothing written
# to it is left in the FIFO. Its output reaches script through a kernel
# worker thread, as its input reaches it; script's poll of the terminal's
# master waits for that worker's hand-off before it answers (n_tty_poll),
# and script copies what it finds to the output before it polls again. So
# the look wakes script (SIGWINCH: script takes it from its signalfd and,
# its stdin being no terminal, does nothing else) and waits until script
# sleeps in its poll again, having run since (seen twice with the same
# context switch counts, half a millisecond apart: asleep, not just being
# woken), with the FIFO empty: then what was printed before the wake is in
# the output. Status 2 when script does not hold the terminal (python3's
# pty) or cannot be signalled (another user's task); 1 when script has not
# slept in its poll again by _wfi_until (wfi_scan's: 75 ms for all its
# terminals, then a few tries each; a starved worker: a later look may).
_wfi_drain() {
  local k=$1 pid=${w_via[$1]} via=/proc/${w_via[$1]} comm='' c last='' i
  read -r comm 2>/dev/null <"$via/comm"
  [[ $comm == script ]] && stat_read "$via/stat" && same_start "${w_vst[k]}" "$_st_start" || return 2
  _calm "$via"
  c=$_calm
  kill -WINCH "$pid" 2>/dev/null || return 2
  for ((i = 0; ; i++)); do
    # (The look's 75 ms, shared by its terminals; a few tries each after it.)
    mono_ms
    ((i < 4 || _mono < _wfi_until)) || break
    nap 0.0005
    _calm "$via"
    if [[ -z $_calm || $_calm == "$c" ]]; then
      last=''
      continue
    fi
    if [[ $_calm != "$last" ]]; then
      last=$_calm
      continue
    fi
    [[ -z $nr_poll ]] || _in_poll "$via" || continue
    _fifo_empty "$via"
    case $? in
    0) return 0 ;;
    2) return 1 ;;
    esac
  done
  return 1
}

# _in_poll VIA: script (/proc/PID) sleeps in a poll, select or epoll, by its
# system call (not in a write to the terminal: what it took from the FIFO
# it has written).
_in_poll() {
  local -a a=()
  read -r -a a 2>/dev/null <"$1/syscall"
  [[ ${a[0]-} =~ ^[0-9]+$ && $nr_poll$nr_sel$nr_ep == *" ${a[0]} "* ]]
}

# _fifo_empty VIA: nothing is left in script's FIFO, its fd 0 (read -t 0
# says so without reading): status 1 when something is, 2 when it cannot be
# opened.
_fifo_empty() {
  local q r=0
  [[ -p $1/fd/0 ]] && { exec {q}<>"$1/fd/0"; } 2>/dev/null || return 2
  read -r -t 0 -u "$q" _ && r=1
  exec {q}>&-
  return "$r"
}

# _wfi_quiet K: (wfi_scan, on a terminal whose script ran during the look)
# the input is not on its way to the program: nothing is left in the FIFO
# (read -t 0 says so without reading; script's fd 0 is the FIFO), script
# sleeps waiting (poll, select or epoll, not in a write to the terminal: what
# it took from the FIFO it has written), and, once the kernel has handed
# that on, the program's thread has not run since it was seen reading
# (_wfi_flush). Tried up to 15 times 5 ms apart: a task that prints often
# leaves script few quiet moments.
_wfi_quiet() {
  local k=$1 via=/proc/${w_via[$1]} i
  for ((i = 0; i < 15; i++)); do
    ((i)) && nap 0.005 # (busy: a quiet moment may come)
    _fifo_empty "$via" || return 1
    _calm "$via"
    if [[ -z $_calm ]] || ! _in_poll "$via"; then continue; fi
    _wfi_flush "$k"
    return
  done
  return 1
}

# _wfi_flush K: (wfi_scan, on a terminal whose script has been quiet) the
# program's thread still sleeps in the read it was seen in, having read
# nothing since (same system call, same bytes read: a read that timed out and
# began again counts; where its io cannot be read, it has not run at all:
# same context switch counts), once what script wrote to the terminal has
# been handed on. The kernel hands a terminal's input to its line discipline
# in a worker thread, which under load waited longer than the 25 ms the look
# used to allow (a program woken by its answer read as still waiting: an
# agent answered one prompt twice); a poll of the terminal runs that hand-off
# before it answers (n_tty_poll), so the look polls it (read -t 0: a select
# that reads nothing), and waits as long as the kernel does. Not when this
# bash leads a session (lead, wfi_scan's): its open would make the terminal
# its own. (What the program printed takes such a path to script: only
# script can poll that side, _wfi_drain.)
_wfi_flush() {
  local k=$1 q a
  if ((!lead)) && [[ -c ${w_in[k]} ]] && { exec {q}<"${w_in[k]}"; } 2>/dev/null; then
    read -r -t 0 -u "$q" _
    exec {q}<&-
  else
    nap 0.025 # (the terminal cannot be polled: give the kernel's worker the old moment)
  fi
  _calm "${who[k]}"
  [[ -n $_calm ]] || return 1
  if [[ -n ${rio[k]} ]]; then
    _rchar "${who[k]}"
    [[ $_rchar == "${rio[k]}" ]] || return 1
  else
    [[ $_calm == "${rcalm[k]}" ]] || return 1
  fi
  [[ -z ${rsc[k]} ]] && return 0
  read -r -a a 2>/dev/null <"${who[k]}/syscall" && [[ "${a[*]}" == "${rsc[k]}" ]]
}

# pty_leader: the terminal's session leader is alive and the one recorded
# (same start time, same terminal: a pts number is reused once freed).
pty_leader() {
  stat_read "/proc/$_pty_sid/stat" &&
    [[ $_st_state != Z && $_st_tty == "$_pty_tty" ]] && same_start "$_pty_start" "$_st_start"
}

# pty_resize TOKEN ROWS COLS: sets the terminal's size (the kernel sends
# SIGWINCH to its foreground group), while its session's leader is the one
# recorded (same start, same terminal: a pts number is reused once freed).
pty_resize() {
  pty_dev "$_pty_tty" && pty_leader || return 1
  has_token "$_pty_sid" "$1"
  (($? != 3)) || return 1
  win_size "$_pty_dev" "$2" "$3"
}

# win_size DEV ROWS COLS: sets a terminal's rows and columns in one change
# (one TIOCSWINSZ), by perl or else python3. stty, the last resort, makes two
# (rows, then columns: two SIGWINCH): a program that reads the size on the
# first sees the new rows beside the old columns, and bash, whose trap does
# not run again for a signal that comes while it runs, kept that size.
# TIOCSWINSZ is _IOW('t', 103, struct winsize) on alpha, mips, powerpc and
# sparc, 0x5414 on Linux's other architectures. Perl's and python's
# variables that load code are left out.
win_size() {
  if hash perl 2>/dev/null; then
    PERL5OPT='' PERL5LIB='' PERLLIB='' perl -e '
use Fcntl;
require Config;
my $n = $Config::Config{archname} =~ /^(alpha|mips|powerpc|ppc|sparc)/ ? 0x80087467 : 0x5414;
sysopen(my $f, $ARGV[0], O_RDONLY | O_NOCTTY | O_NONBLOCK) or exit 1;
ioctl($f, $n, pack("S4", $ARGV[1], $ARGV[2], 0, 0)) or exit 1;' "$@" 2>/dev/null
  elif hash python3 2>/dev/null; then
    python3 -I -c '
import fcntl, os, struct, sys, termios
f = os.open(sys.argv[1], os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
fcntl.ioctl(f, termios.TIOCSWINSZ, struct.pack("4H", int(sys.argv[2]), int(sys.argv[3]), 0, 0))' "$@" 2>/dev/null
  else
    stty -F "$1" rows "$2" cols "$3" 2>/dev/null
  fi
}
