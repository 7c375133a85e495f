#!/usr/bin/env bash
# Rejects traffic to the instance-metadata endpoint from the runner user and from containers, so a job
# cannot read instance credentials or user-data. Idempotent; applied at every boot by
# arm64-runner-imds.service, which the runner's unit requires. One `-S` listing per address family says
# what is already there (and whether Docker's DOCKER-USER chain exists): each iptables call costs a
# netlink round trip of the whole ruleset, and this runs before the runner may start.
set -euo pipefail
# shellcheck source=lib.sh
. "${ARM64_RUNNER_LIB:-/usr/local/lib/arm64-runner}/lib.sh"
[ "${BLOCK_METADATA:-1}" = 1 ] || exit 0
ipt=${ARM64_RUNNER_IPTABLES:-iptables}
ip6t=${ARM64_RUNNER_IP6TABLES:-ip6tables}
command -v "$ipt" >/dev/null || fail "iptables-missing"
uid=""
has_entry "${ARM64_RUNNER_PASSWD:-/etc/passwd}" "$RUNNER_USER" uid || fail "no-user $RUNNER_USER"

# block NAME TOOL RULES ADDRESS: insert the owner rule, and the DOCKER-USER rule when that chain exists,
# unless already present; NAME (iptables, ip6tables) names a failure. RULES is TOOL's `-S` listing (rules
# print as `-A CHAIN <spec> ...`, one per line), searched with bash patterns: no process per check.
block() {
  local name=$1 tool=$2 rules=$'\n'$3$'\n' address=$4
  local spec=(-d "$address" -m owner --uid-owner "$uid" -j REJECT)
  if [[ $rules != *$'\n'"-A OUTPUT ${spec[*]}"* ]]; then
    "$tool" -I OUTPUT "${spec[@]}" || fail "$name-owner-rule"
  fi
  if [[ $rules == *$'\n-N DOCKER-USER\n'* && $rules != *$'\n'"-A DOCKER-USER -d $address -j REJECT"* ]]; then
    "$tool" -I DOCKER-USER -d "$address" -j REJECT || fail "$name-docker-rule"
  fi
}

rules=$("$ipt" -S) || fail "iptables-unusable"
block iptables "$ipt" "$rules" 169.254.169.254/32
# AWS also serves IMDS on IPv6 (fd00:ec2::254) when enabled; a host without IPv6 filtering skips it.
if command -v "$ip6t" >/dev/null && rules=$("$ip6t" -S 2>/dev/null); then
  block ip6tables "$ip6t" "$rules" fd00:ec2::254/128
fi
