#!/usr/bin/env bash
# Build the arm64 root filesystem the emulated runner lives in, and create the runner user in it.
#
# The runner, its job steps and everything they start run inside this tree (systemd
# RootDirectory=), so `uname -m` says aarch64, `dpkg --print-architecture` says arm64 and compilers
# produce arm64 code. binfmt.sh must have run first: debootstrap's second stage and every apt/dpkg
# step below already execute arm64 binaries.
#
# Idempotent: a finished tree carries a marker and is not rebuilt; the user step always re-runs
# (cheap) so ids stay aligned with the host. Settings (environment, all optional):
#   ROOTFS_DIR         target (default /var/lib/arm64-runner/rootfs)
#   ROOTFS_MIRROR      arm64 package mirror (default Ubuntu ports)
#   ROOTFS_SUITE       release for debootstrap (default noble)
#   ROOTFS_APT_SUITES  suites in the tree's sources.list (default "$SUITE $SUITE-updates $SUITE-security")
#   ROOTFS_COMPONENTS  comma list (default main,universe -- docker.io and docker-buildx are in universe)
#   ROOTFS_PACKAGES    space list installed with apt after debootstrap (default: what jobs and the
#                      runner need on noble, see DEFAULT_PACKAGES)
#   ROOTFS_KEYRING     keyring for debootstrap (default: debootstrap's own choice for the suite)
#   RUNNER_USER        account jobs run as (default runner)
set -euo pipefail

readonly ROOTFS_DIR="${ROOTFS_DIR:-/var/lib/arm64-runner/rootfs}"
readonly ROOTFS_MIRROR="${ROOTFS_MIRROR:-http://ports.ubuntu.com/ubuntu-ports}"
readonly ROOTFS_SUITE="${ROOTFS_SUITE:-noble}"
readonly ROOTFS_APT_SUITES="${ROOTFS_APT_SUITES:-$ROOTFS_SUITE $ROOTFS_SUITE-updates $ROOTFS_SUITE-security}"
readonly ROOTFS_COMPONENTS="${ROOTFS_COMPONENTS:-main,universe}"
readonly ROOTFS_KEYRING="${ROOTFS_KEYRING:-}"
readonly RUNNER_USER="${RUNNER_USER:-runner}"
# Runner dependencies (bin/installdependencies.sh's list for Ubuntu 24.04), the docker CLI with
# buildx (the daemon is the host's, reached through the bind-mounted socket), and the tools the
# project's workflows use (git, a C toolchain, python3).
readonly DEFAULT_PACKAGES="ca-certificates curl git sudo jq unzip xz-utils zstd build-essential
  python3 python3-pip procps libicu74 libkrb5-3 liblttng-ust1t64 libssl3t64 zlib1g
  docker.io docker-buildx"
readonly ROOTFS_PACKAGES="${ROOTFS_PACKAGES:-$DEFAULT_PACKAGES}"
readonly MARKER=.arm64-runner-rootfs-complete

log() { printf 'rootfs: %s\n' "$*" >&2; }

in_root() { chroot "$ROOTFS_DIR" "$@"; }

# Mount the API filesystems apt/dpkg maintainer scripts expect, for the duration of a step.
with_api_mounts() {
  local dir="$1"
  shift
  mount -t proc proc "$dir/proc"
  mount --bind /dev "$dir/dev"
  mount --bind /dev/pts "$dir/dev/pts"
  local status=0
  "$@" || status=$?
  umount "$dir/dev/pts" "$dir/dev" "$dir/proc"
  return "$status"
}

