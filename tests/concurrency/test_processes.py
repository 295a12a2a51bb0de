"""Read-modify-write from several processes loses nothing, on SQLite and PostgreSQL.

Each process runs units of work that read a setting and write it back plus one. SQLite
runs writers one at a time; on PostgreSQL (READ COMMITTED) they interleave, and an update
based on a read another process outdated is refused with Conflict, which the worker
retries, as an application would.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import Conflict
from agentkeel.domain.workspace import Setting, SettingCategory, SettingValueType
from agentkeel.ports.store import Eq
from agentkeel.schema import table_of
from tests.conftest import POSTGRES_URL, truncate_all, url_of
from tests.factories import store_of

PROCESSES = 4
UNITS = 25
KEY = "advanced.counter"

BACKENDS = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    BACKENDS.append(pytest.param("postgres", marks=pytest.mark.postgres))


def count_up(url: str, units: int) -> int:
    """Add one to the counter `units` times; return how many conflicts were retried."""
    retried = 0
    with Database.open(url) as db:
        for _ in range(units):
            while True:
                try:
                    with db.unit_of_work() as uow:
                        current = uow.settings.value_as(KEY, int)
                        uow.settings.set_value(KEY, current + 1)
                        uow.commit()
                    break
                except Conflict:  # Busy is a Conflict too
                    retried += 1
    return retried


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_modify_write_from_many_processes_loses_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = url_of(backend, tmp_path)
    if backend == "postgres":
        truncate_all(request.getfixturevalue("postgres_engine"))
    with Database.open(url) as db, db.unit_of_work() as uow:
        uow.settings.add(
            Setting(
                key=KEY,
                value="0",
                value_type=SettingValueType.NUMBER,
                category=SettingCategory.ADVANCED,
                display_name="Counter",
            )
        )
        uow.commit()
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        retried = pool.starmap(count_up, [(url, UNITS)] * PROCESSES)
    with Database.open(url) as db, db.unit_of_work() as uow:
        assert uow.settings.value(KEY) == PROCESSES * UNITS
        store_of(uow).delete(table_of(Setting), [Eq("key", KEY)])  # leave no trace
        uow.commit()
    print(f"{backend}: {PROCESSES * UNITS} increments, {sum(retried)} conflicts retried")
