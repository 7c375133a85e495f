"""PinnedValue: the value seen at create, never moved by a new candidate (only by --replace)."""

from __future__ import annotations

import pulumi

from components.pinned import PinnedValue, PinnedValueProvider
from tests.fakes.mock_run import run_under_mocks


def test_create_pins_the_candidate() -> None:
    result = PinnedValueProvider().create({"candidate": "ami-0aaa", "__provider": "blob"})
    assert result.outs == {"candidate": "ami-0aaa", "value": "ami-0aaa"}


def test_create_id_is_stable_for_a_candidate() -> None:
    provider = PinnedValueProvider()
    assert provider.create({"candidate": "ami-0aaa"}).id == provider.create({"candidate": "ami-0aaa"}).id
    assert provider.create({"candidate": "ami-0aaa"}).id != provider.create({"candidate": "ami-0bbb"}).id


def test_a_new_candidate_is_no_change() -> None:
    olds = PinnedValueProvider().create({"candidate": "ami-0aaa"}).outs
    diff = PinnedValueProvider().diff("id", olds, {"candidate": "ami-0bbb"})
    assert diff.changes is False
    assert diff.replaces == []


def test_refresh_keeps_the_pinned_value() -> None:
    olds = PinnedValueProvider().create({"candidate": "ami-0aaa"}).outs
    result = PinnedValueProvider().read("pin-id", dict(olds))
    assert result.id == "pin-id" and result.outs["value"] == "ami-0aaa"


def test_value_output_is_the_candidate_under_the_mock_engine() -> None:
    def build():
        pin = PinnedValue("dev-a-image", pulumi.Output.from_input("ami-0aaa"))
        return {"value": pin.value}

    run = run_under_mocks(build)
    assert run.values["value"] == "ami-0aaa"
    (args,) = run.resources
    assert args.typ == "pulumi-python:dynamic:Resource" and args.inputs["candidate"] == "ami-0aaa"
