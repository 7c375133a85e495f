from __future__ import annotations

from collections.abc import Callable

import pytest

from functions.wake.settings import PoolSpec, WakeSettings
from tests.functions.wake.world import SCOPE, SECRET_PARAMETER, STACK, TABLE, TOKEN_PARAMETER


@pytest.fixture
def settings_for() -> Callable[..., WakeSettings]:
    def build(*pools: PoolSpec, **overrides) -> WakeSettings:
        base = {
            "stack": STACK,
            "api_url": "http://127.0.0.1:9",
            "scope_path": SCOPE,
            "ephemeral": False,
            "token_parameter": TOKEN_PARAMETER,
            "secret_parameter": SECRET_PARAMETER,
            "table": TABLE,
            "pools": pools,
        }
        base.update(overrides)
        return WakeSettings(**base)

    return build
