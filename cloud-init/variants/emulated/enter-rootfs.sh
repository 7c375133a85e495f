#!/usr/bin/env bash
# Runs in the private mount namespace made by run-as-runner.sh, as root: give the arm64 tree the
# API filesystems, the host's DNS config and Docker socket, then chroot into it as the runner user
# and exec `./CMD ARG...` from the runner directory.
#
# What a job sees is what systemd's RootDirectory= + MountAPIVFS=yes + BindPaths= would give: the
# tree as /, /proc, /sys, /dev, a fresh /run, the host's network. Every program in there is arm64
# and runs through the binfmt entry (binfmt.sh), so job shells and what they compile are aarch64.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=env.sh
. "$here/env.sh"
RUNNER_USER=${RUNNER_USER:-runner}
DOCKER_SOCKET=${DOCKER_SOCKET:-/run/docker.sock}

root=$ROOTFS_DIR
inside_dir=${RUNNER_ROOT#"$root"}
if [[ "$inside_dir" == "$RUNNER_ROOT" || "$inside_dir" != /* ]]; then
  echo "enter-rootfs: RUNNER_ROOT=$RUNNER_ROOT is not inside ROOTFS_DIR=$root" >&2
  exit 1
fi
[[ -x "$root/bin/sh" ]] || { echo "enter-rootfs: no arm64 tree at $root" >&2; exit 1; }

mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
# Follow the host's resolver (on Ubuntu a symlink to systemd-resolved's stub: same network
# namespace, so 127.0.0.53 answers in here too).
if [[ -e /etc/resolv.conf ]]; then
  mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
  mount -o remount,bind,ro "$root/etc/resolv.conf"
fi
# Job `docker` commands talk to the host's daemon (an arm64 CLI, an x86_64 daemon).
if [[ -S "$DOCKER_SOCKET" ]]; then
  touch "$root/run/docker.sock"
  mount --bind "$DOCKER_SOCKET" "$root/run/docker.sock"
fi

uid="$(id -u "$RUNNER_USER")"
gid="$(id -g "$RUNNER_USER")"
groups="$(id -G "$RUNNER_USER" | tr ' ' ',')"
export HOME="/home/$RUNNER_USER" USER="$RUNNER_USER" LOGNAME="$RUNNER_USER" SHELL=/bin/bash
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The daemon is x86_64: without this, `docker build` in a job builds amd64 images by default.
export DOCKER_DEFAULT_PLATFORM=linux/arm64
export DOCKER_HOST=unix:///run/docker.sock

# shellcheck disable=SC2016  # $1 is expanded by the inner (arm64) shell
exec chroot --userspec="$uid:$gid" --groups="$groups" "$root" \
  /bin/sh -c 'cd "$1" && shift && exec "$@"' run-as-runner "$inside_dir" "./$1" "${@:2}"
