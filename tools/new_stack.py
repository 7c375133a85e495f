"""`make new-stack`: write a commented stack file for your own repository or organization.

    python -m tools.new_stack --name dev --owner me --repo app --cloud aws [--region eu-west-1]
    python -m tools.new_stack --name ci --owner my-org --organization --cloud oci [--compartment ocid1...]

The file is checked with the project's configuration model (components.config) before it is written,
so what lands in stacks/ is a stack `make plan` accepts; an existing stack file is never overwritten.
Exit status: 0 written, 2 refused (the message says why and what to pass instead).

The GitHub credential never goes into the file from here: by default the stack imports the Pulumi ESC
environment `arm64-runners/github` (needs Pulumi Cloud); `--esc-environment none` leaves it out, for
`pulumi config set --secret github:token` with a self-managed backend.
"""

from __future__ import annotations

import argparse
import configparser
import dataclasses
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from components.config import ConfigError, StackConfig, read_stack_file, validate
from components.config.limits import OCI_ALWAYS_FREE_A1, RUNNER_NAME_PATTERN
from components.runner_releases import DEFAULT_VERSION

STACKS_DIR = Path(__file__).resolve().parent.parent / "stacks"
CLOUDS = ("aws", "oci", "emulated", "mixed")
DEFAULT_ESC_ENVIRONMENT = "arm64-runners/github"
#: Used when neither --region nor AWS_REGION / AWS_DEFAULT_REGION says otherwise.
DEFAULT_AWS_REGION = "us-east-1"
#: Pulumi stack names: letters, digits, '-', '_', '.' (pulumi stack init refuses anything else).
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}", re.ASCII)


class Refused(Exception):
    """The stack file cannot be written as asked; the message says what to change."""


@dataclasses.dataclass(frozen=True)
class Request:
    name: str
    owner: str
    cloud: str
    repo: str | None = None
    organization: bool = False
    aws_region: str | None = None
    compartment_id: str | None = None
    oci_region: str | None = None
    esc_environment: str | None = DEFAULT_ESC_ENVIRONMENT

    @property
    def aws(self) -> bool:
        return self.cloud in ("aws", "emulated", "mixed")

    @property
    def oci(self) -> bool:
        return self.cloud in ("oci", "mixed")


def q(value: str) -> str:
    """A YAML scalar that stays a string whatever it looks like (`true`, `123`, `null`)."""
    return json.dumps(value)


def _header(req: Request) -> list[str]:
    target = f"organization {req.owner}" if req.organization else f"the repository {req.owner}/{req.repo}"
    backends = {
        "aws": "AWS Graviton instances",
        "oci": "an Oracle Cloud Ampere A1 instance inside the Always Free allowance",
        "emulated": "an x86_64 EC2 host running the arm64 runner under QEMU (5-10x slower than native)",
        "mixed": "one AWS Graviton, one Oracle Cloud Ampere A1 and one emulated (QEMU on x86_64) runner",
    }
    lines = [
        f"# Stack {req.name}: ARM64 self-hosted runners for {target} on",
        f"# {backends[req.cloud]}.",
        "#",
        f"# `make plan STACK={req.name}` shows every resource `pulumi up` would create and the monthly cost;",
        '# README.md, "Configuration reference", lists every key. Workflows ask for',
        "# `runs-on: [self-hosted, linux, ARM64]`.",
    ]
    if req.esc_environment:
        lines += [
            "#",
            f"# github:token comes from the Pulumi ESC environment {req.esc_environment} (Pulumi Cloud only):",
            f"#   esc env init {req.esc_environment}",
            f"#   esc env set {req.esc_environment} pulumiConfig.github:token <token> --secret",
            "# With a self-managed backend (pulumi login --local or s3://…) delete the two `environment:` lines",
            "# and run `pulumi config set --secret github:token` instead (it adds an encrypted value here).",
            "environment:",
            f"  - {q(req.esc_environment)}",
        ]
    else:
        lines += [
            "#",
            f"# Before the first plan: pulumi stack init {req.name} (with your backend's secrets provider), then",
            "# pulumi config set --secret github:token   (adds the encrypted token below)",
        ]
    return lines


def _github(req: Request) -> list[str]:
    lines = ["  arm64-runners:github:"]
    if req.organization:
        lines += [
            "    organization: true                  # organization-level runners",
            "    # runnerGroup: arm64                # optional: a runner group the stack creates ...",
            "    # groupRepositories: [my-repo]      # ... restricted to these repositories",
        ]
    else:
        lines.append(f"    repository: {q(req.repo or '')}")
    return lines


