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

from components.config import limits, rules, strict_yaml
from components.config.model import StackConfig
from components.config.pools import check_free_tier, read_pools
from components.config.reader import ConfigError, Problem, Problems, Section, suggest
from components.config.sections import NS, read_aws, read_github, read_oci, read_oci_region, read_runner

PROJECT = "arm64-runners"
#: Keys of our namespace whose values are objects or lists (Pulumi hands them over as JSON strings).
_STRUCTURED = ("github", "runner", "pools", "aws", "oci")
#: Provider namespaces whose keys belong to the providers; we read a few of them and pass the rest.
_PROVIDER_NAMESPACES = ("aws", "oci", "github", "pulumi")
#: Top-level keys of a Pulumi stack file (Pulumi's ProjectStack).
_STACK_FILE_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")


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
            except (ValueError, RecursionError):  # not JSON, a number over 4,300 digits, or nested too deep
                ours[key] = None
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

    top = Section(problems, NS, ours, sep=":", plain_strings=True)
    github = read_github(problems, values.get("github:owner"), top.raw("github"))
    _check_github_token(problems, raw)
    runner = read_runner(problems, top.raw("runner"))
    pools = read_pools(problems, top.raw("pools"), runner)
    clouds = {p.cloud for p in pools}
    aws = read_aws(problems, top.raw("aws"), values.get("aws:region"), needed=bool(clouds & {"aws", "emulated"}))
    oci = read_oci(problems, top.raw("oci"), needed="oci" in clouds)
    read_oci_region(problems, values.get("oci:region"))
    check_free_tier(problems, pools, oci)
    low, high = limits.TTL_HOURS
    ttl = top.get(
        "ttlHours",
        int,
        None,
        check=rules.between(low, high, "hours"),
        hint="a year at most; leave ttlHours unset for a stack that stays",
    )
    utilisation = top.get("utilisation", float, 0.25, check=rules.share)
    # A stack whose idle hosts terminate would get them all back from every scheduled reconcile.
    reconcile = top.get("reconcile", bool, runner.idle_action != "terminate")
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
        reconcile=reconcile,
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
    shown = _display_path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.MAX_STACK_FILE_BYTES + 1)
    except OSError as err:
        raise ConfigError(shown, [Problem("(file)", f"cannot be read: {err.strerror or err}")]) from None
    return read_stack_bytes(data, path.name.removeprefix("Pulumi.").removesuffix(".yaml"), shown)


def read_stack_bytes(data: bytes, stack: str, stack_file: str) -> RawConfig:
    """A stack file's bytes as raw config, as Pulumi would hand it over; ConfigError, never another error.

    Strict (components/config/strict_yaml.py): anything but plain YAML values, and any file too large,
    too deep or not UTF-8, is refused with the line and key path. Plain top-level values become the
    strings Pulumi gives a program (`48`, `true`); objects and lists stay structured.
    """
    try:
        document = strict_yaml.load(strict_yaml.decode(data))
    except strict_yaml.YamlRefusal as refusal:
        raise ConfigError(stack_file, [Problem(refusal.path, refusal.message, refusal.hint, refusal.line)]) from None
    problems = Problems()
    config, environments = _stack_file_sections(problems, document)
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in config.items():
        if value is None:
            problems.add(key, "is empty (null)", f"give {key} a value, or remove the line")
            continue
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            secret_keys.add(key)
        values[key] = value if isinstance(value, (str, Mapping, list)) else json.dumps(value)
    if problems.items:
        raise ConfigError(stack_file, problems.items)
    return RawConfig(values, frozenset(secret_keys), stack, stack_file, environments)


def _stack_file_sections(problems: Problems, document: Any) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """The `config:` mapping and the `environment:` names of a parsed stack file."""
    if document is None:
        return {}, ()
    if not isinstance(document, Mapping):
        problems.add(
            "(document)",
            f"must be a mapping with config: (and environment:), got {type(document).__name__}",
            "start from stacks/Pulumi.aws-graviton.yaml",
        )
        return {}, ()
    for key in document:
        if key not in _STACK_FILE_KEYS:
            problems.add(str(key), "is not a key of a Pulumi stack file", suggest(str(key), _STACK_FILE_KEYS))
    config = document.get("config")
    if config is not None and not isinstance(config, Mapping):
        problems.add(
            "config",
            f"must be a mapping of namespace:key: value, got {config!r:.60}",
            "config:\n  aws:region: us-east-1",
        )
        config = None
    return config or {}, _environments(problems, document.get("environment"), "environment" in document)


def _environments(problems: Problems, raw: Any, given: bool) -> tuple[str, ...]:
    hint = "a list of Pulumi ESC environment names: environment: [arm64-runners/github]"
    if raw is None:
        if given:
            problems.add("environment", "is empty (null)", hint + ", or remove the line")
        return ()
    if not isinstance(raw, list):
        problems.add("environment", f"must be a list of environment names, got {raw!r:.60}", hint)
        return ()
    names: list[str] = []
    for i, item in enumerate(raw):
        problem = (
            rules.esc_environment_problem(item) if isinstance(item, str) else f"must be a string, got {item!r:.60}"
        )
        if problem:
            problems.add(f"environment[{i}]", problem, hint)
        else:
            names.append(item)
    return tuple(names)


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_stack_file(path: str | Path) -> StackConfig:
    return validate(read_stack_file(path))
