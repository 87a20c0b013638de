# shellcheck shell=bash source=lib.sh disable=SC2154 # F_*: the store's names, set before this script
. "${BASH_SOURCE[0]%/*}/lib.sh" #@include lib.sh

# The launcher, the supervisor and the watchdog of one task.
#
# Run as: BGTASK_SH=<this script> BGTASK_QSH=<queue.sh> BGTASK_ISH=<stdin.sh> \
#   BGTASK_INVOCATION=<the task's token> bash --posix -p -c '_pc=…; set +o posix +p; eval "$BGTASK_SH"' bgtask-ID start STORE ID MODE
#   MODE report: an immediate spawn; prints "ok\0STARTED\0" (the started record), or "error\0REASON\0"
#                when the task cannot start, on stdout and leaves the task to the caller.
#   MODE record: a deferred start (queue, dependencies); nobody listens, so a task
#                that cannot start gets a final record saying why.
#   MODE become: as record, run by a supervisor that handed its slot on and
#                exec'd (see handoff): this process is the supervisor.
#
# Process tree, once the launcher has exited:
#
#   bash  supervisor    (own process group) waits for the task, records how it
#    │                   ended, hands its slot on
#    ├─ bash  watchdog   (forked first) enforces the timeout and the output cap,
#    │                   and ends a task whose folder was deleted (nobody could reach it)
#    └─ bash -c "$cmd"   the task: leader of its own process group, so a group kill
#        └─ …            reaches its children; in a session without a terminal (its
#                        leader, the launcher, has left); the pid in TaskInfo
#
# Every file of the task is written relative to the supervisor's working
# directory, which is the task's folder: if the store is deleted (and maybe
# created again with the same ids), those writes fail instead of landing in a
# new task's folder. Writes outside the folder (the completion log) are made
# only while the folder's path still leads to this very folder (test -ef).

# The script text travels in the environment, never on the command line (so
# `ps` shows a short line with the task id); it must not reach the task. The
# queue code (queue.sh) comes apart, parsed only when a task ends that
# anyone waits for, and so does the code of interactive tasks (stdin.sh),
# parsed only for a task whose stdin is a pipe or a terminal (each kilobyte
# of script costs every spawn ~0.3 ms).
s_penv=() s_pfns=() _nice=() _envfn=() _unfn=()
_sh=${BGTASK_SH-} _qsh=${BGTASK_QSH-} _ish=${BGTASK_ISH-} _fault=${BGTASK_TEST_FAULT-}
# (Passed on to the supervisors it starts, as their spawner's would be: q_exec.)
_fault_env=$_fault
unset BGTASK_SH BGTASK_QSH BGTASK_ISH BGTASK_TEST_FAULT

verb=${1-} store=${2-} id=${3-} mode=${4-record}
# A test's fault, "FAULT:STORE", is for that store's supervisors only: the
# test files of a suite share one process, and so its environment.
if [[ $_fault == *:"$store" ]]; then _fault=${_fault%%:*}; else _fault=''; fi
td=$store/$F_TASKS/$id
tok=${BGTASK_INVOCATION-}
_lcset=${LC_ALL+x} _lcval=${LC_ALL-}
# OLDPWD and SHLVL as this bash was given them, for the task (see task_vars).
_opwd=${OLDPWD-} _opwdset=${OLDPWD+x} _shlvl=${SHLVL-}
LC_ALL=C

# oom_count: the kernel's count of processes its out-of-memory killer ended
# since boot (oom_kill in /proc/vmstat, Linux 4.13 and later) in _oom; empty
# where it cannot be read. It counts the whole machine's (a container's
# host's too): a rise while a task ran says an OOM kill happened, not whose.
# (~0.14 ms: mapfile reads the file in blocks; a match by regex, as a
# pattern with a leading * on 4 KB takes ~5 ms.)
oom_count() {
  local -a v
  local IFS=' ' s
  _oom=
  mapfile -t v </proc/vmstat 2>/dev/null || return 0
  s=" ${v[*]} "
  [[ $s =~ ' oom_kill '([0-9]+) ]] && _oom=${BASH_REMATCH[1]}
}

# write_final STATUS EXITCODE SIGNAL ERROR BY [MORE]: claims this task's final record.
# A record the disk refuses (full) is held here and written once there is
# room, with the time of the first try: how the task ended is known only to
# this process, and a reader would record it lost (the task reads as running
# meanwhile; its queue's slot stays taken).
write_final() { #@lazy E
  local rc
  _final_at=''
  for (( ; ; )); do
    write_final_at . "$@"
    rc=$?
    ((rc == 2)) || break
    _final_at=${_final_at:-$_now}
    room_wait || break
  done
  _final_at=''
  return "$rc"
}

# room_wait [FILE]: after a write the disk refused (to FILE, else in this
# folder), waits a little for room; status 1 to give up: a kill was asked
# for (its asker was told "killed", and a reader records it so once there is
# room: a kill needs none), the folder is no longer the store's, FILE cannot
# be written at all (not a matter of room: its mode, a read-only file
# system), or an hour has passed.
ROOM_TRIES=7200 # (half a second each)
# How long past a kill's grace the watchdog lets the killer finish its kill
# (it signals the tree itself) before finishing it (the killer is gone).
KILL_ORPHAN_MS=3000
_room_tries=0
room_wait() { #@lazy K
  [[ -e $F_KILL ]] && return 1
  still_ours && [[ -w ${1:-.} ]] || return 1
  ((_room_tries++ < ROOM_TRIES)) || return 1
  nap 0.5
}

# still_ours: whether the task folder's path still leads to this process's
# working directory, the folder itself (a store deleted, and maybe made again
# with the same ids, answers no). Compared through /proc's link to the working
# directory, which needs no permission on the folder: a chmod 000 of it must
# not read as a deleted store. Without /proc, through ".".
still_ours() {
  if ((_proc)) && [[ -e /proc/$BASHPID/cwd ]]; then [[ $td -ef /proc/$BASHPID/cwd ]]; else [[ $td -ef . ]]; fi
}

# announce: tells the store this task has finished, if this folder still
# belongs to the store (a deleted store's old task must not touch a new one).
announce() { #@lazy E
  still_ours || return 0
  # (Its completion is told only here: a full disk's refusal is waited out.)
  until announce_to "$id"; do room_wait "$store/$F_LOG" || return 0; done
}

# handoff [become]: the task's processes are gone; whatever waits for it may
# start (its queue's next task, the tasks that run after it). Only while this
# folder still belongs to the store. With "become" (the supervisor, its task
# reaped, its watchdog gone), this process becomes the supervisor of the
# first task it starts: an exec, not a new process (no fork, no new session,
# and the group it leads already has no terminal); the exec gives it that
# task's token. Any other task it starts gets a process of its own.
handoff() { #@lazy E
  still_ours || return 0
  # Only a task in a queue where someone waits in line, or one that others
  # run after, has anyone to hand on to. The line is looked at without the
  # queue's lock (a fork and an exec of flock(1) saved, in a queue that keeps
  # up): our final record is written, so a spawner that joins the line after
  # this look sees our slot free and starts the line itself (spawn.ts).
  [[ -n $s_queue && -s $store/$F_QUEUES/$s_queue/list || -d $store/$F_DEPS/$id ]] || return 0
  if [[ -z ${_qsh_loaded-} ]]; then
    eval "$_qsh"
    _qsh_loaded=1
  fi
  # shellcheck disable=SC2034 # read by q_launch
  q_become=${1-} q_next=''
  task_ended "$id"
  [[ -n $q_next ]] || return 0
  q_exec "$q_next" "$q_next_token" become
}

