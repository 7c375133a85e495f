"""The cost estimate: list prices from data/pricing.yaml, unknown never guessed, idle-action savings."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from components import pricing
from components.config.load import load_stack_file
from components.config.model import (
    AwsPool,
    AwsSettings,
    EmulatedPool,
    GithubTarget,
    OciPool,
    OciSettings,
    RunnerSettings,
    StackConfig,
)

ROOT = Path(__file__).resolve().parents[2]
HOURS = 730


def stack(*pools, idle_action="stop", utilisation=0.25, region="us-east-1", oci=None) -> StackConfig:
    return StackConfig(
        project="arm64-runners",
        stack="dev",
        stack_file="stacks/Pulumi.dev.yaml",
        github=GithubTarget(owner="o", repository="r"),
        runner=RunnerSettings(version="2.331.0", sha256="0" * 64, idle_action=idle_action),
        pools=tuple(pools),
        aws=AwsSettings(region=region),
        oci=oci,
        utilisation=utilisation,
    )


def only(cost: pricing.StackCost) -> pricing.PoolCost:
    (pool,) = cost.pools
    return pool


def test_on_demand_pool_with_idle_stop() -> None:
    cost = pricing.estimate(stack(AwsPool(name="g", instance_type="t4g.medium", disk_gb=50)))
    pool = only(cost)
    assert pool.on_demand_monthly == round(0.0336 * HOURS, 2) == 24.53
    assert pool.storage_monthly == 50 * 0.08 == 4.0
    assert pool.always_on_monthly == 28.53
    # Running a quarter of the month; the stopped host still pays for its disk.
    assert pool.expected_monthly == round(0.0336 * HOURS * 0.25 + 4.0, 2) == 10.13
    assert pool.idle_savings_monthly == 18.40
    assert cost.expected_monthly == 10.13 and cost.always_on_monthly == 28.53


def test_terminate_also_saves_the_disk_and_none_saves_nothing() -> None:
    pool = AwsPool(name="g", instance_type="t4g.medium", disk_gb=50)
    terminated = only(pricing.estimate(stack(pool, idle_action="terminate")))
    assert terminated.expected_monthly == round((0.0336 + 0.08 * 50 / HOURS) * HOURS * 0.25, 2) == 7.13
    never = only(pricing.estimate(stack(pool, idle_action="none")))
    assert never.expected_monthly == never.always_on_monthly == 28.53
    assert never.idle_savings_monthly == 0


def test_utilisation_scales_the_idle_figure() -> None:
    pool = AwsPool(name="g", instance_type="c7g.2xlarge", count=2, disk_gb=100)
    busy = only(pricing.estimate(stack(pool, utilisation=0.5)))
    assert busy.expected_monthly == round(0.29 * 2 * HOURS * 0.5 + 16.0, 2)


def test_spot_price_unknown_is_never_guessed() -> None:
    cost = pricing.estimate(
        stack(
            AwsPool(name="g", instance_type="t4g.medium"),
            EmulatedPool(name="q", instance_type="c7a.large", spot=True),
        )
    )
    graviton, qemu = cost.pools
    assert qemu.on_demand_monthly == round(0.1026 * HOURS, 2)
    assert qemu.spot_monthly is None and qemu.expected_monthly is None and qemu.always_on_monthly is None
    assert "spot price unknown" in qemu.note
    assert cost.expected_monthly is None
    assert cost.priced_expected_monthly == graviton.expected_monthly
    text = pricing.render_markdown(cost)
    assert "unknown (at least $10.13 from the priced pools)" in text


def test_spot_price_used_when_the_table_has_one() -> None:
    table = pricing.load_prices()
    prices = dict(table.aws["us-east-1"])
    prices["c7a.large"] = pricing.InstancePrice(on_demand=0.1026, spot=0.04)
    table = replace(table, aws={"us-east-1": prices})
    pool = only(pricing.estimate(stack(EmulatedPool(name="q", instance_type="c7a.large", spot=True)), table))
    assert pool.spot_monthly == round(0.04 * HOURS, 2)
    assert pool.expected_monthly == round(0.04 * HOURS * 0.25 + 4.0, 2)


@pytest.mark.parametrize(("kind", "region"), [("m8g.large", "us-east-1"), ("t4g.medium", "eu-west-1")])
def test_unknown_type_or_region(kind: str, region: str) -> None:
    cost = pricing.estimate(stack(AwsPool(name="g", instance_type=kind), region=region))
    pool = only(cost)
    assert pool.on_demand_monthly is None and pool.expected_monthly is None
    assert f"no list price for {kind} in {region}" == pool.note
    assert "| unknown |" in pricing.render_markdown(cost)


def oci(**settings) -> OciSettings:
    return OciSettings(compartment_id="ocid1.compartment.oc1..x", **settings)


def test_oci_inside_always_free_is_zero() -> None:
    cost = pricing.estimate(stack(OciPool(name="a", count=2, ocpus=2, memory_gb=12, disk_gb=100), oci=oci()))
    pool = only(cost)
    assert pool.expected_monthly == pool.always_on_monthly == 0.0
    assert cost.expected_monthly == 0.0
    assert "| n/a |" in pricing.render_markdown(cost)


@pytest.mark.parametrize(
    ("pool", "settings"),
    [
        (OciPool(name="a", count=2, ocpus=4, memory_gb=24), {}),  # 8 OCPU > 4
        (OciPool(name="a", count=1, ocpus=2, memory_gb=12, disk_gb=250), {}),  # 250 GB > 200
        (OciPool(name="a", count=1, ocpus=2, memory_gb=12), {"free_tier": False}),
    ],
)
def test_oci_outside_always_free_is_unknown(pool: OciPool, settings: dict) -> None:
    cost = pricing.estimate(stack(pool, oci=oci(**settings)))
    assert only(cost).expected_monthly is None
    assert "outside OCI Always Free" in only(cost).note


def test_json_shape() -> None:
    cost = pricing.estimate(stack(EmulatedPool(name="q", instance_type="c7a.large", spot=True)))
    data = json.loads(json.dumps(pricing.to_dict(cost)))
    assert data["pools"][0]["spot_monthly"] == "unknown"
    assert data["pools"][0]["on_demand_monthly"] == 74.9
    assert data["total"]["expected_monthly"] == "unknown"
    assert data["price_date"] == "2026-11-27"


def test_price_table_is_dated_sourced_and_covers_the_examples() -> None:
    raw = yaml.safe_load((ROOT / "data" / "pricing.yaml").read_text())
    assert raw["date"] and raw["sources"]
    table = pricing.load_prices()
    for price in table.aws["us-east-1"].values():
        assert price.on_demand is not None and price.on_demand > 0
        assert price.spot is None or price.spot > 0
    for required in ("t4g.medium", "t4g.large", "m7g.large", "c7g.xlarge", "c7a.large", "t3.large"):
        assert required in table.aws["us-east-1"]
    for stack_file in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        cost = pricing.estimate(load_stack_file(stack_file))
        for pool in cost.pools:
            assert pool.on_demand_monthly is not None, f"{stack_file.name}: {pool.pool} has no list price"
