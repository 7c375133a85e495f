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
cd "$RUNNER_ROOT"
if [ ! -f .service ]; then
  # svc.sh defaults the user to $SUDO_USER, which is empty under cloud-init: name it. Its systemctl
  # calls go through systemctl-no-reload (no daemon reloads on the path to READY).
  shim="$ARM64_RUNNER_RUN/no-reload"
  mkdir -p "$shim"
  ln -sfn "$ARM64_RUNNER_LIB/variant/systemctl-no-reload" "$shim/systemctl"
  PATH="$shim:$PATH" ./svc.sh install "$RUNNER_USER" || fail "svc.sh-install"
  read -r unit <.service || fail "svc.sh-left-no-.service"
  mkdir -p "$unit_dir/$unit.d"
  printf '%s\n' "[Unit]" "Requires=arm64-runner-imds.service" "After=arm64-runner-imds.service" \
    >"$unit_dir/$unit.d/arm64-runner-imds.conf"
fi
./svc.sh start || fail "svc.sh-start"
