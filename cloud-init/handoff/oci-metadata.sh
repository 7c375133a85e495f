#!/usr/bin/env bash
# Token hand-off for Oracle Cloud: read the registration token (or the encoded JIT config) from a custom
# instance-metadata key over IMDSv2, check it has not expired, print it on stdout.
#
# Why instance metadata: OCI has no per-instance secret store an instance can read without a tenancy-level
# dynamic group and policy; custom metadata keys are delivered to the instance only, over the link-local
# IMDS. The key cannot be deleted from inside (that needs an API credential), so after registration the
# bootstrap blocks IMDS for the runner user and containers (BLOCK_METADATA) and the token expires within
# the hour anyway. See components/oci/handoff.py for the whole window.
#
# Settings (handoff.env, non-secret): TOKEN_METADATA_KEY, EXPIRES_METADATA_KEY (may be empty).
# Test overrides: OCI_IMDS_BASE_URL, OCI_IMDS_ATTEMPTS, OCI_IMDS_RETRY_SECONDS, ARM64_RUNNER_NOW.
# Exit: 0 token printed, 3 key missing, 4 token expired, 1 metadata service unreachable or bad settings.
set -euo pipefail

etc_dir="${ARM64_RUNNER_ETC:-/etc/arm64-runner}"
if [[ -z "${TOKEN_METADATA_KEY:-}" && -r "$etc_dir/handoff.env" ]]; then
  # shellcheck source=/dev/null
  . "$etc_dir/handoff.env"
fi

base_url="${OCI_IMDS_BASE_URL:-http://169.254.169.254/opc/v2}"
attempts="${OCI_IMDS_ATTEMPTS:-60}"
retry_seconds="${OCI_IMDS_RETRY_SECONDS:-5}"
#: A token that expires sooner than this cannot finish config.sh; treat it as expired.
expiry_margin_seconds=60

log() { echo "oci-metadata: $*" >&2; }

if [[ -z "${TOKEN_METADATA_KEY:-}" ]]; then
  log "TOKEN_METADATA_KEY is not set in handoff.env"
  exit 1
fi

# fetch KEY: sets FETCHED_STATUS (HTTP code, 000 = unreachable) and FETCHED_BODY; never prints the body.
fetch() {
  local response
  FETCHED_BODY=""
  response="$(curl --silent --max-time 5 --noproxy '*' \
    --header 'Authorization: Bearer Oracle' \
    --write-out $'\n%{http_code}' \
    "$base_url/instance/metadata/$1")" || true
  FETCHED_STATUS="${response##*$'\n'}"
  if [[ "$response" == *$'\n'* ]]; then
    FETCHED_BODY="${response%$'\n'*}"
  fi
  [[ "$FETCHED_STATUS" =~ ^[0-9]{3}$ ]] || FETCHED_STATUS=000
}

# fetch_with_retry KEY: retries while IMDS is unreachable or failing (early boot); 200/404 end it.
fetch_with_retry() {
  local attempt=1
  while :; do
    fetch "$1"
    case "$FETCHED_STATUS" in
      200 | 404) return 0 ;;
    esac
    if ((attempt >= attempts)); then
      log "metadata service answered $FETCHED_STATUS for $1 after $attempt attempts"
      exit 1
    fi
    attempt=$((attempt + 1))
    sleep "$retry_seconds"
  done
}

fetch_with_retry "$TOKEN_METADATA_KEY"
if [[ "$FETCHED_STATUS" == 404 || -z "$FETCHED_BODY" ]]; then
  log "instance metadata has no key $TOKEN_METADATA_KEY"
  exit 3
fi
token="$FETCHED_BODY"

if [[ -n "${EXPIRES_METADATA_KEY:-}" ]]; then
  fetch_with_retry "$EXPIRES_METADATA_KEY"
  expires_at="$FETCHED_BODY"
  if [[ "$FETCHED_STATUS" == 200 && -n "$expires_at" ]]; then
    if ! expires_epoch="$(date -u -d "$expires_at" +%s 2>/dev/null)"; then
      log "cannot read the expiry time '$expires_at'"
      exit 1
    fi
    now="${ARM64_RUNNER_NOW:-$(date -u +%s)}"
    if ((expires_epoch - expiry_margin_seconds <= now)); then
      log "the registration token expired at $expires_at; replace the runner's registration to mint a new one"
      exit 4
    fi
  fi
fi

printf '%s\n' "$token"
