#!/usr/bin/env bash
# Turns a blank host into a registered, supervised runner, and brings it back at every later boot.
#   bootstrap.sh first-boot  the first boot: the unit cloud-init's bootcmd queues, started as soon as
#                            write_files is done (it waits for the runner user; it overlaps the rest
#                            of cloud-init)
#   bootstrap.sh await       cloud-init's runcmd: waits for that unit, copies its log into cloud-init's
#                            output and exits with its status, so `cloud-init status` reports a failure
#   bootstrap.sh boot        every later boot (arm64-runner-boot.service): asks the hand-off once; a token
#                            this host has not used registers again (READY), else the runner starts as
#                            configured (STARTED). A host whose first boot failed runs every step again.
#   bootstrap.sh             the first boot's steps in the foreground (by hand, tests)
# Steps and the hook contract: cloud-init/README.md. READY / FAILED / STARTED lines go to the console.
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
mode=${1:-steps}
log_file=${ARM64_RUNNER_LOG:-/var/log/arm64-runner-bootstrap.log}
lock="$ARM64_RUNNER_RUN/bootstrap.lock"
status_file="$ARM64_RUNNER_RUN/bootstrap.status"
[ -d "$ARM64_RUNNER_STATE" ] && [ -d "$ARM64_RUNNER_RUN" ] || mkdir -p "$ARM64_RUNNER_STATE" "$ARM64_RUNNER_RUN"

# Step timing without a fork per stamp (a command substitution forks; processes are what a busy small
# host spends its boot on). now_us VAR: microseconds since the epoch into VAR. since VAR STAMP: seconds
# since STAMP, one decimal, into VAR.
now_us() { printf -v "$1" '%s' "${EPOCHREALTIME/[.,]/}"; }
since() {
  local now us
  now_us now
  us=$((now - $2))
  printf -v "$1" '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}

current_step="" unchanged=0 fetch_pid="" harden_pid=""
# run_step NAME CMD...: one step in this shell. A failure exits (set -e) and the EXIT trap reports it
# with the reason the step recorded (lib.sh fail writes ARM64_RUNNER_FAILURE).
run_step() {
  local started took
  now_us started
  current_step=$1
  shift
  export ARM64_RUNNER_FAILURE="$ARM64_RUNNER_RUN/failure.$current_step"
  log "step $current_step"
  "$@"
  since took "$started"
  log "step $current_step done in ${took}s"
}

on_exit() {
  local rc=$? reason
  local pid
  for pid in $fetch_pid $harden_pid; do kill "$pid" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ] && [ "$mode" != await ]; then
    reason=$(cat "$ARM64_RUNNER_RUN/failure.${current_step:-start}" 2>/dev/null || true)
    report "FAILED step=${current_step:-start} reason=${reason:-exit-$rc}"
    # A later boot tries again (a wake may bring the token this boot lacked).
    "$ARM64_RUNNER_SYSTEMCTL" enable --no-reload arm64-runner-boot.service >/dev/null 2>&1 || true
  fi
  if [ "$mode" = first-boot ]; then printf '%s\n' "$rc" >"$status_file"; fi
}
trap on_exit EXIT

# in_background NAME STEP CMD...: CMD in the background, its failure recorded as STEP's reason; the pid
# is left in $background_pid for join.
in_background() {
  local name=$1 step=$2
  shift 2
  (
    exec 9>&- # never hold the first-boot lock (bootstrap.sh await)
    now_us started
    export ARM64_RUNNER_FAILURE="$ARM64_RUNNER_RUN/failure.$step"
    log "step $name"
    "$@"
    since took "$started"
    log "step $name done in ${took}s"
  ) &
  background_pid=$!
}

# join PID: that background step's exit status.
join() {
  local rc=0
  wait "$1" || rc=$?
  return "$rc"
}

