"""The stack's OCI network: nothing comes in unless sshCidr says so, and never from the whole internet."""

from __future__ import annotations

import pytest

from components.oci.network import ingress_rules
from tools.mockengine import run_stack

from .stacks import SUBNET, pool, stack

SECURITY_LIST = "oci:Core/securityList:SecurityList"
DEFAULT_LIST = "oci:Core/defaultSecurityList:DefaultSecurityList"
OPEN = {"0.0.0.0/0", "::/0"}


def ingress_of(result):
    rules = []
    for kind in (SECURITY_LIST, DEFAULT_LIST):
        for security_list in result.by_type(kind):
            rules.extend(security_list.plain_inputs.get("ingressSecurityRules") or [])
    return rules


def test_no_ingress_at_all_by_default_and_the_default_list_is_emptied():
    result = run_stack("dev", stack(pool()))
    assert ingress_of(result) == []
    (default,) = result.by_type(DEFAULT_LIST)
    (vcn,) = result.by_type("oci:Core/vcn:Vcn")
    assert default.plain_inputs["manageDefaultResourceId"] == vcn.outputs["defaultSecurityListId"]
    assert not default.plain_inputs.get("egressSecurityRules")


def test_ssh_cidr_opens_port_22_from_that_range_only():
    result = run_stack("dev", stack(pool(), oci={"sshCidr": "203.0.113.0/24"}))
    (rule,) = ingress_of(result)
    assert rule["source"] == "203.0.113.0/24"
    assert rule["protocol"] == "6"
    assert rule["tcpOptions"] == {"min": 22, "max": 22}
    assert not {r["source"] for r in ingress_of(result)} & OPEN


@pytest.mark.parametrize("cidr", sorted(OPEN))
def test_ssh_from_the_whole_internet_is_refused(cidr):
    result = run_stack("dev", stack(pool(), oci={"sshCidr": cidr}))
    assert result.error is not None and not result.resources
    with pytest.raises(ValueError, match="never the whole internet"):
        ingress_rules(cidr)


def test_egress_is_what_a_runner_needs_https_http_dns_ntp():
    (security,) = run_stack("dev", stack(pool())).by_type(SECURITY_LIST)
    rules = security.plain_inputs["egressSecurityRules"]
    ports = sorted((r["protocol"], (r.get("tcpOptions") or r.get("udpOptions"))["min"]) for r in rules)
    assert ports == [("17", 53), ("17", 123), ("6", 53), ("6", 80), ("6", 443)]
    assert all(r["stateless"] is False for r in rules), "stateless egress would drop the replies"


def test_one_vcn_is_shared_by_every_oci_pool_and_instances_use_its_regional_public_subnet():
    result = run_stack("dev", stack(pool(name="a", ocpus=1, memoryGb=6), pool(name="b", ocpus=1, memoryGb=6)))
    assert len(result.by_type("oci:Core/vcn:Vcn")) == 1
    (subnet,) = result.by_type("oci:Core/subnet:Subnet")
    assert "availabilityDomain" not in subnet.plain_inputs, "an AD subnet would pin every runner to one AD"
    assert subnet.plain_inputs["prohibitPublicIpOnVnic"] is False
    (igw,) = result.by_type("oci:Core/internetGateway:InternetGateway")
    (routes,) = result.by_type("oci:Core/routeTable:RouteTable")
    assert routes.plain_inputs["routeRules"] == [
        {"destination": "0.0.0.0/0", "destinationType": "CIDR_BLOCK", "networkEntityId": igw.id}
    ]
    instances = result.by_type("oci:Core/instance:Instance")
    assert len(instances) == 2
    assert {i.plain_inputs["createVnicDetails"]["subnetId"] for i in instances} == {subnet.id}


def test_an_existing_subnet_means_no_network_resources():
    result = run_stack("dev", stack(pool(), oci={"subnetId": SUBNET}))
    assert result.error is None
    assert not [r for r in result.resources if r.type.startswith("oci:Core/") and "subnet" in r.type.lower()]
    assert not result.by_type("oci:Core/vcn:Vcn") and not result.by_type(SECURITY_LIST)
    (instance,) = result.by_type("oci:Core/instance:Instance")
    assert instance.plain_inputs["createVnicDetails"]["subnetId"] == SUBNET
