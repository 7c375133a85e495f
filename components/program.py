"""The program: validated config in, fleet out, stack outputs back. `__main__.py` only calls `main()`."""

from __future__ import annotations

from typing import Any

import pulumi

from components.config import ConfigError, StackConfig, load_from_pulumi
from components.fleet import Fleet, FleetArgs, runs_on_labels


def build(config: StackConfig, github_token: pulumi.Output[str]) -> dict[str, Any]:
    """Register the stack's resources and return its outputs (name -> value or Output)."""
    fleet = Fleet(f"{config.stack}", FleetArgs(config=config, github_token=github_token))
    labels = runs_on_labels(config)
    return {
        "runners": fleet.runners,
        "labels": labels,
        "runsOn": "runs-on: [" + ", ".join(labels) + "]",
        "pools": [
            {"name": p.name, "cloud": p.cloud, "count": p.count, "labels": list(config.runner_labels(p))}
            for p in config.pools
        ],
        **fleet.outputs,
    }


def github_token() -> pulumi.Output[str]:
    # Validation has already checked that github:token exists and is a secret.
    return pulumi.Config("github").require_secret("token")


def main() -> None:
    try:
        config = load_from_pulumi()
    except ConfigError as err:
        # RunError prints the message without a Python traceback; nothing was registered yet.
        raise pulumi.RunError(f"invalid stack configuration:\n{err}") from None
    for name, value in build(config, github_token()).items():
        pulumi.export(name, value)
