"""The harness itself on a real boot, without the bootstrap: the guest reaches the harness
server at 10.0.2.100 and nothing else, and the probe records cloud-init's state."""

from __future__ import annotations

from pathlib import Path

import pytest

from .scenarios import Context, Scenario, ScenarioResult

SELFTEST_USER_DATA = Path(__file__).with_name("selftest-user-data.yaml")


def selftest_user_data(context: Context) -> str:
    return SELFTEST_USER_DATA.read_text()


SELFTEST = Scenario("harness-selftest", selftest_user_data, tarball="none", expected_seconds=100)
pytestmark = pytest.mark.e2e


@pytest.mark.scenario(SELFTEST)
def test_guest_reaches_only_the_harness_server(scenario_result: ScenarioResult) -> None:
    boot = scenario_result.boots[0]
    assert boot.returncode == 0, f"qemu exited {boot.returncode}; see {scenario_result.workdir}"
    assert "e2e-selftest: DONE" in boot.serial
    results = dict(
        line.split("=", 1) for line in (scenario_result.guest_text("/var/lib/e2e-selftest/net.txt") or "").splitlines()
    )
    assert results.pop("harness") == "0"
    assert set(results) == {"gateway", "dns-server", "internet", "internet-name"}
    assert all(rc != "0" for rc in results.values()), results
    assert [r.path for r in scenario_result.requests] == ["/ping"]


@pytest.mark.scenario(SELFTEST)
def test_probe_records_cloud_init_and_journal(scenario_result: ScenarioResult) -> None:
    status = scenario_result.snapshot(1, "after-cloud-init", "cloud-init-status.txt") or ""
    assert "status: done" in status, status
    assert scenario_result.snapshot(1, "after-cloud-init", "cloud-init-status.rc") == "0\n"
    assert scenario_result.snapshot(1, "final", "epoch"), "no final snapshot: the shutdown hook did not run"
    journal = scenario_result.journal(1) or ""
    assert "Finished cloud-final.service" in journal and "Ordering cycle" not in journal
