#!/usr/bin/env bash
# Downloads the pinned actions/runner tarball, refuses it unless its SHA-256 matches the pinned value,
# unpacks it into RUNNER_ROOT for the runner user and installs the runner's OS dependencies.
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
marker="$RUNNER_ROOT/.arm64-runner-sha256"
if [ -x "$RUNNER_ROOT/config.sh" ] && [ "$(cat "$marker" 2>/dev/null)" = "$RUNNER_SHA256" ]; then
  log "download: runner $RUNNER_VERSION already unpacked"
  exit 0
fi
url="${RUNNER_DOWNLOAD_BASE%/}/v$RUNNER_VERSION/actions-runner-linux-arm64-$RUNNER_VERSION.tar.gz"
tarball=$(mktemp)
trap 'rm -f "$tarball"' EXIT
curl -fsSL --retry 5 --retry-delay 3 --retry-connrefused -o "$tarball" "$url" || fail "download-failed url=$url"
actual=$(sha256sum "$tarball" | cut -d' ' -f1)
[ "$actual" = "$RUNNER_SHA256" ] || fail "sha256-mismatch expected=$RUNNER_SHA256 actual=$actual"
mkdir -p "$RUNNER_ROOT"
tar -xzf "$tarball" -C "$RUNNER_ROOT" || fail "unpack-failed"
chown -R "$RUNNER_USER:" "$RUNNER_ROOT"
printf '%s\n' "$RUNNER_SHA256" >"$marker"
"$RUNNER_ROOT/bin/installdependencies.sh" || fail "installdependencies-failed"
