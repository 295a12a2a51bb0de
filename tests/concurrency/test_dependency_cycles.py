"""Two units of work that each add one edge, closing a cycle only together: the second to
check sees the first's edge and is refused, on every backend (SQLite and the fakes have one
writer at a time; PostgreSQL serializes the checks of one initiative or project)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import Busy, DependencyCycle, ReadOnly
from agentkeel.domain.planning import Initiative, Phase
from agentkeel.domain.workspace import Project
from agentkeel.schema import table_of
from tests.conftest import BACKENDS, url_of
from tests.factories import store_of


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_edges_closing_a_cycle_together_cannot_both_commit(
    backend: str, tmp_path: Path
) -> None:
    with Database.open(url_of(backend, tmp_path), busy_timeout=10) as db:
        with db.unit_of_work() as uow:
            project = uow.projects.add(Project(name="Keel"))
            initiative = uow.initiatives.add(Initiative(project_id=project.id, name="Auth"))
            a, b, c = (uow.phases.add(Phase(initiative_id=initiative.id, name=n)) for n in "abc")
            uow.phase_dependencies.create(a.id, b.id)
            uow.commit()
        outcome: list[object] = []
        first_wrote = threading.Event()

        def second() -> None:
            first_wrote.wait()
            try:
                with db.unit_of_work() as uow:
                    uow.phase_dependencies.create(c.id, a.id)
                    uow.commit()
                    outcome.append("committed")
            except DependencyCycle as error:
                outcome.append(error.path)

        thread = threading.Thread(target=second)
        thread.start()
        with db.unit_of_work() as uow:
            uow.phase_dependencies.create(b.id, c.id)
            first_wrote.set()
            thread.join(0.5)  # the second waits for this unit of work to end
            assert outcome == []
            uow.commit()
        thread.join()
        assert outcome == [[c.id, a.id, b.id, c.id]]


@pytest.mark.parametrize("backend", BACKENDS)
def test_serializing_on_a_key_waits_for_the_unit_that_holds_it(
    backend: str, tmp_path: Path
) -> None:
    """`RowStore.serialize`: a second writer serializing on the same key waits, and past
    the wait limit gets Busy (on SQLite and the fakes it waits already to write at all);
    a read-only unit of work cannot serialize."""
    projects = table_of(Project)
    with Database.open(url_of(backend, tmp_path), busy_timeout=0.2) as db:
        with db.unit_of_work() as holder:
            store_of(holder).serialize(projects, "project-1")
            store_of(holder).serialize(projects, "project-1")  # held already: no wait
            errors: list[Exception] = []

            def other() -> None:
                try:
                    with db.unit_of_work() as uow:
                        store_of(uow).serialize(projects, "project-1")
                except Busy as error:
                    errors.append(error)

            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
            assert len(errors) == 1
        with db.unit_of_work(read_only=True) as reader, pytest.raises(ReadOnly):
            store_of(reader).serialize(projects, "project-1")
