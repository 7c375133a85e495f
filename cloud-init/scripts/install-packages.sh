#!/usr/bin/env bash
# Installs what jobs need: Docker Engine (+ buildx), git, curl, jq, a C toolchain, iptables.
# INSTALL_PACKAGES=0 skips it (images that already carry them, or offline test guests).
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
if [ "${INSTALL_PACKAGES:-1}" != 1 ]; then
  log "packages: skipped (INSTALL_PACKAGES=${INSTALL_PACKAGES:-})"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -q -o DPkg::Lock::Timeout=600 "$@"; }
apt_get update || fail "apt-get-update"
want=(docker.io git curl jq build-essential ca-certificates iptables tar gzip)
# Ubuntu 24.04 and Debian 13 ship buildx as docker-buildx; older releases have no package for it.
if apt-cache show docker-buildx >/dev/null 2>&1; then want+=(docker-buildx); else log "no docker-buildx package"; fi
apt_get install -y --no-install-recommends "${want[@]}" || fail "apt-get-install"
"$ARM64_RUNNER_SYSTEMCTL" enable --now docker.service || fail "docker-start"
