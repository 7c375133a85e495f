#!/usr/bin/env bash
# Native variant: the runner's own svc.sh unit (Restart=always, survives reboots without a new token),
# or arm64-runner-jit.service for ephemeral runners. Idempotent; also how later boots start the runner.
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
if [ "${RUNNER_EPHEMERAL:-0}" = 1 ]; then
  # No daemon-reload: systemd loads a unit file it has never seen when it is first started.
  "$ARM64_RUNNER_SYSTEMCTL" enable --now --no-reload arm64-runner-jit.service || fail "jit-service-start"
  exit 0
fi
cd "$RUNNER_ROOT"
# svc.sh defaults the user to $SUDO_USER, which is empty under cloud-init: name it.
if [ ! -f .service ]; then ./svc.sh install "$RUNNER_USER" || fail "svc.sh-install"; fi
./svc.sh start || fail "svc.sh-start"
