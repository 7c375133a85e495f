"""Realistic AWS answers for the mock engine: invokes and provider-computed resource outputs.

Shapes follow what pulumi-aws 7 returns (wire names in camelCase, as the engine sees them):
- Canonical's public SSM parameters answer an AMI id per architecture (`getParameter`); `getAmi` with an
  `image-id` filter answers that image with its `architecture` (`arm64` / `x86_64`), and fails like the
  provider ("Your query returned no results") for an id it does not know;
- `getAvailabilityZones` lists the region's zones, `getRegion`/`getPartition`/`getCallerIdentity` the
  usual account facts;
- created resources get ids with AWS's prefixes (`i-`, `sir-`, `lt-`, `vpc-`, `subnet-`, `sg-`) and
  the computed attributes the components read (ARNs, private IPs, zones, launch template versions).

Tests add images (e.g. an x86_64 AMI pinned by hand in an arm64 pool) with `images({...})`.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f")
CANONICAL_OWNER = "099720109477"

#: Canonical's public parameters and the AMI ids they resolve to in the mock region.
UBUNTU_PARAMETERS = {
    "/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id": "ami-0a8d1b3c5e7f90123",
    "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id": "ami-0b7c2d4e6f8a01234",
}

_BASE_IMAGES: dict[str, dict[str, Any]] = {
    "ami-0a8d1b3c5e7f90123": {
        "architecture": "arm64",
        "name": "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20251110",
    },
    "ami-0b7c2d4e6f8a01234": {
        "architecture": "x86_64",
        "name": "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20251110",
    },
}
_images: dict[str, dict[str, Any]] = dict(_BASE_IMAGES)


@contextmanager
def images(extra: Mapping[str, str]) -> Iterator[None]:
    """Make `getAmi` know more images: {ami_id: architecture}."""
    added = {ami: {"architecture": arch, "name": f"custom/{ami}-{arch}"} for ami, arch in extra.items()}
    _images.update(added)
    try:
        yield
    finally:
        for ami in added:
            _images.pop(ami, None)
        _images.update(_BASE_IMAGES)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _get_parameter(args: Mapping[str, Any]) -> dict[str, Any]:
    name = str(args.get("name", ""))
    if name not in UBUNTU_PARAMETERS:
        raise ValueError(f"ParameterNotFound: parameter {name} not found")
    value = UBUNTU_PARAMETERS[name]
    return {
        "arn": f"arn:{PARTITION}:ssm:{REGION}::parameter{name}",
        "id": name,
        "name": name,
        "type": "String",
        "dataType": "aws:ec2:image",
        "value": value,
        "insecureValue": value,
        "version": 117,
        "withDecryption": bool(args.get("withDecryption", True)),
    }


def _get_ami(args: Mapping[str, Any]) -> dict[str, Any]:
    wanted: list[str] = []
    for entry in args.get("filters") or []:
        if entry.get("name") == "image-id":
            wanted.extend(entry.get("values") or [])
    found = [ami for ami in wanted if ami in _images]
    if len(found) != 1:
        raise ValueError("Your query returned no results. Please change your search criteria and try again.")
    ami = found[0]
    image = _images[ami]
    return {
        "id": ami,
        "imageId": ami,
        "arn": f"arn:{PARTITION}:ec2:{REGION}::image/{ami}",
        "architecture": image["architecture"],
        "name": image["name"],
        "ownerId": CANONICAL_OWNER,
        "rootDeviceName": "/dev/sda1",
        "rootDeviceType": "ebs",
        "virtualizationType": "hvm",
        "state": "available",
        "public": True,
        "enaSupport": True,
        "bootMode": "uefi-preferred",
        "imdsSupport": "v2.0",
        "filters": args.get("filters"),
    }


def _get_availability_zones(args: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": REGION,
        "names": list(ZONES),
        "zoneIds": [f"use1-az{i + 1}" for i in range(len(ZONES))],
        "groupNames": [REGION] * len(ZONES),
        "state": args.get("state"),
    }


def _get_subnets(args: Mapping[str, Any]) -> dict[str, Any]:
    vpc = ""
    for entry in args.get("filters") or []:
        if entry.get("name") == "vpc-id":
            vpc = (entry.get("values") or [""])[0]
    ids = [f"subnet-{_digest(vpc, str(i))[:17]}" for i in range(3)]
    return {"id": REGION, "ids": ids, "filters": args.get("filters")}


ANSWERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "aws:ssm/getParameter:getParameter": _get_parameter,
    "aws:ec2/getAmi:getAmi": _get_ami,
    "aws:ec2/getSubnets:getSubnets": _get_subnets,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _get_availability_zones,
    "aws:index/getRegion:getRegion": lambda args: {
        "id": REGION,
        "name": REGION,
        "region": REGION,
        "description": "US East (N. Virginia)",
        "endpoint": f"ec2.{REGION}.amazonaws.com",
    },
    "aws:index/getPartition:getPartition": lambda args: {
        "id": PARTITION,
        "partition": PARTITION,
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    },
    "aws:index/getCallerIdentity:getCallerIdentity": lambda args: {
        "id": ACCOUNT_ID,
        "accountId": ACCOUNT_ID,
        "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user/deployer",
        "userId": "AIDAMOCKMOCKMOCKMOCK",
    },
}


def _private_ip(name: str) -> str:
    offset = int(_digest(name)[:4], 16) % 4000 + 10
    return str(ipaddress.ip_address("10.42.0.0") + offset)


def _zone_of(subnet: Any) -> str:
    return ZONES[int(_digest(str(subnet))[:2], 16) % 2]


def _named(name: str) -> str:
    """Pulumi's auto-name: the resource name plus a random suffix (here stable)."""
    return f"{name}-{_digest(name)[:7]}"


