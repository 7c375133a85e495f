#!/usr/bin/env bash
# The pinned actions/runner tarball, in two phases so bootstrap.sh can overlap the first with the
# package installation:
#   fetch-runner.sh fetch     download it and refuse it unless its SHA-256 matches the pinned value
#                             (a verified copy is left in the state directory; nothing is unpacked)
#   fetch-runner.sh install   unpack the verified copy into RUNNER_ROOT for the runner user, then
#                             install the runner's OS dependencies (as root)
#   fetch-runner.sh           both
# Nothing from the tarball runs before its checksum matched. Idempotent: an unpacked runner of the
# pinned digest is neither downloaded nor unpacked again.
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
marker="$RUNNER_ROOT/.arm64-runner-sha256"
verified="$ARM64_RUNNER_STATE/actions-runner-$RUNNER_VERSION.tar.gz"

unpacked() {
  local digest=""
  [ -x "$RUNNER_ROOT/config.sh" ] && [ -f "$marker" ] && read -r digest <"$marker"
  [ "$digest" = "$RUNNER_SHA256" ]
}

fetch() {
  if unpacked; then
    log "download: runner $RUNNER_VERSION already unpacked"
    return 0
  fi
  local url="${RUNNER_DOWNLOAD_BASE%/}/v$RUNNER_VERSION/actions-runner-linux-arm64-$RUNNER_VERSION.tar.gz"
  local partial="$verified.partial" actual
  [ -d "$ARM64_RUNNER_STATE" ] || mkdir -p "$ARM64_RUNNER_STATE"
  [ ! -e "$partial" ] || rm -f "$partial"
  curl -fsSL --retry 5 --retry-delay 3 --retry-connrefused -o "$partial" "$url" || fail "download-failed url=$url"
  sha256_of actual "$partial"
  if [ "$actual" != "$RUNNER_SHA256" ]; then
    rm -f "$partial"
    fail "sha256-mismatch expected=$RUNNER_SHA256 actual=$actual"
  fi
  mv -f "$partial" "$verified"
}

install_runner() {
  if ! unpacked; then
    [ -f "$verified" ] || fail "no-verified-tarball $verified"
    [ -d "$RUNNER_ROOT" ] || mkdir -p "$RUNNER_ROOT"
    tar -xzf "$verified" -C "$RUNNER_ROOT" || fail "unpack-failed"
    chown -R "$RUNNER_USER:" "$RUNNER_ROOT"
    printf '%s\n' "$RUNNER_SHA256" >"$marker"
    rm -f "$verified"
    "$RUNNER_ROOT/bin/installdependencies.sh" || fail "installdependencies-failed"
  fi
}

case "${1:-all}" in
  fetch) fetch ;;
  install) install_runner ;;
  all) fetch && install_runner ;;
  *) fail "usage: fetch-runner.sh [fetch|install]" ;;
esac
