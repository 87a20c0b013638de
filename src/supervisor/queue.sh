# shellcheck shell=bash disable=SC2154 # F_*, store, _sh: set by the including script
# Queues and dependencies, without a daemon: who starts next when a task ends.
#
# This runs in a task's supervisor when its task ends (so nobody has to
# stay), and in control.sh when a Deno process spawns into a queue, changes
# one, kills a task that never started, or finds a task lost.
#
# Under $store/$F_QUEUES/<name>/ (names from the store's layout):
#   conf     "PARALLEL PAUSED" (written by Deno; missing, or not of that
#            form, means "1 0", as Deno reads it: queues.ts, readQueue)
#   lock     flock(1) lock: everything below changes only under it
#   list     the ids of the tasks ready to run, first in first out by id (a
#            spawn appends its new id; a task whose dependencies ended is
#            put in its place: see q_enqueue); rewritten only whole, by a
#            rename of list.new (q_replace)
#   head     how many lines of `list` are consumed
#   damaged  made when `list` was found to hold a line that is no task id
#            (garbled): the tasks that waited in it may be missing from it,
#            and whoever finds one puts it back in line (settle.ts, loseStray)
#   running  "ID@LAUNCH_MS …" (words, one line or many): the tasks holding a
#            slot, and maybe some that ended (a task's final record frees its
#            slot). A launch appends its entry; the entries of tasks that
#            ended are dropped only once they are many, by a rename of
#            running.new (q_replace). Never rewritten in place: a
#            process killed between the truncation and the write would leave
#            it empty, and its running tasks forgotten (the limit broken).
# and $store/$F_DEPS/<dep>/<dependent>: the tasks that run after <dep>.
#
# Needs: store, _sh, _qsh and _ish (the supervisor, queue and stdin scripts,
# to start tasks), the F_* names, and lib.sh. The supervisor evaluates this file only
# when a task that ends has someone to hand on to: most tasks never parse it.

# final_status DIR: _status = the status in the task's final record
# (completed, failed, killed), empty when it has none.
final_status() {
  local line=''
  _status=''
  read -r line 2>/dev/null <"$1/$F_FINAL" || [[ -n $line ]] || return 1
  [[ $line =~ \"status\":\"([a-z]+)\" ]] && _status=${BASH_REMATCH[1]}
  [[ -n $_status ]]
}

# alive_one SUP_PID SUP_START TASK_PID TASK_START TOKEN [TAG]: the supervisor (same
# pid and start time, not a zombie, not another task's), any live member of
# the task's group that is the task's, or a stray of it (see strays: its
# session learned from what is left, the watchdog of a killed supervisor).
# A task of another pid namespace (TAG, see ns_look) is alive while a
# process carries its token, and taken for alive while its namespace cannot
# be seen (_nsv unseen); "gone" is dead.
alive_one() {
  local _sess='' _supg=''
  ns_look "$1" "$3" "$5" "${6-}"
  case $_nsv in
  seen | unseen) return 0 ;;
  gone) return 1 ;;
  esac
  if proc_info "$1" && [[ $_state != Z ]] && same_start "$2" "$_start"; then
    # The supervisor carries the token (it execs only to become the
    # supervisor of the next task, with that task's token, once this one has
    # ended; a task of bgtask 0.1 has none to check).
    [[ -z $5 ]] && return 0
    # (2: its environment cannot be read, another user's live process; its
    # pid and start time are the supervisor's: alive, as far as we can tell.)
    has_token "$1" "$5"
    case $? in 0 | 2) return 0 ;; esac
  fi
  our_group "$3" "$5" "$4" && return 0
  [[ -n $5 ]] || return 1
  sup_sess "$1" "$2" "$3" "$4" "$5"
  [[ -n $_sess ]] && strays "$3" "$5"
}

# A task that holds a slot and has not started is lost, after the shorter
# one, once nobody is seen starting it (q_launching); where that cannot be
# seen (no /proc), after the longer one.
Q_START_DEADLINE_MS=30000
Q_LAUNCH_GRACE_MS=2000
Q_LOST="lost: its processes ended without recording an exit (killed from outside, the machine restarted, or the disk was full when it ended)"
Q_LOST_NS="lost: it ran in another PID namespace (a container or sandbox), and nothing of it is left: that namespace may have ended, and its processes with it"
Q_NEVER="lost: the task never reported that it started"
Q_KILLED="killed on request (recorded after its supervisor was gone)"

