"""What every agreement test shares: backends that start out equal, and a way to run one
operation on each of them and compare what happened."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, multiple, run_state_machine_as_test
from pydantic import BaseModel
from sqlalchemy import Engine

from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.database import Database
from agentkeel.domain import ids
from agentkeel.domain.audit import AuditEntry
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import DomainError
from agentkeel.domain.workspace import DEFAULT_SETTINGS, Setting
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import metadata, table_of
from tests.conftest import POSTGRES_URL
from tests.factories import store_of

Outcome = tuple[Any, ...]
Row = dict[str, Any]
Contents = dict[str, list[Row]]
T = TypeVar("T")


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


@dataclass(frozen=True)
class Reordered:
    """How a table's rows are compared when a backend fills a column its own way (ids made
    at random inside the library): without the `ignore`d columns, in the order `key`
    gives."""

    key: Callable[[Row], Any]
    ignore: frozenset[str] = frozenset({"id"})

    def apply(self, rows: list[Row]) -> list[Row]:
        return sorted(
            ({k: v for k, v in row.items() if k not in self.ignore} for row in rows),
            key=self.key,
        )


AUDIT_ENTRIES = Reordered(
    key=lambda row: (row["timestamp"], row["event_type"], str(row["entity_id"]))
)


def dump(uow: UnitOfWork, tables: Collection[str] | None = None) -> Contents:
    """Every row of every table (or of `tables`, `audit_logs` always among them). Audit
    entries get their ids inside the library (at random), so they are compared without
    them, in time order. The event log is compared as its events in sequence order (the
    numbers may skip differently, and its first entries were committed on each database's
    own clock)."""
    store = store_of(uow)
    contents = {
        table.name: store.select(table)
        for table in metadata.sorted_tables
        if (tables is None or table.name in tables or table.name == "audit_logs")
        and table.name != "event_log"
    }
    if tables is None or "event_log" in tables:
        contents["event_log"] = [
            {"event_type": logged.event_type, "payload": logged.payload}
            for logged in uow.event_log.read_after(0, 10_000)
        ]
    contents["audit_logs"] = AUDIT_ENTRIES.apply(contents["audit_logs"])
    return contents


def assert_same_contents(dumps: Mapping[str, Contents]) -> None:
    """Every backend's contents equal memory's, table by table: a failure names the
    backend, the table and, for a row that differs, its columns and both values."""
    expected = dumps["memory"]
    for name, contents in dumps.items():
        assert contents.keys() == expected.keys(), (
            f"{name} holds tables {sorted(contents)}, memory {sorted(expected)}"
        )
        for table, rows in contents.items():
            assert rows == expected[table], (
                f"{name} differs from memory in {table}: {_difference(rows, expected[table])}"
            )


def _difference(rows: list[Row], expected: list[Row]) -> str:
    if len(rows) != len(expected):
        return f"{len(rows)} rows, memory {len(expected)}:\n{rows}\n{expected}"
    i, row, wanted = next(
        (i, row, wanted)
        for i, (row, wanted) in enumerate(zip(rows, expected, strict=True))
        if row != wanted
    )
    columns = sorted(row.keys() | wanted.keys())
    return f"row {i}, " + ", ".join(
        f"{column} {row.get(column, _ABSENT)!r} (memory {wanted.get(column, _ABSENT)!r})"
        for column in columns
        if row.get(column, _ABSENT) != wanted.get(column, _ABSENT)
    )


_ABSENT = "<no such column>"


def empty_small_tables(engine: Engine) -> None:
    """Delete every row, children first: for the few rows an agreement test writes, much
    quicker than TRUNCATE (which rewrites each of the schema's files, about 0.7 s a time)."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
        # The event log numbers from 1 again, as in a new SQLite file and in the fakes, so
        # that a read after a given number means the same everywhere.
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('event_log', 'sequence'), 1, false)"
        )


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
            empty_small_tables(self._postgres)
            dbs["postgres"] = Database(engine=self._postgres)
        seeded = [definition.new_setting() for definition in DEFAULT_SETTINGS]
        for db in dbs.values():
            with db.unit_of_work() as uow:
                # Default settings cannot be deleted through the port, and the audit trail
                # only by a purge that leaves an entry: clear them below it.
                store_of(uow).delete(table_of(Setting), [])
                store_of(uow).delete(table_of(AuditEntry), [])
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


