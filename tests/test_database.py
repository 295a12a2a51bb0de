"""The Database facade: open, tables(), ping(), close(); and the pitfalls of Nexus'
DatabaseClient (its tables() listed nothing because of an unescaped LIKE wildcard)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from agentkeel.database import Database
from agentkeel.schema import metadata


def test_tables_lists_every_table_of_the_schema(db: Database) -> None:
    assert db.tables() == sorted(metadata.tables)
    assert "template_placeholders" in db.tables()  # underscores are not wildcards


def test_tables_filters_by_exact_name_not_by_pattern(tmp_path: Path) -> None:
    with Database.open(str(tmp_path / "t.db")) as db:
        assert db.engine is not None
        with db.engine.begin() as connection:
            # Names a LIKE 'alembic_version' or 'sqlite_%' pattern would wrongly match.
            connection.execute(text("CREATE TABLE alembicXversion (x INTEGER)"))
            connection.execute(text("CREATE TABLE sqliteXstat (x INTEGER)"))
        assert db.tables() == sorted([*metadata.tables, "alembicXversion", "sqliteXstat"])


def test_ping_answers_and_close_releases(tmp_path: Path) -> None:
    db = Database.open(str(tmp_path / "p.db"))
    assert db.ping()
    db.close()


def test_ping_is_false_when_the_database_cannot_be_reached() -> None:
    db = Database.open("postgresql://nobody@127.0.0.1:1/none", migrate_schema=False, seed=False)
    assert db.ping() is False


@pytest.mark.parametrize("url", [":memory:", "memory://"])
def test_in_memory_databases_work(url: str) -> None:
    with Database.open(url) as db:
        assert db.tables() == sorted(metadata.tables)
        with db.unit_of_work() as uow:
            assert uow.settings.count() == 16


def test_opening_twice_is_idempotent(tmp_path: Path) -> None:
    path = str(tmp_path / "twice.db")
    Database.open(path).close()
    with Database.open(path) as db, db.unit_of_work() as uow:
        assert uow.settings.count() == 16
