"""The regression table (hostile.py) through `tools.plan`, as `make plan` runs it: exit 2, the file and
the key path named, no traceback, nothing registered."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from components.config import ConfigError, read_stack_file
from tools import plan

from .hostile import CASES, VALID, Case, dump

ROOT = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, data: bytes) -> Path:
    stack_file = tmp_path / "Pulumi.hostile.yaml"
    stack_file.write_bytes(data)
    return stack_file


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_plan_refuses_with_file_key_path_and_hint(case: Case, tmp_path: Path, capsys) -> None:
    stack_file = write(tmp_path, case.data)
    assert plan.main(["--stack-file", str(stack_file)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    named = [block for block in problems(err, stack_file) if re.search(f": {re.escape(case.path)}(: |\\[|…)", block)]
    assert named, f"no problem names {case.path}:\n{err}"
    assert any(case.word in block for block in named), f"{case.path} problems lack {case.word!r}:\n{err}"


def problems(err: str, stack_file: Path) -> list[str]:
    """Each reported problem with its hint line: blocks that start with the stack file's name."""
    blocks: list[str] = []
    for line in err.splitlines():
        if line.startswith(str(stack_file)):
            blocks.append(line)
        elif blocks and line.startswith("    hint: "):
            blocks[-1] += "\n" + line
    return blocks


def test_the_table_has_a_case_for_every_class() -> None:
    assert {c.cls for c in CASES} == {"loader", "trailing-newline", "bounds", "wrong", "messages"}
    assert len({c.id for c in CASES}) == len(CASES)


def test_the_valid_base_plans(tmp_path: Path, capsys) -> None:
    """Every case is one change away from a stack that plans: the refusal is the change's."""
    assert plan.main(["--stack-file", str(write(tmp_path, dump(VALID)))]) == 0, capsys.readouterr().err


def test_loader_problems_carry_the_line(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == "duplicate-nested-key")
    with pytest.raises(ConfigError) as raised:
        read_stack_file(write(tmp_path, case.data))
    (problem,) = raised.value.problems
    line = case.data.decode().splitlines().index("    count: 3") + 1
    assert problem.line == line
    assert problem.render("f.yaml").startswith(f"f.yaml:{line}: arm64-runners:pools[0].count: is given twice")


def test_empty_stack_file_names_every_required_section(tmp_path: Path, capsys) -> None:
    assert plan.main(["--stack-file", str(write(tmp_path, b""))]) == 2
    err = capsys.readouterr().err
    for key in ("github:owner", "github:token", "arm64-runners:github", "arm64-runners:runner", "arm64-runners:pools"):
        assert f": {key}: is required" in err, key
    assert "runner.version" not in err, "a missing runner section is reported once"


def test_repository_with_owner_gives_one_line(tmp_path: Path, capsys) -> None:
    case = next(c for c in CASES if c.id == "repository-with-owner")
    plan.main(["--stack-file", str(write(tmp_path, case.data))])
    err = capsys.readouterr().err
    assert err.count("arm64-runners:github.repository:") == 1, err


@pytest.mark.parametrize("case_id", ["not-utf8", "utf16", "deep-nesting", "alias-bomb", "int-over-4300-digits"])
def test_make_plan_in_a_fresh_interpreter_exits_2_without_traceback(case_id: str, tmp_path: Path) -> None:
    """Out of process, as `make plan` runs it (python -m tools.plan)."""
    case = next(c for c in CASES if c.id == case_id)
    stack_file = write(tmp_path, case.data)
    done = subprocess.run(
        [sys.executable, "-m", "tools.plan", "--stack-file", str(stack_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{stack_file}" in done.stderr and re.search(f": {re.escape(case.path)}(: |\\[|…)", done.stderr)