class AgreementMachine(RuleBasedStateMachine):
    """A hypothesis state machine over equal backends: `run` does one operation on each of
    them, in a unit of work of its own that commits, and checks they agree.

    Within one step every backend makes the same ids (the library's own ids come from a
    counter per step) and draws the same random numbers (e.g. generated agent aliases),
    so results and contents can be compared whole."""

    # What `agreed_contents` compares: every table (None) or these (see `dump`); and the
    # tables whose rows a backend fills its own way, compared as `Reordered` says.
    compared_tables: ClassVar[Collection[str] | None] = None
    reordered: ClassVar[Mapping[str, Reordered]] = {}

    def __init__(self, open_backends: Callable[[], dict[str, Database]]) -> None:
        super().__init__()
        self.dbs = open_backends()
        self._steps = count(1)

    def teardown(self) -> None:
        EqualBackends.close(self.dbs)

    def run(self, operation: Callable[[UnitOfWork], Any]) -> Outcome:
        def and_commit(uow: UnitOfWork) -> Any:
            result = operation(uow)
            uow.commit()
            return result

        step = next(self._steps)
        outcomes: dict[str, Outcome] = {}
        for name, db in self.dbs.items():
            random.seed(step)
            with numbered_ids(step), db.unit_of_work() as uow:
                outcomes[name] = outcome_of(and_commit, uow)
        return assert_agree(outcomes)

    def agreed_contents(self) -> Contents:
        """Assert that every backend holds what memory holds; memory's contents, for the
        machine's own invariants."""
        dumps = {}
        for name, db in self.dbs.items():
            with db.unit_of_work(read_only=True) as uow:
                contents = dump(uow, self.compared_tables)
            for table, reordered in self.reordered.items():
                contents[table] = reordered.apply(contents[table])
            dumps[name] = contents
        assert_same_contents(dumps)
        return dumps["memory"]

    def created(self, build: Callable[[], Any], add: Callable[[UnitOfWork, Any], Any]) -> Any:
        """Build one entity (the same id for every backend) and add it everywhere: its id
        for a bundle, or nothing when the domain or the backends refuse it."""
        try:
            entity = build()
        except DomainError:
            return multiple()  # refused by the domain, before any backend is involved
        return self.made(lambda uow: add(uow, entity))

    def made(self, operation: Callable[[UnitOfWork], Any]) -> Any:
        """Run an operation that stores one entity everywhere: its id for a bundle, or
        nothing when it is refused."""
        outcome = self.run(operation)
        return outcome[1]["id"] if outcome[0] == "ok" else multiple()


def check_agreement(
    machine: type[AgreementMachine],
    sqlite_template: Path,
    request: pytest.FixtureRequest,
    *,
    share: float = 1.0,
    steps: int | None = None,
) -> None:
    """Run `machine` over memory, SQLite and (when configured) PostgreSQL, with the
    profile's number of examples or `share` of it, and of steps a run or at most `steps`
    (for a machine whose steps are slow)."""
    postgres: Engine | None = request.getfixturevalue("postgres_engine") if POSTGRES_URL else None
    with workdir() as folder:
        backends = EqualBackends(sqlite_template, postgres, folder)
        run_state_machine_as_test(
            # Hypothesis calls any factory; its annotation asks for the class itself.
            lambda: machine(backends.open),  # type: ignore[arg-type]
            settings=settings(
                settings.default,
                max_examples=max(10, int(settings().max_examples * share)),
                stateful_step_count=min(steps or 1_000, settings().stateful_step_count),
                suppress_health_check=[HealthCheck.too_slow],
                deadline=None,
            ),
        )


def on_every_backend(test: T) -> T:
    """Marks a test that runs on every backend at once with each backend's mark, so that
    selecting a backend (`-m sqlite`) selects it."""
    for backend in ["memory", "sqlite"] + (["postgres"] if POSTGRES_URL else []):
        test = getattr(pytest.mark, backend)(test)
    return test


@contextmanager
def numbered_ids(step: int) -> Iterator[None]:
    """Ids the library makes itself, from a counter of this step: `g<step>x<n>`, zero-padded
    letters and digits only, so they sort alike everywhere."""
    numbers = count()
    with patch.object(ids, "_nanoid", lambda: f"g{step:010d}x{next(numbers):09d}"):
        yield
