"""`arm64-runners:aws:WakeFunction`: GitHub's `workflow_job` webhook starts a stopped EC2 runner.

Built once per stack by `deploy_wake(ctx)` when some `aws`/`emulated` pool has runners, their idle hosts
stop (`runner.idleAction: stop`) and `aws.wakeOnJob` is on (the default). OCI pools are never woken.

Creates (children of the component, AWS ones tagged with the stack):
- `{name}-webhook-secret`      WebhookSecret (dynamic): 32 random bytes, only ever a Pulumi secret
- `{name}-github-token`        SSM SecureString: the stack's GitHub credential, for re-registering runners
- `{name}-secret`              SSM SecureString: the webhook secret, for checking signatures
- `{name}-claims`              DynamoDB table (on demand, TTL): deliveries handled, instances being started
- `{name}-logs`                CloudWatch log group, 30 days
- `{name}-role`, `{name}-policy`  the function's role: DescribeInstances; StartInstances only on
                               instances tagged with this stack; PutParameter only under
                               /arm64-runners/<stack>/; GetParameters only on its two parameters;
                               PutItem/DeleteItem on its table; its own log group
- `{name}-function`            Lambda python3.13 arm64, reserved concurrency and a timeout; code =
                               functions/wake (as `wake/`) + components/github/{rest,scope}.py
- `{name}-url` (+ 2 permissions)  Function URL, auth NONE: GitHub cannot sign AWS requests, so the
                               function checks X-Hub-Signature-256 itself before reading anything
- `{name}-webhook`             github RepositoryWebhook / OrganizationWebhook: `workflow_job` only, JSON
Output: `url` (the Function URL; never the secret).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pulumi
import pulumi_aws as aws

from components.aws.wake_secret import WebhookSecret
from components.config.model import AwsPool, EmulatedPool, GithubTarget, StackConfig
from components.tags import TAG_STACK, stack_tags
from functions.wake.settings import ENVIRONMENT_VARIABLE, PoolSpec, WakeSettings

if TYPE_CHECKING:
    from components.fleet import DeployContext

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_DIR = ROOT / "functions" / "wake"
#: The project's stdlib GitHub client, shipped in the archive under its own import path.
SHARED_MODULES = ("components/github/rest.py", "components/github/scope.py")
#: Archive files replacing the real package __init__ files, which import pulumi (absent in Lambda).
PACKAGE_STUBS = {
    "components/__init__.py": '"""Only the stdlib GitHub client, for the wake function."""\n',
    "components/github/__init__.py": '"""rest.py and scope.py only: the stdlib GitHub client."""\n',
}
HANDLER = "wake.handler.handler"
RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
MEMORY_MB = 256
#: A delivery does a few AWS calls and at most two GitHub calls, each bounded (handler.App.github), and
#: may wait up to WakeSettings.stopping_wait_seconds (30 s) for a runner that is powering off.
TIMEOUT_SECONDS = 60
#: Bounds what a flood of requests can cost (each unsigned one is refused within milliseconds).
RESERVED_CONCURRENCY = 5
LOG_RETENTION_DAYS = 30
#: Lambda refuses environments over 4 KB (keys and values together).
ENVIRONMENT_MAX_BYTES = 4096
WEBHOOK_EVENTS = ["workflow_job"]
DEPLOY_KEY = "aws-wake"
OUTPUT_URL = "wakeUrl"
OUTPUT_SECRET_PARAMETER = "wakeSecretParameter"


def wake_pools(config: StackConfig) -> list[AwsPool | EmulatedPool]:
    """The pools a wake function serves; none means the stack gets no wake resources."""
    if not config.aws.wake_on_job or config.runner.idle_action != "stop":
        return []
    return [p for p in config.pools if isinstance(p, (AwsPool, EmulatedPool)) and p.count > 0]


def credential_parameter(stack: str, what: str) -> str:
    return f"/arm64-runners-wake/{stack}/{what}"


def table_name(stack: str) -> str:
    return f"arm64-runners-wake-{stack}"


def allowed_repositories(target: GithubTarget) -> tuple[str, ...]:
    """`owner/repo` names whose jobs the runners can take; () = every repository of the organization."""
    if not target.organization:
        return (f"{target.owner}/{target.repository}",)
    if target.runner_group and target.group_repositories:
        return tuple(f"{target.owner}/{repo}" for repo in target.group_repositories)
    return ()


def wake_settings(config: StackConfig, pools: Sequence[AwsPool | EmulatedPool]) -> WakeSettings:
    return WakeSettings(
        stack=config.stack,
        api_url=config.github.api_url,
        scope_path=config.github.scope_path,
        ephemeral=config.runner.ephemeral,
        token_parameter=credential_parameter(config.stack, "github-token"),
        secret_parameter=credential_parameter(config.stack, "webhook-secret"),
        table=table_name(config.stack),
        pools=tuple(PoolSpec(p.name, config.runner_labels(p), p.count) for p in pools),
        runner_group=config.github.runner_group,
        repositories=allowed_repositories(config.github),
    )


def environment(settings: WakeSettings) -> dict[str, str]:
    variables = {ENVIRONMENT_VARIABLE: settings.to_json()}
    size = sum(len(k) + len(v) for k, v in variables.items())
    if size > ENVIRONMENT_MAX_BYTES:
        raise ValueError(
            f"the wake function's settings are {size} bytes; Lambda accepts {ENVIRONMENT_MAX_BYTES}: use fewer "
            "pools or labels, or set arm64-runners:aws.wakeOnJob: false"
        )
    return variables


def archive_sources() -> dict[str, Path | str]:
    """Archive path -> source file (or stub text): the function package and the shared GitHub client."""
    files: dict[str, Path | str] = {f"wake/{p.name}": p for p in sorted(FUNCTION_DIR.glob("*.py"))}
    files.update(PACKAGE_STUBS)
    files.update({module: ROOT / module for module in SHARED_MODULES})
    return files


def function_archive() -> pulumi.AssetArchive:
    return pulumi.AssetArchive(
        {
            # Relative to the working directory (the project, when Pulumi runs it): plans show no local paths.
            path: pulumi.FileAsset(os.path.relpath(source)) if isinstance(source, Path) else pulumi.StringAsset(source)
            for path, source in archive_sources().items()
        }
    )


def assume_role_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )


@dataclass(frozen=True)
class PolicyScope:
    stack: str
    partition: str
    region: str
    account: str
    credential_arns: tuple[str, ...]
    table_arn: str
    log_group_arn: str


def function_policy(scope: PolicyScope) -> str:
    """Least privilege for the wake function (each statement is checked by tests/components/aws/test_wake.py)."""
    prefix = f"arn:{scope.partition}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                # DescribeInstances supports no resource-level permissions.
                {"Sid": "FindStoppedRunners", "Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"},
                {
                    "Sid": "StartThisStacksRunners",
                    "Effect": "Allow",
                    "Action": "ec2:StartInstances",
                    "Resource": f"{prefix}:ec2:{scope.region}:{scope.account}:instance/*",
                    "Condition": {"StringEquals": {f"aws:ResourceTag/{TAG_STACK}": scope.stack}},
                },
                {
                    "Sid": "WriteThisStacksHandoffs",
                    "Effect": "Allow",
                    "Action": "ssm:PutParameter",
                    "Resource": f"{prefix}:ssm:{scope.region}:{scope.account}:parameter/arm64-runners/{scope.stack}/*",
                },
                {
                    "Sid": "ReadOwnCredentials",
                    "Effect": "Allow",
                    "Action": "ssm:GetParameters",
                    "Resource": list(scope.credential_arns),
                },
                {
                    "Sid": "Claims",
                    "Effect": "Allow",
                    "Action": ["dynamodb:PutItem", "dynamodb:DeleteItem"],
                    "Resource": scope.table_arn,
                },
                {
                    "Sid": "OwnLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{scope.log_group_arn}:*",
                },
            ],
        }
    )


@dataclass
class WakeFunctionArgs:
    config: StackConfig
    pools: Sequence[AwsPool | EmulatedPool]
    #: The stack's GitHub credential (secret).
    github_token: pulumi.Output[str]
    #: The stack's pulumi-github provider (owner, token, Enterprise Server URL).
    github_provider: pulumi.ProviderResource


class WakeFunction(pulumi.ComponentResource):
    url: pulumi.Output[str]
    secret_parameter: str

    def __init__(self, name: str, args: WakeFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("arm64-runners:aws:WakeFunction", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        tags = stack_tags(config.stack)
        settings = wake_settings(config, args.pools)
        variables = environment(settings)
        self.secret_parameter = settings.secret_parameter

        secret = WebhookSecret(f"{name}-webhook-secret", child)
        token = self._parameter(f"{name}-github-token", settings.token_parameter, args.github_token, tags, child)
        stored_secret = self._parameter(f"{name}-secret", settings.secret_parameter, secret.value, tags, child)
        table = aws.dynamodb.Table(
            f"{name}-claims",
            name=settings.table,
            billing_mode="PAY_PER_REQUEST",
            hash_key="pk",
            attributes=[aws.dynamodb.TableAttributeArgs(name="pk", type="S")],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name="expires_at", enabled=True),
            tags=tags,
            opts=child,
        )
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/arm64-runners/{config.stack}/wake",
            retention_in_days=LOG_RETENTION_DAYS,
            tags=tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=assume_role_policy(),
            description=f"arm64-runners {config.stack}: wake function (starts this stack's stopped runners)",
            tags=tags,
            opts=child,
        )
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke).partition
        region = config.aws.region or aws.get_region_output(opts=invoke).region
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(
                partition, region, identity.account_id, token.arn, stored_secret.arn, table.arn, logs.arn
            ).apply(lambda v: function_policy(PolicyScope(config.stack, v[0], v[1], v[2], (v[3], v[4]), v[5], v[6]))),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-function",
            description=f"arm64-runners {config.stack}: a queued workflow_job starts a stopped runner",
            role=role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=HANDLER,
            code=function_archive(),
            memory_size=MEMORY_MB,
            timeout=TIMEOUT_SECONDS,
            reserved_concurrent_executions=RESERVED_CONCURRENCY,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=logs.name),
            tags=tags,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[policy, logs])),
        )
        function_url = aws.lambda_.FunctionUrl(
            f"{name}-url", function_name=function.name, authorization_type="NONE", opts=child
        )
        public = [
            aws.lambda_.Permission(
                f"{name}-url-permission",
                function=function.name,
                action="lambda:InvokeFunctionUrl",
                principal="*",
                function_url_auth_type="NONE",
                opts=child,
            ),
            # Since October 2025 a public URL also needs InvokeFunction, granted only through the URL.
            aws.lambda_.Permission(
                f"{name}-invoke-permission",
                function=function.name,
                action="lambda:InvokeFunction",
                principal="*",
                invoked_via_function_url=True,
                opts=child,
            ),
        ]
        self.url = function_url.function_url
        self.webhook = self._webhook(
            f"{name}-webhook",
            config.github,
            self.url,
            secret.value,
            pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(provider=args.github_provider, depends_on=[*public, token, stored_secret])
            ),
        )
        self.register_outputs({"url": self.url, "secretParameter": self.secret_parameter})

    @staticmethod
    def _parameter(
        name: str, path: str, value: pulumi.Output[str], tags: dict[str, str], opts: pulumi.ResourceOptions
    ) -> aws.ssm.Parameter:
        return aws.ssm.Parameter(
            name,
            name=path,
            type="SecureString",
            value=pulumi.Output.secret(cast(Any, value)),
            description="arm64-runners: read by the stack's wake function only",
            tags=tags,
            opts=opts,
        )

    @staticmethod
    def _webhook(
        name: str,
        target: GithubTarget,
        url: pulumi.Output[str],
        secret: pulumi.Output[str],
        opts: pulumi.ResourceOptions,
    ) -> pulumi.CustomResource:
        import pulumi_github as github

        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["configuration"]))
        settings: dict[str, Any] = {
            "url": url,
            "content_type": "json",
            "insecure_ssl": False,
            "secret": pulumi.Output.secret(secret),
        }
        if target.organization:
            return github.OrganizationWebhook(
                name,
                events=WEBHOOK_EVENTS,
                active=True,
                configuration=github.OrganizationWebhookConfigurationArgs(**settings),
                opts=opts,
            )
        return github.RepositoryWebhook(
            name,
            repository=target.repository or "",
            events=WEBHOOK_EVENTS,
            active=True,
            configuration=github.RepositoryWebhookConfigurationArgs(**settings),
            opts=opts,
        )


def deploy_wake(ctx: DeployContext) -> WakeFunction | None:
    """The stack's wake function, built on the first call (aws and emulated deploys both call it)."""
    pools = wake_pools(ctx.config)
    if not pools:
        return None

    def build() -> WakeFunction:
        wake = WakeFunction(
            "wake",
            WakeFunctionArgs(ctx.config, pools, ctx.github_token, ctx.github.provider),
            pulumi.ResourceOptions(parent=ctx.parent),
        )
        ctx.outputs[OUTPUT_URL] = wake.url
        ctx.outputs[OUTPUT_SECRET_PARAMETER] = wake.secret_parameter
        return wake

    wake: WakeFunction = ctx.shared(DEPLOY_KEY, build)
    return wake
