#!/usr/bin/env bash
# Native variant: the runner user (created by cloud-init's users module) joins the docker group.
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
id -u "$RUNNER_USER" >/dev/null 2>&1 || fail "no-user $RUNNER_USER"
if getent group docker >/dev/null; then usermod -aG docker "$RUNNER_USER"; fi
