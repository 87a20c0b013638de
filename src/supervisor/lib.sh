# shellcheck shell=bash disable=SC2034,SC2154 # globals: its own are read by the including scripts; F_* come from the store
# bgtask's shared bash functions: clocks, /proc reads, process-group kills.
#
# Everything that touches processes runs in bash, not in Deno: Deno.kill
# demands unscoped --allow-run and /proc reads demand --allow-all, while bash
# may signal and read /proc freely under --allow-run=bash.
#
# Conventions: functions set globals (_now, _state, _pgrp, _start) instead of
# printing, so that no call forks a subshell.
#
# Identity. A pid alone proves nothing: pids are reused, and a start time in
# clock ticks can repeat within 10 ms. Every process of a task carries the
# task's random token in its environment (BGTASK_INVOCATION, set before the
# launcher runs and inherited by everything it starts). A process that got a
# reused pid cannot have it. Every signal bgtask sends goes to the task's
# process group only after checking, right before, that the group still has
# a live member with the token (or, for a task that cleared its environment,
# that its leader is the very process that was started: same pid and start).

# (SHELLOPTS in the caller's environment sets options in every bash: noglob
# would leave /proc/[0-9]* unexpanded, and no process of a task found.)
set +o errexit +o nounset +o pipefail +o noclobber +o xtrace +o noglob +o allexport 2>/dev/null
shopt -u nullglob failglob 2>/dev/null

# _proc: 1 when /proc is this process's own, 0 when there is none or it is
# another pid namespace's (a sandbox given the host's /proc: bwrap
# --unshare-pid without --proc, unshare -p without --mount-proc): its
# /proc/PID would be another process than our PID, read, signalled or
# opened in its place. Everything here that reads /proc asks this, not
# whether /proc exists; without our own, bgtask works as without any (by
# kill(2) and process groups, which are this namespace's). Two stats.
_proc=0
[[ /proc/self -ef /proc/$BASHPID ]] && _proc=1

