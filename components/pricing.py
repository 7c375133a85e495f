"""Monthly cost estimate of a stack from the price table in data/pricing.yaml.

Figures are list prices times hours. A price the table lacks (a type, a region, every spot price today) makes
that figure `None`, rendered "unknown" — never an estimate from a similar type. The idle-action figure
assumes hosts run only while busy: `utilisation` of the month, as the stack file states it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config.limits import OCI_ALWAYS_FREE_A1
from components.config.model import AwsPool, EmulatedPool, OciPool, StackConfig

PRICE_FILE = Path(__file__).resolve().parent.parent / "data" / "pricing.yaml"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class InstancePrice:
    on_demand: float | None
    spot: float | None


@dataclass(frozen=True)
class PriceTable:
    date: str
    sources: tuple[str, ...]
    hours_per_month: float
    #: region -> instance type -> price
    aws: Mapping[str, Mapping[str, InstancePrice]]
    #: region -> $ per GB-month of gp3
    ebs_gb_month: Mapping[str, float]

    def instance(self, region: str | None, instance_type: str) -> InstancePrice | None:
        return self.aws.get(region or "", {}).get(instance_type)


def load_prices(path: Path = PRICE_FILE) -> PriceTable:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    aws: dict[str, dict[str, InstancePrice]] = {}
    ebs: dict[str, float] = {}
    for region, section in (data.get("aws") or {}).items():
        aws[region] = {
            kind: InstancePrice(price.get("on_demand"), price.get("spot"))
            for kind, price in (section.get("instances") or {}).items()
        }
        if section.get("ebs_gp3_gb_month") is not None:
            ebs[region] = float(section["ebs_gp3_gb_month"])
    return PriceTable(str(data["date"]), tuple(data.get("sources") or ()), float(data["hours_per_month"]), aws, ebs)


@dataclass(frozen=True)
class PoolCost:
    """Monthly USD for all `count` hosts of one pool; None = unknown."""

    pool: str
    cloud: str
    machine: str
    count: int
    spot: bool
    idle_action: str
    #: Every host running all month at on-demand / spot prices (compute only).
    on_demand_monthly: float | None
    spot_monthly: float | None
    #: Disks (paid whether the host runs or is stopped).
    storage_monthly: float | None
    #: Compute + storage with the pool's purchase option, hosts running all month.
    always_on_monthly: float | None
    #: The same with the idle action at the stack's utilisation.
    expected_monthly: float | None
    #: always_on - expected.
    idle_savings_monthly: float | None
    note: str = ""
    #: False where the cloud has no spot market in this project (OCI): shown as "n/a", not "unknown".
    spot_available: bool = True


@dataclass(frozen=True)
class StackCost:
    stack: str
    utilisation: float
    hours_per_month: float
    price_date: str
    sources: tuple[str, ...]
    pools: tuple[PoolCost, ...]

    def _total(self, field: str) -> float | None:
        values = [getattr(p, field) for p in self.pools]
        return None if any(v is None for v in values) else round(sum(values), 2)

    @property
    def always_on_monthly(self) -> float | None:
        return self._total("always_on_monthly")

    @property
    def expected_monthly(self) -> float | None:
        return self._total("expected_monthly")

    @property
    def idle_savings_monthly(self) -> float | None:
        return self._total("idle_savings_monthly")

    @property
    def priced_expected_monthly(self) -> float:
        """Sum over the pools whose expected cost is known: a floor when the total is unknown."""
        return round(sum(p.expected_monthly for p in self.pools if p.expected_monthly is not None), 2)


def _times(price: float | None, factor: float) -> float | None:
    return None if price is None else round(price * factor, 2)


def _plus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a + b, 2)


def _aws_pool(config: StackConfig, pool: AwsPool | EmulatedPool, table: PriceTable) -> PoolCost:
    kind = pool.instance_type
    spot = pool.spot
    region = config.aws.region
    price = table.instance(region, kind)
    hours = table.hours_per_month
    running = pool.count * hours
    busy = running * config.utilisation
    action = config.runner.idle_action
    on_demand = price.on_demand if price else None
    spot_price = price.spot if price else None
    compute_price = spot_price if spot else on_demand
    gb_month = table.ebs_gb_month.get(region or "")
    storage = _times(gb_month, pool.count * pool.disk_gb)
    # A stopped host keeps its disk; a terminated one does not (its disk exists only while it runs).
    if action == "stop":
        expected = _plus(_times(compute_price, busy), storage)
    elif action == "terminate":
        disk_hour = None if gb_month is None else gb_month * pool.disk_gb / hours
        expected = _times(None if compute_price is None or disk_hour is None else compute_price + disk_hour, busy)
    else:
        expected = _plus(_times(compute_price, running), storage)
    always_on = _plus(_times(compute_price, running), storage)
    notes = []
    if price is None:
        notes.append(f"no list price for {kind} in {region or 'an unset region'}")
    elif spot and spot_price is None:
        notes.append("spot price unknown (not confirmed in the price table)")
    return PoolCost(
        pool=pool.name,
        cloud=pool.cloud,
        machine=kind,
        count=pool.count,
        spot=spot,
        idle_action=action,
        on_demand_monthly=_times(on_demand, running),
        spot_monthly=_times(spot_price, running),
        storage_monthly=storage,
        always_on_monthly=always_on,
        expected_monthly=expected,
        idle_savings_monthly=None if always_on is None or expected is None else round(always_on - expected, 2),
        note="; ".join(notes),
    )


def _oci_pools(config: StackConfig) -> list[PoolCost]:
    pools = [p for p in config.pools if isinstance(p, OciPool)]
    limits = (config.oci.free_tier_limits if config.oci else None) or OCI_ALWAYS_FREE_A1
    ocpus = sum(p.ocpus * p.count for p in pools)
    memory = sum(p.memory_gb * p.count for p in pools)
    storage = sum(p.disk_gb * p.count for p in pools)
    free = (
        config.oci is not None
        and config.oci.free_tier
        and all(p.shape == "VM.Standard.A1.Flex" for p in pools)
        and ocpus <= limits.ocpus
        and memory <= limits.memory_gb
        and storage <= limits.block_storage_gb
    )
    cost = 0.0 if free else None
    note = "inside OCI Always Free" if free else "outside OCI Always Free: paid A1 rates are not in the price table"
    return [
        PoolCost(
            pool=p.name,
            cloud=p.cloud,
            machine=f"{p.shape} {p.ocpus} OCPU / {p.memory_gb} GB",
            count=p.count,
            spot=False,
            idle_action=config.runner.idle_action,
            on_demand_monthly=cost,
            spot_monthly=None,
            storage_monthly=cost,
            always_on_monthly=cost,
            expected_monthly=cost,
            idle_savings_monthly=cost,
            note=note,
            spot_available=False,
        )
        for p in pools
    ]


def _ec2_pools(config: StackConfig, table: PriceTable) -> list[PoolCost]:
    return [_aws_pool(config, p, table) for p in config.pools if isinstance(p, (AwsPool, EmulatedPool))]


#: Per cloud: every pool of that cloud in the stack -> its costs. OCI pools are priced together because
#: the Always Free allowance is shared by the whole tenancy.
_PRICERS: dict[str, Callable[[StackConfig, PriceTable], list[PoolCost]]] = {
    "aws": _ec2_pools,
    "emulated": _ec2_pools,
    "oci": lambda config, table: _oci_pools(config),
}


def estimate(config: StackConfig, table: PriceTable | None = None) -> StackCost:
    """Per-pool and per-stack monthly cost of `config` (pools in stack-file order)."""
    table = table or load_prices()
    priced: dict[str, PoolCost] = {}
    for cloud in {p.cloud for p in config.pools}:
        priced.update((c.pool, c) for c in _PRICERS[cloud](config, table))
    pools = tuple(priced[p.name] for p in config.pools)
    return StackCost(config.stack, config.utilisation, table.hours_per_month, table.date, table.sources, pools)


def money(value: float | None) -> str:
    return UNKNOWN if value is None else f"${value:,.2f}"


def to_dict(cost: StackCost) -> dict[str, Any]:
    """JSON-ready shape for `make plan FORMAT=json`: numbers, or the string "unknown"."""

    def figure(value: float | None) -> float | str:
        return UNKNOWN if value is None else value

    return {
        "stack": cost.stack,
        "utilisation": cost.utilisation,
        "hours_per_month": cost.hours_per_month,
        "price_date": cost.price_date,
        "sources": list(cost.sources),
        "pools": [
            {
                "pool": p.pool,
                "cloud": p.cloud,
                "machine": p.machine,
                "count": p.count,
                "spot": p.spot,
                "idle_action": p.idle_action,
                "on_demand_monthly": figure(p.on_demand_monthly),
                "spot_monthly": figure(p.spot_monthly),
                "storage_monthly": figure(p.storage_monthly),
                "always_on_monthly": figure(p.always_on_monthly),
                "expected_monthly": figure(p.expected_monthly),
                "idle_savings_monthly": figure(p.idle_savings_monthly),
                "spot_available": p.spot_available,
                "note": p.note,
            }
            for p in cost.pools
        ],
        "total": {
            "always_on_monthly": figure(cost.always_on_monthly),
            "expected_monthly": figure(cost.expected_monthly),
            "idle_savings_monthly": figure(cost.idle_savings_monthly),
            "priced_expected_monthly": cost.priced_expected_monthly,
        },
    }


def render_markdown(cost: StackCost) -> str:
    """The cost section of the plan and of the PR comment."""
    share = f"{cost.utilisation:.0%}"
    lines = [
        f"### Estimated monthly cost — stack `{cost.stack}`",
        "",
        f"| Pool | Machine | Count | On-demand | Spot | Disks | Always on | With idle action at {share} busy | Saved |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in cost.pools:
        option = " (spot)" if p.spot else ""
        spot = money(p.spot_monthly) if p.spot_available else "n/a"
        lines.append(
            f"| {p.pool} ({p.cloud}) | {p.machine}{option} | {p.count} | {money(p.on_demand_monthly)} | "
            f"{spot} | {money(p.storage_monthly)} | {money(p.always_on_monthly)} | "
            f"{money(p.expected_monthly)} ({p.idle_action}) | {money(p.idle_savings_monthly)} |"
        )
    expected = money(cost.expected_monthly)
    if cost.expected_monthly is None:
        expected += f" (at least {money(cost.priced_expected_monthly)} from the priced pools)"
    lines.append(
        f"| **Stack** | | | | | | **{money(cost.always_on_monthly)}** | **{expected}** | "
        f"**{money(cost.idle_savings_monthly)}** |"
    )
    notes = [f"- {p.pool}: {p.note}" for p in cost.pools if p.note]
    lines += ["", *notes] if notes else []
    lines += [
        "",
        f"List prices of {cost.price_date} ({', '.join(cost.sources)}), {cost.hours_per_month:g} h/month; "
        "excludes data transfer, public IPv4, NAT and snapshots. Unknown figures are never estimated.",
    ]
    return "\n".join(lines) + "\n"
