"""Backlog rules that span aggregates: checkpoints of a project's backlog and tasks."""

from __future__ import annotations

from agentkeel.domain.backlog import Checkpoint
from agentkeel.ports.unit_of_work import UnitOfWork


def create_checkpoint(
    uow: UnitOfWork,
    project_id: str,
    name: str | None = None,
    reason: str | None = None,
    git_commit: str | None = None,
    *,
    idempotency_key: str | None = None,
) -> Checkpoint:
    """Snapshot the project's backlog and tasks (see `Checkpoints.snapshot`) as a new
    checkpoint, with the git commit it matches. With an `idempotency_key`, a repeated call
    returns the first call's checkpoint (not a newer snapshot). Raises NotFound (the
    project), InvalidValue
    (a name, reason or commit out of its rules, or a project too big for one snapshot:
    `state` is at most 1,000,000 characters of JSON)."""
    if idempotency_key is not None:
        first = uow.checkpoints.created_under(idempotency_key)
        if first is not None:
            return first
    state = uow.checkpoints.snapshot(project_id)
    return uow.checkpoints.add(
        Checkpoint(
            project_id=project_id,
            name=name,
            reason=reason,
            git_commit=git_commit,
            state=state,
        ),
        idempotency_key=idempotency_key,
    )
