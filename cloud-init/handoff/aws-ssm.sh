#!/usr/bin/env bash
# Token hand-off for EC2: read the runner's SSM SecureString once, then delete it.
#
# Settings (handoff.env): SSM_PARAMETER_NAME, AWS_REGION; optional HANDOFF_WAIT_SECONDS (how long a
# missing parameter is waited for, default 300; 0 = ask once) and HANDOFF_RETRY_SECONDS (default 5).
# Contract (cloud-init/README.md): the token on stdout only; exit 3 = missing (not published, or already
# read and deleted). Deleting is the only way to take a token out of Parameter Store: an overwrite
# would leave it in the parameter's history (GetParameterHistory).
#
# No AWS CLI and no package install: the instance role's credentials come from IMDSv2 and the two
# Parameter Store calls are signed with curl's built-in SigV4 (Ubuntu's curl/openssl, nothing to apt-get
# before the runner can register). JSON is read with python3, which cloud-init itself runs on.
# Every credential (IMDS session token, role keys) travels in a curl config read from a pipe, never in
# argv; the parameter value is kept in a shell variable and never written to disk or stderr.
set -euo pipefail
# shellcheck source=/dev/null
. "${ARM64_RUNNER_ETC:-/etc/arm64-runner}/handoff.env"
: "${SSM_PARAMETER_NAME:?SSM_PARAMETER_NAME missing from handoff.env}"
: "${AWS_REGION:?AWS_REGION missing from handoff.env}"
wait_seconds=${HANDOFF_WAIT_SECONDS:-300}
retry_seconds=${HANDOFF_RETRY_SECONDS:-5}
# Test-only overrides (never set in production): where IMDS and the SSM endpoint are.
imds=${ARM64_RUNNER_IMDS_URL:-http://169.254.169.254}
ssm=${ARM64_RUNNER_SSM_URL:-https://ssm.${AWS_REGION}.amazonaws.com}

log() { echo "handoff(aws-ssm): $*" >&2; }

# json_field FIELD...: print the value at the path FIELD... of the JSON document on stdin ("" if absent).
json_field() {
  python3 -c '
import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1:]:
    value = value.get(key, "") if isinstance(value, dict) else ""
print(value if isinstance(value, str) else json.dumps(value))
' "$@"
}

imds_session=""
imds_get() {
  curl -fsS --max-time 5 -K <(printf 'header = "X-aws-ec2-metadata-token: %s"\n' "$imds_session") \
    "$imds/latest/meta-data/$1"
}

# load_credentials: the instance role's temporary keys, through IMDSv2 (a session token first).
# Kept for the next call; `fresh` forces a reload (after a failed call, the keys may have rotated).
access_key="" secret_key="" session_token=""
load_credentials() {
  [[ "${1:-}" != fresh && -n "$access_key" ]] && return 0
  imds_session=$(curl -fsS --max-time 5 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" \
    "$imds/latest/api/token") || return 1
  local role document
  role=$(imds_get "iam/security-credentials/") || return 1
  role=${role%%$'\n'*}
  [[ -n "$role" ]] || { log "no instance role attached"; return 1; }
  document=$(imds_get "iam/security-credentials/$role") || return 1
  {
    read -r access_key
    read -r secret_key
    read -r session_token
  } < <(printf '%s' "$document" | python3 -c '
import json, sys
document = json.load(sys.stdin)
for key in ("AccessKeyId", "SecretAccessKey", "Token"):
    print(document.get(key, ""))
')
  [[ -n "$access_key" && -n "$secret_key" ]] || { log "instance role credentials unreadable"; return 1; }
}

# ssm_call ACTION BODY: POST a Parameter Store JSON request, SigV4-signed by curl. Prints the response
# body then a last line with the HTTP status.
ssm_call() {
  local config
  config=$(printf '%s\n' \
    "url = \"$ssm/\"" \
    "aws-sigv4 = \"aws:amz:$AWS_REGION:ssm\"" \
    "user = \"$access_key:$secret_key\"" \
    "header = \"Content-Type: application/x-amz-json-1.1\"" \
    "header = \"X-Amz-Target: AmazonSSM.$1\"")
  if [[ -n "$session_token" ]]; then
    config+=$'\n'"header = \"X-Amz-Security-Token: $session_token\""
  fi
  curl -sS --max-time 20 -K <(printf '%s\n' "$config") --data-binary "$2" -w '\n%{http_code}'
}

# The name is plain path characters (the component makes it), so it goes into the JSON bodies as it
# is; anything else is refused rather than quoted.
[[ "$SSM_PARAMETER_NAME" =~ ^[A-Za-z0-9/_.:-]+$ ]] || { log "unexpected characters in handoff.env"; exit 1; }
response="" body="" error=""
deadline=$(($(date +%s) + wait_seconds))
while true; do
  if load_credentials fresh &&
    response=$(ssm_call GetParameter "{\"Name\":\"$SSM_PARAMETER_NAME\",\"WithDecryption\":true}"); then
    status=${response##*$'\n'}
    body=${response%$'\n'*}
    if [[ "$status" == 200 ]]; then
      break
    fi
    error=$(printf '%s' "$body" | json_field __type)
    case "$error" in
      *ParameterNotFound*) log "parameter $SSM_PARAMETER_NAME not published yet" ;;
      *) log "GetParameter failed: HTTP $status ${error:-}" ;;
    esac
  else
    log "instance metadata or SSM endpoint unreachable"
    error=unreachable
  fi
  if (($(date +%s) >= deadline)); then
    [[ "$error" == *ParameterNotFound* ]] && exit 3
    exit 1
  fi
  sleep "$retry_seconds"
done

token=$(printf '%s' "$body" | json_field Parameter Value)
if [[ -z "$token" ]]; then
  log "parameter $SSM_PARAMETER_NAME has no value"
  exit 3
fi

# Read once: delete the parameter (all its versions) before handing the token over. If that fails the
# token is not used, so a token that stays readable is never one that registered a runner.
for attempt in 1 2 3; do
  reload=""
  ((attempt > 1)) && reload=fresh
  if load_credentials $reload && response=$(ssm_call DeleteParameter "{\"Name\":\"$SSM_PARAMETER_NAME\"}") &&
    [[ "${response##*$'\n'}" == 200 ]]; then
    printf '%s\n' "$token"
    exit 0
  fi
  log "deleting $SSM_PARAMETER_NAME failed (attempt $attempt): HTTP ${response##*$'\n'}"
  sleep "$retry_seconds"
done
exit 1
