#!/usr/bin/env bash
# Step `prepare` of the emulated variant: QEMU binfmt registration, the arm64 root filesystem with
# the runner user (same uid/gid as on the host) and the runner directory inside it.
# rootfs.sh reads its ROOTFS_* settings from the environment (runner.env may carry them).
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
variant="$ARM64_RUNNER_LIB/variant"

# Ubuntu's cloud images lack debootstrap (binfmt.sh installs qemu-user-static itself).
if ! command -v debootstrap >/dev/null; then
  await_apt_sources
  DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
    debootstrap || fail "debootstrap-install-failed"
fi
"$variant/binfmt.sh" || fail "binfmt-registration-failed"
"$variant/rootfs.sh" || fail "arm64-rootfs-failed dir=$ROOTFS_DIR"

# The host's docker group owns /run/docker.sock, which the runner reaches through a bind mount.
if getent group docker >/dev/null; then usermod -aG docker "$RUNNER_USER"; fi

case "$RUNNER_ROOT" in
  "$ROOTFS_DIR"/*) ;;
  *) fail "runner-root-outside-rootfs RUNNER_ROOT=$RUNNER_ROOT ROOTFS_DIR=$ROOTFS_DIR" ;;
esac
install -d -o "$RUNNER_USER" -g "$(id -g "$RUNNER_USER")" "$RUNNER_ROOT"