# q_lock QUEUE [make]: takes the queue's lock (sets _qd); q_unlock releases
# it. Status 1 when there is no such queue; with "make" (a task that became
# ready joins it), the queue is created then, as a spawn into it would. A
# lock taken on a queue that was removed while we waited for it (its folder
# is deleted under its lock) is let go: the queue is looked for anew.
q_lock() {
  local n
  _qd=$store/$F_QUEUES/$1
  for ((n = 0; n < 100; n++)); do
    [[ -d $_qd || -z ${2-} ]] || mkdir -m 700 -- "$_qd" 2>/dev/null
    if ! [[ -d $_qd ]]; then
      [[ -n ${2-} ]] && continue # removed as it was made: again
      return 1
    fi
    { exec {_qlk}>>"$_qd/lock"; } 2>/dev/null || continue
    flock -x "$_qlk" || {
      q_unlock
      return 1
    }
    # (Without /proc the descriptor cannot be looked at: taken as the queue's.)
    if [[ /dev/fd/$_qlk -ef $_qd/lock ]] || ! [[ -e /dev/fd/$_qlk ]]; then return 0; fi
    q_unlock
  done
  return 1
}
q_unlock() {
  exec {_qlk}>&-
  unset _qlk
}

# q_replace NAME LINE…: the queue's file NAME becomes these lines, at once:
# written to NAME.new and renamed over it (one fork and exec of mv(1)), so
# that nobody reads it empty or cut meanwhile, nor finds it so after a kill
# (an ending task looks at the line without the lock: handoff,
# supervisor.sh; a look killed mid-write would forget the running tasks).
# Where mv fails, rewritten in place. For `list`, at a compaction or an
# insertion, not at every start; for `running`, once in Q_RUNNING_SLACK ends
# or so (launches append to it).
q_replace() {
  local f=$_qd/$1
  shift
  if printf '%s\n' "$@" 2>/dev/null >"$f.new" && mv -f -- "$f.new" "$f" 2>/dev/null; then
    return 0
  fi
  printf '%s\n' "$@" >"$f"
}

# Entries of ended tasks that `running` may keep before it is rewritten:
# each costs every hand-off a look at its final record, each rewrite a fork.
Q_RUNNING_SLACK=8

# q_launch ID: starts a task that was waiting (for a slot or its
# dependencies) in a session of its own; nobody waits for it. Status 1 when
# someone else launched it first, or it has ended; 2 when it could not be
# claimed (no file can be made: a full disk), so it is still to start. A
# supervisor handing its slot on (q_become set) launches the first such task
# by becoming its supervisor once it is done (see handoff): q_next and
# q_next_token say which.
q_launch() {
  local id=$1 t=$store/$F_TASKS/$1
  final_status "$t" && return 1
  now_ms
  # Claimed by making the marker (an empty file needs no room for data);
  # then when, which a full disk may refuse: the marker's own time stands in.
  set -C
  { : >"$t/$F_LAUNCHED"; } 2>/dev/null || {
    set +C
    # Claimed by someone else, or removed meanwhile: nothing to start.
    [[ -e $t/$F_LAUNCHED || ! -d $t ]] && return 1
    return 2
  }
  set +C
  # And by whom (this process, which becomes the task's supervisor or
  # forks its launcher): a launch whose claimer died, and whose task no
  # process carries, is lost at the next look (q_launching).
  proc_info "$BASHPID"
  pidns_tag
  { printf '%s %s %s %s\n' "$_now" "$BASHPID" "$_start" "$_nstag" >>"$t/$F_LAUNCHED"; } 2>/dev/null
  read_spec "$t" || return 1
  if [[ -n ${q_become-} && -z ${q_next-} ]]; then
    # shellcheck disable=SC2034 # read by handoff (supervisor.sh)
    q_next=$id q_next_token=$s_token
    return 0
  fi
  (
    # Without the queue's lock: a lock inherited by the task would be held as
    # long as the task runs.
    [[ -n ${_qlk-} ]] && exec {_qlk}>&-
    # (Tests only: a launcher slow to exec, as on a loaded machine; 60 s at most.)
    if [[ ${BGTASK_TEST_FAULT-} == slow-exec:"$store" ]]; then
      for ((n = 0; n < 6000; n++)); do [[ -e $store/fault-go ]] && break; nap 0.01; done
    fi
    q_exec "$id" "$s_token" record setsid
  ) </dev/null >/dev/null 2>&1 &
  # And the launcher, which carries the task's token only once it has
  # exec'd: a claimer that leaves before that (a scheduler's bash, done once
  # it has forked) leaves it seen starting the task all the same.
  proc_info "$!" && { printf '%s %s %s %s\n' "$_now" "$!" "$_start" "$_nstag" >>"$t/$F_LAUNCHED"; } 2>/dev/null
  return 0
}

