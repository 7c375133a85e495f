"""The real program under Pulumi's mock engine, with realistic invoke answers per cloud."""

from tools.mockengine.engine import (
    MOCK_SECRET,
    PlanResult,
    Registered,
    flatten_config,
    is_secret,
    redact,
    reveal,
    run_stack,
)

__all__ = ["MOCK_SECRET", "PlanResult", "Registered", "flatten_config", "is_secret", "redact", "reveal", "run_stack"]
