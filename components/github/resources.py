"""What pulumi-github manages for a stack, through one explicit provider (secret token, Enterprise Server
base URL):

- `runner_group()`: an org stack naming `runnerGroup` gets a `github.ActionsRunnerGroup` (restricted to
  `groupRepositories` when listed); the registrations wait for it.
- `publish_labels()`: the runs-on label list as JSON in an Actions variable (default `ARM64_RUNS_ON`), so a
  workflow writes `runs-on: ${{ fromJSON(vars.ARM64_RUNS_ON) }}`.

pulumi_github is imported only when one of them is needed (a stack without either never loads it).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pulumi

from components.config.model import StackConfig


class GithubResources:
    """The stack's pulumi-github resources, children of `parent` (the Fleet)."""

    def __init__(self, config: StackConfig, github_token: pulumi.Output[str], parent: pulumi.Resource) -> None:
        self.config = config
        self.github_token = github_token
        self.parent = parent

    @functools.cached_property
    def provider(self) -> pulumi.ProviderResource:
        """One explicit provider per stack, so Enterprise Server and the secret token apply to all."""
        import pulumi_github as github

        target = self.config.github
        return github.Provider(
            f"{self.config.stack}-github",
            owner=target.owner,
            token=self.github_token,
            base_url=target.api_url + "/",
            opts=pulumi.ResourceOptions(parent=self.parent),
        )

    def options(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, provider=self.provider)

    def runner_group(self) -> list[pulumi.Resource]:
        """Resources the registrations depend on: the runner group of an org stack, if it names one."""
        target = self.config.github
        if not (target.organization and target.runner_group):
            return []
        import pulumi_github as github

        invoke = pulumi.InvokeOutputOptions(provider=self.provider)
        repo_ids = [
            github.get_repository_output(full_name=f"{target.owner}/{repo}", opts=invoke).repo_id
            for repo in target.group_repositories
        ]
        group = github.ActionsRunnerGroup(
            f"{self.config.stack}-runner-group",
            name=target.runner_group,
            visibility="selected" if repo_ids else "all",
            selected_repository_ids=repo_ids or None,
            allows_public_repositories=False,
            opts=self.options(),
        )
        return [group]

    def publish_labels(self, labels: list[str]) -> Any:
        """The Actions variable holding `labels` as JSON (None when the stack turned it off)."""
        target = self.config.github
        if not target.runs_on_variable:
            return None
        import pulumi_github as github

        value = json.dumps(labels, separators=(",", ":"))
        name = f"{self.config.stack}-runs-on-variable"
        if target.organization:
            return github.ActionsOrganizationVariable(
                name, variable_name=target.runs_on_variable, value=value, visibility="all", opts=self.options()
            )
        return github.ActionsVariable(
            name,
            repository=target.repository or "",
            variable_name=target.runs_on_variable,
            value=value,
            opts=self.options(),
        )
