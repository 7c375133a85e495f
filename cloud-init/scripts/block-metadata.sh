#!/usr/bin/env bash
# Rejects traffic to the instance-metadata endpoint from the runner user and from containers, so a job
# cannot read instance credentials or user-data. Idempotent; re-run at every boot by arm64-runner-imds.service.
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
[ "${BLOCK_METADATA:-1}" = 1 ] || exit 0
ipt=${ARM64_RUNNER_IPTABLES:-iptables}
ip6t=${ARM64_RUNNER_IP6TABLES:-ip6tables}
command -v "$ipt" >/dev/null || fail "iptables-missing"
uid=$(id -u "$RUNNER_USER") || fail "no-user $RUNNER_USER"

ensure() { # tool chain rule...: insert the rule unless already present
  local tool=$1
  shift
  "$tool" -C "$@" 2>/dev/null || "$tool" -I "$@"
}
ensure "$ipt" OUTPUT -d 169.254.169.254/32 -m owner --uid-owner "$uid" -j REJECT || fail "iptables-owner-rule"
if "$ipt" -n -L DOCKER-USER >/dev/null 2>&1; then
  ensure "$ipt" DOCKER-USER -d 169.254.169.254/32 -j REJECT || fail "iptables-docker-rule"
fi
# AWS also serves IMDS on IPv6 (fd00:ec2::254) when enabled.
if command -v "$ip6t" >/dev/null && "$ip6t" -n -L OUTPUT >/dev/null 2>&1; then
  ensure "$ip6t" OUTPUT -d fd00:ec2::254/128 -m owner --uid-owner "$uid" -j REJECT || fail "ip6tables-owner-rule"
  if "$ip6t" -n -L DOCKER-USER >/dev/null 2>&1; then
    ensure "$ip6t" DOCKER-USER -d fd00:ec2::254/128 -j REJECT || fail "ip6tables-docker-rule"
  fi
fi
