"""Mock-engine answers for the GitHub side: pulumi-github invokes and dynamic-resource outputs.

`dynamic_outputs(inputs)` supplies what the real dynamic providers compute at create, so the mock
engine (which echoes a dynamic resource's inputs as its outputs) sees realistic values. Everything is
derived from the inputs: running the same program twice gives identical results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

#: A fixed, plausible expiry (registration tokens live one hour).
MOCK_EXPIRES_AT = "2030-01-01T01:00:00.000Z"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _repository(args: dict[str, Any]) -> dict[str, Any]:
    """github:index/getRepository:getRepository for `full_name` or `name` (owner from the provider)."""
    full_name = str(args.get("fullName") or args.get("name") or "")
    name = full_name.split("/")[-1]
    repo_id = int(_digest("repo", full_name)[:8], 16) % 900_000_000 + 100_000_000
    return {
        "id": full_name,
        "fullName": full_name,
        "name": name,
        "repoId": repo_id,
        "nodeId": "R_" + _digest("node", full_name)[:16],
        "visibility": "private",
        "defaultBranch": "main",
    }


ANSWERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "github:index/getRepository:getRepository": _repository,
}


def dynamic_outputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs a dynamic provider of this project computes, for the given inputs."""
    if set(inputs) - {"__provider", "value"} == {"candidate"}:  # components.pinned.PinnedValue
        return {"value": inputs["candidate"]}
    if "runner_name" in inputs and "scope_path" in inputs:  # components.github RunnerRegistration
        name = str(inputs["runner_name"])
        seed = _digest(str(inputs.get("scope_path")), name)
        if inputs.get("ephemeral"):
            token, expires_at = "AAMOCKJIT" + seed[:32].upper(), ""
        else:
            token, expires_at = "AAMOCK" + seed[:24].upper(), MOCK_EXPIRES_AT
        # Plain, as a provider returns it: the engine makes it secret only if the resource declares it
        # in additional_secret_outputs (tools/mockengine/engine.py applies that, as the real engine does).
        return {
            "token": token,
            "expires_at": expires_at,
            "runner_id": 0,
        }
    return {}
