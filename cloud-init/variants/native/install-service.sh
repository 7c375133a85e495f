#!/usr/bin/env bash
# Native variant: the runner's own svc.sh unit (survives reboots without a new token), or
# arm64-runner-jit.service for ephemeral runners. Idempotent; also how later boots start the runner.
# Either unit requires arm64-runner-imds.service (the metadata block): the JIT unit says so itself, the
# svc.sh unit gets a drop-in, written before its first start so no reload is needed to read it.
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
unit_dir=${ARM64_RUNNER_UNIT_DIR:-/etc/systemd/system}
if [ "${RUNNER_EPHEMERAL:-0}" = 1 ]; then
  # No daemon-reload: systemd loads a unit file it has never seen when it is first started.
  "$ARM64_RUNNER_SYSTEMCTL" enable --now --no-reload arm64-runner-jit.service || fail "jit-service-start"
  exit 0
fi
# svc.sh install runs `systemctl daemon-reload`, then `systemctl enable UNIT`, which reloads again. A
# reload re-runs every unit generator: seconds on a busy small host, on the path to READY, and neither is
# needed (systemd reads a unit file it has not loaded yet when the unit is first started). So, for svc.sh
# only (a bash script: it inherits exported functions), `systemctl` is this function: no daemon-reload,
# enable --no-reload (symlinks only), anything else passed through. No process of its own.
systemctl() {
  case "${1:-}" in
    daemon-reload) return 0 ;;
    enable) shift && command "$ARM64_RUNNER_SYSTEMCTL" enable --no-reload "$@" ;;
    *) command "$ARM64_RUNNER_SYSTEMCTL" "$@" ;;
  esac
}
cd "$RUNNER_ROOT"
if [ ! -f .service ]; then
  # svc.sh defaults the user to $SUDO_USER, which is empty under cloud-init: name it.
  export -f systemctl
  ./svc.sh install "$RUNNER_USER" || fail "svc.sh-install"
  export -nf systemctl
  read -r unit <.service || fail "svc.sh-left-no-.service"
  [ -d "$unit_dir/$unit.d" ] || mkdir -p "$unit_dir/$unit.d"
  printf '%s\n' "[Unit]" "Requires=arm64-runner-imds.service" "After=arm64-runner-imds.service" \
    >"$unit_dir/$unit.d/arm64-runner-imds.conf"
fi
./svc.sh start || fail "svc.sh-start"
