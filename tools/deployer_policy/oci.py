"""OCI IAM policy statements for the group whose users run `pulumi up`/`destroy` on an OCI stack.

Per Pulumi resource type and invoke: the statements (verb + resource-type, Oracle's policy language)
that cover the API calls of the OCI provider for it. `{group}` is the deployers' group, `{compartment}`
the stack's compartment and `{capacity}` where capacity reports and availability domains are read (the
tenancy, or `oci.tenancyId`). Source: Oracle Cloud Infrastructure documentation, "Details for the
Core Services" (policy reference) unless said otherwise.
"""

from __future__ import annotations

CORE = "OCI policy reference, Details for the Core Services: "

_NETWORK = ("Allow group {group} to manage virtual-network-family in {compartment}", CORE + "virtual-network-family")

#: Pulumi type -> (statement, source) pairs.
TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "oci:Core/vcn:Vcn": (_NETWORK,),
    "oci:Core/subnet:Subnet": (_NETWORK,),
    "oci:Core/internetGateway:InternetGateway": (_NETWORK,),
    "oci:Core/routeTable:RouteTable": (_NETWORK,),
    "oci:Core/securityList:SecurityList": (_NETWORK,),
    "oci:Core/defaultSecurityList:DefaultSecurityList": (_NETWORK,),
    "oci:Core/instance:Instance": (
        ("Allow group {group} to manage instance-family in {compartment}", CORE + "instance-family"),
        # The boot volume is created at launch and deleted with the instance (preserve_boot_volume false).
        ("Allow group {group} to manage volume-family in {compartment}", CORE + "volume-family (boot volumes)"),
        ("Allow group {group} to use virtual-network-family in {compartment}", CORE + "VNIC of a launch"),
    ),
    "oci:Core/computeCapacityReport:ComputeCapacityReport": (
        (
            "Allow group {group} to manage compute-capacity-reports in {capacity}",
            CORE + "compute-capacity-reports (COMPUTE_CAPACITY_REPORT_CREATE; Oracle asks for the root compartment)",
        ),
    ),
}

INVOKES: dict[str, tuple[tuple[str, str], ...]] = {
    "oci:Identity/getAvailabilityDomains:getAvailabilityDomains": (
        (
            "Allow group {group} to inspect compartments in {capacity}",
            "OCI policy reference, IAM: ListAvailabilityDomains",
        ),
    ),
    "oci:Core/getImages:getImages": (
        ("Allow group {group} to read instance-images in {compartment}", CORE + "instance-images (ListImages)"),
    ),
}