def _runner(req: Request) -> list[str]:
    if req.oci:
        idle = [
            "    idleAction: none                    # OCI keeps billing an instance powered off from inside,",
            "                                        # and it stays offline until started: keep OCI runners up",
        ]
    else:
        idle = [
            "    idleTimeoutMinutes: 30",
            "    idleAction: stop                    # idle hosts power off; a stopped instance costs its disk only",
        ]
    return [
        "  arm64-runners:runner:",
        f"    version: {q(DEFAULT_VERSION)}                  # pinned; its SHA-256 is in components/runner_releases.py",
        "    labels: []                          # extra labels for every runner",
        "    ephemeral: false                    # true: one job per runner (prefer it for untrusted code)",
        *idle,
    ]


def _pools(req: Request) -> list[str]:
    lines = ["  arm64-runners:pools:"]
    if req.cloud in ("aws", "mixed"):
        lines += [
            "    - name: graviton",
            "      cloud: aws",
            "      count: 1",
            "      instanceType: t4g.medium          # 2 vCPU, 4 GiB (Graviton2); c7g/m7g for heavier builds",
            "      diskGb: 50",
            "      spot: false                       # true: a persistent spot request, cheaper, can be interrupted",
        ]
    if req.oci:
        free = OCI_ALWAYS_FREE_A1
        lines += [
            "    - name: ampere",
            "      cloud: oci",
            "      count: 1",
            "      shape: VM.Standard.A1.Flex",
            f"      ocpus: {free.ocpus:<27d}# the whole Always Free allowance in one runner",
            f"      memoryGb: {free.memory_gb}",
            "      diskGb: 100",
            "      availabilityDomains: [1, 2, 3]    # A1 capacity is often short: tried in this order",
        ]
    if req.cloud in ("emulated", "mixed"):
        lines += [
            "    - name: qemu",
            "      cloud: emulated",
            "      count: 1",
            "      instanceType: c7a.large           # x86_64 host; emulation is CPU-bound",
            "      diskGb: 50",
            "      spot: false",
        ]
    return lines


def render(req: Request) -> str:
    lines = _header(req)
    lines.append("config:")
    if req.aws:
        lines.append(f"  aws:region: {q(req.aws_region or DEFAULT_AWS_REGION)}")
    if req.oci and req.oci_region:
        lines.append(f"  oci:region: {q(req.oci_region)}")
    lines.append(f"  github:owner: {q(req.owner)}")
    lines += _github(req) + _runner(req) + _pools(req)
    if req.oci:
        lines += [
            "  arm64-runners:oci:",
            f"    compartmentId: {q(req.compartment_id or '')}",
            "    freeTier: true                      # refuse A1 totals above Always Free",
            "    # sshCidr: 203.0.113.0/24           # optional: SSH from your range only (default: no ingress)",
        ]
    lines.append(
        "  # arm64-runners:ttlHours: 48           # optional: the scheduled destroy workflow removes the stack"
    )
    return "\n".join(lines) + "\n"


