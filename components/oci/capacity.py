"""Where an A1 instance can launch: one ComputeCapacityReport per candidate domain, first AVAILABLE wins.

"Out of host capacity" is the usual A1 launch failure and another availability domain often has room.
A pool lists domains by 1-based number (`availabilityDomains: [1, 2, 3]`, tried in that order); numbers
past the region's domain count are skipped (most regions have a single domain).

Why reports are a stable choice: the provider's ComputeCapacityReport asks the Compute API once, at
create, and its read is a no-op — the answer stays in state, every input forces a new report. So the
chosen domain is decided once, shows up in the preview (as the instance's `availabilityDomain`) as soon
as the reports exist, and changes only when the shape configuration changes — which replaces the
instances anyway. The pool also pins the choice (PinnedValue named after the shape configuration), so
a reordered `availabilityDomains` list moves no existing runner either. A stored answer is never
refreshed, so asking again after a failure is explicit: `pulumi up --replace <report urn>` (the error
below prints the commands).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_oci as oci

AVAILABLE = "AVAILABLE"


class NoCapacityError(RuntimeError):
    """No candidate availability domain reported capacity for the pool's shape configuration."""


def candidate_domains(domain_names: Sequence[str], numbers: Sequence[int]) -> list[tuple[int, str]]:
    """(number, name) for each requested 1-based domain number that exists, in the pool's order."""
    chosen: list[tuple[int, str]] = []
    for number in numbers:
        if 1 <= number <= len(domain_names) and all(number != seen for seen, _ in chosen):
            chosen.append((number, domain_names[number - 1]))
    return chosen


def _field(item: Any, name: str) -> Any:
    """Read a field of a report entry whether it arrives as a dict or as an output object."""
    if isinstance(item, dict):
        return item.get(name)
    return getattr(item, name, None)


def domain_status(availabilities: Sequence[Any] | None, shape: str) -> str:
    """AVAILABLE if any entry for `shape` says so, else the first status reported (or UNKNOWN)."""
    statuses = [
        str(_field(entry, "availability_status") or "UNKNOWN")
        for entry in availabilities or []
        if _field(entry, "instance_shape") in (None, shape)
    ]
    if AVAILABLE in statuses:
        return AVAILABLE
    return statuses[0] if statuses else "UNKNOWN"


def choose_domain(
    pool_name: str,
    shape: str,
    ocpus: int,
    memory_gb: int,
    domains: Sequence[str],
    reports: Sequence[Sequence[Any] | None],
    report_urns: Sequence[str],
    untried: Sequence[int] = (),
) -> str:
    """The first domain whose report says AVAILABLE; otherwise NoCapacityError with what to try."""
    statuses = [domain_status(report, shape) for report in reports]
    for domain, status in zip(domains, statuses, strict=True):
        if status == AVAILABLE:
            return domain
    seen = ", ".join(f"{domain}: {status}" for domain, status in zip(domains, statuses, strict=True))
    replace = " ".join(f"--replace '{urn}'" for urn in report_urns)
    other_domains = (
        f"add the region's other domains ({', '.join(str(n) for n in untried)}) to availabilityDomains; "
        if untried
        else ""
    )
    raise NoCapacityError(
        f"pool '{pool_name}': no availability domain has capacity for {shape} with {ocpus} OCPU / "
        f"{memory_gb} GB ({seen}). Try: {other_domains}ask for fewer ocpus/memoryGb (small A1 shapes fit "
        f"more often); ask again later — the answers are kept in state, so re-check with "
        f"`pulumi up {replace}`; or deploy the stack to another region (oci:region), A1 capacity differs "
        "by region."
    )


class CapacityChoice:
    """Declares the reports for one pool and exposes `.domain`, the chosen availability domain."""

    domain: pulumi.Output[str]
    reports: list[oci.core.ComputeCapacityReport]

    def __init__(
        self,
        name: str,
        *,
        pool_name: str,
        compartment_id: str,
        shape: str,
        ocpus: int,
        memory_gb: int,
        domain_names: Sequence[str],
        numbers: Sequence[int],
        opts: pulumi.ResourceOptions,
    ) -> None:
        candidates = candidate_domains(domain_names, numbers)
        if not candidates:
            raise NoCapacityError(
                f"pool '{pool_name}': availabilityDomains {list(numbers)} names no domain of this region, "
                f"which has {len(domain_names)} ({', '.join(domain_names)}); use numbers 1-{len(domain_names)}"
            )
        self.reports = [
            oci.core.ComputeCapacityReport(
                f"{name}-capacity-ad{number}",
                availability_domain=domain,
                compartment_id=compartment_id,
                shape_availabilities=[
                    {
                        "instance_shape": shape,
                        "instance_shape_config": {"ocpus": float(ocpus), "memory_in_gbs": float(memory_gb)},
                    }
                ],
                opts=opts,
            )
            for number, domain in candidates
        ]
        domains = [domain for _, domain in candidates]
        tried = {number for number, _ in candidates}
        untried = [number for number in range(1, len(domain_names) + 1) if number not in tried]
        answers = pulumi.Output.all(*[report.shape_availabilities for report in self.reports])
        urns = pulumi.Output.all(*[report.urn for report in self.reports])
        self.domain = pulumi.Output.all(answers, urns).apply(
            lambda both: choose_domain(pool_name, shape, ocpus, memory_gb, domains, both[0], both[1], untried)
        )
