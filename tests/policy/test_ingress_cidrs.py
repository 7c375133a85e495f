"""The policy pack judges ingress CIDRs as networks, with the same rule as `oci.sshCidr` in the config.

String comparison let `0.0.0.0/1` (half the internet), `::/1` and `0:0::/0` (= `::/0`) through.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.config import rules
from components.config.limits import MIN_SSH_PREFIX
from policy import validators as v

from .test_validators import report

WIDE = ["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8", "::/0", "::/1", "0:0::/0", "2001:db8::/32"]
NARROW = ["203.0.113.0/24", "198.51.100.7/32", "10.0.0.0/16", "2001:db8:1::/48", "2001:db8::1/128"]


def _resources(cidr: str) -> list[tuple[str, dict]]:
    """Every ingress shape the rule reads, each with `cidr` as its source."""
    ipv6 = ":" in cidr
    group_key = "ipv6CidrBlocks" if ipv6 else "cidrBlocks"
    return [
        (v.AWS_SECURITY_GROUP, {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, group_key: [cidr]}]}),
        (v.AWS_DEFAULT_SECURITY_GROUP, {"ingress": [{"protocol": "-1", group_key: [cidr]}]}),
        (v.AWS_SECURITY_GROUP_RULE, {"type": "ingress", group_key: [cidr]}),
        (v.AWS_INGRESS_RULE, {"cidrIpv6" if ipv6 else "cidrIpv4": cidr}),
        (v.OCI_SECURITY_LIST, {"ingressSecurityRules": [{"protocol": "6", "source": cidr}]}),
        (v.OCI_DEFAULT_SECURITY_LIST, {"ingressSecurityRules": [{"protocol": "6", "source": cidr}]}),
        (v.OCI_NSG_RULE, {"direction": "INGRESS", "source": cidr}),
    ]


@pytest.mark.parametrize("cidr", WIDE)
def test_wide_ingress_is_a_violation_on_every_resource_shape(cidr: str) -> None:
    for resource_type, props in _resources(cidr):
        messages = report(v.check_no_open_ingress, resource_type, props)
        assert messages and cidr in messages[0], (resource_type, cidr)


@pytest.mark.parametrize("cidr", NARROW)
def test_a_named_admin_range_passes(cidr: str) -> None:
    for resource_type, props in _resources(cidr):
        assert report(v.check_no_open_ingress, resource_type, props) == [], (resource_type, cidr)


@pytest.mark.parametrize("cidr", WIDE)
def test_the_config_refuses_what_the_policy_refuses(cidr: str) -> None:
    assert rules.ssh_cidr_problem(cidr)


_networks = st.one_of(
    st.builds(
        lambda address, prefix: f"{ipaddress.IPv4Address(address)}/{prefix}",
        st.integers(0, 2**32 - 1),
        st.integers(0, 32),
    ),
    st.builds(
        lambda address, prefix: f"{ipaddress.IPv6Address(address).compressed}/{prefix}",
        st.integers(0, 2**128 - 1),
        st.integers(0, 128),
    ),
)


@settings(max_examples=300, deadline=None)
@given(_networks)
def test_policy_and_config_agree_on_every_network(cidr: str) -> None:
    net = ipaddress.ip_network(cidr, strict=False)
    wide = net.prefixlen < MIN_SSH_PREFIX[net.version]
    assert bool(rules.ssh_cidr_problem(cidr)) == wide
    (resource_type, props) = _resources(cidr)[-1]
    assert bool(report(v.check_no_open_ingress, resource_type, props)) == wide
