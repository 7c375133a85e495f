#!/usr/bin/env bash
# ExecStart of arm64-runner-jit.service (ephemeral runners). Reads the JIT config that register.sh left
# in tmpfs, deletes it, and starts run.sh with the config only in ACTIONS_RUNNER_INPUT_JITCONFIG (the
# environment form of `run.sh --jitconfig`), never in argv.
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
jit="$ARM64_RUNNER_RUN/jit"
if [ -f "$jit" ]; then
  config=$(<"$jit")
  rm -f "$jit"
  ACTIONS_RUNNER_INPUT_JITCONFIG=$config exec "$ARM64_RUNNER_LIB/variant/run-as-runner.sh" run.sh
fi
# A restart after the first start: the runner materialised its credentials under RUNNER_ROOT.
[ -f "$RUNNER_ROOT/.runner" ] || { log "jit: no JIT config and no configured runner"; exit 1; }
exec "$ARM64_RUNNER_LIB/variant/run-as-runner.sh" run.sh
