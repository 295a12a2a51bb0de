"""Concurrent units of work on one database: no lost update, one default, clean start-ups.

Each thread has its own unit of work (its own connection on SQL backends). SQLite queues
writers with BEGIN IMMEDIATE and its busy timeout; PostgreSQL relies on row locks and the
partial unique index; the fakes on their lock.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agentkeel.adapters.sql.migrate import head_revision
from agentkeel.database import Database
from agentkeel.domain.errors import Conflict
from agentkeel.domain.workspace import DEFAULT_SETTINGS
from agentkeel.services import workspace
from tests import factories
from tests.conftest import POSTGRES_URL, reset_postgres_schema

THREADS = 6


def in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(work, range(count)))


def test_concurrent_renders_lose_no_use(db: Database) -> None:
    with db.unit_of_work() as uow:
        template = factories.template(uow, template_text="plain")
        uow.commit()

    def render_five_times(_: int) -> None:
        for _ in range(5):
            with db.unit_of_work() as uow:
                workspace.render(uow, template.id, {})
                uow.commit()

    in_threads(THREADS, render_five_times)
    with db.unit_of_work() as uow:
        assert uow.templates.get(template.id).usage_count == THREADS * 5


def test_concurrent_default_switches_leave_exactly_one_default(db: Database) -> None:
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        repos = [factories.repository(uow, project, f"r{i}") for i in range(THREADS)]
        uow.commit()

    def make_default(i: int) -> str:
        for _ in range(20):  # a Conflict means another switch won the race: retry
            try:
                with db.unit_of_work() as uow:
                    uow.repositories.set_default(repos[i].id)
                    uow.commit()
                    return "ok"
            except Conflict:
                continue
        return "gave up"

    assert in_threads(THREADS, make_default) == ["ok"] * THREADS
    with db.unit_of_work() as uow:
        defaults = [r for r in uow.repositories.list(project_id=project.id) if r.is_default]
    assert len(defaults) == 1


START_UP_BACKENDS = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    START_UP_BACKENDS.append(pytest.param("postgres", marks=pytest.mark.postgres))


@pytest.mark.parametrize("backend", START_UP_BACKENDS)
def test_concurrent_start_ups_migrate_and_seed_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Four threads open one empty database at once: each finds it at head with the default
    settings (threads take turns in-process; processes through BEGIN IMMEDIATE on SQLite
    and an advisory lock on PostgreSQL)."""
    if backend == "sqlite":
        url = str(tmp_path / "shared.db")
    else:
        assert POSTGRES_URL
        url = POSTGRES_URL
        reset_postgres_schema(request.getfixturevalue("postgres_engine"))

    def start(_: int) -> tuple[str | None, int]:
        with Database.open(url) as db, db.unit_of_work() as uow:
            return db.schema_revision(), uow.settings.count()

    assert in_threads(4, start) == [(head_revision(), len(DEFAULT_SETTINGS))] * 4


def test_on_sqlite_a_reader_does_not_hold_up_a_writer(tmp_path: Path) -> None:
    with Database.open(str(tmp_path / "wal.db")) as db:
        with db.unit_of_work(read_only=True) as reader:
            before = reader.projects.count()  # holds a read snapshot
            with db.unit_of_work() as writer:
                factories.project(writer)
                writer.commit()  # would wait for the reader under BEGIN IMMEDIATE
            assert reader.projects.count() == before  # the snapshot stays consistent
        with db.unit_of_work(read_only=True) as reader:
            assert reader.projects.count() == before + 1
