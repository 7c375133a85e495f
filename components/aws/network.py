"""The network every `aws` and `emulated` pool of a stack shares: subnets and a no-ingress security group.

Built once per stack (by the fleet) and handed to each pool, so several pools never create several VPCs.
With `aws.vpcId`/`aws.subnetIds` in the stack the existing network is used and no VPC is created;
otherwise a small dedicated VPC: public subnets in two availability zones behind an internet gateway
(no NAT gateway: runners only need outbound traffic, and a NAT gateway costs more than the runners).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config.model import AwsSettings, EgressRule
from components.tags import stack_tags

#: Address plan of the dedicated VPC: one /20 per subnet leaves room for thousands of runners.
VPC_CIDR = "10.42.0.0/16"
SUBNET_CIDRS = ("10.42.0.0/20", "10.42.16.0/20")


@dataclass
class StackNetworkArgs:
    stack: str
    settings: AwsSettings


class StackNetwork(pulumi.ComponentResource):
    """`subnet_ids` to spread runners over and `security_group_id` (egress only) for their instances."""

    vpc_id: pulumi.Output[str]
    subnet_ids: pulumi.Output[list[str]]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: StackNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("arm64-runners:aws:StackNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**stack_tags(args.stack), "Name": f"arm64-runners-{args.stack}"}
        settings = args.settings

        if settings.vpc_id is not None:
            self.vpc_id = pulumi.Output.from_input(settings.vpc_id)
            self.subnet_ids = _existing_subnets(settings, child)
        else:
            self.vpc_id, self.subnet_ids = _dedicated_vpc(name, tags, child)

        group = aws.ec2.SecurityGroup(
            f"{name}-runners",
            description="arm64-runners: no inbound; outbound for GitHub, registries, OS packages, DNS, NTP",
            vpc_id=self.vpc_id,
            ingress=[],
            egress=[_egress(rule) for rule in settings.egress],
            revoke_rules_on_delete=True,
            tags={**tags, "Name": f"arm64-runners-{args.stack}-runners"},
            opts=child,
        )
        self.security_group_id = group.id
        self.register_outputs(
            {"vpc_id": self.vpc_id, "subnet_ids": self.subnet_ids, "security_group_id": self.security_group_id}
        )


def _egress(rule: EgressRule) -> aws.ec2.SecurityGroupEgressArgs:
    return aws.ec2.SecurityGroupEgressArgs(
        protocol=rule.protocol,
        from_port=rule.port,
        to_port=rule.port,
        cidr_blocks=[rule.cidr],
        description=rule.description or f"{rule.protocol}/{rule.port}",
    )


def _existing_subnets(settings: AwsSettings, opts: pulumi.ResourceOptions) -> pulumi.Output[list[str]]:
    """The stack's subnets, or every subnet of its VPC when it names the VPC only."""
    if settings.subnet_ids:
        return pulumi.Output.from_input(list(settings.subnet_ids))
    found = aws.ec2.get_subnets_output(
        filters=[aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[settings.vpc_id or ""])],
        opts=pulumi.InvokeOutputOptions(parent=opts.parent),
    )
    return found.ids.apply(_require_subnets)


def _require_subnets(ids: list[str]) -> list[str]:
    if not ids:
        raise ValueError("aws.vpcId names a VPC without subnets: set aws.subnetIds or add a subnet")
    return sorted(ids)


def _dedicated_vpc(
    name: str, tags: dict[str, str], opts: pulumi.ResourceOptions
) -> tuple[pulumi.Output[str], pulumi.Output[list[str]]]:
    vpc = aws.ec2.Vpc(
        f"{name}-vpc",
        cidr_block=VPC_CIDR,
        enable_dns_support=True,
        enable_dns_hostnames=True,
        tags=tags,
        opts=opts,
    )
    # The default security group of a new VPC admits traffic from itself; take every rule away so
    # nothing in this VPC accepts inbound traffic, whatever group an instance ends up in.
    aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], tags=tags, opts=opts)
    gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=opts)
    routes = aws.ec2.RouteTable(
        f"{name}-public",
        vpc_id=vpc.id,
        routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
        tags=tags,
        opts=opts,
    )
    zones = aws.get_availability_zones_output(
        state="available",
        filters=[aws.GetAvailabilityZonesFilterArgs(name="zone-type", values=["availability-zone"])],
        opts=pulumi.InvokeOutputOptions(parent=opts.parent),
    )
    subnet_ids: list[pulumi.Output[str]] = []
    for index, cidr in enumerate(SUBNET_CIDRS):
        subnet = aws.ec2.Subnet(
            f"{name}-public-{index}",
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=zones.names.apply(functools.partial(_zone, index=index)),
            # Public address for outbound traffic through the internet gateway; the security group and
            # the default group admit nothing inbound.
            map_public_ip_on_launch=True,
            tags={**tags, "Name": f"{tags['Name']}-public-{index}"},
            opts=opts,
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-public-{index}", subnet_id=subnet.id, route_table_id=routes.id, opts=opts
        )
        subnet_ids.append(subnet.id)
    return vpc.id, pulumi.Output.all(*subnet_ids).apply(list)


def _zone(names: list[str], index: int) -> str:
    if len(names) < len(SUBNET_CIDRS):
        raise ValueError(f"the region offers {len(names)} availability zone(s); the dedicated VPC needs 2")
    return sorted(names)[index]
