"""e2e fixtures: the cached image and the scenario pool (two guests at once).

The e2e tests boot real arm64 guests (minutes each); they run only when asked for:
`pytest -m e2e tests/e2e` (what `make e2e` does) or ARM64_RUNNERS_E2E=1. Otherwise they are
skipped, so a plain `pytest` stays fast.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .image import BaseImage, ensure_image
from .scenarios import Scenario, ScenarioPool, ScenarioResult
from .stack import RUNNER_VERSION, tarball_builder


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: boots a real arm64 guest under QEMU (minutes; `make e2e`)")
    config.addinivalue_line("markers", "scenario(scenario): the e2e scenario whose boot the test asserts on")


def _e2e_requested(config: pytest.Config) -> bool:
    if os.environ.get("ARM64_RUNNERS_E2E") == "1":
        return True
    expression = str(config.getoption("markexpr") or "")
    return "e2e" in expression and "not e2e" not in expression


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _e2e_requested(config):
        skip = pytest.mark.skip(reason="boots arm64 guests: run with `pytest -m e2e` (make e2e)")
        for item in items:
            if item.get_closest_marker("e2e"):
                item.add_marker(skip)
        return
    selected: dict[str, Scenario] = {}
    for item in items:
        marker = item.get_closest_marker("scenario")
        if marker is not None:
            scenario: Scenario = marker.args[0]
            selected[scenario.name] = scenario
    config.stash[_SELECTED] = sorted(selected.values(), key=lambda s: -s.expected_seconds)


_SELECTED = pytest.StashKey[list[Scenario]]()


@pytest.fixture(scope="session")
def e2e_image() -> BaseImage:
    return ensure_image()


@pytest.fixture(scope="session")
def e2e_workdir() -> Path:
    """Kept after the run (disks, consoles, seeds) for a human to inspect; under /var/tmp."""
    root = Path(os.environ.get("E2E_WORKDIR") or tempfile.mkdtemp(prefix="arm64-runners-e2e-", dir="/var/tmp"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="session")
def scenario_pool(request: pytest.FixtureRequest, e2e_image: BaseImage, e2e_workdir: Path) -> Iterator[ScenarioPool]:
    pool = ScenarioPool(
        e2e_image,
        e2e_workdir,
        runner_version=RUNNER_VERSION,
        build_tarball=tarball_builder(),
        # Three guests on two cores: the idle scenarios spend most of their time waiting (idle limits, a
        # held job), so a third guest uses cores the first two leave free (measured: 2 guests 1481 s).
        workers=int(os.environ.get("E2E_PARALLEL", "3")),
    )
    # Start every selected scenario now, longest first, so the pool's guests are always booting.
    for scenario in request.config.stash.get(_SELECTED, []):
        pool.submit(scenario)
    yield pool
    pool.close()


@pytest.fixture
def scenario_result(request: pytest.FixtureRequest, scenario_pool: ScenarioPool) -> ScenarioResult:
    marker = request.node.get_closest_marker("scenario")
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses scenario_result without @pytest.mark.scenario")
    return scenario_pool.result(marker.args[0])
