"""Command line of `make deployer-policy` (see the package docstring)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.config import ConfigError
from tools import plan
from tools.deployer_policy import __doc__ as DOC
from tools.deployer_policy.derive import Derived, Unmapped, derive


def render(derived: Derived, stack: str, region: str | None, part: str) -> str:
    out: list[str] = []
    if part in ("all", "aws") and derived.statements:
        documents = derived.policies()
        if part == "all":
            out.append(f"# AWS IAM policy for the identity that runs pulumi up/destroy on stack {stack} ({region})")
            if len(documents) > 1:
                out.append(f"# {len(documents)} documents: attach each as its own managed policy (IAM's size limit)")
        out.append(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2))
    if part in ("all", "oci") and derived.oci:
        if part == "all":
            out += [""] if out else []
            out.append(f"# OCI policy statements for stack {stack} (one policy in the tenancy)")
        out += derived.oci
    if part == "sources":
        out += ["| plan item | needs | source |", "|---|---|---|"]
        out += [f"| `{row.item}` | {row.needs} | {row.source} |" for row in derived.rows]
    if not out:
        out.append(f"# stack {stack} needs no {part.upper()} permissions")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make deployer-policy", description=DOC.splitlines()[0])
    parser.add_argument("--stack", default=plan.DEFAULT_STACK)
    parser.add_argument("--stack-file", type=Path, help="a stack file anywhere (overrides --stack)")
    parser.add_argument("--account", default="*", help="AWS account id for the ARNs (default: any, i.e. the caller's)")
    parser.add_argument("--oci-group", default="arm64-runners-deployers", help="OCI group of the deploying users")
    parser.add_argument("--part", choices=("all", "aws", "oci", "sources"), default="all")
    args = parser.parse_args(argv)
    stack_file = args.stack_file or plan.STACKS_DIR / f"Pulumi.{args.stack}.yaml"
    if not stack_file.exists():
        print(f"{stack_file}: no such stack file", file=sys.stderr)
        return 2
    try:
        result = plan.plan(stack_file)
        if result.error is not None:
            raise result.error
        derived = derive(result, account=args.account, oci_group=args.oci_group)
    except ConfigError as error:
        print(f"invalid stack configuration:\n{error}", file=sys.stderr)
        return 2
    except Unmapped as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    assert result.config is not None
    print(render(derived, result.stack, result.config.aws.region, args.part))
    return 0


if __name__ == "__main__":
    sys.exit(main())
