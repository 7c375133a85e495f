#!/usr/bin/env bash
# Run by arm64-runner-prune.timer. Prunes Docker when free space under Docker's data root falls below
# PRUNE_THRESHOLD_GB. Objects in use by running containers are never removed by `docker system prune`.
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
docker=${ARM64_RUNNER_DOCKER:-docker}
command -v "$docker" >/dev/null || { log "prune: no docker"; exit 0; }
dir=${ARM64_RUNNER_DOCKER_ROOT:-/var/lib/docker}
[ -d "$dir" ] || dir=/
free_kib=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
limit_kib=$((PRUNE_THRESHOLD_GB * 1024 * 1024))
if [ "$free_kib" -ge "$limit_kib" ]; then exit 0; fi
log "prune: ${free_kib} KiB free under $dir < ${PRUNE_THRESHOLD_GB} GB, pruning"
"$docker" system prune --all --force --filter until=1h
"$docker" builder prune --all --force
