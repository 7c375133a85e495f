#!/usr/bin/env bash
# Hook: run `./CMD ARG...` from the runner directory, as $RUNNER_USER, inside the arm64 root
# filesystem, inheriting the caller's environment (the token travels as ACTIONS_RUNNER_INPUT_*).
#
# Used by the register step (config.sh), by jit-run.sh and as the ExecStart of
# arm64-runner-emulated.service (run.sh). The mounts happen in a private mount namespace that dies
# with the command: nothing stays mounted on the host and nothing propagates back to it.
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
[ $# -ge 1 ] || fail "usage: run-as-runner.sh CMD [ARG...]"
exec unshare --mount --propagation private -- "$ARM64_RUNNER_LIB/variant/enter-rootfs.sh" "$@"