# q_exec ID TOKEN MODE [setsid]: this process becomes the supervisor script
# for task ID (`start STORE ID MODE`, see supervisor.sh), with the task's
# token in its environment and LC_ALL and the umask as the caller gave them;
# with "setsid", in a session of its own.
q_exec() {
  caller_env
  # A supervisor ignores SIGPIPE (see supervise), the control script a
  # Ctrl-C's signals (CONTROL_ARGS in run.ts), and an ignored signal
  # survives exec: the new supervisor's bash, started so, could not undo it,
  # and its task would run with them ignored (yes | head: "Broken pipe").
  trap - PIPE INT HUP TERM QUIT
  # (Tests only: a supervisor's fault goes to those it starts, as it came to it.)
  [[ -n ${_fault_env-} ]] && export BGTASK_TEST_FAULT=$_fault_env
  # (--posix -p: no BASH_ENV, no function from the environment, as in run.ts.)
  # shellcheck disable=SC2016 # $BGTASK_SH is for the new bash to expand
  BGTASK_SH=$_sh BGTASK_QSH=$_qsh BGTASK_ISH=${_ish-} BGTASK_INVOCATION=$2 \
    exec ${4:+"$4"} "$BASH" --posix -p -c '_pc=${POSIXLY_CORRECT@a}:${POSIXLY_CORRECT-}; set +o posix +p; eval "$BGTASK_SH"' "bgtask-$1" start "$store" "$1" "$3"
}

# q_alive DIR: a process of the task in DIR is alive (or it is writing its
# started record at this very moment: created, not yet written).
q_alive() {
  local sp ss tp ts tag _rest
  _nsv=''
  read -r sp ss tp ts _ tag _rest 2>/dev/null <"$1/$F_STARTED"
  [[ $sp =~ ^[0-9]+$ && $tp =~ ^[0-9]+$ && -n $ts ]] || return 0
  read_spec "$1" || return 1
  alive_one "$sp" "$ss" "$tp" "$ts" "$s_token" "$tag"
}

# q_claimer DIR: status 0 when a process the launch marker in DIR names is
# alive: the process that claimed the launch (which execs into the task's
# supervisor, or forks its launcher: see q_launch), or that launcher (which
# carries the task's token only once it has exec'd). 1 when none is; 2 when
# the marker names nobody (an older one, or a spawner's: see takeSlot) or
# only a claim made in another pid namespace (see ns_look): _qother=1 then.
q_claimer() {
  local ms pid st tag named=0
  _qother=0
  pidns_tag
  # (A spawner's claim, a second name of the spawn record, names nobody.)
  while read -r ms pid st tag; do
    [[ $ms =~ ^[0-9]+$ && $pid =~ ^[0-9]+$ && -n $st ]] || continue
    if [[ -n $tag && $tag != "$_nstag" ]]; then
      _qother=1
      continue
    fi
    named=1
    proc_info "$pid" && [[ $_state != Z ]] && same_start "$st" "$_start" && return 0
  done 2>/dev/null <"$1/$F_LAUNCHED"
  ((named)) && return 1
  return 2
}

# q_launching DIR: someone is still starting the launched task in DIR: a
# process its launch marker names (q_claimer), or any process carrying the
# task's token (its launcher, supervisor or command): status 0; nobody: 1.
# Without /proc, or with a marker that names nobody: assumed so, 2; so too
# for a claim made in another pid namespace whose processes cannot be seen
# from here.
q_launching() {
  ((_proc)) || return 2
  q_claimer "$1"
  case $? in
  0) return 0 ;;
  2) ((_qother)) || return 2 ;;
  esac
  read_spec "$1" && [[ -n $s_token ]] || return 2
  token_alive "$s_token" && return 0
  ((_qother)) && ! pidns_initial && return 2
  return 1
}

