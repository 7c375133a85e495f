"""GitHub-side resources pulumi-github already manages: the organization runner group and the
Actions variable that tells workflows which labels to ask for.

- `prepare_target`: an org stack naming `runnerGroup` gets a `github.ActionsRunnerGroup` (restricted to
  `groupRepositories` when listed); registrations wait for it.
- `publish_labels`: the runs-on label list as JSON in an Actions variable (default `ARM64_RUNS_ON`), so a
  workflow writes `runs-on: ${{ fromJSON(vars.ARM64_RUNS_ON) }}`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pulumi

if TYPE_CHECKING:
    from components.fleet import DeployContext


def _provider(ctx: DeployContext) -> pulumi.ProviderResource:
    """One explicit provider per stack, so GitHub Enterprise Server and the secret token apply to all."""

    def build() -> pulumi.ProviderResource:
        import pulumi_github as github

        target = ctx.config.github
        return github.Provider(
            f"{ctx.config.stack}-github",
            owner=target.owner,
            token=ctx.github_token,
            base_url=target.api_url + "/",
            opts=pulumi.ResourceOptions(parent=ctx.parent),
        )

    return ctx.shared("github-provider", build)


def prepare_target(ctx: DeployContext) -> list[pulumi.Resource]:
    """Resources the registrations depend on: the runner group of an org stack, if it names one."""
    target = ctx.config.github
    if not (target.organization and target.runner_group):
        return []
    import pulumi_github as github

    opts = pulumi.ResourceOptions(parent=ctx.parent, provider=_provider(ctx))
    repo_ids = [
        github.get_repository_output(
            full_name=f"{target.owner}/{repo}", opts=pulumi.InvokeOutputOptions(provider=_provider(ctx))
        ).repo_id
        for repo in target.group_repositories
    ]
    group = github.ActionsRunnerGroup(
        f"{ctx.config.stack}-runner-group",
        name=target.runner_group,
        visibility="selected" if repo_ids else "all",
        selected_repository_ids=repo_ids or None,
        allows_public_repositories=False,
        opts=opts,
    )
    return [group]


def publish_labels(ctx: DeployContext, labels: list[str]) -> pulumi.Resource | None:
    target = ctx.config.github
    if not target.runs_on_variable:
        return None
    import pulumi_github as github

    opts = pulumi.ResourceOptions(parent=ctx.parent, provider=_provider(ctx))
    value = json.dumps(labels, separators=(",", ":"))
    name = f"{ctx.config.stack}-runs-on-variable"
    if target.organization:
        return github.ActionsOrganizationVariable(
            name, variable_name=target.runs_on_variable, value=value, visibility="all", opts=opts
        )
    return github.ActionsVariable(
        name, repository=target.repository or "", variable_name=target.runs_on_variable, value=value, opts=opts
    )