def resource_outputs(type_: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """Outputs the AWS provider computes for `type_`, merged over the inputs; None = inputs only."""
    short = _digest(type_, name)[:17]
    if type_ == "aws:ec2/instance:Instance":
        return {
            "__id": f"i-{short}",
            "privateIp": _private_ip(name),
            "availabilityZone": _zone_of(inputs.get("subnetId")),
            "instanceState": "running",
            "arn": f"arn:{PARTITION}:ec2:{REGION}:{ACCOUNT_ID}:instance/i-{short}",
        }
    if type_ == "aws:ec2/spotInstanceRequest:SpotInstanceRequest":
        return {
            "__id": f"sir-{short[:8]}",
            "spotInstanceId": f"i-{short}",
            "spotRequestState": "active",
            "spotBidStatus": "fulfilled",
            "privateIp": _private_ip(name),
            "availabilityZone": _zone_of(inputs.get("subnetId")),
        }
    if type_ == "aws:ec2/launchTemplate:LaunchTemplate":
        return {
            "__id": f"lt-{short}",
            "latestVersion": 1,
            "defaultVersion": 1,
            "name": inputs.get("name") or _named(name),
            "arn": f"arn:{PARTITION}:ec2:{REGION}:{ACCOUNT_ID}:launch-template/lt-{short}",
        }
    if type_ == "aws:ssm/parameter:Parameter":
        path = str(inputs.get("name") or f"/{name}")
        return {"arn": f"arn:{PARTITION}:ssm:{REGION}:{ACCOUNT_ID}:parameter{path}", "version": 1}
    if type_ in ("aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile"):
        kind = "role" if type_.endswith("Role") else "instance-profile"
        named = str(inputs.get("name") or _named(name))
        return {"__id": named, "name": named, "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:{kind}/{named}"}
    if type_ == "aws:lambda/function:Function":
        named = str(inputs.get("name") or _named(name))
        arn = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{named}"
        return {"__id": named, "name": named, "arn": arn, "qualifiedArn": f"{arn}:$LATEST", "version": "$LATEST"}
    if type_ == "aws:lambda/functionUrl:FunctionUrl":
        url_id = _digest(type_, name)[:32]
        return {"functionUrl": f"https://{url_id}.lambda-url.{REGION}.on.aws/", "urlId": url_id}
    if type_ == "aws:dynamodb/table:Table":
        named = str(inputs.get("name") or _named(name))
        return {"__id": named, "arn": f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT_ID}:table/{named}"}
    if type_ == "aws:cloudwatch/logGroup:LogGroup":
        named = str(inputs.get("name") or _named(name))
        return {"__id": named, "arn": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:{named}"}
    prefixes = {
        "aws:ec2/vpc:Vpc": "vpc",
        "aws:ec2/subnet:Subnet": "subnet",
        "aws:ec2/securityGroup:SecurityGroup": "sg",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
        "aws:ec2/internetGateway:InternetGateway": "igw",
        "aws:ec2/routeTable:RouteTable": "rtb",
    }
    if type_ in prefixes:
        return {"__id": f"{prefixes[type_]}-{short}"}
    return None


def dynamic_outputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """What components.aws.wake_secret.WebhookSecret computes at create: a secret derived from nothing
    secret here (stable across runs), wrapped as the real state holds it."""
    if set(inputs) - {"__provider", "value"} == {"byte_length"}:
        from pulumi.runtime import rpc

        return {"value": rpc.wrap_rpc_secret("mock-webhook-secret-" + _digest("webhook-secret")[:32])}
    return {}
