"""Dated tables of what exists: AWS regions, OCI region identifiers, EC2 instance types by architecture.

A name missing from a table is refused with the closest known names, so a typo (`t4g.lage`, `us-est-1`)
fails at `make plan`, not at `pulumi up`. The tables are as of CATALOG_DATE; when AWS or Oracle add a
region or an instance family, add it here (one line) — the refusal message says so.

Sources (checked 2026-11): AWS "Regions and Availability Zones" (general reference); Oracle Cloud
"Regions and Availability Domains"; AWS "Amazon EC2 instance types" specifications (general purpose,
compute optimized, memory optimized, storage optimized, accelerated computing) with each family's
processor (Graviton = arm64).
"""

from __future__ import annotations

CATALOG_DATE = "2026-11"


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


AWS_REGIONS = _names(
    """
    us-east-1 us-east-2 us-west-1 us-west-2 us-gov-east-1 us-gov-west-1 ca-central-1 ca-west-1 mx-central-1
    sa-east-1 eu-central-1 eu-central-2 eu-west-1 eu-west-2 eu-west-3 eu-south-1 eu-south-2 eu-north-1
    il-central-1 me-south-1 me-central-1 af-south-1 ap-east-1 ap-east-2 ap-south-1 ap-south-2 ap-southeast-1
    ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ap-northeast-1
    ap-northeast-2 ap-northeast-3 cn-north-1 cn-northwest-1
    """
)

OCI_REGIONS = _names(
    """
    us-ashburn-1 us-phoenix-1 us-sanjose-1 us-chicago-1 ca-toronto-1 ca-montreal-1 mx-queretaro-1
    mx-monterrey-1 sa-saopaulo-1 sa-vinhedo-1 sa-santiago-1 sa-valparaiso-1 sa-bogota-1 uk-london-1
    uk-cardiff-1 eu-frankfurt-1 eu-amsterdam-1 eu-zurich-1 eu-madrid-1 eu-marseille-1 eu-milan-1 eu-paris-1
    eu-stockholm-1 eu-jovanovac-1 me-jeddah-1 me-dubai-1 me-abudhabi-1 me-riyadh-1 il-jerusalem-1
    af-johannesburg-1 ap-mumbai-1 ap-hyderabad-1 ap-singapore-1 ap-singapore-2 ap-batam-1 ap-tokyo-1
    ap-osaka-1 ap-seoul-1 ap-chuncheon-1 ap-sydney-1 ap-melbourne-1 us-langley-1 us-luke-1
    us-gov-ashburn-1 us-gov-chicago-1 us-gov-phoenix-1 uk-gov-london-1 uk-gov-cardiff-1
    """
)

_T = "nano micro small medium large xlarge 2xlarge"
_GRAVITON2 = "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"
_GRAVITON4 = "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"
_INTEL5 = "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"
_C5 = "large xlarge 2xlarge 4xlarge 9xlarge 12xlarge 18xlarge 24xlarge metal"
_INTEL6 = "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge metal"
_AMD6 = "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal"
_INTEL7 = "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"
_AMD7 = "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge metal-48xl"
_INTEL8 = (
    "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge metal-48xl metal-96xl"
)
_AMD8 = "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl"

#: family -> sizes, Graviton (arm64): what `cloud: aws` pools may use.
GRAVITON_FAMILIES: dict[str, str] = {
    "a1": "medium large xlarge 2xlarge 4xlarge metal",
    "t4g": _T,
    **dict.fromkeys(("m6g", "m6gd", "c6g", "c6gd", "r6g", "r6gd", "x2gd"), _GRAVITON2 + " metal"),
    "c6gn": _GRAVITON2,
    **dict.fromkeys(("m7g", "m7gd", "c7g", "c7gd", "c7gn", "r7g", "r7gd"), _GRAVITON2 + " metal"),
    **dict.fromkeys(("m8g", "m8gd", "c8g", "c8gd", "c8gn", "r8g", "r8gd", "x8g"), _GRAVITON4),
    "im4gn": "large xlarge 2xlarge 4xlarge 8xlarge 16xlarge",
    "is4gen": "medium large xlarge 2xlarge 4xlarge 8xlarge",
    "i4g": "large xlarge 2xlarge 4xlarge 8xlarge 16xlarge",
    "i8g": "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge metal-24xl metal-48xl",
    "g5g": "xlarge 2xlarge 4xlarge 8xlarge 16xlarge metal",
    "hpc7g": "4xlarge 8xlarge 16xlarge",
}

#: family -> sizes, x86_64 general purpose, compute and memory optimized: what `cloud: emulated` hosts
#: may use (accelerated, storage and HPC families are not runner hosts).
X86_64_FAMILIES: dict[str, str] = {
    **dict.fromkeys(("t2", "t3", "t3a"), _T),
    **dict.fromkeys(("m5", "m5d", "m5n", "m5dn", "r5", "r5d", "r5n", "r5dn"), _INTEL5 + " metal"),
    **dict.fromkeys(("m5a", "m5ad", "r5a", "r5ad", "c5a", "c5ad"), _INTEL5),
    "m5zn": "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge metal",
    "z1d": "large xlarge 2xlarge 3xlarge 6xlarge 12xlarge metal",
    **dict.fromkeys(("c5", "c5d"), _C5),
    "c5n": "large xlarge 2xlarge 4xlarge 9xlarge 18xlarge metal",
    **dict.fromkeys(("m6i", "m6id", "m6in", "m6idn", "c6i", "c6id", "c6in", "r6i", "r6id", "r6in", "r6idn"), _INTEL6),
    **dict.fromkeys(("m6a", "c6a", "r6a"), _AMD6),
    **dict.fromkeys(("m7i", "c7i", "r7i"), _INTEL7),
    **dict.fromkeys(("m7i-flex", "c7i-flex"), "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    **dict.fromkeys(("m7a", "c7a", "r7a"), _AMD7),
    **dict.fromkeys(("m8i", "c8i", "r8i"), _INTEL8),
    **dict.fromkeys(("m8a", "c8a", "r8a"), _AMD8),
}


def _types(families: dict[str, str]) -> frozenset[str]:
    return frozenset(f"{family}.{size}" for family, sizes in families.items() for size in sizes.split())


GRAVITON_TYPES = _types(GRAVITON_FAMILIES)
X86_64_TYPES = _types(X86_64_FAMILIES)