def oci_defaults(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(tenancy OCID, region) of the DEFAULT profile of the OCI CLI config, when there is one."""
    path = Path(env.get("OCI_CLI_CONFIG_FILE") or Path(env.get("HOME", "~")) / ".oci" / "config").expanduser()
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError):
        return None, None
    profile = parser.defaults()
    return profile.get("tenancy"), profile.get("region")


def request_from(args: argparse.Namespace, env: Mapping[str, str]) -> Request:
    missing = [flag for flag, value in (("NAME", args.name), ("OWNER", args.owner), ("CLOUD", args.cloud)) if not value]
    if missing:
        raise Refused(
            f"missing {', '.join(missing)}: make new-stack NAME=<stack> OWNER=<user or org> "
            "REPO=<repository> | ORG=1  CLOUD=aws|oci|emulated|mixed"
        )
    if args.cloud not in CLOUDS:
        raise Refused(f"CLOUD={args.cloud!r} is not one of {', '.join(CLOUDS)}")
    if bool(args.repo) == bool(args.organization):
        raise Refused("give REPO=<repository> for repository runners, or ORG=1 for organization runners (not both)")
    if not STACK_NAME.fullmatch(args.name):
        raise Refused(f"NAME={args.name!r}: a stack name is 1-100 letters, digits, '-', '_' or '.'")
    tenancy, oci_region = oci_defaults(env) if args.cloud in ("oci", "mixed") else (None, None)
    if args.cloud == "oci" and args.region:
        oci_region = args.region  # an OCI-only stack: REGION is the OCI region
    compartment = args.compartment or tenancy
    if args.cloud in ("oci", "mixed") and not compartment:
        raise Refused(
            f"CLOUD={args.cloud} needs COMPARTMENT=<compartment OCID> (`oci iam compartment list`), "
            "or an OCI CLI config (~/.oci/config) whose tenancy is used as the compartment"
        )
    esc = None if (args.esc_environment or "").lower() == "none" else (args.esc_environment or DEFAULT_ESC_ENVIRONMENT)
    return Request(
        name=args.name,
        owner=args.owner,
        cloud=args.cloud,
        repo=args.repo or None,
        organization=args.organization,
        aws_region=(args.region if args.cloud != "oci" else None)
        or env.get("AWS_REGION")
        or env.get("AWS_DEFAULT_REGION"),
        compartment_id=compartment,
        oci_region=oci_region,
        esc_environment=esc,
    )


def check(text: str, target: Path, token_pending: bool) -> StackConfig:
    """Validate `text` as the stack file `target` with the project's configuration model.

    A stack without an ESC environment gets its token from `pulumi config set --secret` after it is
    written: that one missing key is expected; every other problem refuses the file.
    """
    with tempfile.TemporaryDirectory() as scratch:
        draft = Path(scratch) / target.name
        draft.write_text(text, encoding="utf-8")
        raw = dataclasses.replace(read_stack_file(draft), stack_file=str(target))
    if token_pending:
        raw = dataclasses.replace(
            raw,
            values={**raw.values, "github:token": {"secure": "set by pulumi config set --secret"}},
            secret_keys=raw.secret_keys | {"github:token"},
        )
    config = validate(raw)
    for pool in config.pools:
        for runner in config.runner_names(pool):
            if not RUNNER_NAME_PATTERN.fullmatch(runner):
                raise Refused(
                    f"NAME={target.name[7:-5]!r} makes runner name {runner!r}, which GitHub would refuse "
                    "(at most 64 letters, digits, '.', '_' or '-'): choose a shorter stack name"
                )
    return config


def write(req: Request, stacks_dir: Path) -> Path:
    target = stacks_dir / f"Pulumi.{req.name}.yaml"
    if target.exists():
        raise Refused(f"{target} already exists: choose another NAME, or edit that file")
    text = render(req)
    check(text, target, token_pending=req.esc_environment is None)
    try:
        with target.open("x", encoding="utf-8") as out:  # "x": never replaces a file created meanwhile
            out.write(text)
    except FileExistsError:
        raise Refused(f"{target} already exists: choose another NAME, or edit that file") from None
    return target


def next_steps(req: Request, target: Path) -> list[str]:
    shown = os.path.relpath(target) if target.is_relative_to(Path.cwd()) else str(target)
    steps = [f"wrote {shown}", f"next: make plan STACK={req.name}"]
    if req.esc_environment is None:
        steps.insert(1, f"then: pulumi stack init {req.name} && pulumi config set --secret github:token")
    steps.append(f"then: make preview STACK={req.name}; make up STACK={req.name} (README: Your first stack)")
    return steps


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make new-stack", description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="")
    parser.add_argument("--owner", default="")
    parser.add_argument("--repo", default="")
    parser.add_argument("--organization", action="store_true")
    parser.add_argument("--cloud", default="")
    parser.add_argument(
        "--region",
        help="AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1); for CLOUD=oci the OCI region "
        "(default: ~/.oci/config)",
    )
    parser.add_argument("--compartment", help="OCI compartment OCID (default: the tenancy of ~/.oci/config)")
    parser.add_argument(
        "--esc-environment", help=f"ESC environment with github:token ({DEFAULT_ESC_ENVIRONMENT}; none)"
    )
    parser.add_argument("--stacks-dir", type=Path, default=STACKS_DIR)
    args = parser.parse_args(argv)
    try:
        req = request_from(args, os.environ if env is None else env)
        target = write(req, args.stacks_dir)
    except Refused as refused:
        print(f"make new-stack: {refused}", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"make new-stack: the stack file would be invalid, nothing written:\n{error}", file=sys.stderr)
        return 2
    print("\n".join(next_steps(req, target)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
