#!/usr/bin/env bash
# Installs what jobs need: Docker (daemon, CLI, buildx), git, curl, jq, a C toolchain, iptables; then checks
# that `docker` reaches the daemon and `docker buildx` works, naming what is missing otherwise.
# bootstrap.sh does not run it when INSTALL_PACKAGES=0 (images that already carry them, offline test guests).
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -q -o DPkg::Lock::Timeout=600 "$@"; }
# Installable from the configured archive (unknown and purely virtual names have no candidate).
# The output is read whole first: `| grep -q` would stop reading early, and under pipefail the
# writer's SIGPIPE would make a present package look absent.
available() {
  local policy
  policy=$(apt-cache policy "$1" 2>/dev/null) || return 1
  grep -Eq '^ +Candidate: [^(]' <<<"$policy"
}

required=(docker.io git curl jq build-essential ca-certificates iptables tar gzip)
# Debian 13 ships the docker CLI apart from the daemon (docker-cli, only a Recommends of docker.io, and
# Recommends are off); Ubuntu 24.04 keeps it inside docker.io and has no docker-cli. buildx is
# docker-buildx on both. Whatever a release lacks, the check below names.
optional=(docker-cli docker-buildx)

await_apt_sources
apt_get update || fail "apt-get-update"
want=("${required[@]}")
for package in "${optional[@]}"; do
  if available "$package"; then want+=("$package"); else log "packages: $package not in the archive"; fi
done
apt_get install -y --no-install-recommends "${want[@]}" || fail "apt-get-install"
# --no-reload: the package's own maintainer script reloaded systemd already.
"$ARM64_RUNNER_SYSTEMCTL" enable --now --no-reload docker.service || fail "docker-start"

# What workflows call: a docker command that reaches the daemon, and buildx.
missing=()
if ! command -v docker >/dev/null; then
  missing+=(docker-cli)
else
  timeout 60 docker version >/dev/null 2>&1 || missing+=(docker-daemon)
  timeout 60 docker buildx version >/dev/null 2>&1 || missing+=(docker-buildx)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  fail "docker-incomplete missing=$(IFS=,; printf '%s' "${missing[*]}")"
fi
log "packages: $(docker version --format 'docker {{.Client.Version}} daemon {{.Server.Version}}'); $(docker buildx version)"
