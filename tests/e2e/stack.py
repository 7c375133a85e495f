"""The runner stack the e2e scenarios boot: real `components.bootstrap` rendering, pointed at
the harness server (http hand-off, stand-in runner tarball) and with the package step off.

INSTALL_PACKAGES=0 (`BootstrapSpec.install_packages=False`) is the knob: the guest is offline,
so Docker cannot be installed; the image carries git, curl, jq, iptables, sudo, tar, gzip.
"""

from __future__ import annotations

from components.bootstrap import BootstrapSpec, TokenHandoff, render_user_data
from components.config.model import BASE_LABELS, IdleAction, RunnerSettings
from components.runner_releases import DEFAULT_VERSION
from tests.fixtures.fake_runner import build_tarball

from .scenarios import Context, TarballBuilder

RUNNER_VERSION = DEFAULT_VERSION
RUNNER_NAME = "arm64-e2e-qemu-0"
REGISTRATION_URL = "https://github.com/e2e-owner/e2e-repo"
LABELS = (*BASE_LABELS, "e2e", "large")
RUNNER_GROUP = "e2e-group"


def tarball_builder() -> TarballBuilder:
    return build_tarball


def spec(
    context: Context,
    *,
    idle_timeout_minutes: int = 30,
    idle_action: IdleAction = "stop",
) -> BootstrapSpec:
    runner = RunnerSettings(
        version=context.runner_version,
        sha256=context.runner_sha256,
        labels=LABELS[len(BASE_LABELS) :],
        name_prefix="arm64",
        idle_timeout_minutes=idle_timeout_minutes,
        idle_action=idle_action,
        disable_update=True,
        download_base_url=context.download_base_url,
    )
    return BootstrapSpec(
        runner_name=RUNNER_NAME,
        registration_url=REGISTRATION_URL,
        labels=LABELS,
        runner=runner,
        runner_group=RUNNER_GROUP,
        handoff=TokenHandoff("http.sh", {"TOKEN_URL": context.token_url}),
        install_packages=False,
    )


def bootstrap_user_data(context: Context) -> str:
    return render_user_data(spec(context))


def idle_user_data(context: Context) -> str:
    """Idle watchdog at its smallest setting: one minute without a job powers the guest off."""
    return render_user_data(spec(context, idle_timeout_minutes=1, idle_action="stop"))


def empty_user_data(context: Context) -> str:
    """The baseline boot for the benchmark: cloud-init with nothing to do."""
    return "#cloud-config\n{}\n"
