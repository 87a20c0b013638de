# shellcheck shell=bash source=lib.sh
. "${BASH_SOURCE[0]%/*}/lib.sh" #@include lib.sh

# What Deno asks of running tasks: are they alive, end them, stop or continue them.
#
# Run as: BGTASK_SH=<this script> bash -c 'eval "$BGTASK_SH"' bgtask VERB ARGS…
#   alive "SUP_PID SUP_START TASK_PID TASK_START TOKEN"…   one line per task: 1 alive, 0 not
#   kill TASK_PID TASK_START TOKEN GRACE_MS                exit 3 if something survived SIGKILL
#   signal TASK_PID TASK_START TOKEN SIGNAL                exit 1 if nothing of the task is left
#   whoami                                                 "PID START" of the Deno process that asks
#   procs "PID START"…                                     one line per process: 1 alive, 0 not
unset BGTASK_SH

# alive_one SUP_PID SUP_START TASK_PID TASK_START TOKEN: the supervisor (same
# pid and start time, not a zombie, not another task's) or any live member of
# the task's group that is the task's.
alive_one() {
  if proc_info "$1" && [[ $_state != Z && $_start == "$2" ]]; then
    # The supervisor never execs: it always carries the token (a task of
    # bgtask 0.1 has none to check).
    [[ -z $5 ]] && return 0
    has_token "$1" "$5" && return 0
  fi
  our_group "$3" "$5" "$4"
}

case ${1-} in
alive)
  shift
  for spec in "$@"; do
    read -r sp ss tp ts token <<<"$spec"
    if alive_one "$sp" "$ss" "$tp" "$ts" "$token"; then echo 1; else echo 0; fi
  done
  ;;
kill)
  kill_group "$2" "$4" "$3" "$5" || exit 3
  ;;
signal)
  signal_group "$2" "$4" "$3" "$5" || exit 1
  ;;
whoami)
  proc_info "$PPID" || exit 1
  echo "$PPID $_start"
  ;;
procs)
  shift
  for spec in "$@"; do
    read -r p st <<<"$spec"
    if proc_info "$p" && [[ $_state != Z && $_start == "$st" ]]; then echo 1; else echo 0; fi
  done
  ;;
*)
  printf 'bgtask control: unknown verb "%s"\n' "${1-}" >&2
  exit 2
  ;;
esac