# now_ms: _now = milliseconds since the epoch.
now_ms() {
  local t=${EPOCHREALTIME:-}
  if [[ -n $t ]]; then
    t=${t/[.,]/}
    _now=$((10#$t / 1000))
  else
    printf -v _now '%(%s)T' -1
    _now=$((_now * 1000))
  fi
}

# mono_ms: _mono = milliseconds on the boot clock (/proc/uptime), for
# deadlines and time that passed: a step of the wall clock (an NTP step, a
# VM's clock set as it resumes) must not fire a timeout at once, nor hold a
# grace period an hour. Suspended time counts (as a wall clock would count
# it). Where /proc/uptime cannot be read (macOS), the wall clock. Its unit
# is 10 ms.
mono_ms() {
  local u=''
  read -r u _ 2>/dev/null </proc/uptime
  if [[ $u =~ ^([0-9]+)\.([0-9]{2})$ ]]; then
    _mono=$((10#${BASH_REMATCH[1]} * 1000 + 10#${BASH_REMATCH[2]} * 10))
  else
    now_ms
    _mono=$_now
  fi
}

# caller_env: LC_ALL and the umask back to what the caller gave this
# process, for a process it starts (a supervisor sets LC_ALL=C and umask 077
# for itself; a script that did not keeps its own). SHELLOPTS and BASHOPTS,
# which bash exports when they came in the environment, would hand it our
# options (inherit_errexit, left on by --posix; privileged): no task gets
# them (README), the started bash starts with its defaults.
caller_env() {
  [[ -n ${old_umask-} ]] && umask "$old_umask"
  export -n SHELLOPTS BASHOPTS
  [[ -n ${_lcval+x} ]] || return 0
  # (A locale bash cannot set draws a warning from the assignment, which
  # would open the task's output: the task's own bash warns as it would.)
  if [[ -n $_lcset ]]; then export LC_ALL="$_lcval" 2>/dev/null; else unset LC_ALL; fi
}

# private_umask: what we create is ours alone (0600 files, 0700 folders);
# old_umask keeps the caller's, which caller_env gives back to a task.
private_umask() {
  local a b
  old_umask=''
  if ((_proc)) && [[ -r /proc/$BASHPID/status ]]; then
    while read -r a b; do
      if [[ $a == Umask: ]]; then
        old_umask=$b
        break
      fi
    done <"/proc/$BASHPID/status"
  fi
  [[ -n $old_umask ]] || old_umask=$(umask)
  umask 077
}

# close_inherited: closes every descriptor above 2 that this process was
# given (by whoever ran the spawner, through Deno): a task must not hold a
# caller's pipe open for as long as it runs (a CI step or an agent's tool
# call that reads that pipe to its end would wait for the task).
close_inherited() {
  local f n
  for f in /dev/fd/*; do
    n=${f##*/}
    [[ $n =~ ^[0-9]+$ ]] && ((n > 2)) && { exec {n}>&-; } 2>/dev/null
  done
  return 0
}

# boot_tag: _boot = "+" and the first 12 hex digits of this boot's random id,
# empty when there is none to read. A start time in clock ticks names a
# process only within one boot: after a restart, a new process can have a
# recorded pid and the very same start tick (boots start the same things in
# the same order), so every start time bgtask records carries the boot's tag.
boot_tag() {
  local b=''
  read -r b 2>/dev/null </proc/sys/kernel/random/boot_id
  b=${b//-/}
  _boot=''
  [[ $b =~ ^[0-9a-f]{12} ]] && _boot=+${BASH_REMATCH[0]}
}

# same_start RECORDED NOW: whether a recorded start time is NOW (a start
# time of this boot, as stat_read gives it). A record of bgtask 0.1, clock
# ticks alone, names those ticks in any boot.
same_start() {
  [[ $1 == "$2" ]] || [[ $1 != *+* && -n $1 && $1 == "${2%+*}" ]]
}

# words TEXT: _w = TEXT's words, split at spaces, tabs and newlines and never
# glob-expanded, as `read -r -a _w <<<TEXT` gives them but without its pipe:
# bash reads a here-string one byte a call (a /proc/PID/stat line: ~300
# reads, 0.25 ms; every supervisor's, "bgtask b1", is read this way).
words() {
  local IFS=$' \t\n' glob=1
  [[ $- == *f* ]] && glob=0
  set -f
  # shellcheck disable=SC2206 # split on purpose; globbing is off
  _w=($1)
  ((glob)) && set +f
  return 0
}

# after_comm STAT: _ac = the fields of a /proc/PID/stat text after the
# command name, from the state on; status 1 when there is no name. The name
# (at most 64 bytes, a kernel worker's) ends within the first 80 characters,
# with the last ") " there (the fields after it hold none): cut at that one,
# not at the last of the whole text (a pattern that costs 60 µs a line).
after_comm() {
  local p=${1:0:80}
  _ac=''
  [[ $p == *") "* ]] || return 1
  p=${p%") "*}
  _ac=${1:${#p}+2}
}

# stat_read FILE: _st_state _st_pgrp _st_sid _st_tty _st_tpgid _st_nthr
# (threads) _st_start (clock ticks since boot, with the boot's tag) from a
# /proc/PID/stat file; status 1 when it cannot be read. Fast (one read into
# fields) when the command name (at most 15 bytes) has no space: a name that
# fakes fields ("x) S 1 2 3") cannot also push the real ")" past field 9, so
# fields 4-9 being numbers proves the split; else the whole file (a name may
# hold a newline) is cut at its last ") ".
stat_read() {
  local c st pp pg sd tt tp fl nt x s
  [[ -n ${_boot+x} ]] || boot_tag
  read -r _ c st pp pg sd tt tp fl _ _ _ _ _ _ _ _ _ _ nt _ x _ 2>/dev/null <"$1" || return 1
  if [[ $c != *")" || $pp$pg$sd$tt${tp#-}$fl == *[!0-9]* ]]; then
    IFS= read -r -d '' s 2>/dev/null <"$1"
    after_comm "$s" || return 1
    words "$_ac"
    st=${_w[0]} pp=${_w[1]} pg=${_w[2]} sd=${_w[3]} tt=${_w[4]} tp=${_w[5]} fl=${_w[6]}
    nt=${_w[17]} x=${_w[19]}
  fi
  _st_state=$st _st_pgrp=$pg _st_sid=$sd _st_tty=$tt _st_tpgid=$tp _st_nthr=$nt _st_start=$x$_boot
}

# proc_info PID: _state (one letter), _pgrp, _start (clock ticks since boot,
# with the boot's tag: see stat_read); status 1 when there is no such process.
proc_info() {
  _state='' _pgrp='' _start=''
  local s
  if ((_proc)); then
    stat_read "/proc/$1/stat" || return 1
    _state=$_st_state _pgrp=$_st_pgrp _start=$_st_start
    return 0
  fi
  # Another namespace's /proc: ps would read it too; nothing is known.
  [[ -e /proc/self ]] && return 1
  # Without /proc (macOS): ps.
  s=$(ps -o stat=,pgid=,lstart= -p "$1" 2>/dev/null) || return 1
  [[ -n $s ]] || return 1
  read -r _state _pgrp _start <<<"$s"
  _state=${_state:0:1} _start=${_start// /_}
}

# has_token PID TOKEN: status 0 when the process's environment holds the task's
# token, 1 when it holds no token (or is gone), 3 when it holds another
# task's, 2 when it cannot be read: a live process of another user's (a
# command run through sudo, to one who is not root). Read up to the token only: a
# supervisor's environment still holds the ~30 KB of script it was started
# with (unset does not change /proc/PID/environ), and reading it all cost
# 1.5 ms a look, against 70 µs.
has_token() { #@lazy K
  local kv
  while IFS= read -r -d '' kv; do
    [[ $kv == BGTASK_INVOCATION=* ]] || continue
    [[ $kv == "BGTASK_INVOCATION=$2" ]] && return 0
    return 3
  done 2>/dev/null <"/proc/$1/environ" || {
    [[ -e /proc/$1 && ! -O /proc/$1 ]] && return 2
    return 1
  }
  return 1
}

# our_group PGID TOKEN LEADER_START: status 0 when a live (not zombie) member
# of group PGID is the task's: it carries TOKEN, or it is the leader itself
# (pid PGID, started at LEADER_START) and carries no other task's token, or
# (with the task's session known) it is in the task's session and runs as
# another user, its environment unreadable: a command of the task's run
# through sudo (no process of a group other than the task's, which is
# PGID's, can be in the task's session with that group's id). An
# empty LEADER_START recognises no leader (once it is reaped: a process with
# no token on its pid, started in the same clock tick, would pass for it).
# With the task's session known (_sess, see strays), its strays count too.
# (Both from one look at every process: see snap.)
our_group() { #@lazy K
  in_round any_of_task "$@"
}

# any_of_task PGID TOKEN LEADER_START: our_group, from the round's look.
any_of_task() { #@lazy K
  in_group "$@" && return 0
  [[ -n ${_sess-} ]] && strays "$1" "$2"
}

# in_group PGID TOKEN LEADER_START: our_group without the strays.
in_group() { #@lazy K
  # (A group we may not signal, another user's, is looked at all the same: a
  # reader of a store shared with it must not take a running task for gone.
  # So is one left with only processes of another user than this one, who is
  # not root: a task's sudo'd command, which its kill cannot end.)
  kill -0 -- "-$1" 2>/dev/null || { [[ -e /proc/$1 && ! -O /proc/$1 ]] ||
    { ((EUID && _proc)) && [[ -n ${_sess-} ]]; } || return 1; }
  ((_proc)) || return 0
  looked "$1"
  local p rc IFS=$' \t\n'
  for p in ${_gm[$1]-}; do
    has_token "$p" "$2"
    rc=$?
    ((rc == 0)) && return 0
    ((rc == 2)) && [[ -n ${_sess-} && " ${_sm[$_sess]-}" == *" $p:$1 "* ]] && return 0
    ((rc != 3)) && [[ $p == "$1" ]] && stat_read "/proc/$p/stat" &&
      same_start "$3" "$_st_start" && return 0
  done
  return 1
}

# Strays. A process of the task may leave the task's group for one of its
# own without leaving its session: coreutils' `timeout` does (unless
# --foreground), and so do the jobs of a shell with job control (`set -m`)
# and setpgid(2) callers. Such a process is still the task's: a kill, a
# timeout, a pause and the end of the task reach it. One that leaves the
# session (setsid: a daemon started to outlive the task) is not followed.
# _sess: the task's session, _supg: its supervisor's group, both set by
# whoever knows them (the supervisor, for itself and its watchdog; a kill,
# from the supervisor's record); unset, only the task's group is reached. A
# terminal's task has a session of its own, reached whole (stdin.sh): no
# _sess.

# strays PGID TOKEN: _strays = the process groups, other than PGID, that
# hold a live process of the task's session carrying TOKEN (not the
# supervisor's group, nor the session leader's: a launcher); status 0 when
# there is one. Every process of a session was forked into it, so such a
# group holds only the task's processes.
strays() { #@lazy K
  _strays=()
  [[ -n ${_sess-} ]] && ((_proc)) || return 1
  looked "$1"
  local e p pg IFS=$' \t\n'
  for e in ${_sm[$_sess]-}; do
    p=${e%:*} pg=${e#*:}
    [[ $pg != "$1" && $pg != "${_supg-}" && $pg != "$_sess" ]] || continue
    [[ " ${_strays[*]} " == *" $pg "* ]] && continue
    has_token "$p" "$2"
    # (Or another user's, its environment unreadable: a command the task ran
    # through sudo, as our_group counts one in the task's own group.)
    case $? in 0 | 2) _strays+=("$pg") ;; esac
  done
  ((${#_strays[@]}))
}

# Looks at every process. Finding a task's processes takes a look at every
# process's stat (a group's or a session's members are listed nowhere else):
# about 13 µs a process. A kill looked several times a task, so killing N
# tasks at once (at 3 processes a task) cost N² of them: 300 tasks, 20 s.
# `snap` reads them all once and keeps the members of the groups and
# sessions asked about; in_group and strays answer from the last one while a
# round keeps it (_keep: our_group keeps one for its two questions, a kill of
# many tasks one for them all a round), and take one of their own otherwise.

# snap: _gm[PGID] = the pids of the live (not zombie) processes of each group
# in _wg, _sm[SID] = "PID:PGID" of those of each session in _ws, each followed
# by a space. (One read into fields per process, as in stat_read; processes
# that are gone by the time they are read make no noise. Keeping every
# process cost half as much again.)
snap() { #@lazy K
  unset _gm _sm
  declare -gA _gm=() _sm=()
  local p c st pp pg sd tt tp fl s
  for p in /proc/[0-9]*; do
    read -r _ c st pp pg sd tt tp fl _ <"$p/stat" || continue
    if [[ $c != *")" || $pp$pg$sd$tt${tp#-}$fl == *[!0-9]* ]]; then
      IFS= read -r -d '' s <"$p/stat"
      after_comm "$s" || continue
      words "$_ac"
      st=${_w[0]} pg=${_w[2]} sd=${_w[3]}
    fi
    [[ $st != Z && ( -n ${_wg[$pg]-} || -n ${_ws[$sd]-} ) ]] || continue
    p=${p#/proc/}
    _gm[$pg]+="$p "
    _sm[$sd]+="$p:$pg "
  done 2>/dev/null
  _snapped=1
}

# looked PGID: a look to answer from about group PGID (and the session in
# _sess): the round's, or a new one. A round whose owner set _wg and _ws
# itself (_wfixed) keeps them; else they are PGID and _sess.
looked() { #@lazy K
  [[ -n ${_keep-} && -n ${_snapped-} ]] && return 0
  if [[ -z ${_wfixed-} ]]; then
    unset _wg _ws
    declare -gA _wg=(["$1"]=1) _ws=()
    [[ -n ${_sess-} ]] && _ws[$_sess]=1
  fi
  snap
}

# in_round CMD ARG…: runs CMD with one look at every process for all it asks
# (the look is taken at its first question), unless a round is under way.
in_round() { #@lazy K
  local outer=${_keep-} r
  [[ -n $outer ]] || _keep=1 _snapped=''
  "$@"
  r=$?
  [[ -n $outer ]] || _keep=''
  return "$r"
}

# sup_sess SUP_PID SUP_START TASK_PID TASK_START TOKEN: _sess and _supg from
# the task's supervisor (its group is its pid), or, once it is gone, from the
# task's leader, or from its watchdog (a member of the supervisor's group
# with the token); nothing when none is there.
sup_sess() { #@lazy K
  local p
  _supg=$1
  if stat_read "/proc/$1/stat" && [[ $_st_state != Z ]] && same_start "$2" "$_st_start"; then
    _sess=$_st_sid
  elif stat_read "/proc/$3/stat" && [[ $_st_state != Z ]] && same_start "$4" "$_st_start"; then
    _sess=$_st_sid
  elif [[ -n $5 ]] && ((_proc)) && kill -0 -- "-$1" 2>/dev/null; then
    # (Its name, "bgtask b1 wd", has spaces: stat_read splits it right.)
    for p in /proc/[0-9]*; do
      stat_read "$p/stat" || continue
      [[ $_st_pgrp == "$1" && $_st_state != Z ]] || continue
      has_token "${p#/proc/}" "$5" && _sess=$_st_sid && break
    done 2>/dev/null
  fi
  return 0
}

# token_alive TOKEN: status 0 when a live (not zombie) process carries the
# task's token, wherever it is (a launcher or supervisor that has not
# recorded the start yet, or the command); 1 when none does. Without /proc: 0.
token_alive() { #@lazy K
  ((_proc)) && [[ -n $1 ]] || return 0
  local p
  for p in /proc/[0-9]*; do
    has_token "${p#/proc/}" "$1" || continue
    stat_read "$p/stat" && [[ $_st_state != Z ]] && return 0
  done 2>/dev/null
  return 1
}

# Pid namespaces. A store may be shared between pid namespaces (a container
# or a sandbox and the host): a task's pids are those of its supervisor's
# namespace, where a looker elsewhere may find other processes on them (or
# none). A namespace is known by its tag: the start time of its pid 1 (clock
# ticks since boot, with the boot's tag, as stat_read gives it), which the
# supervisor records in `started`; "u" where it cannot be read (no /proc of
# our own). Two namespaces whose pid 1 started in the same 10 ms tick are
# taken for one: their tasks are judged by pids, as before tags. A record
# without a tag is of the same namespace as anyone.

# NOPID: a pid no process has (above the kernel's limit, 2^22): a pid of
# another namespace with no process seen here for it.
NOPID=4194305

# pidns_tag: _nstag = this process's namespace's tag (read once a bash).
pidns_tag() {
  [[ -n ${_nstag-} ]] && return 0
  _nstag=u
  ((_proc)) && stat_read /proc/1/stat && [[ -n $_st_start ]] && _nstag=$_st_start
  return 0
}

# pidns_initial: status 0 in the initial pid namespace, which sees every
# process of the machine: its pid 2 is the kernel's kthreadd (parent 0, flag
# PF_KTHREAD 0x200000, which no user process can have; kernel threads are
# seen in no other namespace).
pidns_initial() { #@lazy K
  local c pp fl
  ((_proc)) || return 1
  read -r _ c _ pp _ _ _ _ fl _ 2>/dev/null </proc/2/stat || return 1
  [[ $c == "(kthreadd)" && $pp == 0 && $fl =~ ^[0-9]+$ ]] && ((fl & 0x200000))
}

# ns_scan: _tk[TOKEN] = the pids (here) of the live processes that carry each
# task's token, from one look at every process (once a bash: a look at tasks
# of other namespaces asks it for each).
ns_scan() { #@lazy K
  [[ -n ${_tkscanned-} ]] && return 0
  _tkscanned=1
  unset _tk
  declare -gA _tk=()
  local p kv
  for p in /proc/[0-9]*; do
    kv=''
    while IFS= read -r -d '' kv; do
      [[ $kv == BGTASK_INVOCATION=* ]] && break
      kv=''
    done <"$p/environ"
    [[ -n $kv ]] || continue
    { stat_read "$p/stat" && [[ $_st_state != Z ]]; } || continue
    _tk[${kv#BGTASK_INVOCATION=}]+="${p#/proc/} "
  done 2>/dev/null
}

# ns_map PID…: _nsx[ID] = the pid here of each pid, group and session ID of
# the task's namespace that one of these processes (the task's) has: read
# from /proc/PID/status (NSpid, NSpgid, NSsid: this namespace's id first,
# then each namespace's below, down to the process's own). The task's
# namespace is the shallowest of theirs (a task may make namespaces of its
# own below it).
ns_map() { #@lazy K
  unset _nsx
  declare -gA _nsx=()
  local p k v lvl=0 n
  local -a ids=()
  for p in "$@"; do
    while read -r k v; do
      case $k in
      NSpid: | NSpgid: | NSsid:) ids+=("$v") ;;
      esac
    done 2>/dev/null <"/proc/$p/status"
  done
  for v in "${ids[@]}"; do
    words "$v"
    n=${#_w[@]}
    ((lvl == 0 || n < lvl)) && lvl=$n
  done
  for v in "${ids[@]}"; do
    words "$v"
    ((${#_w[@]} >= lvl && lvl > 0)) && _nsx[${_w[lvl - 1]}]=${_w[0]}
  done
  return 0
}

# ns_look SUP_PID TASK_PID TOKEN TAG: how a task recorded in the namespace
# TAG is looked at from here, the one rule every look, kill and signal
# follows. _nsv:
#   ""      the same namespace (or a record without a tag): by its pids;
#   seen    another namespace, which this one sees into (it is an ancestor of
#           it: the host sees every container's processes), and a live
#           process carries the token: alive. _nsp and _ntp are then the
#           supervisor's and the task's pids (groups) as seen here (NOPID
#           for one that is gone), their start times the same (ticks since
#           boot); ns_id translates more (a terminal's session).
#   gone    another namespace, and nothing of it is left: this is the initial
#           namespace, where every process is seen. (Its namespace may have
#           ended with it: a sandbox's tasks end with the sandbox.)
#   unseen  another namespace, which cannot be seen from here (a sandbox
#           looking at the host's tasks, or at another sandbox's): as far as
#           we can tell it runs. It must not be taken for lost (its queue slot
#           freed, the tasks after it started here), and cannot be signalled.
ns_look() { #@lazy K
  _nsv='' _nsp=$1 _ntp=$2
  [[ -n $4 && $4 != - ]] || return 0
  pidns_tag
  # (The same tag: the same namespace; but "u", a namespace whose pid 1 could
  # not be read, is no namespace in particular: two sandboxes without a /proc
  # of their own both say it, and a look without one would take pids of
  # another namespace for its own, with no token to tell; one with its own
  # /proc checks every pid's token, as before tags.)
  [[ $4 == "$_nstag" ]] && { [[ $4 != u ]] || ((_proc)); } && return 0
  if ((_proc)) && [[ -n $3 ]]; then
    ns_scan
    if [[ -n ${_tk[$3]-} ]]; then
      _nsv=seen
      # shellcheck disable=SC2086 # pids
      ns_map ${_tk[$3]}
      _nsp=${_nsx[$1]:-$NOPID} _ntp=${_nsx[$2]:-$NOPID}
      return 0
    fi
    pidns_initial && _nsv=gone && return 0
  fi
  _nsv=unseen
}

# ns_id ID: _nsid = ID (a pid, group or session of the task's namespace) as
# seen here, after ns_look.
ns_id() { #@lazy K
  _nsid=$1
  [[ $_nsv == seen ]] && _nsid=${_nsx[$1]:-$NOPID}
  return 0
}

# nap SECONDS: sleep without forking sleep(1) each time (a read that times out
# on a pipe nobody writes to; the pipe costs one fork, once); falls back to sleep(1).
nap() {
  [[ -n ${_napfd:-} ]] || exec {_napfd}<> <(:) 2>/dev/null || {
    sleep "$1"
    return 0
  }
  read -r -t "$1" -u "$_napfd" _ 2>/dev/null
  return 0
}

# group_made PGID LEADER_START: waits (up to 5 s) while the task's leader
# (pid PGID, started at LEADER_START) is alive but has no group of its own
# yet: a task between its fork and its setpgid(2) (rare: the supervisor
# reports a start only after it). Status 0 once the group exists, 1 when the
# leader is gone (or the pid is another process's).
group_made() { #@lazy K
  local n
  ((_proc)) || return 1
  for ((n = 0; n < 5000; n++)); do
    proc_info "$1" || return 1
    [[ $_state == Z ]] || ! same_start "$2" "$_start" && return 1
    [[ $_pgrp == "$1" ]] && return 0
    nap 0.001
  done
  return 1
}

# signal_group PGID TOKEN LEADER_START SIGNAL: sends SIGNAL to the group if it
# is still the task's (see our_group; then _mine=1), and to its strays'
# groups (_strays); status 1 when nothing of the task is left. The strays of a shell with job
# control (set -m) are its jobs: SIGSTOP reaches them only once the group
# (the shell) has stopped, and SIGCONT reaches them before it, so that the
# shell never sees its jobs stopped (its `wait` would end, "job 1 stopped",
# and the shell go on to its end while they are held).
signal_group() { #@lazy K
  in_round signal_task "$@"
}

# signal_task PGID TOKEN LEADER_START SIGNAL: signal_group, from the round's look.
signal_task() { #@lazy K
  local r=1 g
  _strays=() _mine=0
  if in_group "$1" "$2" "$3" || {
    # No such group: the task has ended, or it is still making its group
    # (then a new look; not waited for under _nomake: see kill_many).
    [[ -z ${_nomake-} ]] && group_made "$1" "$3" && _snapped='' && in_group "$1" "$2" "$3"
  }; then
    _mine=1
    r=0
  fi
  [[ -n ${_sess-} ]] && strays "$1" "$2" && r=0
  if [[ $4 == CONT ]]; then
    for g in "${_strays[@]}"; do kill -CONT -- "-$g" 2>/dev/null; done
    ((_mine)) && kill -CONT -- "-$1" 2>/dev/null
    return "$r"
  fi
  ((_mine)) && kill "-$4" -- "-$1" 2>/dev/null
  ((${#_strays[@]})) || return "$r"
  [[ $4 == STOP ]] && ((_mine)) && group_stopped "$1"
  for g in "${_strays[@]}"; do kill "-$4" -- "-$g" 2>/dev/null; done
  return "$r"
}

# group_stopped PGID: waits (up to 1 s) until no live member of the group
# runs: each is stopped, or gone.
group_stopped() { #@lazy K
  local p deadline busy
  ((_proc)) || return 0
  mono_ms
  deadline=$((_mono + 1000))
  for (( ; ; )); do
    busy=0
    # (stat_read: a pause is no loop that runs every few milliseconds.)
    for p in /proc/[0-9]*; do
      stat_read "$p/stat" && [[ $_st_pgrp == "$1" && $_st_state != [TtZX] ]] && busy=1 && break
    done 2>/dev/null
    ((busy)) || return 0
    mono_ms
    ((_mono >= deadline)) && return 0
    nap 0.002
  done
}

# kill_group PGID TOKEN LEADER_START GRACE_MS [SIGNAL]: SIGNAL (TERM unless
# given: TERM, INT, HUP, QUIT, USR1, USR2 or KILL, as a kill asked for it) to
# the group, SIGKILL it after the grace, and return once nothing of it is
# alive (status 1 if something still is 5 s after SIGKILL). Each signal goes
# only to a group that is still the task's; _signalled=1 once one went
# (nobody of it alive: unset). Its strays: those of the session in _sess (see
# strays). (kill_tasks, for this one task.)
kill_group() { #@lazy K
  local -a kg=("$1") kt=("$2") kl=("$3") kd=("$4") kn=("${5:-TERM}") ks=("${_sess-}") ku=("${_supg-}")
  kill_tasks
}

# kill_task PGID TOKEN LEADER_START GRACE_MS [SIGNAL]: kill_group; for a task on a
# terminal (_pty_sid set, see stdin.sh), its terminal's session too.
kill_task() { #@lazy K
  if [[ -n ${_pty_sid-} ]]; then pty_kill "$@"; else kill_group "$@"; fi
}

# kill_many SPEC…: kill_group for many tasks at once, with one look at every
# process a round for them all, not one a task (see snap); SPEC: "PGID
# LEADER_START TOKEN GRACE_MS SUP_PID SUP_START TAG[ SIGNAL]" (the supervisor's session
# holds the task's strays; TAG: its pid namespace, see ns_look; SIGNAL: the
# first, TERM unless given). Prints "N
# STATUS" as task N (from 0) is done, STATUS as kill_group's: 0 when nothing
# of it is left, 1 when something still was 5 s after SIGKILL (followed by
# the process groups it was in); 2 when it runs in a pid namespace that
# cannot be seen from here (nothing done). Its
# asker may be gone by then (a Ctrl-C: the kill goes on): a write to its
# pipe must not end us.
kill_many() { #@lazy K
  local spec i=0
  local -a kg kt kl kd kn ks ku
  trap '' PIPE
  for spec in "$@"; do
    kill_spec "$spec"
    # (Another pid namespace's task: its pids as seen here, or nothing to do.)
    ns_look "${_w[4]}" "${_w[0]}" "${_w[2]}" "${_w[6]-}"
    case $_nsv in
    unseen | gone)
      if [[ $_nsv == unseen ]]; then printf '%s 2\n' "$i"; else printf '%s 0\n' "$i"; fi 2>/dev/null
      ((i++))
      continue
      ;;
    esac
    kill_spec "$spec"
    _w[0]=$_ntp _w[4]=$_nsp
    kg[i]=${_w[0]} kl[i]=${_w[1]} kt[i]=${_w[2]} kd[i]=${_w[3]} kn[i]=${_w[7]:-TERM}
    _sess='' _supg=''
    sup_sess "${_w[4]}" "${_w[5]}" "${_w[0]}" "${_w[1]}" "${_w[2]}"
    ks[i]=$_sess ku[i]=$_supg
    ((i++))
  done
  _kprint=1 kill_tasks
}

# kill_spec SPEC: _w = kill_many's SPEC, field by field: one space between
# each, so that an empty field stays one (a task of bgtask 0.1 has no token:
# split as words, its grace was the next field, its supervisor's pid, in ms).
kill_spec() { #@lazy K
  if [[ $1 =~ ^([^ ]*)\ ([^ ]*)\ ([^ ]*)\ ([^ ]*)\ ([^ ]*)\ ([^ ]*)\ ([^ ]*)(\ ([A-Z0-9]+))?$ ]]; then
    _w=("${BASH_REMATCH[@]:1:7}" "${BASH_REMATCH[9]}")
  else
    words "$1"
  fi
}

# kill_tasks: (kill_group, kill_many) ends the tasks of the caller's arrays,
# by index: kg their groups, kl their leaders' start times, kt their tokens,
# kd their graces (ms), kn their first signals (TERM, INT…), ks and ku their
# sessions and supervisors' groups (see strays). Each: its first signal (and
# SIGCONT: a paused group must run to act on it), SIGKILL after its grace
# (none after a first KILL), done once nothing of it is left, or 5 s after
# the SIGKILL (status 1 then); with _kprint, "N STATUS[ PGID…]" printed as
# task N is done (the groups still there for 1; the last such also in
# _kleft). One look at every process a round for them all (see snap); each
# round's signals go to what its look found of the task. _signalled=1 once a
# first signal went.
kill_tasks() { #@lazy K
  local i g n=0 sig r=0 left
  local -a kk kw
  unset _wg _ws
  declare -gA _wg=() _ws=()
  for i in "${!kg[@]}"; do
    kk[i]=TERM kw[i]='' _wg[${kg[i]}]=1
    [[ -n ${ks[i]} ]] && _ws[${ks[i]}]=1
  done
  _wfixed=1
  for (( ; ; )); do
    _keep=1 _snapped=''
    mono_ms
    for i in "${!kg[@]}"; do
      _sess=${ks[i]} _supg=${ku[i]} left=''
      if [[ ${kk[i]} == TERM ]]; then
        # A leader still making its group (between its fork and its
        # setpgid, or one that moved to another group): looked at again each
        # round, for 5 s (group_made's wait), the others not held up by it.
        if unmade "${kg[i]}" "${kl[i]}"; then
          [[ -n ${kw[i]} ]] || kw[i]=$((_mono + 5000))
          ((_mono < kw[i])) && continue
        fi
        if _nomake=1 signal_task "${kg[i]}" "${kt[i]}" "${kl[i]}" "${kn[i]:-TERM}"; then
          _signalled=1
          ((_mine)) && kill -CONT -- "-${kg[i]}" 2>/dev/null
          for g in "${_strays[@]}"; do kill -CONT -- "-$g" 2>/dev/null; done
          # (A first SIGKILL was the last signal: only its 5 s to wait.)
          if [[ ${kn[i]} == KILL ]]; then
            kk[i]=killed kd[i]=$((_mono + 5000))
          else
            kk[i]=termed kd[i]=$((_mono + kd[i]))
          fi
          continue
        fi
        sig=0
      # (Zombies count as gone: orphans wait for init to reap them, which can take a while.)
      elif ! any_of_task "${kg[i]}" "${kt[i]}" "${kl[i]}"; then
        sig=0
      elif ((_mono < kd[i])); then
        continue
      elif [[ ${kk[i]} == termed ]]; then
        signal_task "${kg[i]}" "${kt[i]}" "${kl[i]}" KILL
        kk[i]=killed kd[i]=$((_mono + 5000))
        continue
      else
        sig=1 r=1
        # (Which groups are left, for the asker to name: the task's, its strays'.)
        in_group "${kg[i]}" "${kt[i]}" "${kl[i]}" && left=${kg[i]}
        strays "${kg[i]}" "${kt[i]}" && left+=" ${_strays[*]}"
        _kleft=${left# }
      fi
      [[ -n ${_kprint-} ]] && printf '%s %s%s\n' "$i" "$sig" "${left:+ ${left# }}" 2>/dev/null
      unset "kg[i]"
    done
    _keep=''
    ((${#kg[@]})) || break
    if ((n++ < 20)); then nap 0.005; else nap 0.025; fi
  done
  _wfixed=''
  return "$r"
}

# unmade PGID LEADER_START: status 0 while the task's leader (pid PGID,
# started at LEADER_START) lives in another group and no group PGID exists:
# it has not made its group yet (see group_made).
unmade() { #@lazy K
  ! kill -0 -- "-$1" 2>/dev/null && proc_info "$1" && [[ $_state != Z && $_pgrp != "$1" ]] &&
    same_start "$2" "$_start"
}

# nice_of PID: _niceval = the process's nice value, empty when its stat
# cannot be read.
nice_of() { #@lazy I
  local s=''
  _niceval=''
  # (read -d '' ends the text without a NUL: status 1, the text read.)
  IFS= read -r -d '' s 2>/dev/null <"/proc/$1/stat"
  after_comm "$s" && words "$_ac" && _niceval=${_w[16]-}
  return 0
}

# sig_name N: _sig = the signal's name with SIG (SIGTERM for 15), without forking.
sig_name() { #@lazy K
  local -a names=(
    "" HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT
    CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS
  )
  # The generic Linux numbering (every architecture but alpha, mips and sparc).
  if [[ $OSTYPE == linux* && $HOSTTYPE != @(alpha|mips|sparc)* ]] && (($1 > 0 && $1 < ${#names[@]})); then
    _sig=SIG${names[$1]}
  else
    _sig=$(kill -l "$1" 2>/dev/null)
    _sig=SIG${_sig#SIG}
  fi
}

# read_spec [DIR]: reads a task's spawn record (NUL-separated key=value fields,
# see src/store/records.ts) from DIR (default: the current folder) into s_*
# globals and the s_env array. F_* are the store's record names, given before
# this library.
read_spec() {
  local -a f
  local kv
  s_command='' s_cwd='' s_timeout=0 s_cap=0 s_grace=2000 s_stdin=null s_queue='' s_long=0
  s_cols=80 s_rows=24 s_after='' s_policy=success s_token='' s_inherit=0 s_spawner='' s_limits=''
  s_env=()
  mapfile -d '' -t f <"${1:-.}/$F_SPEC" 2>/dev/null || return 1
  [[ ${f[0]:-} == bgtask-spec* ]] || return 1
  for kv in "${f[@]:1}"; do
    case $kv in
    command=*) s_command=${kv#command=} ;;
    cwd=*) s_cwd=${kv#cwd=} ;;
    timeoutMs=*) s_timeout=${kv#timeoutMs=} ;;
    maxOutputBytes=*) s_cap=${kv#maxOutputBytes=} ;;
    graceMs=*) s_grace=${kv#graceMs=} ;;
    stdin=*) s_stdin=${kv#stdin=} ;;
    queue=*) s_queue=${kv#queue=} ;;
    after=*) s_after=${kv#after=} ;;
    afterPolicy=*) s_policy=${kv#afterPolicy=} ;;
    columns=*) s_cols=${kv#columns=} ;;
    rows=*) s_rows=${kv#rows=} ;;
    token=*) s_token=${kv#token=} ;;
    longCommand=1) s_long=1 ;;
    inherited=1) s_inherit=1 ;;
    spawner=*) s_spawner=${kv#spawner=} ;;
    limits=*) s_limits=${kv#limits=} ;;
    env=*) s_env+=("${kv#env=}") ;;
    esac
  done
  return 0
}


# json_str TEXT: _json = TEXT as a JSON string, quotes included.
json_str() { #@lazy J
  local s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
    '"') out+='\"' ;;
    \\) out+=\\\\ ;;
    $'\n') out+='\n' ;;
    $'\t') out+='\t' ;;
    $'\r') out+='\r' ;;
    [[:cntrl:]]) printf -v c '\\u%04x' "'$c" && out+=$c ;;
    *) out+=$c ;;
    esac
  done
  _json="\"$out\""
}

# write_final_at DIR STATUS EXITCODE SIGNAL ERROR BY [MORE]: claims the final
# record of the task in DIR (the first writer wins), MORE being more of its
# JSON fields (`,"leftovers":true`); status 1 when another record was first, 2
# when the record could not be written (a full disk). Its time is $_final_at
# when set (a record written again keeps the time of the first try).
write_final_at() { #@lazy E
  local dir=$1 e=null s=null w=0
  shift
  if [[ -n $4 ]]; then
    json_str "$4"
    e=$_json
  fi
  [[ $3 != null ]] && s="\"$3\""
  now_ms
  [[ -n ${_final_at-} ]] && _now=$_final_at
  set -C
  {
    printf '{"status":"%s","exitCode":%s,"signal":%s,"error":%s,"finishedAt":%s,"by":"%s"%s}\n' \
      "$1" "$2" "$s" "$e" "$_now" "$5" "${6-}" || w=1
  } 2>/dev/null >"$dir/$F_FINAL" || {
    set +C
    [[ -e $dir/$F_FINAL ]] && return 1
    return 2
  }
  set +C
  # The claim is ours but its write failed (a full disk): remove it rather than
  # leave an empty record no reader can parse.
  if ((w)); then
    rm -f -- "$dir/$F_FINAL"
    return 2
  fi
  # A task that waited and ended without starting (its dependency failed, it
  # was lost): its spawner's environment leaves the disk now (see start).
  [[ -s $dir/$F_ENVIRON ]] && : 2>/dev/null >"$dir/$F_ENVIRON"
  return 0
}

# announce_to ID: adds a finished task to the store's completion log, which
# the store made when it was opened. Never a new log: a store being deleted
# (a test's clean-up right after kill() saw the final record) must not get
# one back, or its folder is not empty when the deletion ends.
announce_to() { #@lazy E
  [[ -f $store/$F_LOG ]] || return 0
  printf '%s\n' "$1" >>"$store/$F_LOG" 2>/dev/null || return 1
  # Its active marker says so (a byte: bash removes no file without a fork),
  # so that a sweep only drops the marker instead of telling it again: one
  # line a task in the log, not two. (Only a marker there: a sweep may have
  # dropped it already, and none must come back.)
  [[ -e $store/$F_ACTIVE/$1 ]] && printf 1 2>/dev/null >"$store/$F_ACTIVE/$1"
  return 0
}