# The runner download and its checksum, in the background from the start: they need nothing but the
# network, and the package installation is the long step. A failure is the download step's.
start_fetch() {
  in_background fetch download run_script "$ARM64_RUNNER_LIB/fetch-runner.sh" fetch
  fetch_pid=$background_pid
}

# Step download: the background fetch's result, then unpack and install the runner's dependencies
# (after the packages, and only from a verified tarball).
finish_download() {
  local pid=$fetch_pid
  fetch_pid=""
  join "$pid"
  run_script "$ARM64_RUNNER_LIB/fetch-runner.sh" install
}

# The metadata block is arm64-runner-imds.service's (the runner's unit requires it, so every later boot
# applies it before the runner starts). It needs the runner user and, when the packages are installed,
# Docker's chain: started here beside download and register, joined before the service step. The
# unit leaves its failure reason in failure.harden (its Environment=), which is this step's file.
start_imds() {
  "$ARM64_RUNNER_SYSTEMCTL" start arm64-runner-imds.service && return 0
  [ -s "$ARM64_RUNNER_RUN/failure.harden" ] || fail "imds-unit-failed"
  return 1
}

start_harden() {
  in_background iptables harden start_imds
  harden_pid=$background_pid
}

finish_harden() {
  local pid=$harden_pid
  harden_pid=""
  join "$pid"
}

# Later boots: register.sh --if-new leaves a configured runner as it is when the hand-off holds nothing new.
register_if_new() {
  local rc
  script_status rc "$ARM64_RUNNER_LIB/register.sh" --if-new
  if [ "$rc" -eq "$ARM64_RUNNER_UNCHANGED" ]; then unchanged=1 rc=0; fi
  return "$rc"
}

# The JIT service must consume (delete) the config it was handed; never leave it behind.
wait_jit_consumed() {
  local jit="$ARM64_RUNNER_RUN/jit" i
  for ((i = 1; i <= ${ARM64_RUNNER_JIT_WAIT:-60} * 10; i++)); do
    [ -e "$jit" ] || return 0
    [ "$i" -eq 1 ] || pause 0.1
  done
  rm -f "$jit"
  fail "jit-config-not-consumed"
}

# Housekeeping after READY: the timers started without waiting (svc.sh's own reload, or their first
# start, loads our unit files), then everything enabled for later boots (symlinks only: no reload).
enable_units() {
  local units=(arm64-runner-boot.service) timers=(arm64-runner-prune.timer)
  if [ "${BLOCK_METADATA:-1}" = 1 ]; then units+=(arm64-runner-imds.service); fi
  if [ "${IDLE_ACTION:-none}" != none ]; then timers+=(arm64-runner-idle.timer); fi
  "$ARM64_RUNNER_SYSTEMCTL" start --no-block "${timers[@]}" || fail "timer-start-failed"
  "$ARM64_RUNNER_SYSTEMCTL" enable --no-reload "${units[@]}" "${timers[@]}" || fail "enable-failed"
}

# The reasons a previous run left (rm only when there are some).
forget_failures() {
  local failures=("$ARM64_RUNNER_RUN"/failure.*)
  [ ! -e "${failures[0]}" ] || rm -f "${failures[@]}"
}

ready() { report "READY name=$RUNNER_NAME labels=$RUNNER_LABELS"; }

# The first boot starts as soon as write_files is done, and cloud-init's users module comes after it:
# wait (bounded) for the runner user before the steps that need it. /etc/passwd is read by bash itself,
# no process per look; a user that never comes is then the prepare hook's failure (no-user).
await_runner_user() {
  local i
  for ((i = 1; i <= ${ARM64_RUNNER_USER_WAIT:-300} * 5; i++)); do
    has_entry "${ARM64_RUNNER_PASSWD:-/etc/passwd}" "$RUNNER_USER" && return 0
    [ "$i" -gt 1 ] || log "waiting for cloud-init's users module (user $RUNNER_USER)"
    pause 0.2
  done
}

