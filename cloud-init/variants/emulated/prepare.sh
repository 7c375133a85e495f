#!/usr/bin/env bash
# Step `prepare` of the emulated variant: QEMU binfmt registration, the arm64 root filesystem with
# the runner user (same uid/gid as on the host) and the runner directory inside it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=env.sh
. "$here/env.sh"
RUNNER_USER=${RUNNER_USER:-runner}
export RUNNER_USER

"$here/binfmt.sh"
"$here/rootfs.sh"

# The host's docker group owns /run/docker.sock, which the runner reaches through a bind mount.
if getent group docker >/dev/null; then
  usermod -aG docker "$RUNNER_USER"
fi

case "$RUNNER_ROOT" in
  "$ROOTFS_DIR"/*) ;;
  *)
    echo "prepare: RUNNER_ROOT=$RUNNER_ROOT is not inside ROOTFS_DIR=$ROOTFS_DIR" >&2
    exit 1
    ;;
esac
install -d -o "$RUNNER_USER" -g "$(id -g "$RUNNER_USER")" "$RUNNER_ROOT"
