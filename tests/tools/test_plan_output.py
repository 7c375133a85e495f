"""The offline plan's output is a reviewable artifact: byte-identical from run to run in every format,
numbers as the user wrote them, every firewall rule on its own line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from components.config.model import DEFAULT_EGRESS
from tools import plan

ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name[7:-5] for p in plan.STACKS_DIR.glob("Pulumi.*.yaml"))
FORMATS = ("text", "json", "markdown")

#: One process = one run: plans every example stack and prints each format exactly as `main` does.
RUN = """
import contextlib, io, json, sys
from tools import plan
out = {}
for stack in sys.argv[1:]:
    for fmt in ("text", "json", "markdown"):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert plan.main(["--stack", stack, "--format", fmt]) == 0
        out[f"{stack} {fmt}"] = buffer.getvalue()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def three_runs() -> list[dict[str, str]]:
    """Three separate processes with different hash seeds (set and dict orders differ between them)."""
    runs = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", RUN, *STACKS], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        runs.append(json.loads(done.stdout))
    return runs


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stack", STACKS)
def test_three_runs_print_the_same_bytes(three_runs, stack: str, fmt: str) -> None:
    first, second, third = (run[f"{stack} {fmt}"] for run in three_runs)
    assert first == second == third


def test_resources_are_ordered_by_parent_type_and_name(three_runs) -> None:
    for stack in STACKS:
        resources = json.loads(three_runs[0][f"{stack} json"])["resources"]
        keys = [(r["parent"] or "", r["type"], r["name"]) for r in resources]
        assert keys == sorted(keys)


def test_numbers_print_as_integers(three_runs) -> None:
    doc = json.loads(three_runs[0]["mixed json"])
    rules = next(r for r in doc["resources"] if r["type"] == "aws:ec2/securityGroup:SecurityGroup")["inputs"]["egress"]
    assert [rule["fromPort"] for rule in rules] == [rule.port for rule in DEFAULT_EGRESS]
    assert all(type(rule["fromPort"]) is int for rule in rules)
    group = next(r for r in doc["resources"] if r["type"].endswith("actionsRunnerGroup:ActionsRunnerGroup"))
    assert all(type(i) is int for i in group["inputs"]["selectedRepositoryIds"])
    for stack in STACKS:
        for fmt in FORMATS:
            text = three_runs[0][f"{stack} {fmt}"]
            # A whole number printed with a decimal point (443.0) anywhere but in money ($4.00).
            assert not re.search(r"(?<![$\d.])\d+\.0(?![\d.])", text), (stack, fmt)
    assert plan.canonical({"b": [1.0, 0.25, True], "a": {"y": 2.0, "x": "3.0"}}) == {
        "a": {"x": "3.0", "y": 2},
        "b": [1, 0.25, True],
    }


@pytest.mark.parametrize("stack", ["aws-graviton", "oci-free", "mixed"])
def test_text_plan_shows_every_egress_rule_on_one_line(three_runs, stack: str) -> None:
    text = three_runs[0][f"{stack} text"]
    doc = json.loads(three_runs[0][f"{stack} json"])
    for res in doc["resources"]:
        for key, value in res["inputs"].items():
            if "gress" not in key.lower() or not isinstance(value, list):
                continue
            block = text[text.index(f"{res['type']}  {res['name']}\n") :]
            if not value:
                assert f"{key}: none" in block.split("\n +")[0]
            for i, rule in enumerate(value):
                line = next(ln for ln in block.splitlines() if ln.strip().startswith(f"{key}[{i}]: "))
                assert "..." not in line
                for field in ("description", "destination", "cidrBlocks", "fromPort", "protocol"):
                    if field in rule:
                        assert f"{field}=" in line, (line, field)
    assert re.search(r"egress(SecurityRules)?\[4\]: .*NTP", text)  # the fifth rule: past any property cap


def test_esc_stand_in_is_a_note_not_a_warning(three_runs) -> None:
    doc = json.loads(three_runs[0]["mixed json"])
    assert (
        doc["notes"][0] == "github:token is expected from ESC environment arm64-runners/github (not resolved offline)"
    )
    assert [n for n in doc["notes"][1:] if "Oracle reclaims" not in n] == []  # the free tier's advisory
    assert not any("ESC" in w for w in doc["warnings"])
