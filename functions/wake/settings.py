"""The wake function's settings: non-secret, one JSON document in the WAKE_SETTINGS environment variable.

The stack writes it (components/aws/wake.py builds a `WakeSettings` and stores `to_json()`); the function
reads it once per container. Secrets are not here: the GitHub credential and the webhook secret are SSM
SecureStrings the function's role alone is granted to read (named by `token_parameter`/`secret_parameter`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

ENVIRONMENT_VARIABLE = "WAKE_SETTINGS"

#: Tags every EC2 runner instance carries (components/tags.py and the integrator's hand-off contract).
TAG_STACK = "arm64-runners:stack"
TAG_POOL = "arm64-runners:pool"
TAG_RUNNER = "arm64-runners:runner"
TAG_HANDOFF = "arm64-runners:handoff"


@dataclass(frozen=True)
class PoolSpec:
    """A pool the function may wake: its runners' full label list and how many instances it has."""

    name: str
    labels: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class WakeSettings:
    stack: str
    #: GitHub REST root (https://api.github.com or <GHES>/api/v3) and the runners' scope path.
    api_url: str
    scope_path: str
    ephemeral: bool
    #: SSM SecureString names: the stack's GitHub credential and the webhook secret.
    token_parameter: str
    secret_parameter: str
    #: DynamoDB table of claims (deliveries already handled, instances being started).
    table: str
    pools: tuple[PoolSpec, ...]
    #: Org runner group the runners register in (None = default group).
    runner_group: str | None = None
    #: `owner/repo` names whose jobs the runners may take (org runner group restricted to them); () = any.
    repositories: tuple[str, ...] = ()
    #: How long an instance stays claimed by the delivery that is starting it.
    claim_seconds: int = 120
    #: How long a delivery waits for a runner that is powering off (idle) to reach `stopped`, polling.
    stopping_wait_seconds: int = 30
    stopping_poll_seconds: int = 3
    #: How long a delivery id is remembered (GitHub redelivers deliveries of the past 3 days).
    delivery_memory_seconds: int = 4 * 24 * 3600

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WakeSettings:
        data: dict[str, Any] = json.loads(text)
        data["pools"] = tuple(
            PoolSpec(name=p["name"], labels=tuple(p["labels"]), count=int(p["count"])) for p in data["pools"]
        )
        data["repositories"] = tuple(data.get("repositories") or ())
        return cls(**data)
