"""A small stand-in for the Pulumi engine's update and refresh cycle, around the real program.

    life = Lifecycle("dev", values, real_dynamic=True, github_api_url=fake.api_url, now=clock.now)
    first = life.up()              # every resource created
    life.refresh()                 # dynamic resources' read() against the fake GitHub API
    second = life.up(values2)      # second.replaced == {"pool-graviton-0-registration", ...}

What it does like the engine:
- each `up` runs the real program under the mock engine (tools/mockengine) and compares every resource
  with the state the previous run left: same, update, replace (dynamic resources: their provider's own
  `diff`; cloud resources: the inputs their provider replaces on — `FORCE_NEW`, from the providers'
  documentation — and the resource's `replace_on_changes`), create, and delete for what the program no
  longer declares. Ids survive a run unless the resource is replaced, so a registration's new id reaches
  the user-data the way it would in a real update.
- `real_dynamic=True` runs the dynamic providers for real — deserialized from the `__provider` the
  program serialized, as Pulumi's provider host does — against the fake GitHub API (the registration's
  `api_url` is pointed at it) and moto (the SSM hand-off); create, delete-before-replace, delete, read.
- `refresh` calls every dynamic resource's `read`; an empty id drops it from the state, as the engine does.

What it does not: previews with unknowns, concurrency, the CLI's own checks. Cloud resources always
succeed (unless `fail_create` names their type); their outputs come from the mock engine's answers.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dill
from pulumi.runtime import rpc

from tools.mockengine import PlanResult, is_secret, reveal, run_stack
from tools.mockengine.engine import DYNAMIC_TYPE, ResourceRequest, load_hooks

#: Inputs whose change makes the provider replace a resource (the provider docs' "forces new resource").
#: Only types the program declares with inputs that can change; everything else updates in place.
FORCE_NEW: dict[str, frozenset[str]] = {
    # terraform-provider-aws aws_instance: ami, availability_zone, subnet_id, launch_template, key_name,
    # private_ip ... are ForceNew; user_data(_base64) too when user_data_replace_on_change is set.
    # (instance_type is not: it is changed in place, stop-modify-start.)
    "aws:ec2/instance:Instance": frozenset(
        {"ami", "availabilityZone", "subnetId", "launchTemplate", "keyName", "privateIp"}
    ),
    # aws_spot_instance_request: a request cannot be modified; every instance argument forces a new one.
    "aws:ec2/spotInstanceRequest:SpotInstanceRequest": frozenset(
        {
            "launchTemplate",
            "subnetId",
            "iamInstanceProfile",
            "spotType",
            "instanceInterruptionBehavior",
            "userDataBase64",
        }
    ),
    # oci_core_instance: availability_domain, source_details, create_vnic_details.subnet_id, and the
    # immutable metadata keys user_data and ssh_authorized_keys (the component also replaces on metadata).
    "oci:Core/instance:Instance": frozenset({"availabilityDomain", "sourceDetails", "createVnicDetails"}),
    "aws:ec2/subnet:Subnet": frozenset({"vpcId", "cidrBlock", "availabilityZone"}),
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock"}),
    "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
}
#: Outputs an in-place update moves forward (a changed launch template is a new version).
VERSIONED: dict[str, str] = {"aws:ec2/launchTemplate:LaunchTemplate": "latestVersion"}
#: A changed user-data replaces the instance when the resource asks for it (`userDataReplaceOnChange`).
USER_DATA_KEYS = ("userData", "userDataBase64")


@dataclass
class Entry:
    type: str
    name: str
    id: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    #: How many times it was replaced (ids of replacements differ).
    generation: int = 0


@dataclass
class UpResult:
    plan: PlanResult
    #: resource name -> "create" | "replace" | "update" | "same" | "delete"
    steps: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def named(self, step: str) -> set[str]:
        return {name for name, kind in self.steps.items() if kind == step}

    @property
    def created(self) -> set[str]:
        return self.named("create")

    @property
    def replaced(self) -> set[str]:
        return self.named("replace")

    @property
    def deleted(self) -> set[str]:
        return self.named("delete")

    @property
    def changes(self) -> dict[str, str]:
        return {name: kind for name, kind in self.steps.items() if kind != "same"}


@dataclass
class RefreshResult:
    gone: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


class CreateFailed(RuntimeError):
    """A cloud resource the test told to fail at create (e.g. OCI out of host capacity)."""


class Lifecycle:
    def __init__(
        self,
        stack: str,
        values: Mapping[str, Any],
        *,
        real_dynamic: bool = False,
        github_api_url: str | None = None,
        now: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        provider_settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.stack = stack
        self.values = copy.deepcopy(dict(values))
        self.real_dynamic = real_dynamic
        self.github_api_url = github_api_url
        self.now = now
        self.sleep = sleep
        #: Attributes set on every deserialized provider that has them (e.g. a shorter client timeout).
        self.provider_settings = dict(provider_settings or {})
        self.state: dict[tuple[str, str], Entry] = {}
        #: Types whose create fails in the next runs (cleared by the test).
        self.fail_create: set[str] = set()
        self._answers, self._hooks = load_hooks()
        self._warnings: list[str] = []
        self._providers: dict[str, Any] = {}

    # ------------------------------------------------------------------ the cycle
    def up(self, values: Mapping[str, Any] | None = None) -> UpResult:
        if values is not None:
            self.values = copy.deepcopy(dict(values))
        self._warnings = []
        steps: dict[str, str] = {}
        seen: set[tuple[str, str]] = set()

        def hook(request: ResourceRequest) -> tuple[str, dict[str, Any]] | None:
            seen.add((request.type, request.name))
            if not request.custom:
                return None
            kind, entry = self._register(request)
            steps[request.name] = kind
            return entry.id, copy.deepcopy(entry.outputs)

        plan = run_stack(self.stack, self.values, preview=False, resource_hook=hook)
        if plan.error is not None:
            raise plan.error
        for key in [k for k in self.state if k not in seen]:
            entry = self.state.pop(key)
            if entry.custom:
                if entry.type == DYNAMIC_TYPE and self.real_dynamic:
                    self._provider(entry.outputs).delete(entry.id, self._to_network(reveal(entry.outputs)))
                # Same name, another type (an instance that became a spot request): a replacement.
                steps[entry.name] = "replace" if steps.get(entry.name) == "create" else "delete"
        return UpResult(plan, steps, plan.warnings + self._warnings)

    def preview(self, values: Mapping[str, Any] | None = None) -> UpResult:
        """What `up` would do, without doing it: providers are only asked to diff (no create, no delete)."""
        dry = copy.copy(self)
        dry.state = copy.deepcopy(self.state)
        dry.real_dynamic = False
        return dry.up(values)

    def refresh(self) -> RefreshResult:
        result = RefreshResult()
        self._warnings = []
        for key, entry in list(self.state.items()):
            if entry.type != DYNAMIC_TYPE or not self.real_dynamic:
                continue
            read = self._provider(entry.outputs).read(entry.id, self._to_network(entry.outputs))
            if not read.id:
                del self.state[key]
                result.gone.add(entry.name)
            else:
                entry.outputs = self._from_network(dict(read.outs), entry.outputs)
        result.warnings = list(self._warnings)
        return result

    def forget(self, name: str) -> Entry:
        """A resource deleted outside Pulumi and dropped by a refresh (e.g. a terminated instance)."""
        key = next(k for k in self.state if k[1] == name)
        return self.state.pop(key)

    def entry(self, name: str) -> Entry:
        return next(e for e in self.state.values() if e.name == name)

    # ------------------------------------------------------------------ one resource
    def _register(self, request: ResourceRequest) -> tuple[str, Entry]:
        key = (request.type, request.name)
        inputs = reveal(request.inputs)
        prior = self.state.get(key)
        if prior is not None and request.type == DYNAMIC_TYPE:
            diff = self._provider(inputs).diff(prior.id, reveal(prior.outputs), inputs)
            if not diff.replaces:
                # No provider of the project updates in place: a change without replacement keeps the
                # outputs (the engine records the new inputs only).
                prior.inputs = inputs
                return ("update" if diff.changes else "same"), prior
        elif prior is not None and not self._replaces(request, prior, inputs):
            kind = "same" if _comparable(prior.inputs) == _comparable(inputs) else "update"
            outputs = self._mock_outputs(request, prior.id)[1]
            version = VERSIONED.get(request.type)
            if version:
                outputs[version] = int(prior.outputs.get(version) or 1) + (kind == "update")
            prior.inputs, prior.outputs = inputs, outputs
            return kind, prior
        if request.type in self.fail_create:
            raise CreateFailed(f"{request.name}: create failed ({request.type})")
        generation = prior.generation + 1 if prior else 0
        if request.type == DYNAMIC_TYPE and self.real_dynamic:
            provider = self._provider(inputs)
            if prior is not None:  # delete before replace, as every dynamic resource of the project asks
                provider.delete(prior.id, self._to_network(reveal(prior.outputs)))
            created = provider.create(self._to_network(inputs))
            id_, outputs = created.id, self._from_network(dict(created.outs), inputs)
            outputs["__provider"] = inputs["__provider"]
        else:
            id_, outputs = self._mock_outputs(request, None)
            if generation:
                id_ = f"{id_}-{generation}"
                if request.type == DYNAMIC_TYPE:
                    # What a provider computes at create differs each time (a new token, a new runner id).
                    outputs = {
                        k: _regenerated(v, generation) if inputs.get(k) is None else v for k, v in outputs.items()
                    }
        entry = Entry(request.type, request.name, id_, True, inputs, outputs, generation)
        self.state[key] = entry
        return ("replace" if prior is not None else "create"), entry

    def _replaces(self, request: ResourceRequest, prior: Entry, inputs: dict[str, Any]) -> bool:
        keys = set(FORCE_NEW.get(request.type, frozenset())) | set(request.replace_on_changes)
        if inputs.get("userDataReplaceOnChange"):
            keys |= set(USER_DATA_KEYS)
        return any(_comparable(prior.inputs.get(k)) != _comparable(inputs.get(k)) for k in keys)

    def _mock_outputs(self, request: ResourceRequest, id_: str | None) -> tuple[str, dict]:
        """What the mock engine answers for this resource (its id kept when given): the program's own
        values (assets, secrets) echoed as they came, plus the computed outputs of the mock answers."""
        outputs = dict(request.inputs)
        for hook in self._hooks:
            extra = hook(request.type, request.name, dict(request.inputs))
            if extra:
                outputs.update(extra)
        mock_id = str(outputs.pop("__id", "") or f"{request.name}-id")
        return (id_ or mock_id), outputs

    # ------------------------------------------------------------------ real dynamic providers
    def _provider(self, props: Mapping[str, Any]) -> Any:
        blob = str(props["__provider"])
        if blob not in self._providers:
            provider = dill.loads(base64.b64decode(blob))
            settings = {"_now": self.now, "_sleep": self.sleep, **self.provider_settings}
            for attribute, value in settings.items():
                if hasattr(provider, attribute) and value is not None:
                    setattr(provider, attribute, value)
            self._providers[blob] = provider
        provider = self._providers[blob]
        if hasattr(provider, "_warn"):
            provider._warn = self._warnings.append
        return provider

    def _to_network(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The registration talks to the fake GitHub API wherever its stack says GitHub is."""
        props = dict(props)
        if self.github_api_url and "api_url" in props:
            props["api_url"] = self.github_api_url
        return props

    def _from_network(self, outs: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        if "api_url" in outs and "api_url" in inputs:
            outs["api_url"] = inputs["api_url"]
        return outs


def _regenerated(value: Any, generation: int) -> Any:
    """A computed string output as a new create would give it (secrets stay secret)."""
    if is_secret(value):
        return rpc.wrap_rpc_secret(_regenerated(reveal(value), generation))
    return f"{value}~{generation}" if isinstance(value, str) and value else value


def _comparable(value: Any) -> Any:
    """Inputs compared as the engine compares property values (numbers as numbers, secrets by value)."""
    value = reveal(value)
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k != "__provider"}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
