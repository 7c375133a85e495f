"""What a `workflow_job` delivery asks for, and which of the stack's pools can run it.

GitHub routes a job to a self-hosted runner that has every label of the job's `runs-on`, comparing
labels case-insensitively; a pool qualifies the same way. A job with no labels is never ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .settings import PoolSpec, WakeSettings


class PayloadError(ValueError):
    """The body is not a `workflow_job` payload this function can read."""


@dataclass(frozen=True)
class Job:
    action: str
    job_id: int
    run_id: int
    labels: tuple[str, ...]
    #: `owner/repo` the job belongs to.
    repository: str


def parse_job(payload: Any) -> Job:
    if not isinstance(payload, Mapping):
        raise PayloadError("the body is not a JSON object")
    job = payload.get("workflow_job")
    if not isinstance(job, Mapping):
        raise PayloadError("the body has no workflow_job object")
    labels = job.get("labels")
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise PayloadError("workflow_job.labels is not a list of strings")
    repository = payload.get("repository") or {}
    return Job(
        action=str(payload.get("action", "")),
        job_id=_integer(job.get("id")),
        run_id=_integer(job.get("run_id")),
        labels=tuple(labels),
        repository=str(repository.get("full_name", "")) if isinstance(repository, Mapping) else "",
    )


def _integer(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def pools_for(job: Job, settings: WakeSettings) -> list[PoolSpec]:
    """The pools, in stack order, whose runners carry every label of the job (none for an unlabeled job)."""
    if not job.labels or not repository_allowed(job.repository, settings):
        return []
    wanted = {label.lower() for label in job.labels}
    return [pool for pool in settings.pools if wanted <= {label.lower() for label in pool.labels}]


def repository_allowed(repository: str, settings: WakeSettings) -> bool:
    """An org runner group restricted to some repositories takes no job from another repository."""
    if not settings.repositories:
        return True
    return repository.lower() in {name.lower() for name in settings.repositories}
