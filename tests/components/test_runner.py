"""components/runner.py: a runner's instance is replaced exactly when its registration is, on every cloud.

The walk changes every settable key of the stack file — enumerated from the config model's dataclasses, so
a key added later is walked too (and fails here until it has a mutation below) — plans the stack before
and after in the lifecycle simulation (tests/fakes/lifecycle.py: the registration's own provider decides
its replacement, the providers' force-new inputs and `replace_on_changes` decide the instance's), and
asserts for every runner present in both: instance replaced ⇔ registration replaced.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import gzip
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from components import bootstrap
from components.config import model
from tests.fakes.lifecycle import Lifecycle, UpResult
from tools.mockengine.invokes_aws import images

STACK = "walk"
OCID = "ocid1.{kind}.oc1..aaaaaaaa" + "b" * 52
#: Regional resources (subnets, images) carry their region in the OCID.
REGIONAL_OCID = "ocid1.{kind}.oc1.iad.aaaaaaaa" + "b" * 52


def ssh_public_key(seed: int) -> str:
    """A well-formed OpenSSH ed25519 public key line (key type, 32-byte key, comment)."""
    kind = b"ssh-ed25519"
    blob = len(kind).to_bytes(4, "big") + kind + (32).to_bytes(4, "big") + bytes([seed]) * 32
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} walk@example"


Values = dict[str, Any]
Mutation = Callable[[Values], None]


def base_values(organization: bool = False) -> Values:
    """One runner per cloud, everything else at its default."""
    github: dict[str, Any] = {"organization": True, "runnerGroup": "arm64"} if organization else {"repository": "app"}
    return {
        "aws:region": "us-east-1",
        "github:owner": "octo",
        "github:token": {"secure": "v1:credential"},
        "arm64-runners:github": github,
        "arm64-runners:runner": {"version": "2.331.0", "idleAction": "stop"},
        "arm64-runners:pools": [
            {"name": "graviton", "cloud": "aws", "count": 1},
            {"name": "qemu", "cloud": "emulated", "count": 1},
            {"name": "ampere", "cloud": "oci", "count": 1, "ocpus": 2, "memoryGb": 12},
        ],
        "arm64-runners:oci": {"compartmentId": OCID.format(kind="compartment")},
    }


# ---------------------------------------------------------------- the keys, from the model
#: Where each model class's fields live in a stack file.
SECTIONS: dict[type, str] = {
    model.GithubTarget: "arm64-runners:github",
    model.RunnerSettings: "arm64-runners:runner",
    model.AwsSettings: "arm64-runners:aws",
    model.OciSettings: "arm64-runners:oci",
}
POOLS: dict[type, str] = {model.AwsPool: "aws", model.EmulatedPool: "emulated", model.OciPool: "oci"}
#: Model fields that are not stack keys of their section (set elsewhere, or derived).
NOT_KEYS = {
    "StackConfig.project": "the project's name",
    "StackConfig.stack": "the stack's name",
    "StackConfig.stack_file": "where the file is",
    "RunnerSettings.sha256": "derived from runner.version",
    "pool.cloud": "chooses the pool's class, walked per class",
}


def camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


def settable_keys() -> list[str]:
    """Every key a stack file can set, as `section.key` / `pools[cloud].key` / `github:owner`."""
    keys: list[str] = []
    for field in dataclasses.fields(model.StackConfig):
        where = f"StackConfig.{field.name}"
        if where in NOT_KEYS or field.name in ("github", "runner", "pools", "aws", "oci"):
            continue
        keys.append(f"arm64-runners:{camel(field.name)}")
    for cls, section in SECTIONS.items():
        for field in dataclasses.fields(cls):
            if f"{cls.__name__}.{field.name}" in NOT_KEYS:
                continue
            if (cls, field.name) == (model.GithubTarget, "owner"):
                keys.append("github:owner")
            elif (cls, field.name) == (model.AwsSettings, "region"):
                keys.append("aws:region")
            else:
                keys.append(f"{section}.{camel(field.name)}")
    for cls, cloud in POOLS.items():
        keys += [f"pools[{cloud}].{camel(f.name)}" for f in dataclasses.fields(cls) if f.name != "cloud"]
    return keys


# ---------------------------------------------------------------- one valid change per key
def _section(values: Values, name: str) -> dict[str, Any]:
    return values.setdefault(name, {})


def _pool(values: Values, cloud: str) -> dict[str, Any]:
    return next(p for p in values["arm64-runners:pools"] if p["cloud"] == cloud)


def setting(path: str, value: Any) -> Mutation:
    section, key = path.rsplit(".", 1)

    def mutate(values: Values) -> None:
        _section(values, section)[key] = value

    return mutate


def pool_setting(cloud: str, key: str, value: Any) -> Mutation:
    def mutate(values: Values) -> None:
        _pool(values, cloud)[key] = value

    return mutate


def top(key: str, value: Any) -> Mutation:
    def mutate(values: Values) -> None:
        values[key] = value

    return mutate


def to_organization(values: Values) -> None:
    values["arm64-runners:github"] = {"organization": True}


def existing_vpc(values: Values) -> None:
    _section(values, "arm64-runners:aws").update(
        vpcId="vpc-0123456789abcdef0", subnetIds=["subnet-0123456789abcdef0", "subnet-0fedcba987654321f"]
    )


R, A, OCI = "arm64-runners:runner", "arm64-runners:aws", "arm64-runners:oci"
#: key -> (organization base?, mutation). Values are valid for the config model and differ from the base.
MUTATIONS: dict[str, tuple[bool, Mutation]] = {
    "arm64-runners:ttlHours": (False, top("arm64-runners:ttlHours", 48)),
    "arm64-runners:utilisation": (False, top("arm64-runners:utilisation", 0.5)),
    "arm64-runners:reconcile": (False, top("arm64-runners:reconcile", False)),
    "github:owner": (False, top("github:owner", "other-owner")),
    "arm64-runners:github.repository": (False, setting("arm64-runners:github.repository", "other-app")),
    "arm64-runners:github.organization": (False, to_organization),
    "arm64-runners:github.runnerGroup": (True, setting("arm64-runners:github.runnerGroup", "other-group")),
    "arm64-runners:github.groupRepositories": (True, setting("arm64-runners:github.groupRepositories", ["app"])),
    "arm64-runners:github.baseUrl": (False, setting("arm64-runners:github.baseUrl", "https://ghes.example.com")),
    "arm64-runners:github.runsOnVariable": (False, setting("arm64-runners:github.runsOnVariable", "OTHER_VAR")),
    f"{R}.labels": (False, setting(f"{R}.labels", ["gpu"])),
    f"{R}.namePrefix": (False, setting(f"{R}.namePrefix", "arm")),
    f"{R}.ephemeral": (False, setting(f"{R}.ephemeral", True)),
    f"{R}.idleTimeoutMinutes": (False, setting(f"{R}.idleTimeoutMinutes", 45)),
    f"{R}.idleAction": (False, setting(f"{R}.idleAction", "none")),
    f"{R}.disableUpdate": (False, setting(f"{R}.disableUpdate", True)),
    f"{R}.downloadBaseUrl": (False, setting(f"{R}.downloadBaseUrl", "https://mirror.example.com/actions-runner")),
    f"{R}.blockMetadata": (False, setting(f"{R}.blockMetadata", False)),
    f"{R}.dockerPruneThresholdGb": (False, setting(f"{R}.dockerPruneThresholdGb", 20)),
    "aws:region": (False, top("aws:region", "eu-west-1")),
    f"{A}.vpcId": (False, existing_vpc),
    f"{A}.subnetIds": (False, existing_vpc),
    f"{A}.egress": (False, setting(f"{A}.egress", [{"protocol": "tcp", "port": 443}])),
    f"{A}.metadataHopLimit": (False, setting(f"{A}.metadataHopLimit", 2)),
    f"{A}.sshKeyName": (False, setting(f"{A}.sshKeyName", "ops")),
    f"{A}.wakeOnJob": (False, setting(f"{A}.wakeOnJob", False)),
    f"{OCI}.compartmentId": (False, setting(f"{OCI}.compartmentId", OCID.format(kind="compartment").replace("b", "c"))),
    f"{OCI}.tenancyId": (False, setting(f"{OCI}.tenancyId", OCID.format(kind="tenancy"))),
    f"{OCI}.freeTier": (False, setting(f"{OCI}.freeTier", False)),
    f"{OCI}.freeTierLimits": (
        False,
        setting(f"{OCI}.freeTierLimits", {"ocpus": 3, "memoryGb": 18, "blockStorageGb": 150}),
    ),
    f"{OCI}.subnetId": (False, setting(f"{OCI}.subnetId", REGIONAL_OCID.format(kind="subnet"))),
    f"{OCI}.sshCidr": (False, setting(f"{OCI}.sshCidr", "203.0.113.0/24")),
    f"{OCI}.sshPublicKey": (False, setting(f"{OCI}.sshPublicKey", ssh_public_key(7))),
}
for _cloud in ("aws", "emulated", "oci"):
    MUTATIONS.update(
        {
            f"pools[{_cloud}].name": (False, pool_setting(_cloud, "name", "renamed")),
            f"pools[{_cloud}].count": (False, pool_setting(_cloud, "count", 2)),
            f"pools[{_cloud}].diskGb": (False, pool_setting(_cloud, "diskGb", 120)),
            f"pools[{_cloud}].labels": (False, pool_setting(_cloud, "labels", ["big"])),
        }
    )
for _cloud, _type, _ami in (
    ("aws", "t4g.large", "ami-0c0ffee0000a6400"),
    ("emulated", "c7a.xlarge", "ami-0c0ffee0000e8600"),
):
    MUTATIONS.update(
        {
            f"pools[{_cloud}].instanceType": (False, pool_setting(_cloud, "instanceType", _type)),
            f"pools[{_cloud}].spot": (False, pool_setting(_cloud, "spot", True)),
            f"pools[{_cloud}].ami": (False, pool_setting(_cloud, "ami", _ami)),
        }
    )
MUTATIONS.update(
    {
        "pools[oci].ocpus": (False, lambda v: _pool(v, "oci").update(ocpus=1, memoryGb=6)),
        "pools[oci].memoryGb": (False, pool_setting("oci", "memoryGb", 16)),
        "pools[oci].availabilityDomains": (False, pool_setting("oci", "availabilityDomains", [2, 1, 3])),
        "pools[oci].imageId": (False, pool_setting("oci", "imageId", REGIONAL_OCID.format(kind="image"))),
    }
)
#: Keys with a single valid value today: there is nothing to change them to.
NO_OTHER_VALUE = {
    f"{R}.version": "one runner release is pinned (components/runner_releases.py)",
    "pools[oci].shape": "VM.Standard.A1.Flex is the only shape accepted",
}
#: Pinned-by-hand AMIs the mock image catalogue must know, with their architectures.
EXTRA_IMAGES = {"ami-0c0ffee0000a6400": "arm64", "ami-0c0ffee0000e8600": "x86_64"}


# ---------------------------------------------------------------- the walk
@pytest.fixture(scope="module")
def baselines() -> Iterator[dict[bool, Lifecycle]]:
    """A repository stack and an organization stack after their first `pulumi up`."""
    with images(EXTRA_IMAGES):
        built = {}
        for organization in (False, True):
            life = Lifecycle(STACK, base_values(organization))
            life.up()
            built[organization] = life
        yield built


def test_the_walk_covers_every_key_of_the_model() -> None:
    keys = set(settable_keys())
    assert {"arm64-runners:runner.idleTimeoutMinutes", "pools[oci].ocpus", "aws:region"} <= keys
    unwalked = keys - MUTATIONS.keys() - NO_OTHER_VALUE.keys()
    assert not unwalked, f"keys without a mutation in this test (add one to MUTATIONS): {sorted(unwalked)}"
    stale = (MUTATIONS.keys() | NO_OTHER_VALUE.keys()) - keys
    assert not stale, f"mutations for keys the model no longer has: {sorted(stale)}"


def _runners(result: UpResult) -> set[str]:
    return {n.removesuffix("-registration") for n in result.steps if n.endswith("-registration")}


def replaced_apart(before: Lifecycle, mutation: Mutation, organization: bool) -> list[str]:
    """Runners (present before and after) whose instance and registration were not replaced together."""
    life = copy.copy(before)
    life.state = copy.deepcopy(before.state)
    values = copy.deepcopy(base_values(organization))
    mutation(values)
    with images(EXTRA_IMAGES):
        result = life.up(values)
    apart = []
    for runner in _runners(result):
        registration, instance = result.steps[f"{runner}-registration"], result.steps.get(f"{runner}-instance")
        if registration == "create" or instance in (None, "create"):
            continue  # a new runner (count, name): nothing to replace
        if (registration == "replace") != (instance == "replace"):
            apart.append(f"{runner}: registration {registration}, instance {instance}")
    return apart


@pytest.mark.parametrize("key", sorted(MUTATIONS))
def test_instance_replaced_iff_registration_replaced(key: str, baselines: dict[bool, Lifecycle]) -> None:
    organization, mutation = MUTATIONS[key]
    assert replaced_apart(baselines[organization], mutation, organization) == []


def test_the_walk_sees_replacements_and_quiet_changes(baselines: dict[bool, Lifecycle]) -> None:
    """Not vacuous: some keys replace every runner, others none; and a weakened key breaks the rule."""

    def steps(key: str) -> dict[str, str]:
        organization, mutation = MUTATIONS[key]
        life = copy.copy(baselines[organization])
        life.state = copy.deepcopy(baselines[organization].state)
        values = copy.deepcopy(base_values(organization))
        mutation(values)
        with images(EXTRA_IMAGES):
            return life.up(values).changes

    idle = steps(f"{R}.idleTimeoutMinutes")
    assert {n for n, kind in idle.items() if kind == "replace" and re.search(r"-\d+-(registration|instance)$", n)} == {
        f"pool-{pool}-0-{part}" for pool in ("graviton", "qemu", "ampere") for part in ("registration", "instance")
    }
    assert not [n for n, kind in steps("arm64-runners:utilisation").items() if kind == "replace"]


def test_another_zlib_replaces_no_registration(baselines: dict[bool, Lifecycle], monkeypatch) -> None:
    """The archive inside the user-data is gzip'd, and zlib-ng (Fedora's zlib) compresses differently from
    zlib: a plan from such a machine must not mint new tokens. The key hashes the canonical render."""
    monkeypatch.setattr(bootstrap, "_gzip_b64", lambda data: bootstrap._b64(gzip.compress(data, 1, mtime=0)))
    life = copy.copy(baselines[False])
    life.state = copy.deepcopy(baselines[False].state)
    with images(EXTRA_IMAGES):
        changes = life.up(copy.deepcopy(base_values(False))).changes
    assert not [n for n, kind in changes.items() if n.endswith("-registration") and kind != "same"], changes