bootstrap_tree() {
  local partial="$ROOTFS_DIR.partial"
  rm -rf "$partial"
  mkdir -p "$partial"
  local keyring_opt=()
  [[ -n "$ROOTFS_KEYRING" ]] && keyring_opt=(--keyring="$ROOTFS_KEYRING")
  log "debootstrap $ROOTFS_SUITE arm64 from $ROOTFS_MIRROR"
  debootstrap --arch=arm64 --variant=minbase --components="$ROOTFS_COMPONENTS" \
    "${keyring_opt[@]}" "$ROOTFS_SUITE" "$partial" "$ROOTFS_MIRROR"

  local suite
  : >"$partial/etc/apt/sources.list"
  for suite in $ROOTFS_APT_SUITES; do
    printf 'deb %s %s %s\n' "$ROOTFS_MIRROR" "$suite" "${ROOTFS_COMPONENTS//,/ }" \
      >>"$partial/etc/apt/sources.list"
  done
  # Daemons packaged with the tools (dockerd in docker.io) must never start in here: the tree
  # has no init, and the Docker daemon is the host's.
  printf '#!/bin/sh\nexit 101\n' >"$partial/usr/sbin/policy-rc.d"
  chmod 0755 "$partial/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$partial/etc/resolv.conf"

  # shellcheck disable=SC2086  # ROOTFS_PACKAGES is a word list on purpose
  with_api_mounts "$partial" chroot "$partial" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
    sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends "$@" && apt-get clean' \
    apt-install $ROOTFS_PACKAGES
  rm -rf "$partial/var/lib/apt/lists/"*
  touch "$partial/$MARKER"
  rm -rf "$ROOTFS_DIR"
  mv "$partial" "$ROOTFS_DIR"
}

# systemd resolves User=/SupplementaryGroups= with the host's user database before entering
# RootDirectory=, while programs inside read the tree's /etc/passwd: keep both with the same ids.
align_runner_user() {
  if ! id -u "$RUNNER_USER" >/dev/null 2>&1; then
    useradd --system --create-home --home-dir "/home/$RUNNER_USER" --shell /bin/bash "$RUNNER_USER"
  fi
  local uid gid
  uid="$(id -u "$RUNNER_USER")"
  gid="$(id -g "$RUNNER_USER")"
  if ! in_root getent group "$RUNNER_USER" >/dev/null; then
    in_root groupadd --gid "$gid" "$RUNNER_USER"
  fi
  if ! in_root id -u "$RUNNER_USER" >/dev/null 2>&1; then
    in_root useradd --uid "$uid" --gid "$gid" --create-home --shell /bin/bash "$RUNNER_USER"
  fi
  [[ "$(in_root id -u "$RUNNER_USER")" == "$uid" ]] \
    || { log "uid of $RUNNER_USER differs between host and rootfs"; exit 1; }

  # The host's docker group owns /run/docker.sock; mirror its gid inside so the bind-mounted
  # socket is usable and `id` inside shows the name.
  local docker_gid
  if docker_gid="$(getent group docker | cut -d: -f3)" && [[ -n "$docker_gid" ]]; then
    if in_root getent group docker >/dev/null; then
      in_root groupmod --gid "$docker_gid" docker
    else
      in_root groupadd --gid "$docker_gid" docker
    fi
    in_root usermod -aG docker "$RUNNER_USER"
  fi

  # Job steps use sudo the way they do on GitHub-hosted runners (apt-get install ...).
  [[ -d "$ROOTFS_DIR/etc/sudoers.d" ]] || return 0
  printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$RUNNER_USER" >"$ROOTFS_DIR/etc/sudoers.d/90-$RUNNER_USER"
  chmod 0440 "$ROOTFS_DIR/etc/sudoers.d/90-$RUNNER_USER"
}

main() {
  if [[ -e "$ROOTFS_DIR/$MARKER" ]]; then
    log "$ROOTFS_DIR already built"
  else
    mkdir -p "$(dirname "$ROOTFS_DIR")"
    bootstrap_tree
  fi
  cp /etc/resolv.conf "$ROOTFS_DIR/etc/resolv.conf"
  align_runner_user
  log "ready: $ROOTFS_DIR ($(in_root dpkg --print-architecture))"
}

main "$@"
