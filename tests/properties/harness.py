"""What every agreement test shares: backends that start out equal, and a way to run one
operation on each of them and compare what happened."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any
from unittest.mock import patch

from pydantic import BaseModel
from sqlalchemy import Engine

from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.database import Database
from agentkeel.domain import ids
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import DomainError
from agentkeel.domain.workspace import DEFAULT_SETTINGS, Setting
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import metadata, table_of
from tests.conftest import truncate_all
from tests.factories import store_of

Outcome = tuple[Any, ...]


def normalise(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    return value


def outcome_of(operation: Callable[[UnitOfWork], Any], uow: UnitOfWork) -> Outcome:
    """("ok", the result) or ("error", its type, its message) for a domain error; any other
    exception propagates and fails the test."""
    try:
        return ("ok", normalise(operation(uow)))
    except DomainError as error:
        return ("error", type(error).__name__, str(error))


def assert_agree(outcomes: dict[str, Outcome]) -> Outcome:
    expected = outcomes["memory"]
    for name, outcome in outcomes.items():
        assert outcome == expected, f"{name} disagrees with memory:\n{outcome}\n{expected}"
    return expected


def dump(uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table. Audit entries get their ids inside the library (at random),
    so they are compared without them, in time order. The event log is compared as its
    events in sequence order (the numbers may skip differently, and its first entries
    were committed on each database's own clock)."""
    store = store_of(uow)
    contents = {
        table.name: store.select(table)
        for table in metadata.sorted_tables
        if table.name != "event_log"
    }
    contents["event_log"] = [
        {"event_type": logged.event_type, "payload": logged.payload}
        for logged in uow.event_log.read_after(0, 10_000)
    ]
    contents["audit_logs"] = sorted(
        ({k: v for k, v in row.items() if k != "id"} for row in contents["audit_logs"]),
        key=lambda row: (row["timestamp"], row["event_type"], str(row["entity_id"])),
    )
    return contents


class EqualBackends:
    """Opens memory, SQLite (a copy of the migrated template) and, when configured,
    PostgreSQL, each emptied and given the same default settings (same ids) on its own
    fake clock, so that every later row must come out equal."""

    def __init__(self, sqlite_template: Path, postgres: Engine | None, workdir: Path) -> None:
        self._template, self._postgres, self._workdir = sqlite_template, postgres, workdir
        self._numbers = count()

    def open(self) -> dict[str, Database]:
        dbs = {"memory": Database.open("memory://", seed=False)}
        path = self._workdir / f"{next(self._numbers)}.db"
        shutil.copy(self._template, path)
        dbs["sqlite"] = Database(engine=create_database_engine(str(path)))
        if self._postgres is not None:
            truncate_all(self._postgres)
            dbs["postgres"] = Database(engine=self._postgres)
        seeded = [definition.new_setting() for definition in DEFAULT_SETTINGS]
        for db in dbs.values():
            with db.unit_of_work() as uow:
                # Default settings cannot be deleted through the port: clear them below it.
                store_of(uow).delete(table_of(Setting), [])
                uow.audit_logs.purge_before(uow.clock.now() + timedelta(days=1))
                uow.commit()
            db.clock = FakeClock()
            with db.unit_of_work() as uow:
                for setting in seeded:
                    uow.settings.add(setting)
                uow.commit()
        return dbs

    @staticmethod
    def close(dbs: dict[str, Database]) -> None:
        for name, db in dbs.items():
            if name != "postgres":  # the session's engine outlives the test
                db.close()


@contextmanager
def workdir() -> Iterator[Path]:
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="agreement-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def library_ids(prefix: str) -> Iterator[None]:
    """Ids that the library makes itself (a customized profile's copies, the conversations
    `ask` builds, audit entries) drawn
    from `<prefix>-1`, `<prefix>-2`, ...: backends that run the same operation under the same
    prefix make the same ids, so their results and contents can be compared whole."""
    numbers = count(1)
    with patch.object(ids, "generate", lambda size: f"{prefix}-{next(numbers)}"):
        yield
