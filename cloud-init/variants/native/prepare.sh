#!/usr/bin/env bash
# Native variant: the runner user (created by cloud-init's users module) joins the docker group.
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
has_entry "${ARM64_RUNNER_PASSWD:-/etc/passwd}" "$RUNNER_USER" || fail "no-user $RUNNER_USER"
if has_entry "${ARM64_RUNNER_GROUP_FILE:-/etc/group}" docker; then usermod -aG docker "$RUNNER_USER"; fi
