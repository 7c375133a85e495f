"""StackNetwork: the one VCN every OCI pool of a stack shares (or an existing subnet, then nothing).

Created: a VCN, an internet gateway, a route table sending 0.0.0.0/0 to it, a security list and a public
regional subnet (regional, so instances can land in whichever availability domain has A1 capacity).
The security list has no ingress at all unless `oci.sshCidr` is set, which opens TCP 22 from that CIDR
only; egress is what a runner host needs (HTTPS, HTTP for apt, DNS, NTP). The VCN's *default* security
list, which OCI creates with SSH open to 0.0.0.0/0, is taken over and emptied so no subnet can inherit it.

A public subnet (not a NAT gateway) because runners only need outbound traffic and Always Free tenancies
cannot create NAT gateways; with no ingress rules a public address accepts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_oci as oci

from components.config.model import DEFAULT_EGRESS, EgressRule, StackConfig
from components.tags import stack_tags

VCN_CIDR = "10.42.0.0/16"
SUBNET_CIDR = "10.42.0.0/24"
_PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17"}
_OPEN_WORLD = ("0.0.0.0/0", "::/0")


def egress_rules(rules: tuple[EgressRule, ...] = DEFAULT_EGRESS) -> list[oci.core.SecurityListEgressSecurityRuleArgs]:
    """OCI egress rules for the runner's outbound needs (stateful: replies are allowed back in)."""
    result = []
    for rule in rules:
        tcp = oci.core.SecurityListEgressSecurityRuleTcpOptionsArgs(min=rule.port, max=rule.port)
        udp = oci.core.SecurityListEgressSecurityRuleUdpOptionsArgs(min=rule.port, max=rule.port)
        result.append(
            oci.core.SecurityListEgressSecurityRuleArgs(
                destination=rule.cidr,
                destination_type="CIDR_BLOCK",
                protocol=_PROTOCOL_NUMBERS[rule.protocol],
                description=rule.description,
                stateless=False,
                tcp_options=tcp if rule.protocol == "tcp" else None,
                udp_options=udp if rule.protocol == "udp" else None,
            )
        )
    return result


def ingress_rules(ssh_cidr: str | None) -> list[oci.core.SecurityListIngressSecurityRuleArgs]:
    """No ingress, or SSH from one administrator range. An open-world SSH rule is refused here too."""
    if ssh_cidr is None:
        return []
    if ssh_cidr.strip() in _OPEN_WORLD:
        raise ValueError("oci.sshCidr must be an administrator range, never the whole internet")
    return [
        oci.core.SecurityListIngressSecurityRuleArgs(
            source=ssh_cidr,
            source_type="CIDR_BLOCK",
            protocol=_PROTOCOL_NUMBERS["tcp"],
            description="SSH from the administrator range (oci.sshCidr)",
            stateless=False,
            tcp_options=oci.core.SecurityListIngressSecurityRuleTcpOptionsArgs(min=22, max=22),
        )
    ]


@dataclass
class StackNetworkArgs:
    config: StackConfig


class StackNetwork(pulumi.ComponentResource):
    """`.subnet_id`: where every OCI runner of the stack gets its VNIC."""

    subnet_id: pulumi.Output[str]
    vcn_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: StackNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("arm64-runners:oci:StackNetwork", name, None, opts)
        settings = args.config.oci
        if settings is None:
            raise ValueError("StackNetwork needs the stack's oci settings (oci.compartmentId)")
        child = pulumi.ResourceOptions(parent=self)

        if settings.subnet_id is not None:
            # An existing subnet keeps its own security lists; nothing of ours is attached to it.
            if settings.ssh_cidr is not None:
                pulumi.log.warn(
                    "oci.sshCidr is ignored with oci.subnetId: the existing subnet's security lists decide ingress",
                    resource=self,
                )
            self.vcn_id = None
            self.subnet_id = pulumi.Output.from_input(settings.subnet_id)
            self.register_outputs({"subnet_id": self.subnet_id})
            return

        compartment = settings.compartment_id
        tags = stack_tags(args.config.stack)
        prefix = f"{args.config.runner.name_prefix}-{args.config.stack}"
        vcn = oci.core.Vcn(
            f"{name}-vcn",
            compartment_id=compartment,
            cidr_blocks=[VCN_CIDR],
            display_name=f"{prefix}-vcn",
            freeform_tags=tags,
            opts=child,
        )
        oci.core.DefaultSecurityList(
            f"{name}-default-security-list",
            manage_default_resource_id=vcn.default_security_list_id,
            compartment_id=compartment,
            display_name=f"{prefix}-default-emptied",
            ingress_security_rules=[],
            egress_security_rules=[],
            freeform_tags=tags,
            opts=child,
        )
        gateway = oci.core.InternetGateway(
            f"{name}-igw",
            compartment_id=compartment,
            vcn_id=vcn.id,
            enabled=True,
            display_name=f"{prefix}-igw",
            freeform_tags=tags,
            opts=child,
        )
        routes = oci.core.RouteTable(
            f"{name}-routes",
            compartment_id=compartment,
            vcn_id=vcn.id,
            display_name=f"{prefix}-routes",
            route_rules=[
                {"destination": "0.0.0.0/0", "destination_type": "CIDR_BLOCK", "network_entity_id": gateway.id}
            ],
            freeform_tags=tags,
            opts=child,
        )
        security = oci.core.SecurityList(
            f"{name}-security",
            compartment_id=compartment,
            vcn_id=vcn.id,
            display_name=f"{prefix}-runners",
            egress_security_rules=egress_rules(),
            ingress_security_rules=ingress_rules(settings.ssh_cidr),
            freeform_tags=tags,
            opts=child,
        )
        subnet = oci.core.Subnet(
            f"{name}-subnet",
            compartment_id=compartment,
            vcn_id=vcn.id,
            cidr_block=SUBNET_CIDR,
            display_name=f"{prefix}-runners",
            route_table_id=routes.id,
            security_list_ids=[security.id],
            prohibit_public_ip_on_vnic=False,
            freeform_tags=tags,
            opts=child,
        )
        self.vcn_id = vcn.id
        self.subnet_id = subnet.id
        self.register_outputs({"vcn_id": self.vcn_id, "subnet_id": self.subnet_id})
