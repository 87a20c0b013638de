# shellcheck shell=bash source=lib.sh
. "${BASH_SOURCE[0]%/*}/lib.sh" #@include lib.sh
# shellcheck source=queue.sh
. "${BASH_SOURCE[0]%/*}/queue.sh" #@include queue.sh

# What Deno asks of running tasks: are they alive, end them, stop or continue them.
#
# Run as: BGTASK_SH=<this script> bash -c 'eval "$BGTASK_SH"' bgtask VERB ARGS…
#   alive "SUP_PID SUP_START TASK_PID TASK_START TOKEN"…   one line per task: 1 alive, 0 not
#   kill TASK_PID TASK_START TOKEN GRACE_MS                exit 3 if something survived SIGKILL
#   signal TASK_PID TASK_START TOKEN SIGNAL                exit 1 if nothing of the task is left
#   whoami                                                 "PID START" of the Deno process that asks
#   procs "PID START"…                                     one line per process: 1 alive, 0 not
#   schedule STORE QUEUE…      frees the slots of tasks that ended or died unseen, starts what
#                              fits (see queue.sh)
#   ended STORE ID…            a task ended without its supervisor: hand its slot on, resolve
#                              the tasks that run after it
#   resolve STORE ID           a new task that runs after others: start it if they ended
# The verbs that may start tasks need the supervisor and queue scripts in
# $BGTASK_SUP and $BGTASK_QSH.
unset BGTASK_SH
_sh=${BGTASK_SUP-} _qsh=${BGTASK_QSH-}
unset BGTASK_SUP BGTASK_QSH

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