# The register step: first boot as given, later boots with --if-new.
all_steps() {
  local register=(run_script "$ARM64_RUNNER_LIB/register.sh")
  if [ "${1:-}" = --if-new ]; then register=(register_if_new); fi
  start_fetch
  # Images that already carry the packages (INSTALL_PACKAGES=0) do not even start the step's script.
  if [ "${INSTALL_PACKAGES:-1}" = 1 ]; then
    run_step packages "$ARM64_RUNNER_LIB/install-packages.sh"
  else
    log "packages: skipped (INSTALL_PACKAGES=${INSTALL_PACKAGES:-})"
  fi
  await_runner_user
  run_step prepare run_script "$ARM64_RUNNER_LIB/variant/prepare.sh"
  start_harden
  run_step download finish_download
  run_step register "${register[@]}"
  run_step harden finish_harden
  run_step service run_script "$ARM64_RUNNER_LIB/variant/install-service.sh"
  if [ "${RUNNER_EPHEMERAL:-0}" = 1 ]; then run_step service wait_jit_consumed; fi
  # The idle watchdog acts only once this marker exists (its content is the epoch idleness counts from).
  [ -f "$ARM64_RUNNER_STATE/registered" ] || printf '%(%s)T\n' -1 >"$ARM64_RUNNER_STATE/registered"
  ready
  run_step timers enable_units
}

later_boot() {
  if [ ! -f "$ARM64_RUNNER_STATE/registered" ]; then
    log "boot: the first boot did not complete; every step again, the hand-off asked once"
    all_steps --if-new
    return
  fi
  run_step register register_if_new
  run_step service run_script "$ARM64_RUNNER_LIB/variant/install-service.sh"
  if [ "$unchanged" = 0 ] && [ "${RUNNER_EPHEMERAL:-0}" = 1 ]; then run_step service wait_jit_consumed; fi
  # Idleness counts from this start: a woken host waits a whole idle timeout for the job that woke it.
  printf '%(%s)T\n' -1 >"$ARM64_RUNNER_STATE/last-busy"
  if [ "$unchanged" = 1 ]; then
    report "STARTED name=$RUNNER_NAME (registered before; no new token in the hand-off)"
  else
    ready
  fi
}

# cloud-init's runcmd: the first-boot unit holds $lock from its start to its end (bootcmd queued it
# long before the final stage); its status file says how it ended.
await_first_boot() {
  local i rc
  for ((i = 1; i <= ${ARM64_RUNNER_AWAIT_SECONDS:-300} * 2; i++)); do
    [ -e "$lock" ] && break
    pause 0.5
  done
  if [ ! -e "$lock" ]; then
    report "FAILED step=start reason=bootstrap-unit-never-started"
    exit 1
  fi
  flock -s "$lock" true
  cat "$log_file" 2>/dev/null || true
  rc=$(cat "$status_file" 2>/dev/null) || rc=""
  if [ -z "$rc" ]; then
    report "FAILED step=unknown reason=bootstrap-ended-without-status"
    exit 1
  fi
  exit "$rc"
}

case "$mode" in
  first-boot)
    # Taken under a temporary name, then renamed: whoever sees $lock finds it held.
    exec 9>"$lock.new"
    flock 9
    mv -f "$lock.new" "$lock"
    exec >>"$log_file" 2>&1
    # The file whose appearance started this unit (cloud-config.yaml): gone, the path unit cannot start
    # it a second time. The archive the unit unpacked before starting this script goes with it.
    rm -f "$ARM64_RUNNER_RUN/user-data-written" "$ARM64_RUNNER_RUN/files.tar"
    forget_failures
    all_steps
    ;;
  steps)
    forget_failures
    all_steps
    ;;
  boot)
    forget_failures
    later_boot
    ;;
  await) await_first_boot ;;
  *)
    trap - EXIT
    echo "usage: bootstrap.sh [first-boot|await|boot]" >&2
    exit 2
    ;;
esac
