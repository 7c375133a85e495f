#!/usr/bin/env bash
# Hook: run `./CMD ARG...` from the runner directory, as $RUNNER_USER, inside the arm64 root
# filesystem, inheriting the caller's environment (the token travels as ACTIONS_RUNNER_INPUT_*).
#
# Used by the register step (config.sh), by the JIT service and as the ExecStart of
# arm64-runner-emulated.service (run.sh). The mounts happen in a private mount namespace that dies
# with the command, so nothing is left mounted on the host and nothing leaks back to it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=env.sh
. "$here/env.sh"
[[ $# -ge 1 ]] || { echo "usage: run-as-runner.sh CMD [ARG...]" >&2; exit 2; }
exec unshare --mount --propagation private -- "$here/enter-rootfs.sh" "$@"
