"""What makes a task ready, and what makes one wait for a person: query terms declared
once, normalised once (a query that uses them pays only for its own scope's terms)."""

from __future__ import annotations

from agentkeel.domain.planning import Task, TaskStatus
from agentkeel.domain.planning.phases import PhaseStatus
from agentkeel.ports.store import (
    AnyRelated,
    Eq,
    In,
    Ne,
    NoneRelated,
    NotRefersTo,
    Reaches,
    RefersTo,
)
from agentkeel.repositories.queries import normalised
from agentkeel.schema.columns import PHASE_DEPENDENCIES, PHASES, TASK_DEPENDENCIES, TASKS

_T = TaskStatus
_P = PhaseStatus


# A task none of whose dependencies is unfinished.
_NOTHING_UNFINISHED = NoneRelated(
    TASK_DEPENDENCIES.TABLE,
    TASK_DEPENDENCIES.task_id,
    (
        RefersTo(
            TASK_DEPENDENCIES.depends_on_task_id, TASKS.TABLE, (Ne(TASKS.status, _T.COMPLETED),)
        ),
    ),
)


# A task whose phase (if it has one) is neither blocked nor completed...
_PHASE_OPEN = NotRefersTo(
    TASKS.phase_id, PHASES.TABLE, (In(PHASES.status, frozenset({_P.BLOCKED, _P.COMPLETED})),)
)


# ...and waits for no phase that is not completed.
_PHASE_UNHELD = NotRefersTo(
    TASKS.phase_id,
    PHASES.TABLE,
    (
        AnyRelated(
            PHASE_DEPENDENCIES.TABLE,
            PHASE_DEPENDENCIES.phase_id,
            (
                RefersTo(
                    PHASE_DEPENDENCIES.depends_on_phase_id,
                    PHASES.TABLE,
                    (Ne(PHASES.status, _P.COMPLETED),),
                ),
            ),
        ),
    ),
)


# What makes a task ready (docs/lifecycle.md), in one query.
READY = normalised(
    Task,
    Eq(TASKS.status, _T.PENDING),
    _NOTHING_UNFINISHED,
    _PHASE_OPEN,
    _PHASE_UNHELD,
)


# A task that is blocked, or waits (directly or not, through unfinished tasks) for one.
(WAITING_FOR_A_PERSON,) = normalised(
    Task,
    Reaches(
        TASK_DEPENDENCIES.TABLE,
        TASK_DEPENDENCIES.task_id,
        TASK_DEPENDENCIES.depends_on_task_id,
        (Eq(TASKS.status, _T.BLOCKED),),
        (Ne(TASKS.status, _T.COMPLETED),),
    ),
)
