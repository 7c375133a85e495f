"""Read a stack's configuration once, validate all of it, and return the typed model.

Two entry points share one validator:
- `load_from_pulumi()` inside a Pulumi program (real engine or the mock engine): reads the runtime config;
- `load_stack_file(path)` for tools that work from the stack file alone (operator CLI, plan helpers).
Either raises `ConfigError` listing every problem with the stack file, key path and a hint, before any
resource is registered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config.model import StackConfig
from components.config.reader import ConfigError, Problem, Problems, Section
from components.config.sections import (
    NS,
    check_free_tier,
    read_aws,
    read_github,
    read_oci,
    read_pools,
    read_runner,
)

PROJECT = "arm64-runners"
#: Keys of our namespace whose values are objects or lists (Pulumi hands them over as JSON strings).
_STRUCTURED = ("github", "runner", "pools", "aws", "oci")
#: Provider namespaces whose keys belong to the providers; we read a few of them and pass the rest.
_PROVIDER_NAMESPACES = ("aws", "oci", "github", "pulumi")


@dataclass(frozen=True)
class RawConfig:
    """Stack configuration as flat `namespace:key` -> value, with the keys that were given as secrets."""

    values: Mapping[str, Any]
    secret_keys: frozenset[str]
    stack: str
    stack_file: str
    #: Pulumi ESC environments the stack file imports; they may supply keys (github:token) offline tools cannot see.
    environments: tuple[str, ...] = ()


def stack_file_path(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


def validate(raw: RawConfig) -> StackConfig:
    """Build the typed model from raw config or raise ConfigError with every problem found."""
    problems = Problems()
    values = dict(raw.values)
    ours = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith(f"{NS}:")}
    for key in _STRUCTURED:
        if isinstance(ours.get(key), str):
            try:
                ours[key] = json.loads(ours[key])
            except json.JSONDecodeError:
                problems.add(
                    f"{NS}:{key}",
                    "must be an object or list, got a plain string",
                    "write it as nested YAML in the stack file, or pulumi config set --path",
                )
    for key in values:
        namespace = key.split(":", 1)[0] if ":" in key else ""
        if namespace not in (NS, *_PROVIDER_NAMESPACES):
            problems.add(
                key,
                f"namespace {namespace or '(none)'!r} is not used by this project",
                f"project keys are {NS}:<key>; provider keys aws:, oci:, github:",
            )

    top = Section(problems, NS, ours, sep=":")
    github = read_github(problems, values.get("github:owner"), top.raw("github"))
    _check_github_token(problems, raw)
    runner = read_runner(problems, top.raw("runner"))
    pools = read_pools(problems, top.raw("pools"), runner)
    clouds = {p.cloud for p in pools}
    aws = read_aws(problems, top.raw("aws"), values.get("aws:region"), needed=bool(clouds & {"aws", "emulated"}))
    oci = read_oci(problems, top.raw("oci"), needed="oci" in clouds)
    check_free_tier(problems, pools, oci)
    ttl = top.get("ttlHours", int, None, check=lambda v: None if v >= 1 else "must be at least 1 hour")
    utilisation = top.get(
        "utilisation",
        float,
        0.25,
        check=lambda v: None if 0 < v <= 1 else "must be a share between 0 and 1 (e.g. 0.25)",
    )
    top.done()
    if problems.items:
        raise ConfigError(raw.stack_file, problems.items)
    return StackConfig(
        project=PROJECT,
        stack=raw.stack,
        stack_file=raw.stack_file,
        github=github,
        runner=runner,
        pools=pools,
        aws=aws,
        oci=oci,
        ttl_hours=ttl,
        utilisation=utilisation,
    )


def _check_github_token(problems: Problems, raw: RawConfig) -> None:
    if "github:token" not in raw.values:
        if raw.environments:
            return  # supplied by an ESC environment: Pulumi resolves it (as a secret) at run time
        problems.add(
            "github:token",
            "is required: the credential that mints registration tokens",
            "pulumi config set --secret github:token <fine-grained PAT> (see README, GitHub permissions)",
        )
    elif "github:token" not in raw.secret_keys:
        problems.add(
            "github:token",
            "is stored in plaintext",
            "remove it and run: pulumi config set --secret github:token <token>",
        )


def load_from_pulumi() -> StackConfig:
    """Validate the running program's stack configuration (real engine or mock engine)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    values: dict[str, Any] = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    stack = pulumi.get_stack()
    return validate(RawConfig(values, frozenset(secret_keys), stack, stack_file_path(stack)))


def read_stack_file(path: str | Path) -> RawConfig:
    """Parse a stack file into raw config; `secure:` values count as secrets (their ciphertext is kept)."""
    path = Path(path)
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(str(path), [Problem("(file)", f"is not valid YAML: {err}")]) from err
    config = document.get("config") or {}
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in config.items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            secret_keys.add(key)
        values[key] = value
    environments = tuple(str(e) for e in document.get("environment") or ())
    return RawConfig(values, frozenset(secret_keys), stack, _display_path(path), environments)


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_stack_file(path: str | Path) -> StackConfig:
    return validate(read_stack_file(path))
