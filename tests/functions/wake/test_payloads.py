"""GitHub's documented workflow_job examples (payloads/SOURCES.md) read as the handler reads them."""

from __future__ import annotations

import pytest

from functions.wake.jobs import PayloadError, parse_job, pools_for
from functions.wake.settings import PoolSpec
from tests.functions.wake.world import LABELS, documented_payload


@pytest.mark.parametrize("action", ["queued", "in_progress", "completed"])
def test_documented_examples_parse(action: str) -> None:
    job = parse_job(documented_payload(action))
    assert job.action == action
    assert job.job_id == 289782451 and job.run_id == 2202229078
    assert job.labels == ("ubuntu-latest",)
    assert job.repository == "Codertocat/Hello-World"


def test_a_hosted_runner_job_matches_no_self_hosted_pool(settings_for) -> None:
    settings = settings_for(PoolSpec("graviton", LABELS, 1))
    assert pools_for(parse_job(documented_payload("queued")), settings) == []


def test_labels_match_case_insensitively_and_all_must_be_present(settings_for) -> None:
    graviton = PoolSpec("graviton", (*LABELS, "gpu"), 1)
    qemu = PoolSpec("qemu", (*LABELS, "emulated"), 1)
    settings = settings_for(graviton, qemu)

    def pools(labels: list[str]) -> list[str]:
        payload = documented_payload("queued")
        payload["workflow_job"]["labels"] = labels
        return [p.name for p in pools_for(parse_job(payload), settings)]

    assert pools(["self-hosted", "linux", "arm64"]) == ["graviton", "qemu"]
    assert pools(["SELF-HOSTED", "Emulated"]) == ["qemu"]
    assert pools(["self-hosted", "ARM64", "gpu", "emulated"]) == []
    assert pools([]) == []  # an unlabeled job is never ours


@pytest.mark.parametrize(
    "payload",
    [[], {"action": "queued"}, {"workflow_job": {"labels": "self-hosted"}}, {"workflow_job": {"labels": [1]}}],
)
def test_malformed_payloads_are_refused(payload) -> None:
    with pytest.raises(PayloadError):
        parse_job(payload)
