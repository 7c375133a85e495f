"""Run the real program under Pulumi's mock engine and record what it would create.

Used by `make plan` (the offline plan) and by the tests. Each run gets a fresh event loop, fresh
mocks and a fresh monitor, so nothing leaks from one run into the next (the SDK's dynamic-provider
serializer leak is handled where dynamic resources are declared, components/dynamic.py).

Like the real engine, the recording monitor marks the outputs a resource declares in
`additional_secret_outputs` as secret in the recorded state (the stock mock monitor ignores them),
and records the declaration itself, so tests can tell a declared secret from one the SDK wrapped.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from components.config import PROJECT, ConfigError, StackConfig

#: Per-cloud modules with invoke answers (`ANSWERS`) and computed resource outputs (`resource_outputs`).
ANSWER_MODULES = ("tools.mockengine.invokes_aws", "tools.mockengine.invokes_oci", "tools.mockengine.invokes_github")
DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
#: What a `{secure: ...}` value stands for under the mock engine (it is never decrypted here).
MOCK_SECRET = "mock-secret-value"

Answer = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ResourceRequest:
    """What the program asked the engine to register, as a `resource_hook` sees it."""

    type: str
    name: str
    parent_urn: str
    custom: bool
    inputs: dict[str, Any]
    replace_on_changes: tuple[str, ...]
    delete_before_replace: bool


#: Decides a resource's (id, outputs) itself; None leaves it to the mock answers (tests/fakes/lifecycle.py).
ResourceHook = Callable[[ResourceRequest], "tuple[str, dict[str, Any]] | None"]


def is_secret(value: Any) -> bool:
    return rpc.is_rpc_secret(value)


def _asset(value: Any) -> Any:
    """An asset or archive input (e.g. a Lambda's code) as plain data that compares by content."""
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {path: _asset(item) for path, item in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset):
        return {"file": value.path}
    if isinstance(value, pulumi.StringAsset):
        return {"text": value.text}
    return value


def reveal(value: Any) -> Any:
    """The value behind a recorded secret (recursively), for assertions; assets as plain data."""
    if is_secret(value):
        return reveal(rpc.unwrap_rpc_secret(value))
    if isinstance(value, (pulumi.asset.Asset, pulumi.asset.Archive)):
        return _asset(value)
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def redact(value: Any) -> Any:
    """Secrets replaced by "[secret]", internal properties (dynamic provider blobs) dropped."""
    if is_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (pulumi.asset.Asset, pulumi.asset.Archive)):
        return _asset(value)
    return repr(value)


@dataclass
class Registered:
    type: str
    name: str
    urn: str
    parent_urn: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str = ""
    #: URNs this resource depends on (explicit depends_on and the inputs' resources).
    dependencies: list[str] = field(default_factory=list)
    #: Resource options the engine would act on at the next update.
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    #: Output names the resource declares secret (`additional_secret_outputs`, engine names).
    additional_secret_outputs: list[str] = field(default_factory=list)

    @property
    def plain_inputs(self) -> dict[str, Any]:
        return reveal(self.inputs)


@dataclass
class PlanResult:
    stack: str
    resources: list[Registered] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    #: pulumi.log.info messages: facts the program reports that are not problems (shown as notes).
    infos: list[str] = field(default_factory=list)
    error: ConfigError | None = None
    #: The validated stack configuration the program ran with (None when it was invalid).
    config: StackConfig | None = None
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def by_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Registered:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def children_of(self, parent: Registered) -> list[Registered]:
        return [r for r in self.resources if r.parent_urn == parent.urn]


class _Mocks(pulumi_mocks.Mocks):
    def __init__(
        self,
        answers: Mapping[str, Answer],
        outputs: list[Callable[..., Any]],
        result: PlanResult,
        resource_hook: ResourceHook | None = None,
    ):
        self.answers = answers
        self.output_hooks = outputs
        self.result = result
        self.resource_hook = resource_hook
        #: The RegisterResource request being served (set by the monitor), for the resource hook.
        self.request: Any = None

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict:  # type: ignore[override]
        self.result.invokes.append((args.token, dict(args.args)))
        answer = self.answers.get(args.token)
        if answer is None:
            raise KeyError(f"the mock engine has no answer for invoke {args.token}; add one to tools/mockengine")
        return answer(dict(args.args))

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict]:
        if self.resource_hook is not None and self.request is not None:
            request = self.request
            answer = self.resource_hook(
                ResourceRequest(
                    type=args.typ,
                    name=args.name,
                    parent_urn=request.parent,
                    custom=bool(args.custom),
                    inputs=dict(args.inputs),
                    replace_on_changes=tuple(request.replaceOnChanges),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                )
            )
            if answer is not None:
                return answer
        outputs = dict(args.inputs)
        for hook in self.output_hooks:
            extra = hook(args.typ, args.name, dict(args.inputs))
            if extra:
                outputs.update(extra)
        resource_id = str(outputs.pop("__id", "") or f"{args.name}-id")
        return resource_id, outputs


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The stock mock monitor, also remembering each resource's parent and inputs."""

    def __init__(self, mocks: _Mocks, result: PlanResult):
        super().__init__(mocks)
        self.result = result

    def RegisterResource(self, request: Any) -> Any:
        self.mocks.request = request
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = rpc.deserialize_properties(request.object)
        registration = self.resources[response.urn]
        declared = list(request.additionalSecretOutputs)
        if declared:
            registration = registration._replace(state=_mark_secret(registration.state, declared))
            self.resources[response.urn] = registration
            response = resource_pb2.RegisterResourceResponse(
                urn=response.urn,
                id=response.id,
                object=_sync_await(rpc.serialize_properties(registration.state, {})),
            )
        self.result.resources.append(
            Registered(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent_urn=request.parent,
                custom=bool(request.custom),
                inputs=inputs,
                outputs=dict(registration.state),
                id=registration.id,
                dependencies=list(request.dependencies),
                ignore_changes=list(request.ignoreChanges),
                replace_on_changes=list(request.replaceOnChanges),
                delete_before_replace=bool(request.deleteBeforeReplace),
                additional_secret_outputs=declared,
            )
        )
        return response


