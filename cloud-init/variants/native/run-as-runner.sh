#!/usr/bin/env bash
# Native variant: run ./CMD ARGS in RUNNER_ROOT as the runner user, keeping the caller's environment
# (ACTIONS_RUNNER_INPUT_* travel this way, never on a command line).
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
cmd=$1
shift
cd "$RUNNER_ROOT"
exec "${ARM64_RUNNER_RUNUSER:-runuser}" -u "$RUNNER_USER" -- "./$cmd" "$@"
