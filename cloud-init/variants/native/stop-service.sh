#!/usr/bin/env bash
# Native variant: stop the runner service before the runner registers again (register.sh --if-new);
# its unit stays installed and enabled. The runner's own svc.sh, or arm64-runner-jit.service.
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
if [ "${RUNNER_EPHEMERAL:-0}" = 1 ]; then
  exec "$ARM64_RUNNER_SYSTEMCTL" stop arm64-runner-jit.service
fi
cd "$RUNNER_ROOT"
if [ -f .service ]; then exec ./svc.sh stop; fi
