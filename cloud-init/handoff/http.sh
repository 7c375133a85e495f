#!/usr/bin/env bash
# Test hand-off: GET TOKEN_URL (handoff.env) and print the body. 404 -> exit 3 (missing), 410 -> exit 4
# (expired/consumed). The body is held in a variable only. The e2e harness serves it from 127.0.0.1
# through QEMU guestfwd.
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_ETC:-/etc/arm64-runner}/handoff.env"
out=$(curl -sS --retry 10 --retry-delay 3 --retry-connrefused -w '\n%{http_code}' "$TOKEN_URL") || exit 1
status=${out##*$'\n'}
case "$status" in
  200) printf '%s\n' "${out%$'\n'*}" ;;
  404) exit 3 ;;
  410) exit 4 ;;
  *) echo "handoff: HTTP $status from $TOKEN_URL" >&2; exit 1 ;;
esac
