#!/usr/bin/env bash
# Emulated variant: stop the runner service before the runner registers again (register.sh --if-new);
# its unit stays installed and enabled.
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
unit=arm64-runner-emulated.service
if [ "${RUNNER_EPHEMERAL:-0}" = 1 ]; then unit=arm64-runner-jit.service; fi
exec "$ARM64_RUNNER_SYSTEMCTL" stop "$unit"
