"""Run a small Pulumi program under mocks (fresh event loop, fresh mocks) and keep what it registered.

For unit tests of one component or dynamic resource; whole stacks go through tools.mockengine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await

from tools.mockengine import invokes_github


class MockRun:
    """What a program registered under Pulumi mocks, and its outputs resolved (secret flag kept)."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.values: dict[str, Any] = {}
        self.secret: dict[str, bool] = {}
        #: Resource name -> the RegisterResource request (options such as deleteBeforeReplace).
        self.requests: dict[str, Any] = {}


def run_under_mocks(build: Callable[[], dict[str, Any]], *, preview: bool = False) -> MockRun:
    """Run `build()` (returns {name: Output}) under fresh mocks and a fresh event loop.

    Dynamic resources answer their inputs plus what tools.mockengine.invokes_github computes, like
    the project's mock engine does.
    """
    run = MockRun()

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            run.resources.append(args)
            outputs = dict(args.inputs)
            outputs.update(invokes_github.dynamic_outputs(dict(args.inputs)))
            return f"{args.name}-id", outputs

        def call(self, args):
            return {}

    pulumi.runtime.settings.reset_options()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    class Monitor(pulumi.runtime.mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:
            run.requests[request.name] = request
            return super().RegisterResource(request)

    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="arm64-runners", stack="dev", preview=preview, monitor=Monitor(mocks))
    try:
        outputs: dict = {}

        @pulumi.runtime.test
        def program():
            outputs.update(build())
            return pulumi.Output.all(*outputs.values())

        program()
        for name, output in outputs.items():
            run.values[name] = _sync_await(output.future())
            run.secret[name] = _sync_await(output.is_secret())
        return run
    finally:
        pulumi.runtime.settings.reset_options()
        asyncio.set_event_loop(None)
        loop.close()
