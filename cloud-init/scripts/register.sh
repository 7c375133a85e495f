#!/usr/bin/env bash
# Obtains the token from the cloud's hand-off and registers the runner as the runner user.
# The token lives in a variable only and reaches config.sh solely as ACTIONS_RUNNER_INPUT_TOKEN
# (never argv, never a file). Ephemeral runners get a JIT config, handed to jit-run.sh through tmpfs.
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
if [ -f "$RUNNER_ROOT/.runner" ]; then
  log "register: already configured, not registering again"
  exit 0
fi
set -a
# shellcheck source=/dev/null
. "$ARM64_RUNNER_ETC/handoff.env"
set +a
rc=0
token=$("$ARM64_RUNNER_LIB/handoff.sh") || rc=$?
case "$rc" in
  0) [ -n "$token" ] || fail "token-missing" ;;
  3) fail "token-missing" ;;
  4) fail "token-expired" ;;
  *) fail "handoff-failed exit=$rc" ;;
esac

if [ "${RUNNER_EPHEMERAL:-0}" = 1 ]; then
  mkdir -p "$ARM64_RUNNER_RUN"
  chmod 0700 "$ARM64_RUNNER_RUN"
  (umask 077 && printf '%s' "$token" >"$ARM64_RUNNER_RUN/jit")
  exit 0
fi

args=(--unattended --url "$RUNNER_URL" --name "$RUNNER_NAME" --labels "$RUNNER_LABELS" --no-default-labels
  --work _work --replace)
if [ -n "${RUNNER_GROUP:-}" ]; then args+=(--runnergroup "$RUNNER_GROUP"); fi
if [ "${RUNNER_DISABLE_UPDATE:-0}" = 1 ]; then args+=(--disableupdate); fi
rc=0
ACTIONS_RUNNER_INPUT_TOKEN=$token "$ARM64_RUNNER_LIB/variant/run-as-runner.sh" config.sh "${args[@]}" || rc=$?

# Scrub: delete any runner log that kept the token (the runner masks it, this makes sure). The token is
# given to grep as a pattern file on a pipe, so it never appears in grep's argv.
if [ -d "$RUNNER_ROOT/_diag" ]; then
  { grep -rlF -f <(printf '%s\n' "$token") "$RUNNER_ROOT/_diag" || true; } | xargs -r rm -f --
fi
unset token
[ "$rc" -eq 0 ] || fail "config.sh-failed exit=$rc"
[ -f "$RUNNER_ROOT/.runner" ] || fail "config.sh-left-no-.runner"
