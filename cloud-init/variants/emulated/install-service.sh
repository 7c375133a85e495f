#!/usr/bin/env bash
# Step `service` of the emulated variant. Not svc.sh: its unit would start the runner on the x86_64
# host itself, where every job step would be an x86_64 process. arm64-runner-emulated.service runs
# run.sh through run-as-runner.sh, inside the arm64 tree. Ephemeral runners use the shared
# arm64-runner-jit.service, whose jit-run.sh also goes through run-as-runner.sh. Idempotent.
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
unit_dir=${ARM64_RUNNER_UNIT_DIR:-/etc/systemd/system}

# No daemon-reload for a unit file systemd has never seen: it reads it when the unit is first started.
# Only a unit file replaced under a running systemd (a newer one) needs one.
reload=0
if [ "${RUNNER_EPHEMERAL:-0}" = 1 ]; then
  unit=arm64-runner-jit.service
else
  unit=arm64-runner-emulated.service
  if ! cmp -s "$ARM64_RUNNER_LIB/variant/$unit" "$unit_dir/$unit"; then
    if [ -e "$unit_dir/$unit" ]; then reload=1; fi
    install -m 0644 "$ARM64_RUNNER_LIB/variant/$unit" "$unit_dir/$unit" || fail "unit-install"
  fi
fi
if [ "$reload" = 1 ]; then "$ARM64_RUNNER_SYSTEMCTL" daemon-reload; fi
"$ARM64_RUNNER_SYSTEMCTL" enable --now --no-reload "$unit" || fail "service-start unit=$unit"
