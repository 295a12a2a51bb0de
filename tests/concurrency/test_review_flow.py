"""The review flow under concurrent writers: two units of work completing the last two
unfinished tasks of a phase at once (each finding the other's task unfinished, if nothing
made them take turns) still move the phase on, and the last two phases of an initiative
their initiative, on every backend. SQLite and the fakes have one writer at a time;
PostgreSQL serializes the checks of one phase, and of one initiative."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from agentkeel.database import Database
from agentkeel.domain.planning import (
    ExecutionMode,
    Initiative,
    InitiativeStatus,
    Phase,
    PhaseStatus,
    Task,
    TaskStatus,
)
from agentkeel.domain.workspace import Project
from tests.conftest import BACKENDS, truncate_all, url_of


def complete_together(db: Database, first: str, second: str) -> None:
    """Complete `first` and `second` in two units of work open at once: the second
    completes its task while the first has completed its own and not committed yet."""
    first_wrote = threading.Event()
    errors: list[BaseException] = []

    def other() -> None:
        first_wrote.wait()
        try:
            with db.unit_of_work() as uow:
                uow.tasks.complete(second, "done")
                uow.commit()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    thread = threading.Thread(target=other)
    thread.start()
    with db.unit_of_work() as uow:
        uow.tasks.complete(first, "done")
        first_wrote.set()
        thread.join(0.5)  # on PostgreSQL the other has read what it could by now
        uow.commit()
    thread.join()
    assert errors == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_last_two_tasks_completing_at_once_move_phase_and_initiative_on(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "postgres":
        truncate_all(request.getfixturevalue("postgres_engine"))
    with Database.open(url_of(backend, tmp_path), busy_timeout=10) as db:
        with db.unit_of_work() as uow:
            project = uow.projects.add(Project(name="Keel"))
            initiative = uow.initiatives.add(
                Initiative(project_id=project.id, name="Auth", execution_mode=ExecutionMode.YOLO)
            )
            design, build = (
                uow.phases.add(Phase(initiative_id=initiative.id, name=name))
                for name in ("Design", "Build")
            )
            tasks = {}
            for phase in (design, build):
                for name in ("a", "b"):
                    task = uow.tasks.add(
                        Task(project_id=project.id, phase_id=phase.id, name=f"{phase.name} {name}")
                    )
                    tasks[task.name] = uow.tasks.move_to(task.id, TaskStatus.IN_PROGRESS).id
            uow.commit()
        complete_together(db, tasks["Design a"], tasks["Design b"])
        with db.unit_of_work() as uow:
            assert uow.phases.get(design.id).status is PhaseStatus.COMPLETED
            assert uow.initiatives.get(initiative.id).status is InitiativeStatus.ACTIVE
        # The last task of each phase completing at once: the phases, then the initiative.
        with db.unit_of_work() as uow:
            uow.tasks.complete(tasks["Build a"], "done")
            reopened = uow.tasks.move_to(tasks["Design a"], TaskStatus.PENDING)
            uow.tasks.move_to(reopened.id, TaskStatus.IN_PROGRESS)
            uow.commit()
        complete_together(db, tasks["Design a"], tasks["Build b"])
        with db.unit_of_work() as uow:
            assert uow.phases.get(design.id).status is PhaseStatus.COMPLETED
            assert uow.phases.get(build.id).status is PhaseStatus.COMPLETED
            assert uow.initiatives.get(initiative.id).status is InitiativeStatus.COMPLETED
