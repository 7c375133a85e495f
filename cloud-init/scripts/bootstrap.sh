#!/usr/bin/env bash
# Turns a blank host into a registered, supervised runner; run once by cloud-init's runcmd.
# Steps and the hook contract: cloud-init/README.md. Prints READY or FAILED on the console and exits
# non-zero on failure so `cloud-init status` reports an error.
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
mkdir -p "$ARM64_RUNNER_STATE" "$ARM64_RUNNER_RUN"

run_step() {
  local name=$1 rc=0 reason
  shift
  rm -f "$ARM64_RUNNER_RUN/failure"
  log "step $name"
  "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    reason=$(cat "$ARM64_RUNNER_RUN/failure" 2>/dev/null || true)
    report "FAILED step=$name reason=${reason:-exit-$rc}"
    exit "$rc"
  fi
}

# The JIT service must consume (delete) the config it was handed; never leave it behind.
wait_jit_consumed() {
  local jit="$ARM64_RUNNER_RUN/jit" i
  for i in $(seq 1 "${ARM64_RUNNER_JIT_WAIT:-60}"); do
    [ -e "$jit" ] || return 0
    [ "$i" -eq 1 ] || sleep 1
  done
  rm -f "$jit"
  fail "jit-config-not-consumed"
}

enable_timers() {
  "$ARM64_RUNNER_SYSTEMCTL" daemon-reload
  if [ "${BLOCK_METADATA:-1}" = 1 ]; then
    "$ARM64_RUNNER_SYSTEMCTL" enable arm64-runner-imds.service
  fi
  "$ARM64_RUNNER_SYSTEMCTL" enable --now arm64-runner-prune.timer
  if [ "${IDLE_ACTION:-none}" != none ]; then
    "$ARM64_RUNNER_SYSTEMCTL" enable --now arm64-runner-idle.timer
  fi
}

run_step packages "$ARM64_RUNNER_LIB/install-packages.sh"
run_step prepare "$ARM64_RUNNER_LIB/variant/prepare.sh"
run_step download "$ARM64_RUNNER_LIB/fetch-runner.sh"
run_step register "$ARM64_RUNNER_LIB/register.sh"
run_step harden "$ARM64_RUNNER_LIB/block-metadata.sh"
run_step service "$ARM64_RUNNER_LIB/variant/install-service.sh"
if [ "${RUNNER_EPHEMERAL:-0}" = 1 ]; then run_step service wait_jit_consumed; fi
# The idle watchdog acts only once this marker exists (its content is the epoch idleness counts from).
[ -f "$ARM64_RUNNER_STATE/registered" ] || date +%s >"$ARM64_RUNNER_STATE/registered"
run_step timers enable_timers
report "READY name=$RUNNER_NAME labels=$RUNNER_LABELS"
