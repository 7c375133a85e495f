"""`arm64-runners:aws:WakeFunction` under the mock engine: what `pulumi up` would create for on-demand runners.

Each hardening assertion below is also fed a weakened copy of the recorded plan (like hardening.py's)
and must fail on it.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components import tags
from components.aws import wake
from functions.wake import settings as function_settings
from functions.wake.settings import WakeSettings
from tests.components.aws import hardening as h
from tools.mockengine import PlanResult, Registered, is_secret, reveal, run_stack

STACK = "dev"
FUNCTION = "aws:lambda/function:Function"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
PERMISSION = "aws:lambda/permission:Permission"
REPO_WEBHOOK = "github:index/repositoryWebhook:RepositoryWebhook"
ORG_WEBHOOK = "github:index/organizationWebhook:OrganizationWebhook"
TABLE = "aws:dynamodb/table:Table"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
COMPONENT = "arm64-runners:aws:WakeFunction"
ALLOWED_ACTIONS = {
    "ec2:DescribeInstances",
    "ec2:StartInstances",
    "ssm:PutParameter",
    "ssm:GetParameters",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
}
OCI = {"compartmentId": "ocid1.compartment.oc1..aaaaaaaa4n3qbfy5wr7kvtlhqkz4w2wyrxn6lyjsbbxtnhdgsq3pgcmbfkqa"}


def oci_pool(**overrides: Any) -> dict[str, Any]:
    return {"name": "ampere", "cloud": "oci", "count": 1, "ocpus": 2, "memoryGb": 12, "diskGb": 50, **overrides}


@pytest.fixture(scope="module")
def plan() -> PlanResult:
    result = run_stack(STACK, h.stack(h.aws_pool(), h.emulated_pool()))
    assert result.error is None
    return result


def wake_resources(result: PlanResult) -> list[Registered]:
    components = [r for r in result.resources if r.type == COMPONENT]
    return components + [r for r in result.resources for c in components if r.parent_urn == c.urn]


def one(result: PlanResult, type_: str) -> Registered:
    (found,) = [r for r in wake_resources(result) if r.type == type_]
    return found


def weakened(
    result: PlanResult, pick: Callable[[PlanResult], Registered], change: Callable[[dict], None]
) -> PlanResult:
    copied = copy.deepcopy(result)
    target = pick(copied)
    target.inputs = reveal(target.inputs)
    change(target.inputs)
    return copied


# ------------------------------------------------------------------------------------------ assertions
def policy_of(result: PlanResult) -> list[dict[str, Any]]:
    (policy,) = [r for r in wake_resources(result) if r.type == h.ROLE_POLICY]
    statements = json.loads(policy.plain_inputs["policy"])["Statement"]
    return statements if isinstance(statements, list) else [statements]


def assert_wake_role_least_privilege(result: PlanResult, stack: str) -> None:
    statements = policy_of(result)
    role = one(result, "aws:iam/role:Role")
    principal = json.loads(role.plain_inputs["assumeRolePolicy"])["Statement"][0]["Principal"]
    assert principal == {"Service": "lambda.amazonaws.com"}, "the role is assumable by something else"
    attachments = [r for r in wake_resources(result) if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]
    assert not attachments, f"managed policies attached to the wake role: {[a.name for a in attachments]}"
    credentials = {one_parameter(result, name).outputs["arn"] for name in ("github-token", "webhook-secret")}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = h._as_list(statement["Action"])
        resources = h._as_list(statement["Resource"])
        assert set(actions) <= ALLOWED_ACTIONS, f"actions beyond the wake function's needs: {actions}"
        for action in actions:
            if action == "ec2:StartInstances":
                condition = statement.get("Condition", {}).get("StringEquals", {})
                assert condition == {f"aws:ResourceTag/{tags.TAG_STACK}": stack}, (
                    f"StartInstances not scoped to instances tagged {tags.TAG_STACK}={stack}: {condition}"
                )
                assert all(r.endswith(":instance/*") for r in resources), f"StartInstances on {resources}"
            elif action == "ssm:PutParameter":
                assert len(resources) == 1 and resources[0].endswith(f":parameter/arm64-runners/{stack}/*"), (
                    f"PutParameter beyond the stack's hand-offs: {resources}"
                )
            elif action == "ssm:GetParameters":
                assert set(resources) == credentials, f"reads parameters other than its own: {resources}"
            elif action != "ec2:DescribeInstances":  # the only action without resource-level permissions
                assert "*" not in "".join(r.removesuffix(":*") for r in resources), f"{action} on {resources}"


def one_parameter(result: PlanResult, what: str) -> Registered:
    (found,) = [
        r
        for r in wake_resources(result)
        if r.type == h.PARAMETER and r.plain_inputs["name"] == f"/arm64-runners-wake/{STACK}/{what}"
    ]
    return found


def assert_public_only_through_the_url(result: PlanResult) -> None:
    url = one(result, FUNCTION_URL)
    assert url.plain_inputs["authorizationType"] == "NONE"
    permissions = {p.plain_inputs["action"]: p.plain_inputs for p in wake_resources(result) if p.type == PERMISSION}
    assert set(permissions) == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
    assert permissions["lambda:InvokeFunctionUrl"].get("functionUrlAuthType") == "NONE"
    assert permissions["lambda:InvokeFunction"].get("invokedViaFunctionUrl") is True, (
        "InvokeFunction granted to everyone, not only through the Function URL"
    )


def assert_webhook_workflow_job_only(result: PlanResult, type_: str) -> Registered:
    webhook = one(result, type_)
    assert webhook.plain_inputs["events"] == ["workflow_job"], f"webhook events: {webhook.plain_inputs['events']}"
    configuration = webhook.plain_inputs["configuration"]
    assert configuration["contentType"] == "json" and configuration["insecureSsl"] is False
    assert configuration["url"] == one(result, FUNCTION_URL).outputs["functionUrl"]
    assert webhook.plain_inputs["active"] is True
    return webhook


def assert_never_plain(result: PlanResult, value: str) -> None:
    """`value` appears in recorded inputs and outputs only inside secrets, and in no stack output."""

    def walk(node: Any, where: str) -> None:
        if is_secret(node):
            return
        if isinstance(node, dict):
            for key, item in node.items():
                walk(item, f"{where}.{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{where}[{i}]")
        else:
            assert value not in str(node), f"{where} holds the secret in plaintext"

    for resource in result.resources:
        walk({k: v for k, v in resource.inputs.items() if k != "__provider"}, f"{resource.name}.inputs")
        walk(resource.outputs, f"{resource.name}.outputs")
    walk(result.outputs, "stack outputs")


def webhook_secret_of(result: PlanResult) -> str:
    (secret,) = [r for r in wake_resources(result) if r.name.endswith("-webhook-secret")]
    assert is_secret(secret.outputs["value"])
    return str(reveal(secret.outputs["value"]))


# ------------------------------------------------------------------------------------------ tests
def test_function_is_python_on_arm64_bounded_in_time_and_concurrency(plan: PlanResult) -> None:
    function = one(plan, FUNCTION).plain_inputs
    assert function["architectures"] == ["arm64"]
    major, minor = (int(x) for x in function["runtime"].removeprefix("python").split("."))
    assert (major, minor) >= (3, 12)
    assert function["handler"] == "wake.handler.handler"
    assert 0 < function["timeout"] <= 60 and 0 < function["reservedConcurrentExecutions"] <= 10
    assert function["loggingConfig"]["logGroup"] == one(plan, LOG_GROUP).plain_inputs["name"]
    assert one(plan, LOG_GROUP).plain_inputs["retentionInDays"] == 30


def test_function_settings_name_the_ec2_pools_and_hold_nothing_secret(plan: PlanResult) -> None:
    variables = one(plan, FUNCTION).inputs["environment"]["variables"]
    assert not is_secret(variables[function_settings.ENVIRONMENT_VARIABLE])
    settings = WakeSettings.from_json(variables[function_settings.ENVIRONMENT_VARIABLE])
    assert [(p.name, p.labels, p.count) for p in settings.pools] == [
        ("graviton", ("self-hosted", "linux", "ARM64"), 2),
        ("qemu", ("self-hosted", "linux", "ARM64", "emulated"), 1),
    ]
    assert (settings.stack, settings.scope_path, settings.repositories) == (
        STACK,
        "/repos/tzervas/embeddenator",
        ("tzervas/embeddenator",),
    )
    assert settings.table == one(plan, TABLE).plain_inputs["name"]
    assert one(plan, TABLE).plain_inputs["ttl"] == {"attributeName": "expires_at", "enabled": True}
    assert one(plan, TABLE).plain_inputs["billingMode"] == "PAY_PER_REQUEST"


def test_function_code_is_the_wake_package_and_the_shared_github_client(plan: PlanResult) -> None:
    archive = one(plan, FUNCTION).plain_inputs["code"]["archive"]
    assert {
        "wake/handler.py",
        "wake/waker.py",
        "wake/signature.py",
        "wake/jobs.py",
        "wake/settings.py",
        "components/github/rest.py",
        "components/github/scope.py",
    } <= set(archive)
    shipped = Path(archive["components/github/rest.py"]["file"])
    assert shipped.resolve() == wake.ROOT / "components/github/rest.py" and not shipped.is_absolute()
    assert "import" not in archive["components/github/__init__.py"]["text"]


def test_the_archive_runs_with_the_standard_library_and_boto3_only(tmp_path: Path) -> None:
    for path, source in wake.archive_sources().items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text() if isinstance(source, Path) else source)

    def imported(statement: str) -> set[str]:
        probe = (
            f"import json, sys; sys.path[:0] = [sys.argv[1]]; {statement}; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names))))"
        )
        # -I: no PYTHONPATH, no user site, no working directory: the archive and the interpreter's packages.
        answer = subprocess.run(
            [sys.executable, "-I", "-c", probe, str(tmp_path)], capture_output=True, text=True, cwd=tmp_path
        )
        assert answer.returncode == 0, answer.stderr
        return set(json.loads(answer.stdout))

    added = imported("import wake.handler") - imported("pass") - {"wake", "components"}
    assert added <= {"boto3", "botocore", "jmespath", "dateutil", "urllib3", "six", "s3transfer"}, added
    assert "botocore" in added and "pulumi" not in added


def test_url_is_public_only_through_the_function_url(plan: PlanResult) -> None:
    assert_public_only_through_the_url(plan)
    direct = weakened(
        plan,
        lambda r: next(
            p for p in wake_resources(r) if p.type == PERMISSION and p.plain_inputs["action"] == "lambda:InvokeFunction"
        ),
        lambda i: i.pop("invokedViaFunctionUrl"),
    )
    with pytest.raises(AssertionError, match="not only through the Function URL"):
        assert_public_only_through_the_url(direct)


def test_role_is_least_privilege_and_scoped_by_the_stack_tag(plan: PlanResult) -> None:
    assert_wake_role_least_privilege(plan, STACK)
    statements = policy_of(plan)
    assert {a for s in statements for a in h._as_list(s["Action"])} == ALLOWED_ACTIONS

    def edit_statement(sid: str, change: Callable[[dict], None]) -> PlanResult:
        def apply(inputs: dict) -> None:
            document = json.loads(inputs["policy"])
            change(next(s for s in document["Statement"] if s["Sid"] == sid))
            inputs["policy"] = json.dumps(document)

        return weakened(plan, lambda r: next(p for p in wake_resources(r) if p.type == h.ROLE_POLICY), apply)

    variants = {
        "not scoped to instances tagged": [
            edit_statement("StartThisStacksRunners", lambda s: s.pop("Condition")),
            edit_statement(
                "StartThisStacksRunners",
                lambda s: s["Condition"]["StringEquals"].update({f"aws:ResourceTag/{tags.TAG_STACK}": "prod"}),
            ),
        ],
        "PutParameter beyond": [
            edit_statement("WriteThisStacksHandoffs", lambda s: s.update(Resource="arn:aws:ssm:*:*:parameter/*")),
            edit_statement(
                "WriteThisStacksHandoffs",
                lambda s: s.update(Resource=s["Resource"].replace(f"/arm64-runners/{STACK}/", "/arm64-runners/")),
            ),
        ],
        "reads parameters other than its own": [
            edit_statement("ReadOwnCredentials", lambda s: s.update(Resource="*")),
        ],
        "actions beyond": [edit_statement("Claims", lambda s: s.update(Action="dynamodb:*"))],
    }
    for message, copies in variants.items():
        for copied in copies:
            with pytest.raises(AssertionError, match=message):
                assert_wake_role_least_privilege(copied, STACK)


def test_webhook_is_workflow_job_only_json_with_a_secret(plan: PlanResult) -> None:
    webhook = assert_webhook_workflow_job_only(plan, REPO_WEBHOOK)
    assert webhook.plain_inputs["repository"] == "embeddenator"
    configuration = webhook.inputs["configuration"]
    assert is_secret(configuration) or is_secret(configuration["secret"])
    assert webhook.plain_inputs["configuration"]["secret"] == webhook_secret_of(plan)
    for change in (lambda i: i.update(events=["*"]), lambda i: i.update(events=["workflow_job", "push"])):
        with pytest.raises(AssertionError, match="webhook events"):
            assert_webhook_workflow_job_only(weakened(plan, lambda r: one(r, REPO_WEBHOOK), change), REPO_WEBHOOK)


def test_organization_stacks_get_an_organization_webhook() -> None:
    config = h.stack(h.aws_pool(count=1))
    config["arm64-runners:github"] = {"organization": True, "runnerGroup": "arm64", "groupRepositories": ["app"]}
    result = run_stack(STACK, config)
    assert_webhook_workflow_job_only(result, ORG_WEBHOOK)
    assert not [r for r in wake_resources(result) if r.type == REPO_WEBHOOK]
    variables = one(result, FUNCTION).plain_inputs["environment"]["variables"]
    settings = WakeSettings.from_json(variables[function_settings.ENVIRONMENT_VARIABLE])
    assert (settings.scope_path, settings.runner_group, settings.repositories) == (
        "/orgs/tzervas",
        "arm64",
        ("tzervas/app",),
    )


def test_secrets_are_never_plaintext(plan: PlanResult) -> None:
    secret = webhook_secret_of(plan)
    assert_never_plain(plan, secret)
    token = one_parameter(plan, "github-token")
    assert token.plain_inputs["type"] == "SecureString" and is_secret(token.inputs["value"])
    assert reveal(token.inputs["value"]) == "mock-secret-value"  # the stack's github:token
    assert_never_plain(plan, "mock-secret-value")
    stored = one_parameter(plan, "webhook-secret")
    assert stored.plain_inputs["type"] == "SecureString" and reveal(stored.inputs["value"]) == secret
    assert set(plan.outputs) >= {wake.OUTPUT_URL, wake.OUTPUT_SECRET_PARAMETER}
    assert plan.outputs[wake.OUTPUT_URL].startswith("https://") and wake.OUTPUT_URL not in plan.secret_outputs

    leaked = weakened(plan, lambda r: one_parameter(r, "webhook-secret"), lambda i: None)  # revealed inputs
    with pytest.raises(AssertionError, match="holds the secret in plaintext"):
        assert_never_plain(leaked, secret)


@pytest.mark.parametrize(
    ("why", "config"),
    [
        ("OCI-only stack", {**h.stack(), "arm64-runners:pools": [oci_pool()], "arm64-runners:oci": OCI}),
        ("wakeOnJob off", h.stack(h.aws_pool(), aws={"wakeOnJob": False})),
        ("idle hosts never stop", h.stack(h.aws_pool(), runner={"idleAction": "none"})),
        ("idle hosts terminate", h.stack(h.aws_pool(), runner={"idleAction": "terminate"})),
        ("no runners", h.stack(h.aws_pool(count=0))),
    ],
)
def test_no_wake_resources_when_nothing_can_be_woken(why: str, config: dict[str, Any]) -> None:
    result = run_stack(STACK, config)
    assert result.error is None, why
    assert wake_resources(result) == [], why
    assert not any(r.type in (FUNCTION, REPO_WEBHOOK, TABLE) for r in result.resources), why
    assert wake.OUTPUT_URL not in result.outputs


def test_mixed_stack_wakes_its_ec2_pools_and_the_oci_pool_is_warned_about() -> None:
    config = h.stack(h.aws_pool(count=1), oci_pool())
    config["arm64-runners:oci"] = OCI
    result = run_stack(STACK, config)
    assert len([r for r in result.resources if r.type == COMPONENT]) == 1
    variables = one(result, FUNCTION).plain_inputs["environment"]["variables"]
    pools = WakeSettings.from_json(variables[function_settings.ENVIRONMENT_VARIABLE]).pools
    assert [p.name for p in pools] == ["graviton"]
    (warning,) = [w for w in result.warnings if "idleAction 'stop'" in w]
    assert "pool 'ampere'" in warning and "stays offline until started" in warning


def test_a_wrong_wake_setting_is_refused_with_the_key_path() -> None:
    result = run_stack(STACK, h.stack(h.aws_pool(), aws={"wakeOnJob": "yes"}))
    assert result.error is not None and not result.resources[1:]
    assert "arm64-runners:aws.wakeOnJob" in str(result.error)


def test_function_settings_too_large_for_lambda_fail_the_preview() -> None:
    labels = [f"label-{i:03d}-{'x' * 40}" for i in range(90)]
    with pytest.raises(Exception, match=r"the wake function's settings are .* bytes; Lambda accepts 4096"):
        run_stack(STACK, h.stack(h.aws_pool(labels=labels)))


def test_tag_names_the_function_filters_on_are_the_projects() -> None:
    assert function_settings.TAG_STACK == tags.TAG_STACK
    assert function_settings.TAG_POOL == tags.TAG_POOL
