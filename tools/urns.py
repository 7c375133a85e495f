"""Find the URNs behind `make remint` and `make refresh-image` in a stack's state.

    python -m tools.urns --stack NAME registration RUNNER_NAME   -> the runner's registration URN
    python -m tools.urns --stack NAME image-pins [--as-replace-flags]

Reads `pulumi stack export` (or a saved export with --state FILE). Registrations are the dynamic
resources whose outputs carry that runner name and a token; image pins are the PinnedValue resources
(outputs `candidate` and `value`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def export(stack: str, state: Path | None) -> list[dict[str, Any]]:
    if state is not None:
        text = state.read_text()
    else:
        text = subprocess.run(
            ["pulumi", "stack", "export", "--stack", stack], check=True, capture_output=True, text=True
        ).stdout
    return json.loads(text).get("deployment", {}).get("resources", [])


def _dynamic(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in resources if r.get("type") == "pulumi-python:dynamic:Resource"]


def registration_urn(resources: list[dict[str, Any]], runner: str) -> str:
    for res in _dynamic(resources):
        outputs = res.get("outputs", {})
        if outputs.get("runner_name") == runner and "token" in outputs:
            return res["urn"]
    raise LookupError(f"no registration for runner {runner!r} in this stack's state")


def image_pin_urns(resources: list[dict[str, Any]]) -> list[str]:
    return [r["urn"] for r in _dynamic(resources) if {"candidate", "value"} <= set(r.get("outputs", {}))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--state", type=Path, help="a saved `pulumi stack export` instead of calling the CLI")
    sub = parser.add_subparsers(dest="what", required=True)
    reg = sub.add_parser("registration")
    reg.add_argument("runner")
    pins = sub.add_parser("image-pins")
    pins.add_argument("--as-replace-flags", action="store_true")
    args = parser.parse_args(argv)
    resources = export(args.stack, args.state)
    try:
        if args.what == "registration":
            print(registration_urn(resources, args.runner))
        else:
            urns = image_pin_urns(resources)
            print(" ".join(f"--replace={u}" for u in urns) if args.as_replace_flags else "\n".join(urns))
    except LookupError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
