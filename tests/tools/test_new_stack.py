"""`make new-stack`: the file it writes plans clean through the real offline plan, for every cloud and
both kinds of target; it refuses to overwrite, and bad inputs are refused by the configuration model."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tools import new_stack, plan

ROOT = Path(__file__).resolve().parents[2]
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaa4n3qbfy5wr7kvtlhqkz4w2wyrxn6lyjsbbxtnhdgsq3pgcmbfkqa"
TENANCY = "ocid1.tenancy.oc1..aaaaaaaa7mockmockmockmockmockmockmockmockmockmockmockmockm"
#: Oracle's Always Free idle-reclaim advisory (components/oci/pool.py) is the one note a free-tier OCI
#: pool always gets: a fact about the account type, not about the stack file.
ALWAYS_FREE_ADVISORY = re.compile(r"^pool 'ampere': Oracle reclaims \(stops\) Always Free instances")
NO_ENV: dict[str, str] = {"HOME": "/nonexistent"}


def make_stack(stacks_dir: Path, *args: str, env: dict[str, str] | None = None) -> int:
    return new_stack.main(["--stacks-dir", str(stacks_dir), *args], NO_ENV if env is None else env)


@pytest.mark.parametrize("target", [("--repo", "widgets"), ("--organization",)], ids=["repository", "organization"])
@pytest.mark.parametrize("cloud", new_stack.CLOUDS)
def test_new_stack_plans_clean(tmp_path: Path, cloud: str, target: tuple[str, ...], capsys) -> None:
    args = ["--name", f"my-{cloud}", "--owner", "acme", *target, "--cloud", cloud, "--compartment", COMPARTMENT]
    assert make_stack(tmp_path, *args) == 0
    path = tmp_path / f"Pulumi.my-{cloud}.yaml"
    assert f"next: make plan STACK=my-{cloud}" in capsys.readouterr().out
    result, notes = plan.plan_with_notes(path)
    assert result.error is None, result.error
    assert result.warnings == []
    assert [n for n in notes if not ALWAYS_FREE_ADVISORY.match(n)] == [
        "github:token is expected from ESC environment arm64-runners/github (not resolved offline)"
    ]
    config = result.config
    assert config is not None
    wanted = {"aws": {"aws"}, "oci": {"oci"}, "emulated": {"emulated"}, "mixed": {"aws", "oci", "emulated"}}[cloud]
    assert {p.cloud for p in config.pools} == wanted
    assert config.github.organization == (target == ("--organization",))
    assert config.github.owner == "acme"
    runners = [r["name"] for r in result.outputs["runners"]]
    assert runners == [f"arm64-my-{cloud}-{p.name}-0" for p in config.pools]
    # The file explains itself: every section has a comment, and nothing is a placeholder.
    text = path.read_text()
    assert text.startswith(f"# Stack my-{cloud}: ARM64 self-hosted runners for")
    assert not re.search(r"<[a-z -]+>|TODO|changeme|example\.com", text.split("config:", 1)[1])


def test_existing_stack_is_never_overwritten(tmp_path: Path, capsys) -> None:
    args = ["--name", "dev", "--owner", "acme", "--repo", "widgets", "--cloud", "aws"]
    assert make_stack(tmp_path, *args) == 0
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(path.read_text() + "# my own edit\n")
    before = path.read_bytes()
    capsys.readouterr()
    assert make_stack(tmp_path, *args[:-1], "oci", "--compartment", COMPARTMENT) == 2
    assert path.read_bytes() == before
    assert f"{path} already exists" in capsys.readouterr().err


def test_an_existing_name_is_refused_before_anything_else_is_judged(tmp_path: Path, capsys) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text("# someone's stack\n")
    assert make_stack(tmp_path, "--name", "dev", "--owner", "not valid", "--repo", "w", "--cloud", "aws") == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "github:owner" not in err


def test_a_file_created_while_checking_is_not_overwritten(tmp_path: Path, monkeypatch, capsys) -> None:
    target = tmp_path / "Pulumi.dev.yaml"
    real_check = new_stack.check

    def slow_check(text: str, path: Path, token_pending: bool):
        config = real_check(text, path, token_pending)
        target.write_text("# written by someone else meanwhile\n")
        return config

    monkeypatch.setattr(new_stack, "check", slow_check)
    assert make_stack(tmp_path, "--name", "dev", "--owner", "acme", "--repo", "w", "--cloud", "aws") == 2
    assert target.read_text() == "# written by someone else meanwhile\n"
    assert "already exists" in capsys.readouterr().err


def test_the_example_stacks_cannot_be_overwritten(capsys) -> None:
    before = (plan.STACKS_DIR / "Pulumi.mixed.yaml").read_bytes()
    assert new_stack.main(["--name", "mixed", "--owner", "a", "--repo", "b", "--cloud", "aws"], NO_ENV) == 2
    assert (plan.STACKS_DIR / "Pulumi.mixed.yaml").read_bytes() == before


def test_without_esc_the_token_is_the_one_thing_left_to_set(tmp_path: Path, capsys) -> None:
    args = ["--name", "diy", "--owner", "acme", "--repo", "widgets", "--cloud", "aws", "--esc-environment", "none"]
    assert make_stack(tmp_path, *args) == 0
    assert "pulumi config set --secret github:token" in capsys.readouterr().out
    path = tmp_path / "Pulumi.diy.yaml"
    assert "environment:" not in yaml.safe_load(path.read_text())
    result, _ = plan.plan_with_notes(path)
    assert result.error is not None and [p.path for p in result.error.problems] == ["github:token"]
    # What `pulumi config set --secret github:token …` adds with a passphrase secrets provider:
    text = path.read_text().replace("config:\n", "config:\n  github:token:\n    secure: v1:c2FsdA==:Y2lwaGVy\n", 1)
    path.write_text("encryptionsalt: v1:c2FsdA==:v1:AAAA:BBBB\n" + text)
    result, notes = plan.plan_with_notes(path)
    assert result.error is None and result.warnings == [] and notes == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--owner", "acme", "--repo", "w", "--cloud", "aws"], "missing NAME"),
        (["--name", "a", "--owner", "acme", "--cloud", "aws"], "REPO=<repository> for repository runners"),
        (["--name", "a", "--owner", "acme", "--repo", "w", "--organization", "--cloud", "aws"], "not both"),
        (["--name", "a", "--owner", "acme", "--repo", "w", "--cloud", "gcp"], "CLOUD='gcp' is not one of"),
        (["--name", "a/../../x", "--owner", "acme", "--repo", "w", "--cloud", "aws"], "a stack name is"),
        (["--name", "a", "--owner", "acme", "--repo", "w", "--cloud", "oci"], "needs COMPARTMENT="),
        (["--name", "a" * 60, "--owner", "acme", "--repo", "w", "--cloud", "aws"], "GitHub would refuse"),
        # The configuration model's own messages, with the key path.
        (["--name", "a", "--owner", "ac me", "--repo", "w", "--cloud", "aws"], "github:owner"),
        (["--name", "a", "--owner", "acme", "--repo", "w!", "--cloud", "aws"], "arm64-runners:github.repository"),
        (["--name", "a", "--owner", "acme", "--repo", "w", "--cloud", "oci", "--compartment", "x"], "compartmentId"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(tmp_path: Path, args: list[str], message: str, capsys) -> None:
    code = make_stack(tmp_path, *args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_names_that_look_like_other_yaml_types_stay_strings(tmp_path: Path) -> None:
    assert make_stack(tmp_path, "--name", "true", "--owner", "123", "--repo", "null", "--cloud", "aws") == 0
    config = plan.plan(tmp_path / "Pulumi.true.yaml").config
    assert config is not None and (config.github.owner, config.github.repository) == ("123", "null")


def test_oci_compartment_and_region_default_to_the_oci_cli_config(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".oci").mkdir(parents=True)
    (home / ".oci" / "config").write_text(
        f"[DEFAULT]\nuser=ocid1.user.oc1..x\ntenancy={TENANCY}\nregion=eu-frankfurt-1\n"
    )
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    env = {"HOME": str(home)}
    assert make_stack(stacks, "--name", "free", "--owner", "a", "--repo", "b", "--cloud", "oci", env=env) == 0
    config = yaml.safe_load((stacks / "Pulumi.free.yaml").read_text())["config"]
    assert config["arm64-runners:oci"]["compartmentId"] == TENANCY
    assert config["oci:region"] == "eu-frankfurt-1"
    assert "aws:region" not in config


def test_aws_region_comes_from_the_environment_then_the_default(tmp_path: Path) -> None:
    env = {"HOME": "/nonexistent", "AWS_REGION": "eu-west-1"}
    assert make_stack(tmp_path, "--name", "a", "--owner", "o", "--repo", "r", "--cloud", "aws", env=env) == 0
    assert make_stack(tmp_path, "--name", "b", "--owner", "o", "--repo", "r", "--cloud", "aws") == 0
    regions = [yaml.safe_load((tmp_path / f"Pulumi.{n}.yaml").read_text())["config"]["aws:region"] for n in "ab"]
    assert regions == ["eu-west-1", new_stack.DEFAULT_AWS_REGION]


@pytest.mark.parametrize(("org", "flag"), [("1", True), ("0", False), ("", False)])
def test_make_target_passes_its_variables(org: str, flag: bool) -> None:
    done = subprocess.run(
        ["make", "-n", "new-stack", "NAME=dev", "OWNER=acme", "CLOUD=aws", f"ORG={org}", "REGION=eu-west-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    command = done.stdout.replace("\\\n", " ")
    assert '--name "dev" --owner "acme" --cloud "aws"' in command and '--region "eu-west-1"' in command
    assert ("--organization" in command) == flag
