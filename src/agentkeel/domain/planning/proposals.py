"""Proposals (Codewalkers): an agent's suggested change to a page, phase or task."""

from __future__ import annotations

from enum import StrEnum

from agentkeel.domain.entity import Timestamped
from agentkeel.domain.fields import Description, Id, Integer, Json, LongText, Name


class ProposalTarget(StrEnum):
    PAGE = "page"
    PHASE = "phase"
    TASK = "task"


class ProposalStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"


_S = ProposalStatus


class Proposal(Timestamped):
    """What an agent proposes: a new page, phase or task (`target_id` null) or a change to an
    existing one (no foreign key: the target may go; its pending proposals are dismissed).
    Pending until accepted (applied to the target) or dismissed."""

    transitions = {
        "status": {
            _S.PENDING: frozenset({_S.ACCEPTED, _S.DISMISSED}),
            _S.ACCEPTED: frozenset(),
            _S.DISMISSED: frozenset({_S.PENDING}),
        }
    }

    agent_id: Id
    initiative_id: Id
    target_type: ProposalTarget
    target_id: Id | None = None
    title: Name
    summary: Description | None = None
    content: LongText | None = None
    # CW's `metadata`: the name is SQLModel's own attribute (the tables' MetaData).
    details: Json | None = None
    status: ProposalStatus = ProposalStatus.PENDING
    sort_order: Integer = 0