def _mark_secret(state: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    """The engine's treatment of `additional_secret_outputs`: those outputs are secret in state."""
    return {k: rpc.wrap_rpc_secret(v) if k in names and not is_secret(v) else v for k, v in state.items()}


class _WarningCollector(logging.Handler):
    """The program's warnings and infos (pulumi.log), as the CLI would show them."""

    def __init__(self, result: PlanResult):
        super().__init__(level=logging.INFO)
        self.result = result

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.result.warnings.append(record.getMessage())
        elif record.levelno == logging.INFO:
            self.result.infos.append(record.getMessage())


def load_hooks() -> tuple[dict[str, Answer], list[Callable[..., Any]]]:
    answers: dict[str, Answer] = {}
    hooks: list[Callable[..., Any]] = []
    for name in ANSWER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
            continue
        answers.update(getattr(module, "ANSWERS", {}))
        if hasattr(module, "resource_outputs"):
            hooks.append(module.resource_outputs)
        if hasattr(module, "dynamic_outputs"):
            dynamic = module.dynamic_outputs
            hooks.append(lambda typ, name, inputs, fn=dynamic: fn(inputs) if typ == DYNAMIC_TYPE else None)
    return answers, hooks


def flatten_config(config: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Stack-file config -> what Pulumi hands a program: strings (objects as JSON) and the secret keys."""
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            secret_keys.append(key)
            value = MOCK_SECRET
        values[key] = value if isinstance(value, str) else json.dumps(value)
    return values, secret_keys


def run_stack(
    stack: str,
    config: Mapping[str, Any],
    *,
    preview: bool = True,
    invokes: Mapping[str, Answer] | None = None,
    secret_keys: list[str] | None = None,
    resource_outputs: Callable[[str, str, dict[str, Any]], dict[str, Any] | None] | None = None,
    resource_hook: ResourceHook | None = None,
) -> PlanResult:
    """Run the program for `stack` with `config` (stack-file shape) and return what it registered.

    `invokes` overrides or adds invoke answers; `resource_outputs` adds computed outputs for a test
    (e.g. capacity reports that say "out of capacity"); `resource_hook` answers for a resource entirely
    (the lifecycle simulation in tests/fakes/lifecycle.py keeps ids and outputs across runs with it).
    """
    from components import program

    result = PlanResult(stack=stack)
    answers, hooks = load_hooks()
    answers.update(invokes or {})
    if resource_outputs is not None:
        hooks.append(resource_outputs)
    values, secrets = flatten_config(config)
    secrets.extend(secret_keys or [])

    pulumi.runtime.settings.reset_options()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    logger = logging.getLogger(f"arm64-runners.mockengine.{id(result)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(_WarningCollector(result))
    mocks = _Mocks(answers, hooks, result, resource_hook)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=preview, logger=logger, monitor=_RecordingMonitor(mocks, result)
    )
    set_all_config(values, secrets)
    try:
        try:
            config_model = program.load_from_pulumi()
        except ConfigError as err:
            result.error = err
            return result
        result.config = config_model
        outputs: dict[str, pulumi.Output[Any]] = {}

        @pulumi.runtime.test
        def run() -> pulumi.Output[Any]:
            for name, value in program.build(config_model, program.github_token()).items():
                outputs[name] = pulumi.Output.from_input(value)
            return pulumi.Output.all(*outputs.values())

        run()
        for name, output in outputs.items():
            result.outputs[name] = _sync_await(output.future())
            if _sync_await(output.is_secret()):
                result.secret_outputs.add(name)
        return result
    finally:
        # The root Stack registration is in flight even when config failed; a program error was raised above.
        with contextlib.suppress(Exception):
            _sync_await(wait_for_rpcs())
        pulumi.runtime.settings.reset_options()
        asyncio.set_event_loop(None)
        loop.close()
