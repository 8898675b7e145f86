#!/usr/bin/env bash
# Runs one resource process and ties its life to the orchestrator's.
# Usage: watchdog.sh STOP_SIGNAL GRACE_SECONDS PID_FILE NICE -- COMMAND [ARGS...]
#
# Standard input is a pipe whose only writer is the orchestrator. It reaches end-of-file when the orchestrator
# closes it (an orderly stop) or when the orchestrator dies in any way, SIGKILL included. Then the child gets
# STOP_SIGNAL, and SIGKILL after GRACE_SECONDS. A parent-death signal would not do: Linux sends it when the *thread*
# that forked exits, and .NET forks from pool threads that come and go.
set -u
stop_signal=$1 grace=$2 pid_file=$3 nice=$4
shift 5

if ((nice != 0)); then
  # Each resource runs in a session of its own (setsid), and where the kernel groups tasks by session (autogroup),
  # the scheduler shares the CPU between sessions by the session's niceness, not the process's: set both. The kernel
  # takes one autogroup change per 100 ms across the machine, hence the retries. A negative niceness (a higher
  # priority) needs root or CAP_SYS_NICE; without it the resource runs at the default priority, and says so.
  if [[ -w /proc/self/autogroup ]] && ((nice > 0 || EUID == 0)); then
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      echo "$nice" 2>/dev/null >/proc/self/autogroup && break
      sleep 0.1
    done
  fi
  if ! renice -n "$nice" -p $$ >/dev/null 2>&1; then
    echo "watchdog: could not set CPU niceness $nice (it needs root or CAP_SYS_NICE); running at the default priority" >&2
  fi
fi

# The terminal's Ctrl+C is for the orchestrator, which stops resources in dependency order.
trap '' INT

# Keep the pipe on fd 3: bash gives background jobs /dev/null as standard input when job control is off.
exec 3<&0 </dev/null

"$@" 3<&- &
child=$!
echo "$child" >"$pid_file"

(
  while read -r _ <&3; do :; done
  kill -"$stop_signal" "$child" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$child" 2>/dev/null || exit 0
    sleep 0.1
  done
  kill -KILL "$child" 2>/dev/null
) &
watcher=$!

wait "$child"
code=$?
kill "$watcher" 2>/dev/null
exec 3<&-
exit "$code"
