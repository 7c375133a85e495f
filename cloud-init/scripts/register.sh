#!/usr/bin/env bash
# Obtains the token from the cloud's hand-off and registers the runner as the runner user.
#   register.sh           first boot: nothing to do when the runner is configured; otherwise the
#                         hand-off may wait for its token (its own bounded wait)
#   register.sh --if-new  later boots: asks the hand-off once, without waiting. A token this host
#                         has not used yet registers the runner again (the runner service stopped,
#                         the local registration replaced); nothing new exits ARM64_RUNNER_UNCHANGED,
#                         unless the runner was never configured (then: token-missing, as at first boot).
# The token lives in a variable only and reaches config.sh solely as ACTIONS_RUNNER_INPUT_TOKEN
# (never argv, never a file). Ephemeral runners get a JIT config, handed to jit-run.sh through tmpfs.
# What is kept is the SHA-256 of the last token used (root-only), so a hand-off that is not read-once
# (OCI metadata) is not mistaken for a new token at the next boot.
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
if_new=0
[ "${1:-}" != --if-new ] || if_new=1
used="$ARM64_RUNNER_STATE/token.sha256"
configured() { [ -f "$RUNNER_ROOT/.runner" ]; }

if [ "$if_new" = 0 ] && configured; then
  log "register: already configured, not registering again"
  exit 0
fi
set -a
# shellcheck source=/dev/null
. "$ARM64_RUNNER_ETC/handoff.env"
set +a
# Later boots ask once: a wake or a reboot must not wait for a token that may never come.
if [ "$if_new" = 1 ]; then export HANDOFF_WAIT_SECONDS=0; fi
# Not `$(run_script ...) || rc=$?`: as a condition, the hand-off's own `set -e` would be ignored (lib.sh).
set +e
token=$(run_script "$ARM64_RUNNER_LIB/handoff.sh")
rc=$?
set -e
if [ "$rc" = 0 ] && [ -z "$token" ]; then rc=3; fi
# What is kept of a token (and compared at later boots): its SHA-256, never the token.
digest=""
[ "$rc" != 0 ] || sha256_of digest <(printf '%s' "$token")

if [ "$if_new" = 1 ] && configured; then
  if [ "$rc" != 0 ]; then
    log "register: the hand-off holds no new token (exit $rc); starting the runner as configured"
    exit "$ARM64_RUNNER_UNCHANGED"
  fi
  last=""
  [ ! -f "$used" ] || read -r last <"$used"
  if [ "$digest" = "$last" ]; then
    log "register: the hand-off holds the token already used; starting the runner as configured"
    exit "$ARM64_RUNNER_UNCHANGED"
  fi
  log "register: a new token in the hand-off; registering again"
  "$ARM64_RUNNER_LIB/variant/stop-service.sh" || fail "service-stop"
  # The local half of the old registration (the runner refuses to configure over it); --replace
  # below, or the JIT config, takes over the name on GitHub's side.
  rm -f "$RUNNER_ROOT/.runner" "$RUNNER_ROOT/.credentials" "$RUNNER_ROOT/.credentials_rsaparams"
fi
case "$rc" in
  0) ;;
  3) fail "token-missing" ;;
  4) fail "token-expired" ;;
  *) fail "handoff-failed exit=$rc" ;;
esac

remember_token() { (umask 077 && printf '%s\n' "$digest" >"$used"); }

if [ "${RUNNER_EPHEMERAL:-0}" = 1 ]; then
  mkdir -p "$ARM64_RUNNER_RUN"
  chmod 0700 "$ARM64_RUNNER_RUN"
  (umask 077 && printf '%s' "$token" >"$ARM64_RUNNER_RUN/jit")
  remember_token
  exit 0
fi

args=(--unattended --url "$RUNNER_URL" --name "$RUNNER_NAME" --labels "$RUNNER_LABELS" --no-default-labels
  --work _work --replace)
if [ -n "${RUNNER_GROUP:-}" ]; then args+=(--runnergroup "$RUNNER_GROUP"); fi
if [ "${RUNNER_DISABLE_UPDATE:-0}" = 1 ]; then args+=(--disableupdate); fi
ACTIONS_RUNNER_INPUT_TOKEN=$token script_status rc "$ARM64_RUNNER_LIB/variant/run-as-runner.sh" config.sh "${args[@]}"

# Scrub: delete any runner log that kept the token (the runner masks it, this makes sure). The token is
# given to grep as a pattern file on a pipe, so it never appears in grep's argv.
if [ -d "$RUNNER_ROOT/_diag" ]; then
  while IFS= read -r leaked; do rm -f -- "$leaked"; done < <(grep -rlF -f <(printf '%s\n' "$token") "$RUNNER_ROOT/_diag" || true)
fi
[ "$rc" -eq 0 ] || fail "config.sh-failed exit=$rc"
[ -f "$RUNNER_ROOT/.runner" ] || fail "config.sh-left-no-.runner"
remember_token
unset token
