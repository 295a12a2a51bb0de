"""Errands (Codewalkers): small pieces of work on a branch of a repository."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agentkeel.domain.entity import Timestamped
from agentkeel.domain.fields import BranchName, Description, Id


class ErrandStatus(StrEnum):
    ACTIVE = "active"
    PENDING_REVIEW = "pending_review"
    CONFLICT = "conflict"
    MERGED = "merged"
    ABANDONED = "abandoned"


_S = ErrandStatus


class Errand(Timestamped):
    """An errand on `branch` of a repository (CW's `projectId`, a git repository), optionally
    assigned to an agent. The caller may supply its id (CW).

    Status: active <-> pending_review; active | pending_review -> conflict ->
    active | pending_review; pending_review -> merged; anything not final -> abandoned;
    merged and abandoned are final.
    """

    transitions = {
        "status": {
            _S.ACTIVE: frozenset({_S.PENDING_REVIEW, _S.CONFLICT, _S.ABANDONED}),
            _S.PENDING_REVIEW: frozenset({_S.ACTIVE, _S.CONFLICT, _S.MERGED, _S.ABANDONED}),
            _S.CONFLICT: frozenset({_S.ACTIVE, _S.PENDING_REVIEW, _S.ABANDONED}),
            _S.MERGED: frozenset(),
            _S.ABANDONED: frozenset(),
        }
    }

    repository_id: Id
    agent_id: Id | None = None
    description: Description
    branch: BranchName
    base_branch: BranchName = "main"
    status: ErrandStatus = ErrandStatus.ACTIVE


@dataclass(frozen=True)
class ErrandWithAlias:
    """An errand with the alias (`agents.name`) of its agent, None when unassigned (CW
    `ErrandWithAlias`)."""

    errand: Errand
    agent_alias: str | None
