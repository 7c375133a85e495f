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

# Record why the current step fails (bootstrap.sh puts it on the FAILED line) and stop.
fail() {
  mkdir -p "$ARM64_RUNNER_RUN"
  printf '%s' "$*" | tr -s '\n\t ' '   ' >"$ARM64_RUNNER_RUN/failure"
  log "error: $*"
  exit 1
}

# One line for humans reading the serial console (get-console-output) and the journal.
report() {
  local line="arm64-runner: $*"
  printf '%s\n' "$line"
  { printf '%s\n' "$line" >"$ARM64_RUNNER_CONSOLE"; } 2>/dev/null || true
  if [ -d /run/systemd/system ] && command -v systemd-cat >/dev/null; then
    printf '%s\n' "$line" | systemd-cat -t arm64-runner || true
  fi
}
