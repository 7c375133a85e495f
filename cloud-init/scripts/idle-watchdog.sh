#!/usr/bin/env bash
# Run every minute by arm64-runner-idle.timer. Powers the host off once no job (Runner.Worker) has been
# seen for IDLE_TIMEOUT_MINUTES; never while a job runs and never before registration completed.
# What power-off means (stop or terminate) is the cloud's instance setting.
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
[ "${IDLE_ACTION:-none}" != none ] || exit 0
registered="$ARM64_RUNNER_STATE/registered"
busy="$ARM64_RUNNER_STATE/last-busy"
[ -f "$registered" ] || { log "idle: not registered yet"; exit 0; }
now=${ARM64_RUNNER_NOW:-$(date +%s)}

# A process may end while it is looked at: a failed read is a missing process, skipped. Files are read
# by builtins only (read, mapfile: a failed redirection is their non-zero status), never by `$(<file)`,
# whose failed redirection ends the script, nor by `cat`: one fork per process and minute is ~20 s of
# CPU a minute on an emulated (TCG) guest.
job_running() {
  local dir comm args arg
  for dir in "${ARM64_RUNNER_PROC:-/proc}"/[0-9]*; do
    read -r comm 2>/dev/null <"$dir/comm" || continue
    [ "$comm" = Runner.Worker ] && return 0
    mapfile -d '' args 2>/dev/null <"$dir/cmdline" || continue
    for arg in "${args[@]}"; do
      case "$arg" in Runner.Worker | */Runner.Worker) return 0 ;; esac
    done
  done
  return 1
}

if job_running; then
  printf '%s\n' "$now" >"$busy"
  exit 0
fi
since=$(cat "$busy" 2>/dev/null || cat "$registered")
idle=$((now - since))
if [ "$idle" -ge $((IDLE_TIMEOUT_MINUTES * 60)) ]; then
  report "IDLE for ${idle}s (limit ${IDLE_TIMEOUT_MINUTES}m), powering off (idleAction=$IDLE_ACTION)"
  # shellcheck disable=SC2086 # the command is a word list on purpose
  exec ${ARM64_RUNNER_POWEROFF:-systemctl poweroff}
fi