# q_prune DEEP: keeps in q_running only the tasks that still hold their
# slot: not those that ended. DEEP (someone looks at the queue) also checks
# that the others' processes are alive, and records as lost those that are
# not (their ids go to q_lost, to hand on once the lock is released). A
# supervisor handing its slot on skips that: it costs a look at every
# running task, and a task whose supervisor dies is recorded by its watchdog.
q_prune() {
  local e id ms t rc why kept=()
  q_running=()
  [[ -s $_qd/running ]] && read -r -d '' -a q_running <"$_qd/running"
  q_entries=${#q_running[@]}
  for e in "${q_running[@]}"; do
    id=${e%@*} ms=${e#*@} t=$store/$F_TASKS/${e%@*}
    [[ -d $t ]] || continue
    final_status "$t" && continue
    if ((!$1)); then
      kept+=("$e")
      continue
    fi
    if [[ -e $t/$F_STARTED ]]; then
      if q_alive "$t"; then
        kept+=("$e")
        continue
      fi
      # (Asked to kill, and told so: killed, as its asker was told.)
      if [[ -e $t/$F_KILL ]]; then
        write_final_at "$t" killed null null "$Q_KILLED" kill && announce_to "$id"
      else
        why=$Q_LOST
        [[ $_nsv == gone ]] && why=$Q_LOST_NS
        write_final_at "$t" failed null null "$why" lost && announce_to "$id"
      fi
    else
      # Not lost while someone is seen starting it, however long that takes
      # (at the process limit bash retries each fork for 15 s); when that
      # cannot be seen, until the deadline.
      now_ms
      if ((_now - ms < Q_LAUNCH_GRACE_MS)) || {
        q_launching "$t"
        rc=$?
        ((rc == 0 || (rc == 2 && _now - ms < Q_START_DEADLINE_MS)))
      }; then
        kept+=("$e")
        continue
      fi
      write_final_at "$t" failed null null "$Q_NEVER" lost && announce_to "$id"
    fi
    q_lost+=("$id")
  done
  q_running=("${kept[@]}")
}

# q_schedule QUEUE [DEEP]: frees the slots of tasks that ended and starts the
# next waiting tasks, first in first out, while the queue is not paused and
# has a free slot (lowering PARALLEL lets running tasks finish). DEEP: see q_prune.
q_schedule() {
  local q=$1 par=1 paused=0 head=0 i id t lost rc conf='' form=$'^([1-9][0-9]{0,15}) ([01])\n?$'
  local -a lines
  q_lost=()
  q_lock "$q" || return 0
  # Garbled (a hand, a disk fault): none, as Deno reads it (the whole file,
  # one form: queues.ts, readQueue), not as arithmetic (a word there is a
  # variable, 0: the queue never started anything).
  [[ -e $_qd/conf ]] && IFS= read -r -d '' conf <"$_qd/conf"
  if [[ $conf =~ $form ]] && ((BASH_REMATCH[1] <= 9007199254740991)); then
    par=${BASH_REMATCH[1]} paused=${BASH_REMATCH[2]}
  fi
  q_prune "${2:-0}"
  [[ -e $_qd/head ]] && read -r head <"$_qd/head"
  lines=()
  [[ -e $_qd/list ]] && mapfile -t lines <"$_qd/list"
  i=$head
  while ((!paused && ${#q_running[@]} < par && i < ${#lines[@]})); do
    id=${lines[i]}
    [[ -z $id || $id =~ ^b[0-9]+$ ]] || : >>"$_qd/damaged"
    t=$store/$F_TASKS/$id
    if [[ -d $t && ! -e $t/$F_LAUNCHED ]]; then
      q_launch "$id"
      rc=$?
      # Not claimed (a full disk): it stays first in line for the next look.
      ((rc == 2)) && break
      if ((rc == 0)); then
        q_running+=("$id@$_now")
        printf '%s\n' "$id@$_now" >>"$_qd/running"
        ((q_entries++))
      fi
    fi
    ((i++))
  done
  # Compact the list once most of it is consumed (under the lock: readers
  # lock too); empty it once all of it is: an empty line is what an ending
  # task looks for to leave without the lock (handoff, supervisor.sh).
  if ((i > 0 && i >= ${#lines[@]})); then
    : >"$_qd/list"
    i=0
  elif ((i > 1024 && i * 2 > ${#lines[@]})); then
    q_replace list "${lines[@]:i}"
    i=0
  fi
  # (In place: a head cut short by a kill reads 0, and the tasks before it
  # in line are skipped as launched.)
  printf '%s\n' "$i" >"$_qd/head"
  ((q_entries > ${#q_running[@]} + Q_RUNNING_SLACK)) && q_replace running "${q_running[@]}"
  q_unlock
  for lost in "${q_lost[@]}"; do task_ended "$lost"; done
}

# q_enqueue QUEUE ID: the task is ready to run (its dependencies ended): it
# joins the line in its place by id (first in, first out, by id: a spawn
# appends, the newest id; this task may be older than some waiting there).
q_enqueue() {
  local head=0 i n=${2#b} put=0
  local -a lines out
  q_lock "$1" make || return 1
  [[ -e $_qd/head ]] && read -r head <"$_qd/head"
  lines=()
  [[ -e $_qd/list ]] && mapfile -t lines <"$_qd/list"
  out=()
  for ((i = 0; i < ${#lines[@]}; i++)); do
    if ((!put && i >= head)) && [[ ${lines[i]} =~ ^b([0-9]+)$ ]] && ((BASH_REMATCH[1] > n)); then
      out+=("$2")
      put=1
    fi
    out+=("${lines[i]}")
  done
  if ((put)); then
    q_replace list "${out[@]}"
  else
    printf '%s\n' "$2" >>"$_qd/list"
  fi
  q_unlock
  q_schedule "$1"
}

# resolve ID: a task that runs after others: it fails without running as
# soon as one of them ended without completing (policy "success": it could
# never run), else once every one of them has ended it becomes ready: it
# starts, or joins its queue.
resolve() {
  local x=$1 t=$store/$F_TASKS/$1 d bad='' after policy queue pending=''
  local -a deps
  [[ -d $t ]] || return 0
  final_status "$t" && return 0
  read_spec "$t" || return 0
  after=$s_after policy=$s_policy queue=$s_queue
  IFS=, read -r -a deps <<<"$after"
  for d in "${deps[@]}"; do
    if ! final_status "$store/$F_TASKS/$d"; then
      # Not ended yet: the last of them to end resolves this task (or the
      # first that does not complete).
      if [[ -d $store/$F_TASKS/$d ]]; then
        pending=1
        continue
      fi
      # Removed: as it had ended, if its tombstone says (removed as this
      # task was spawned, say); else it did not complete.
      _status=''
      read -r _status 2>/dev/null <"$store/$F_IDS/${d#b}"
      [[ $_status =~ ^[a-z]+$ ]] || _status=removed
    fi
    [[ $_status == completed ]] || bad+="${bad:+, }$d $_status"
  done
  [[ $policy == any || -z $bad ]] && [[ -n $pending ]] && return 0
  if [[ $policy != any && -n $bad ]]; then
    if write_final_at "$t" failed null null "not run: a task it runs after did not complete ($bad)" dependency; then
      announce_to "$x"
      task_ended "$x"
    fi
    return 0
  fi
  # Ready. Claimed once, whoever resolves it at the same time.
  set -C
  { : >"$t/$F_READY"; } 2>/dev/null || {
    set +C
    return 0
  }
  set +C
  if [[ -n $queue ]]; then q_enqueue "$queue" "$x"; else q_launch "$x"; fi
}

# task_ended ID: a task has ended (or will never run): the tasks that run
# after it are resolved, then its queue's slot is handed on. In that order:
# one of them in the same queue joins the line by id before the slot goes,
# and so starts before a later id (handed on first, the slot went to the
# line as it was, and the later id passed it).
task_ended() {
  local id=$1 q='' dep
  local -a byid=()
  read_spec "$store/$F_TASKS/$id" && q=$s_queue
  # By id (a glob sorts b10 before b2): the oldest joins its queue first.
  for dep in "$store/$F_DEPS/$id"/b*; do
    dep=${dep##*/}
    [[ $dep =~ ^b([1-9][0-9]{0,15})$ ]] && byid[BASH_REMATCH[1]]=$dep
  done
  for dep in "${byid[@]}"; do resolve "$dep"; done
  [[ -n $q ]] && q_schedule "$q"
  return 0
}
