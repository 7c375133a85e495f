# shellcheck shell=bash
# Emulated variant: the runner lives inside the arm64 root filesystem, so RUNNER_ROOT -- the host
# path the tarball is unpacked into -- is a directory of that tree. Sourced by lib.sh and by the
# variant's own scripts; values already in the environment win (tests redirect them). No side effects.
ROOTFS_DIR=${ROOTFS_DIR:-${ARM64_RUNNER_STATE:-/var/lib/arm64-runner}/rootfs}
RUNNER_ROOT=${RUNNER_ROOT:-$ROOTFS_DIR/opt/actions-runner}
export ROOTFS_DIR RUNNER_ROOT