# spawner_gone: whether the process that spawned this task with
# killOnDispose (s_spawner, "PID START") is gone, or a zombie, without having
# closed its manager (which kills its tasks first): a Ctrl-C of a `deno
# test`, a crash, a SIGKILL. Status 1 (not gone) for a task without one.
spawner_gone() {
  [[ -n $s_spawner ]] && ((_proc)) || return 1
  stat_read "/proc/${s_spawner%% *}/stat" || return 0
  [[ $_st_state == Z ]] || ! same_start "${s_spawner#* }" "$_st_start"
}

# record_spawner_gone: the final record of a task ended because its spawner is gone.
record_spawner_gone() { #@lazy K
  write_final killed null null "killed: the process that spawned it with killOnDispose (pid ${s_spawner%% *}) ended without closing its TaskManager" kill
}

# kill_grace: _kgrace = the grace of the kill someone asked for (the
# request's first word; the default when it is unreadable), _ksig its first
# signal (INT for "SIGINT" on the request's second line; TERM without one,
# as a request of an earlier bgtask has none).
kill_grace() { #@lazy K
  local l=''
  _kgrace='' _ksig=TERM
  { read -r _kgrace _ && read -r l; } 2>/dev/null <"$F_KILL"
  [[ $_kgrace =~ ^[0-9]+$ ]] || _kgrace=2000
  [[ $l =~ ^SIG(INT|HUP|QUIT|USR1|USR2|KILL)$ ]] && _ksig=${BASH_REMATCH[1]}
}

# killed_on_request: writes the record of a task someone asked to kill (the
# asker ends the tree; we record it once nothing of it is left).
killed_on_request() { #@lazy K
  local how
  kill_grace
  # (What outlast_kill could not end: known without another look, which at
  # every killed task's end made 200 tasks killed at once take half as long
  # again.)
  left_note "${_oleft-}"
  # (The words of killRecord in kill.ts.)
  how="SIG$_ksig; SIGKILL if anything was left after $_kgrace ms"
  [[ $_ksig == KILL ]] && how=SIGKILL
  write_final killed null null "killed on request ($how)$_lnote" kill
}

# left_note GROUPS: _lnote = what a task's record adds of the processes its
# end could not end, in process groups GROUPS (the task's, its strays'; none:
# nothing): another user's processes (a command run through sudo), or, for
# root, processes stuck in the kernel.
left_note() { #@lazy K
  _lnote=''
  [[ -n $1 ]] || return 0
  if ((EUID)); then
    _lnote="; processes of it run on (process groups $1) as another user, whom this one cannot signal (a command run through sudo): end them as that user (sudo kill -KILL -- -${1// / -})"
  else
    _lnote="; processes of it (process groups $1) outlived SIGKILL, stuck in the kernel (ps -o pid,stat,wchan,args -g ${1// /,})"
  fi
}

# outlast_kill: the task's shell is gone, and someone's kill is ending what
# is left of its tree (kill(): its first signal, SIGTERM unless it asked for
# another, then SIGKILL after the grace it was given). We add no signal
# while that grace runs: a second SIGTERM cuts short a graceful shutdown
# (many programs take it as "stop now"), and the grace to give is the
# kill's, not the spawn's. What outlives it by 5 s (the asker died
# half-way) we end.
outlast_kill() { #@lazy K
  local deadline n=0
  kill_grace
  mono_ms
  deadline=$((_mono + _kgrace + 5000))
  while our_group "$tpid" "$tok" "" || { [[ -n ${_pty_sid-} ]] && pty_sess "$tok" 0; }; do
    mono_ms
    if ((_mono >= deadline)); then
      # (What even this leaves: see killed_on_request.)
      kill_task "$tpid" "$tok" "" 0 "$_ksig" || _oleft=$_kleft
      return
    fi
    # Quick looks at first (most trees end at the SIGTERM), fewer later: a
    # long grace must not cost a look at /proc every 25 ms (the asker looks too).
    if ((n++ < 20)); then nap 0.005; elif ((n < 60)); then nap 0.025; else nap 0.1; fi
  done
}

# unrecorded_start: (supervise) the task's start could not be recorded:
# its tree is ended at once, the watchdog told to leave, and the start
# refused as the disk's (the empty record removed: the task never ran, as
# far as the store can tell; its spawner removes it, a scheduler's launch
# records it failed).
unrecorded_start() { #@lazy K
  kill_task "$tpid" "$tok" "$tst" 0
  end_watch
  command rm -f -- "$F_STARTED" 2>/dev/null
  cannot_start disk-full "its start could not be recorded: the disk is full"
}

# cannot_start REASON DETAIL: a task that cannot start.
cannot_start() { #@lazy K
  # Said once: not again by the trap of a supervisor that exits (unforked).
  trap - EXIT TERM
  if [[ $mode == report ]]; then
    printf 'error\0%s\0' "$1"
    exit 0
  fi
  if write_final failed null null "cannot start: $2" start; then
    announce
  fi
  handoff
  exit 0
}

# unforked EXIT|TERM PID: the trap on exit and SIGTERM of the supervisor
# until the task is forked (and of the launcher until the supervisor is),
# set by the shell PID (trap_unforked). Then either is a fork that failed: at
# the process limit (ulimit -u, a pids cgroup) bash gives up after 15 s of
# retries, sends SIGTERM to its own process group (ours) and exits, and
# nobody else could ever say why the task did not start. A child (the
# task's fork, the watchdog) runs the trap too if it ends before bash has
# reset the traps it inherited: the task's fork, killed at once (a kill at
# its launch, a start the disk refused), said "the process limit was
# reached" on the spawner's pipe or in the task's record. Not its to say:
# it ends as it would have.
# shellcheck disable=SC2317 # called by the trap
unforked() {
  if [[ $BASHPID != "$2" ]]; then
    trap - EXIT TERM
    [[ $1 == TERM ]] && kill -TERM "$BASHPID"
    return 0
  fi
  [[ -n ${tpid-} ]] || no_fork
}

# trap_unforked: unforked as this shell's trap on exit and SIGTERM.
trap_unforked() {
  _trapper=$BASHPID
  trap 'unforked EXIT "$_trapper"' EXIT
  trap 'unforked TERM "$_trapper"' TERM
}

# no_fork: a fork failed (see unforked), the launcher's of the supervisor
# too: the task cannot start, and says why.
# shellcheck disable=SC2317 # called by the trap
no_fork() { #@lazy K
  cannot_start fork "no process could be created: the process limit was reached (ulimit -u, or a cgroup's pids.max)"
}

