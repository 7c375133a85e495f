# shellcheck shell=bash
# Sourced by every arm64-runner script: settings, paths, logging and the console report.
# Paths can be redirected through ARM64_RUNNER_* variables so tests run the real scripts unprivileged
# (see cloud-init/README.md); production never sets them.
ARM64_RUNNER_ETC=${ARM64_RUNNER_ETC:-/etc/arm64-runner}
ARM64_RUNNER_LIB=${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}
ARM64_RUNNER_STATE=${ARM64_RUNNER_STATE:-/var/lib/arm64-runner}
ARM64_RUNNER_RUN=${ARM64_RUNNER_RUN:-/run/arm64-runner}
ARM64_RUNNER_CONSOLE=${ARM64_RUNNER_CONSOLE:-/dev/console}
ARM64_RUNNER_SYSTEMCTL=${ARM64_RUNNER_SYSTEMCTL:-systemctl}
export ARM64_RUNNER_ETC ARM64_RUNNER_LIB ARM64_RUNNER_STATE ARM64_RUNNER_RUN ARM64_RUNNER_CONSOLE \
  ARM64_RUNNER_SYSTEMCTL
set -a
# shellcheck source=/dev/null
. "$ARM64_RUNNER_ETC/runner.env"
set +a
RUNNER_USER=${RUNNER_USER:-runner}
# shellcheck source=/dev/null
. "$ARM64_RUNNER_LIB/variant/env.sh"
export RUNNER_USER RUNNER_ROOT

log() { printf 'arm64-runner: %s\n' "$*" >&2; }

# Process starts are what a small or emulated host spends its boot on (docs/boot-times.md): the helpers
# below do in bash what would otherwise start a program.

# pause SECONDS: sleep without starting sleep(1): read times out on a pipe nobody writes to.
pause() {
  local _
  [ -n "${pause_fd:-}" ] || exec {pause_fd}<> <(:)
  read -rt "$1" -u "$pause_fd" _ || true
}

# has_entry FILE NAME [VAR]: FILE (/etc/passwd, /etc/group) has an entry NAME; VAR, if given, gets its
# numeric id (the third field: uid or gid). The locals' names cannot shadow VAR.
has_entry() {
  local __has_entry_name __has_entry_x __has_entry_id __has_entry_rest
  while IFS=: read -r __has_entry_name __has_entry_x __has_entry_id __has_entry_rest; do
    if [ "$__has_entry_name" = "$2" ]; then
      [ -z "${3:-}" ] || printf -v "$3" '%s' "$__has_entry_id"
      return 0
    fi
  done <"$1"
  return 1
}

# run_script SCRIPT ARG...: one of our scripts in a subshell of this shell instead of a new bash; it
# still sets its own options, reads lib.sh and exits with its own status. Never as a condition (`if`,
# `!`, `||`, `&&`): bash then ignores `set -e` in the whole subshell, the script's own included, and a
# failing command would not stop the script. For its status: script_status.
# shellcheck disable=SC1090
run_script() { (. "$@"); }

# script_status VAR SCRIPT ARG...: run_script SCRIPT, its exit status into VAR. The caller's `set -e` is
# suspended around it (not made a condition), so the script's own `set -e` holds.
script_status() {
  local __script_status_e=${-//[^e]/} __script_status_rc
  set +e
  run_script "${@:2}"
  __script_status_rc=$?
  [ -z "$__script_status_e" ] || set -e
  printf -v "$1" '%s' "$__script_status_rc"
}

# sha256_of VAR FILE: FILE's SHA-256 (hex) into VAR ("-": stdin). The locals' names cannot shadow VAR.
sha256_of() {
  local __sha256_of_sum __sha256_of_rest
  read -r __sha256_of_sum __sha256_of_rest < <(sha256sum "$2")
  printf -v "$1" '%s' "$__sha256_of_sum"
}

# Record why the current step fails (bootstrap.sh puts it on the FAILED line) and stop. Each step
# has its own file (ARM64_RUNNER_FAILURE, set by bootstrap.sh), so steps running at once never mix.
fail() {
  local file=${ARM64_RUNNER_FAILURE:-$ARM64_RUNNER_RUN/failure}
  mkdir -p "${file%/*}"
  printf '%s' "$*" | tr -s '\n\t ' '   ' >"$file"
  log "error: $*"
  exit 1
}

# Exit status of a step that found nothing to do (register.sh --if-new: no new token).
export ARM64_RUNNER_UNCHANGED=10

# apt must not run before cloud-init's config stage has written apt's sources (apt-configure: on EC2
# the regional mirror), and the first boot's bootstrap starts before that stage ends: wait for it while
# it is queued or running (bounded). A unit that is absent, done or failed is not waited for.
await_apt_sources() {
  local i state
  for ((i = 1; i <= 600; i++)); do
    state=$("$ARM64_RUNNER_SYSTEMCTL" show --property=ActiveState,Job cloud-config.service 2>/dev/null | tr '\n' ' ') ||
      return 0
    case " $state" in
      *" ActiveState=activating "* | *" Job="[0-9]*) ;;
      *) return 0 ;;
    esac
    [ "$i" -gt 1 ] || log "waiting for cloud-init's config stage (apt sources)"
    pause 0.5
  done
}

# One line for humans reading the serial console (get-console-output) and the journal.
report() {
  local line="arm64-runner: $*"
  printf '%s\n' "$line"
  { printf '%s\n' "$line" >>"$ARM64_RUNNER_CONSOLE"; } 2>/dev/null || true
  if [ -d /run/systemd/system ] && command -v systemd-cat >/dev/null; then
    printf '%s\n' "$line" | systemd-cat -t arm64-runner || true
  fi
}