# task_gone PID START: the task's process is no more (reaped: its pid is
# free, or another process's). Without /proc, by its pid alone.
task_gone() {
  if ((_proc)); then
    proc_info "$1" && [[ -z $2 || $_start == "$2" ]] && return 1
  else
    kill -0 "$1" 2>/dev/null && return 1
  fi
  return 0
}

# fault_go: (tests only) waits until the test creates STORE/fault-go, 60 s at most.
fault_go() { #@lazy K
  local n=0
  while [[ ! -e $store/fault-go ]] && ((n++ < 6000)); do nap 0.01; done
}

# first_line: _first = the supervisor's first line (see watchdog); status 1
# at its end of file (the supervisor is gone), or when it will never come: a
# supervisor whose fork of the task failed (the process limit: bash retries
# a fork for 15 s) runs its EXIT trap, in which bash 5.2 first waits for the
# last child it made, this watchdog, which waited for its line: both hung
# (the spawn too, on the launcher's pipe the supervisor holds). Once 20 s
# have passed with the supervisor's only child this one, it never forked the
# task: we leave, and it goes on to record why the task did not start.
first_line() { #@lazy W
  local part rc waited=0 s=''
  local -a kids
  _first=''
  for (( ; ; )); do
    IFS= read -r -t 5 part
    rc=$?
    _first+=$part
    ((rc == 0)) && return 0
    ((rc > 128)) || return 1
    ((_proc && (waited += 5) >= 20)) || continue
    IFS= read -r -d '' s 2>/dev/null <"/proc/$BASHPID/stat"
    after_comm "$s" || continue
    words "$_ac"
    kids=()
    # (No newline at its end: read says 1, the list read.)
    read -r -a kids 2>/dev/null <"/proc/${_w[1]}/task/${_w[1]}/children"
    [[ ${#kids[@]} == 1 && ${kids[0]} == "$BASHPID" ]] && return 1
  done
}

# from_started: _first made from the task's start record, when the
# supervisor died (SIGKILLed) after writing it and before telling us (two
# printfs apart, but a loaded machine may pause it there: CI, once): the
# task runs, recorded started, and nobody else would enforce its timeout or
# hand its queue's slot on until someone looked. Status 1 when the record
# is not there or names another supervisor (it died before: a look settles
# the task then). The record has the start on the wall clock only: the
# boot clock's is taken as that far back from now.
from_started() { #@lazy W
  local rec='' sup=${_trapper-}
  # (Our supervisor: trap_unforked noted its pid in it just before it forked us.)
  [[ -n $sup ]] || return 1
  IFS= read -r rec 2>/dev/null <"$F_STARTED"
  words "$rec"
  # "SUPERVISOR SUP_START PID LEADER_START START_MS NS"
  [[ ${_w[0]-} == "$sup" && ${_w[2]-} =~ ^[0-9]+$ && ${_w[4]-} =~ ^[0-9]+$ ]] || return 1
  now_ms
  mono_ms
  # "PID START_MS LEADER_START SUPERVISOR OFD MONO0", the supervisor's
  # descriptor unknown ("-": only read while the supervisor lives).
  _first="${_w[2]} ${_w[4]} ${_w[3]} $sup - $((_mono - (_now - _w[4])))"
}

# watchdog: enforces the timeout and the output cap without any Deno process.
# Its stdin is a pipe from the supervisor: first "PID START_MS LEADER_START
# SUPERVISOR OFD" (the task's; the supervisor's pid and its descriptor of the
# output, see past_cap); then "e" and end-of-file
# once the supervisor has reaped the task (leave), or end-of-file alone when
# the supervisor died (guard the task). The end-of-file is what counts: bash's
# `read -t` can drop a byte that arrives as it times out, so the "e" only
# spares the look at /proc that tells a close from a death.
watchdog() { #@lazy W
  local tp m0 tst sup_pid sup_ofd reason='' iv rem s sup=1 pacc psince f g how grace=$s_grace
  local reaped=0 said rc lastpos=0 count kseen=''
  ((_proc)) && printf 'bgtask %s wd' "$id" >"/proc/$BASHPID/comm" 2>/dev/null
  # Naps without a fork (nap would make a pipe with one): on our own output
  # pipe, opened for reading and writing, which nobody writes to. A watchdog
  # must not fork to wait: at the process limit (ulimit -u, a pids cgroup),
  # bash retries a fork for 15 s, and a timeout would be enforced that late.
  ((_proc)) && [[ -e /proc/$BASHPID/fd/1 ]] && exec {_napfd}<>"/proc/$BASHPID/fd/1" 2>/dev/null
  first_line || from_started || exit 0
  words "$_first"
  tp=${_w[0]-} tst=${_w[2]-} sup_pid=${_w[3]-} sup_ofd=${_w[4]-}
  # (The start on the boot clock: the timeout counts from it, see mono_ms.)
  m0=${_w[5]-0}
  # An interactive task's stdin: this process holds the FIFO's write end.
  [[ $s_stdin == null ]] || in_watch
  while :; do
    iv=1000
    ((s_cap > 0)) && iv=250
    if ((s_timeout > 0)); then
      # Paused time does not count: the pause record says how much there
      # was ("TOTAL_MS SINCE_MS", SINCE 0 while running).
      pacc=0 psince=0
      [[ -e $F_PAUSED ]] && read -r pacc psince <"$F_PAUSED" 2>/dev/null
      mono_ms
      rem=$((m0 + s_timeout + pacc - _mono))
      if ((psince > 0)); then
        :
      elif ((rem <= 0)); then
        reason=timeout
        break
      elif ((rem < iv)); then
        iv=$rem
      fi
    fi
    printf -v s '%d.%03d' $((iv / 1000)) $((iv % 1000))
    if ((sup)); then
      read -r -n 1 -t "$s" said
      rc=$?
      # "e": the supervisor has reaped the task (sent before it closes the
      # pipe; if a read that times out drops it, the end-of-file says the same).
      ((rc == 0)) && [[ $said == e ]] && exit 0
      if ((rc == 1)); then
        # End-of-file: still the supervisor's child means it closed the pipe,
        # unless it is dying (killed: its files close before we are handed
        # to init; the kernel marks it exiting, flag PF_EXITING 0x4, first).
        ((_proc)) || exit 0
        read -r f 2>/dev/null <"/proc/$BASHPID/stat"
        after_comm "$f"
        words "$_ac"
        if [[ ${_w[1]} == "$sup_pid" ]]; then
          read -r f 2>/dev/null <"/proc/$sup_pid/stat"
          after_comm "$f"
          words "$_ac"
          (((${_w[6]:-0} & 4) == 0)) && exit 0
        fi
        sup=0
      elif task_gone "$tp" "$tst"; then
        # The task is reaped, and the supervisor, which closes this pipe
        # once the task's end is noted, has not, on the second look in a
        # row: the task ended in the instant before the supervisor began to
        # wait for us, and bash runs the trap held back then only once that
        # wait is over (seen once in ~4,000 spawns). We leave, so that its
        # wait ends; what was ours to do ended with the task.
        # (Tests only: not before the test says so, see late-wait; wd-held:
        # the word must come.)
        [[ $_fault == @(late-wait|wd-held) && ! -e $store/fault-wd-go ]] && reaped=0
        ((reaped++)) && exit 0
      else
        reaped=0
      fi
    else
      # The supervisor was killed: guard the task while it runs; once nothing
      # of it is left, record it (how it ended is unknown: only its parent
      # knew) and hand on, so a queue does not wait for someone to look.
      nap "$s"
      if ! our_group "$tp" "$tok" "$tst" && ! { [[ -n ${_pty_sid-} ]] && pty_sess "$tok" 0; }; then
        if [[ -e $F_KILL ]]; then
          killed_on_request && announce
        else
          write_final failed null null "lost: its supervisor was killed, so how it ended is unknown" lost &&
            announce
        fi
        # Not into the tasks started next: they would keep the task's stdin open.
        [[ -z ${_hold-} ]] || exec {_hold}>&-
        handoff
        exit 0
      fi
    fi
    [[ -n ${_pty_sid-} ]] && pty_unstall "$tp" "$tst"
    [[ $s_stdin == pipe && -z ${_hold-} ]] && in_reopened
    if ! still_ours; then
      # The task's folder is gone from its store's path (the store deleted,
      # or moved): nobody can reach this task any more, so it must not run
      # on unseen. Said in its record, where a moved store still holds it
      # (the first record stands: the supervisor writes its own after us).
      kill_task "$tp" "$tok" "$tst" "$s_grace"
      write_final killed null null "killed: its store's folder was moved or deleted while it ran ($store): a task ends with its store" kill
      exit 0
    fi
    if spawner_gone; then
      reason=spawner
      break
    fi
    # A kill asked of us: by someone who cannot find the tree (its start
    # record is damaged). The supervisor records it once the tree is gone.
    # Asked of the killer itself (it signals the tree): if the tree still
    # runs long after its grace, the killer is gone (SIGKILLed, out of open
    # files) and its kill is ours to finish: else the task would run on,
    # then be recorded "killed" whenever it ended.
    if [[ -e $F_KILL ]]; then
      g='' how=''
      read -r g how 2>/dev/null <"$F_KILL"
      [[ $g =~ ^[0-9]{1,15}$ ]] || g=$s_grace
      mono_ms
      [[ -n $kseen ]] || kseen=$_mono
      if [[ $how == watchdog ]] || ((_mono - kseen > g + KILL_ORPHAN_MS)); then
        grace=$g
        reason="kill"
        break
      fi
    fi
    # The cap, looked at when the file was written since the last look (its
    # time is not older than our mark's), so an idle task costs nothing.
    # (The mark is set first: a write just after it leaves the file at least
    # as new, and the next look reads again.) While the supervisor lives, the
    # offset of its output file tells the size without a fork (see past_cap:
    # each write through it appends, and leaves the offset at the file's
    # end): a watchdog that forks at each look enforces a timeout 15 s late
    # at the process limit, where bash retries a fork that long. Writes
    # through a file the task opened again by name (>>/dev/stdout) do not
    # move that offset: when the file is newer than the mark while the
    # offset stayed, only its size tells (wc, a fork).
    if ((s_cap > 0)) && ! [[ $F_OUTPUT -ot $F_LOOKED ]]; then
      count=0
      [[ $F_OUTPUT -nt $F_LOOKED ]] && count=1
      : 2>/dev/null >"$F_LOOKED"
      if ((sup)) && ofd_pos "$sup_pid" "$sup_ofd"; then
        if ((_pos > s_cap)) || { ((count)) && ((_pos == lastpos)); }; then
          count=1
        else
          count=0
        fi
        lastpos=$_pos
      else
        count=1
      fi
      if ((count)) && output_larger "$s_cap"; then
        reason=cap
        break
      fi
    fi
  done
  # The group first, the record after: nobody reads "timed out" while the
  # tree still runs. The supervisor writes its own record only after we have
  # left, so ours is first (unless a kill() was faster, which then stands).
  _lnote='' _ksig=TERM
  # (A kill asked of us: with its first signal.)
  [[ $reason == kill ]] && kill_grace
  kill_task "$tp" "$tok" "$tst" "$grace" "$_ksig" || left_note "${_kleft-}"
  if [[ $reason == kill ]]; then
    # Recorded by the supervisor (killed_on_request); if it is gone, here
    # (as for a task lost with its supervisor, above).
    if ((!sup)); then
      killed_on_request && announce
      [[ -z ${_hold-} ]] || exec {_hold}>&-
      handoff
    fi
    exit 0
  elif [[ $reason == cap ]]; then
    record_cap
  elif [[ $reason == spawner ]]; then
    record_spawner_gone
  else
    write_final failed null null "timed out after $s_timeout ms (timeoutMs)$_lnote" timeout
  fi && announce
  # The supervisor hands the task's slot on once its wait ends; if it is
  # gone, we do (a queue must not wait for someone to look).
  if ((!sup)); then
    [[ -z ${_hold-} ]] || exec {_hold}>&-
    handoff
  fi
  exit 0
}

# record_cap [MORE]: the output is larger than the cap, by its size (nothing
# of the task runs any more, so it cannot shrink): cut it back to exactly the
# cap and claim the final record (MORE: see write_final_at).
record_cap() { #@lazy K
  truncate -s "$s_cap" -- "$F_OUTPUT" 2>/dev/null
  write_final failed null null "output passed the limit of $s_cap bytes (maxOutputBytes)" cap \
    "${1-}"
}

# past_cap: whether the output is now larger than the cap. First without
# forking: the offset of the output's open file (ofd), through which the task
# and every process it starts write, each write appending, so that the
# offset after the last one is the file's end (ofd_pos). A task that opened
# its output again by name (echo >/dev/stderr truncates it) can leave that
# offset past the end, so an offset past the cap is confirmed by the file's
# size (wc -c); without /proc, that alone. Writes through such a file of its
# own (>>/dev/stdout) do not move the offset: an offset still 0 with bytes
# in the file says that all came so, and the size is read too (unless the
# watchdog read it after they were written). A fork at every end would cost
# each task that printed anything a few ms; one that mixes both ways and
# ends before a look is left to what readers are shown (see shownBytes).
past_cap() { #@lazy C
  if ofd_pos "$BASHPID" "$ofd" && ((_pos <= s_cap)); then
    ((_pos == 0)) && [[ -s $F_OUTPUT ]] && ! [[ $F_OUTPUT -ot $F_LOOKED ]] || return 1
  fi
  output_larger "$s_cap"
}

# ofd_pos PID FD: _pos = the offset of PID's descriptor FD (/proc/PID/fdinfo),
# status 1 when it cannot be read.
ofd_pos() { #@lazy C
  local k v
  _pos=''
  [[ -n $2 ]] && ((_proc)) && [[ -r /proc/$1/fdinfo/$2 ]] || return 1
  while read -r k v; do
    if [[ $k == pos: ]]; then
      _pos=$v
      break
    fi
  done 2>/dev/null <"/proc/$1/fdinfo/$2"
  [[ $_pos =~ ^[0-9]+$ ]]
}

# output_larger N: whether the output file is now larger than N bytes (wc -c).
output_larger() { #@lazy K
  local size
  size=$(wc -c <"$F_OUTPUT" 2>/dev/null)
  size=${size//[^0-9]/}
  ((${size:-0} > $1))
}

# read_environ: s_umask and s_penv (NAME=VALUE…), the umask and environment
# of a task that waited (a queue, dependencies), recorded at its spawn.
# Its exported functions (BASH_FUNC_NAME%%=…) go apart, to s_pfns (task_fns).
read_environ() { #@lazy I
  local -a f
  local kv
  mapfile -d '' -t f <"$F_ENVIRON" 2>/dev/null || return 1
  [[ ${f[0]-} =~ ^umask=([0-7]{1,4})$ ]] || return 1
  s_umask=${BASH_REMATCH[1]}
  s_penv=() s_pfns=()
  for kv in "${f[@]:1}"; do
    if [[ $kv == BASH_FUNC_?*%%=* ]]; then s_pfns+=("$kv"); else s_penv+=("$kv"); fi
  done
}

# stray_look: (at the task's end) status 1 when the task cannot have left
# strays (see strays): no process of its session outside the groups known
# among the pids given out since the task's; 0 when there may be one, or
# those pids are too many to look at one by one (then a look at every
# process decides). (Pids that wrapped around to just past the task's are
# taken for the task's own: a stray forked before the wrap then outlives
# the task's end, as every stray did before.)
stray_look() { #@lazy E
  [[ -n ${_sess-} ]] || return 1
  local p last c pp pg sd tt tp fl
  # (No redirection of errors, which costs an open a command: the
  # supervisor's stderr is /dev/null by now.)
  read -r last </proc/sys/kernel/ns_last_pid && ((last >= tpid && last - tpid <= 512)) || return 0
  for ((p = tpid + 1; p <= last; p++)); do
    [[ -e /proc/$p ]] || continue
    read -r _ c _ pp pg sd tt tp fl _ <"/proc/$p/stat" || continue
    # (Threads count among those pids: V8's, "V8 DefaultWorke", have a space
    # in their names, which stat_read splits right.)
    if [[ $c != *")" || $pp$pg$sd$tt${tp#-}$fl == *[!0-9]* ]]; then
      stat_read "/proc/$p/stat" || continue
      pg=$_st_pgrp sd=$_st_sid
    fi
    [[ $sd == "$_sess" && $pg != "$tpid" && $pg != "$_supg" && $pg != "$_sess" ]] && return 0
  done
  return 1
}

# task_fns: (in the task's process, last before it becomes the command) the
# functions a task that waited had from its spawner (s_pfns), put back in
# the command's environment by env(1) (_envfn, for the exec), which first
# drops those of whoever starts it (_unfn, see inherit_env): the command's
# bash imports them with its own checks, as a bash started by the spawner
# would (it refuses a value that is more than one function, and ours
# imports none of them: one named like a builtin we use changes nothing).
task_fns() { #@lazy I
  _envfn=()
  if path_exe env; then
    _envfn=("$_exe" "${_unfn[@]}" "${s_pfns[@]}")
  else
    printf 'bgtask: note: no env(1) found, so the functions its spawner exported are not given to the task\n' >&2
  fi
}

# path_exe NAME: _exe = the first file NAME on PATH that may be run (a file,
# not a folder of that name: a Python venv's env), else in /usr/bin or /bin
# (a PATH without them); status 1 when there is none.
path_exe() { #@lazy I
  local d IFS=:
  for d in $PATH /usr/bin /bin; do
    [[ -n $d && -f $d/$1 && -x $d/$1 ]] || continue
    _exe=$d/$1
    return 0
  done
  return 1
}

# task_limits: (in the task's process, one that waited) the resource limits
# and nice value its spawner had, recorded at the spawn (s_limits, see the
# environ verb of control.sh), not those of whoever starts it (another
# task's supervisor): each limit as far as the kernel lets us set it (a
# hard limit is raised only by root); _nice, the nice(1) call that gives the
# recorded nice value, for the exec (none when it is the current one, or
# only root could give it).
task_limits() { #@lazy I
  local r s h
  _nice=()
  while read -r r s && read -r _ h; do
    [[ $r =~ ^[a-z]$ && $s != - && $h != - ]] || continue
    ulimit -S "-$r" "$s"
    ulimit -H "-$r" "$h"
    ulimit -S "-$r" "$s"
  done 2>/dev/null <<<"${s_limits#*$'\n'}"
  [[ $s_limits =~ nice\ (-?[0-9]+) ]] || return 0
  s=${BASH_REMATCH[1]}
  nice_of "$BASHPID"
  [[ $_niceval =~ ^-?[0-9]+$ ]] && ((s != _niceval && (s > _niceval || EUID == 0))) || return 0
  path_exe nice && _nice=("$_exe" -n $((s - _niceval)))
  return 0
}

# caller_pc: pc = the caller's POSIXLY_CORRECT=VALUE, as given to this bash
# (in _pc, see run.ts), when it had one; not for a task that waited (its
# spawner's is in s_penv).
caller_pc() {
  ((s_inherit)) || [[ ${_pc%%:*} != *x* ]] || pc=("POSIXLY_CORRECT=${_pc#*:}")
  return 0
}

# task_vars: (in the task's process, after its cd) OLDPWD and SHLVL as its
# spawner had them: our cd would leave OLDPWD naming the task's folder (a
# `cd -` would land there), and our bash adds a level. A task that waited
# gets those recorded with its environment (s_penv, exported after this).
task_vars() {
  if ((s_inherit)); then
    unset OLDPWD
    return 0
  fi
  if [[ -n $_opwdset ]]; then OLDPWD=$_opwd; else unset OLDPWD; fi
  [[ $_shlvl =~ ^[0-9]+$ ]] && ((_shlvl > 0)) && SHLVL=$((_shlvl - 1))
  return 0
}

# inherit_env: in the task's process, before it becomes the command: a task
# that waited runs with its spawner's environment and umask, not with those
# of whoever starts it (the supervisor of another task that ended: its own
# spawner's). Every exported variable and function of ours stops being
# exported here — not unset: a name our own code uses (tok, rcwd, BASH…) may
# have come exported from the starter's environment, and unsetting
# BASH_XTRACEFD would close a descriptor; the recorded ones (s_penv) are
# exported with the task's own env, through positional parameters only, so
# that a recorded name like s_command, tok or BASH cannot change what runs.
# (A name bash cannot hold as a variable, a-b=1, passes through bash
# unseen: such names of the starter's still reach the task.)
# The starter's exported functions (BASH_FUNC_NAME%%) are no functions of
# ours (our bash imports none: run.ts), and bash cannot drop them from what
# it hands on: env(1) does, at the exec (_unfn, see task_fns).
# Without a fork (bash lists what it exports only by printing it): every
# name of the environment this process was started with (where every
# exported variable of ours came from: our code exports none
# before this), the global too where a local
# of ours hides it (`names` here, `rc` in supervise: -g reaches it), and the
# variables bash exports by itself (PWD, SHLVL), found by the first character
# of their names and their attributes. Without /proc, from what bash and
# env(1) print (a line of a function's body that looks like one more is
# taken for one).
# (Called only for such a task, s_inherit: its callers look first.)
inherit_env() { #@lazy I
  local w
  local -a names=(
    "${!A@}" "${!B@}" "${!C@}" "${!D@}" "${!E@}" "${!F@}" "${!G@}" "${!H@}" "${!I@}"
    "${!J@}" "${!K@}" "${!L@}" "${!M@}" "${!N@}" "${!O@}" "${!P@}" "${!Q@}" "${!R@}"
    "${!S@}" "${!T@}" "${!U@}" "${!V@}" "${!W@}" "${!X@}" "${!Y@}" "${!Z@}" "${!_@}"
    "${!a@}" "${!b@}" "${!c@}" "${!d@}" "${!e@}" "${!f@}" "${!g@}" "${!h@}" "${!i@}"
    "${!j@}" "${!k@}" "${!l@}" "${!m@}" "${!n@}" "${!o@}" "${!p@}" "${!q@}" "${!r@}"
    "${!s@}" "${!t@}" "${!u@}" "${!v@}" "${!w@}" "${!x@}" "${!y@}" "${!z@}"
  )
  for w in "${names[@]}"; do
    [[ ${!w@a} == *x* ]] && export -n "${w?}"
  done 2>/dev/null
  if ((_proc)) && [[ -r /proc/$BASHPID/environ ]]; then
    while IFS= read -r -d '' w; do
      if [[ $w == BASH_FUNC_*%%=* ]]; then
        _unfn+=(-u "${w%%=*}")
      elif [[ $w == ?*=* ]]; then
        w=${w%%=*}
        export -n "${w?}"
        declare -g +x "${w?}"
      fi
    done 2>/dev/null </proc/$BASHPID/environ
  else
    for w in $(compgen -e); do
      export -n "${w?}"
      declare -g +x "${w?}"
    done 2>/dev/null
    while IFS= read -r w; do
      [[ $w == BASH_FUNC_*%%=* ]] && _unfn+=(-u "${w%%=*}")
    done 2>/dev/null < <(env)
  fi
  umask "$s_umask"
  [[ -n $s_limits ]] && task_limits
}

# task_body: runs in the task's process (a subshell that becomes the command).
task_body() {
  # No job control from here on (it was on for the fork, which made the
  # task's group): an exported SHELLOPTS would hand "monitor" to the task's
  # bash, which would then put each of its jobs in a group of its own, out of
  # reach of a kill or a timeout.
  set +m
  # (Its output is its stdout and stderr, the supervisor's ofd; its stdin,
  # the supervisor's _tin.)
  exec {ofd}>&- {_tin}<&-
  [[ -z ${_napfd-} ]] || exec {_napfd}>&-
  # On a terminal: stdin.sh's twin of what follows.
  [[ $s_stdin == pty ]] && pty_body
  caller_env
  # (Parsed only by a task that waited: see #@lazy in tools/gen_scripts.ts.)
  ((s_inherit)) && inherit_env
  cd -- "$rcwd" || exit 126
  task_vars
  # Export the task's variables using positional parameters only, so that a
  # name like s_command, tok or BASH cannot change what runs. bgtask's own
  # names come last and stand, whatever the task's environment said (a child
  # process's environment copied whole from a task's): the token is how a
  # kill recognises the task's processes. BGTASK_DIR is its store, for the
  # bgtask calls it makes (its id is no other store's), unless its env says.
  local own=("BGTASK_TASK_ID=$id" "BGTASK_INVOCATION=$tok")
  # The caller's POSIXLY_CORRECT, which leaving POSIX mode unset here (_pc:
  # see run.ts), first (the task's env may name it too). Exported, it turns
  # POSIX mode on in this bash too: only exports and the exec follow.
  local pc=()
  caller_pc
  if ((s_long)); then
    set -- "${pc[@]}" "${s_penv[@]}" "BGTASK_DIR=$store" "${s_env[@]}" "${own[@]}" "$BASH" file "$td/$F_COMMAND"
  else
    set -- "${pc[@]}" "${s_penv[@]}" "BGTASK_DIR=$store" "${s_env[@]}" "${own[@]}" "$BASH" arg "$s_command"
  fi
  while (($# > 3)); do
    export "${1?}"
    shift
  done
  ((${#s_pfns[@]} + ${#_unfn[@]})) && task_fns
  # "--": a command that starts with "-" is the command, not an option of bash.
  if ((${#_nice[@]} + ${#_envfn[@]})); then
    # (nice(1) and env(1) cannot name the command bash: its $0 is given instead.)
    if [[ $2 == file ]]; then exec "${_nice[@]}" "${_envfn[@]}" "$1" -- "$3"; fi
    exec "${_nice[@]}" "${_envfn[@]}" "$1" -c -- "$3" bash
  fi
  if [[ $2 == file ]]; then exec -a bash "$1" -- "$3"; else exec -a bash "$1" -c -- "$3"; fi
}

# noted_end: run by the CHLD trap after each note (and once when the watchdog
# has the task's start): once the task's note says it ended, tell the
# watchdog, which leaves; the supervisor waits for that, not for the task.
noted_end() {
  [[ -n $_told && -n $_wdw ]] || return 0
  last_note
  local w=$_note
  if [[ -z $w ]]; then
    # No note on the task (none could be written: a full disk): the process
    # says whether it ended (the exit code then stands alone, as before).
    task_gone "$tpid" "$tst" || return 0
  elif [[ $w == Running* || $w == Stopped* ]]; then
    return 0
  fi
  # (Tests only: the word lost, as when bash holds the trap back until the
  # wait for the watchdog is over; the watchdog leaves on its own.)
  [[ $_fault == missed-end ]] && return 0
  end_watch
}

# last_note: bash's last note on the task (what follows its pid: "Exit 143",
# "Done", "Terminated", "Running"), or nothing, in _note.
last_note() {
  local line
  _note=''
  while IFS= read -r line; do
    [[ $line =~ $_tre ]] && _note=${BASH_REMATCH[1]}
  done 2>/dev/null <"$F_NOTES"
}

# end_watch: "e", then end-of-file on the watchdog's pipe (which alone would
# cost it a look at /proc to tell our close from our death). Once: the trap
# may run it in the middle of our own call (between two commands), so the
# pipe is taken first, and a second write or close only fails.
end_watch() {
  [[ -n $_wdw ]] || return 0
  local fd=$_wdw
  _wdw=''
  printf e 2>/dev/null 1>&"$fd"
  { exec {fd}>&-; } 2>/dev/null
}

supervise() {
  local rc sst tst t0 m0 w1 w2 srec _oom0=
  set +m
  ((_proc)) && printf 'bgtask %s' "$id" >"/proc/$BASHPID/comm" 2>/dev/null
  # Killed (or removed) before it started: its slot goes to the next.
  if [[ -e $F_FINAL || -e $F_KILL ]]; then
    [[ -e $F_KILL ]] && killed_on_request && announce
    handoff
    exit 0
  fi
  [[ -e $F_SPEC ]] || exit 0
  # A killOnDispose manager's task whose process has gone before the task's
  # turn came (a queue, dependencies): it never runs.
  if spawner_gone; then
    record_spawner_gone && announce
    handoff
    exit 0
  fi
  # (Tests only: a start that takes a while, as on a loaded machine;
  # STORE/fault-at-start says it is held here, its spawn record read.)
  [[ $_fault == slow-start ]] && { : >"$store/fault-at-start"; fault_go; }

  trap_unforked
  # An interactive task's stdin: a FIFO, whose write end the watchdog keeps.
  local tin=/dev/null
  [[ $s_stdin == null ]] || in_open
  # The watchdog is forked BEFORE the task, and nothing is forked after it
  # until the task has been waited for: so no child of ours can ever get the
  # task's pid, and `wait` is always about the task.
  # The session and group strays are looked for in (see strays), for the
  # watchdog too; a terminal's task has a session of its own. And our start
  # time, for the record ("-" for none, with no /proc of our own: the
  # record's words are read split at spaces, and an empty one would shift
  # the rest). One read, cut as proc_info's: its name, "bgtask b1", has a
  # space.
  local me=''
  _sess='' sst=-
  if ((_proc)) && IFS= read -r me </proc/$BASHPID/stat && after_comm "$me"; then
    words "$_ac"
    [[ -n ${_boot+x} ]] || boot_tag
    [[ -n ${_w[19]-} ]] && sst=${_w[19]}$_boot
    [[ $s_stdin == pty ]] || _supg=${_w[2]} _sess=${_w[3]}
  fi
  coproc WD { watchdog; }
  local wd=$WD_PID
  _wdw=${WD[1]} _told=''
  # Our naps, after the task's end, without a fork (see the watchdog's):
  # on the watchdog's output pipe, which nobody writes to.
  if [[ -n ${_napfd-} ]]; then
    exec {_napfd}>&-
    _napfd=''
  fi
  ((_proc)) && [[ -e /proc/$BASHPID/fd/${WD[0]} ]] && exec {_napfd}<>"/proc/$BASHPID/fd/${WD[0]}" 2>/dev/null
  # The task's stdin, opened here, where the write end we still hold keeps
  # the open from blocking: the FIFO has a reader from the task's fork on,
  # not only once the task's own redirection runs, so a writer who heard of
  # the start (the report comes before that redirection may) is not told
  # that nobody reads. (Closed here once the task is forked, and in it.)
  exec {_tin}<"$tin"
  # No copy of the stdin's write end here, nor in the task.
  [[ -z ${_hold-} ]] || exec {_hold}>&-
  # Bash's own notes on how each child ended ("Done", "Exit 143",
  # "Terminated"): they tell a death by SIGTERM from an exit with code 143.
  # Taken while bash still holds the task's job: nothing waits for the task
  # before its note is written (see noted_end).
  trap 'jobs -l >>"$F_NOTES"; noted_end' CHLD
  # When the command starts: taken before the fork, so that it is never
  # after the command's own first instruction (we may run after it).
  now_ms
  t0=$_now
  mono_ms
  m0=$_mono
  # The task's own process group, made at the fork (job control, for that
  # moment only). It stays in this session, which has no terminal: the
  # launcher that led it was started without one and has left, so a command
  # that opens /dev/tty fails at once instead of stopping on the user's.
  # Opened here, not in the task's subshell: the supervisor keeps the open
  # file the task writes through, to read its size at the end (past_cap).
  exec {ofd}>>"$F_OUTPUT"
  set -m
  (task_body) <&"$_tin" >&"$ofd" 2>&1 &
  tpid=$!
  exec {_tin}<&-
  set +m
  trap - TERM
  # bash sets the child's group in the child and in the parent; until both
  # have, a kill of its group would miss it, so nobody hears of it before.
  # (The nap reads the watchdog's silent output pipe.)
  local n=0
  while proc_info "$tpid" && [[ $_state != Z && $_pgrp != "$tpid" ]] && ((n++ < 4000)); do
    read -r -t 0.0005 -u "${WD[0]}" _
  done
  # Its start time, from the loop's last look (a later one could only find
  # it reaped by now, bash reaping as children end, or its pid another's).
  tst=${_start:-0}
  # A terminal: also until its session is recorded (what a kill must reach).
  [[ $s_stdin == pty ]] && pty_wait "$tpid"
  # And the pid namespace those pids are of (one read: see ns_look).
  pidns_tag
  # (The record is also the report to an immediate spawn's spawner.)
  printf -v srec '%s %s %s %s %s %s\n%s' "$BASHPID" "$sst" "$tpid" "$tst" "$t0" "$_nstag" "$rcwd"
  set -C
  printf '%s' "$srec" 2>/dev/null >"$F_STARTED"
  set +C
  # The disk refused the record (full, or out of inodes: an empty file, or
  # none): nobody could tell that the task runs (it would read queued, out of
  # a kill's reach). It is ended at once, and said to have not started.
  [[ -s $F_STARTED ]] || unrecorded_start
  # Killed while we were starting it: kill() reads `started` after writing its
  # request, and we read its request after writing ours, so one of us ends the group.
  if [[ -e $F_KILL ]]; then
    kill_grace
    kill_task "$tpid" "$tok" "$tst" "$_kgrace" "$_ksig"
  elif [[ -e $F_FINAL ]]; then
    kill_task "$tpid" "$tok" "$tst" "$s_grace"
  fi
  # SIGPIPE stays ignored from here on (the task, forked above, keeps the
  # default): a launcher that is gone, or a watchdog that left on its own
  # just before we write to it, must fail that write, not kill us before the
  # final record is written (the task would then read as lost).
  trap '' PIPE
  # (Tests only: a spawner told of the start late, as on a loaded machine.)
  # (STORE/fault-at-report says it is here: the start record is written
  # and checked, only the report is held back.)
  [[ $_fault == late-report ]] && { : >"$store/fault-at-report"; fault_go; }
  # The watchdog first, then the spawner (which waits for this alone): a
  # spawner told of the start knows the task guarded. Told the other way, a
  # supervisor SIGKILLed between the two left a watchdog that never had its
  # first line, so it left, and nobody enforced the timeout or handed the
  # queue's slot on until someone looked (CI, once: a loaded machine paused
  # the supervisor there while its spawner went on).
  # (Tests only: held between the start record and the watchdog's line.)
  [[ $_fault == late-watchdog ]] && { : >"$store/fault-at-watchdog"; fault_go; }
  printf '%s %s %s %s %s %s\n' "$tpid" "$t0" "$tst" "$BASHPID" "$ofd" "$m0" >&"$_wdw"
  [[ $mode == report ]] && printf 'ok\0%s\0' "$srec"
  # The kernel's OOM kills so far: a task SIGKILLed unasked is told apart
  # (below) when the count rose meanwhile. Taken once the spawner has its
  # report, off the spawn's path.
  oom_count
  _oom0=$_oom
  _tre="^\[[0-9]+\][-+ ]* $tpid (.*)\$"
  _told=1
  # (The task may have ended already, its note written by a trap that could
  # not tell the watchdog yet.)
  noted_end
  exec </dev/null >/dev/null 2>&1

  # Until the watchdog has left: told by noted_end that the task ended, or
  # on its own (it ended the task: timeout, cap, a kill; or it found the
  # task gone while our word did not come). Then the task, ended by now
  # (unless the watchdog was ended from outside), is collected. Not the
  # other way round: a `wait` for the task drops its job from bash's table,
  # and when the task ends in the instant before that `wait`, bash runs the
  # trap it held back only after it: the note would lack the task, and an
  # `exit 143` would read as SIGTERM.
  if [[ $_fault == late-wait ]]; then
    # (Tests only: that instant, stretched. The words of the wait take a
    # second or so to expand, with no trap run meanwhile, and the test ends
    # the task then; STORE/fault-in-wait is made as the wait begins, by a
    # redirection, which runs no trap either.)
    local _pad
    printf -v _pad '%*s' 250000 ''
    : >"$store/fault-at-wait"
    # shellcheck disable=SC2086 # (expands to nothing, slowly)
    wait "$wd" ${_pad// /} 3>"$store/fault-in-wait"
  else
    wait "$wd"
  fi
  wait "$tpid"
  rc=$?
  end_watch
  trap - CHLD
  supervised
}

# supervised: (supervise, once the task is waited for) records how it ended
# and hands its slot on. Parsed only then (#@lazy), off the spawn's path;
# its variables are supervise's. Not before the wait: bash's parser, at
# each line it reads, drops the jobs that have ended from its table, and a
# task that ended before its CHLD trap ran would get no note (an exit 143
# read as SIGTERM).
supervised() { #@lazy E
  # Processes the task left in its group (or on its terminal) end with it.
  # Its leader is reaped, so its pid may be anyone's now: only members that
  # carry the token count (no start time: no leader to recognise by it).
  # (A group with nobody left in it needs no look: its leader, reaped, can
  # no longer be making it.) Under a kill someone asked for, the asker ends
  # them, with its grace: we wait for that (outlast_kill).
  # Those ended here are said so in the record: a server started with `&`
  # is gone, whatever the exit code says.
  _signalled=0 more=''
  if [[ -e $F_KILL ]]; then
    outlast_kill
  else
    if [[ -n ${_pty_sid-} ]] || kill -0 -- "-$tpid" 2>/dev/null || stray_look; then
      kill_task "$tpid" "$tok" "" "$s_grace"
      ((_signalled)) && more=',"leftovers":true'
    fi
  fi
  # The last note on the task's pid says how it ended; without one (a note
  # bash folded into another), wait's status is all there is.
  last_note
  words "$_note"
  w1=${_w[0]-} w2=${_w[1]-}
  [[ $s_stdin == pty ]] && pty_status
  # (Tests only: a supervisor slow to record the end, as on a loaded machine.)
  [[ $_fault == slow-end ]] && nap 0.3
  if [[ -e $F_KILL ]]; then
    killed_on_request
  elif ((s_cap > 0)) && past_cap; then
    # Written past the cap since the watchdog last looked (it looks every 250 ms).
    record_cap "$more"
  elif [[ $w1 == Done ]] || { [[ -z $w1 || $w1 == Running ]] && ((rc == 0)); }; then
    write_final completed 0 null "" exit "$more"
  elif [[ $w1 == Exit && $w2 =~ ^[0-9]+$ ]]; then
    write_final failed "$w2" null "exited with code $w2" exit "$more"
  elif ((rc > 128)); then
    sig_name $((rc - 128))
    # (The limits' signals say what passed: their names do not.)
    local why=''
    case $_sig in
    SIGXFSZ) why=': a file it wrote reached the file-size limit (ulimit -f); raise it to let it finish' ;;
    SIGXCPU) why=': it used up its CPU-time limit (ulimit -t); raise it to let it finish' ;;
    SIGKILL)
      # Nobody here asked for it: most often the kernel's OOM killer, which
      # leaves no other trace a task's supervisor can read.
      [[ -n $_oom0 ]] && oom_count
      if [[ -n $_oom0 && -n $_oom ]] && ((_oom > _oom0)); then
        why=": most likely by the kernel's out-of-memory killer (it ended a process while this task ran; see dmesg or journalctl -k): give it more memory, or run less at once"
      else
        # (bash's ulimit -t sets the hard limit too: the kernel sends SIGKILL there, not SIGXCPU.)
        why=": not by bgtask; by another process (kill -9), or by the kernel at a hard CPU-time limit (bash's ulimit -t sets one; ulimit -St sets the soft one alone, whose SIGXCPU is named)"
      fi
      ;;
    esac
    write_final failed null "$_sig" "killed by signal $_sig$why" signal "$more"
  else
    write_final failed "$rc" null "exited with code $rc" exit "$more"
  fi && announce
  # (Bash closed the watchdog's pipe when it reaped it: a process it execs gets no end.)
  exec {ofd}>&-
  handoff become
}

start() {
  local here=$PWD
  close_inherited
  # Everything it writes is the store's, a task that cannot start included.
  private_umask
  cd -- "$td" 2>/dev/null || {
    [[ $mode == report ]] && printf 'error\0no-task\0'
    exit 0
  }
  read_spec . || cannot_start spec "its spawn record cannot be read"
  if ((s_inherit)); then
    read_environ || cannot_start environ "its environment record cannot be read"
    # Needed no more: the spawner's secrets leave the disk once the task
    # starts (emptied, not removed: rm would cost a fork).
    : 2>/dev/null >"$F_ENVIRON"
  fi
  rcwd=${s_cwd:-$here}
  [[ -e $rcwd ]] || cannot_start cwd-missing "directory \"$rcwd\" does not exist"
  [[ -d $rcwd ]] || cannot_start cwd-not-dir "\"$rcwd\" is not a directory"
  cd -- "$rcwd" 2>/dev/null || cannot_start cwd-denied "directory \"$rcwd\" cannot be entered"
  rcwd=$PWD
  cd -- "$td" 2>/dev/null || exit 0
  # An interactive task: its code (stdin.sh).
  case $s_stdin in
  pipe | pty)
    eval "$_ish"
    in_start
    ;;
  *) s_stdin=null ;;
  esac
  # A supervisor that became this one (handoff) already leads a group of
  # its own, with no terminal.
  if [[ $mode == become ]]; then
    supervise
    exit 0
  fi
  # (Tests only: a launch that takes a while.)
  [[ $_fault == slow-launch ]] && fault_go
  # The supervisor gets a process group of its own: a Ctrl-C meant for the
  # spawner (its terminal's foreground group) must not reach it. Its fork
  # may fail as the task's may (see unforked): the task then says why.
  trap_unforked
  set -m
  supervise &
  trap - EXIT TERM
  exit 0
}

case $verb in
start) start ;;
*)
  printf 'bgtask supervisor: unknown verb "%s"\n' "$verb" >&2
  exit 2
  ;;
esac
