"""Migrations: `upgrade head` on an empty database is exactly the metadata, on SQLite and
PostgreSQL; down to base and up again; no revision is ever skipped (Nexus' journal skipped
one); a database from a newer agentkeel is refused rather than misread."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from agentkeel.adapters.sql import migrate
from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.database import Database
from agentkeel.domain.errors import DatabaseUnusable, SchemaError
from agentkeel.schema import metadata
from tests.conftest import POSTGRES_URL, reset_postgres_schema

ENGINES = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    ENGINES.append(pytest.param("postgres", marks=pytest.mark.postgres))


@pytest.fixture(params=ENGINES)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with nothing in it."""
    if request.param == "sqlite":
        engine = create_database_engine(str(tmp_path / "empty.db"))
    else:
        assert POSTGRES_URL
        engine = create_database_engine(POSTGRES_URL)
        reset_postgres_schema(engine)
    yield engine
    if request.param == "postgres":
        # Leave the schema at head, as the session-wide fixture of the contract suite expects.
        reset_postgres_schema(engine)
        migrate.upgrade(engine)
    engine.dispose()


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_upgrade_head_on_an_empty_database_is_exactly_the_metadata(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert differences(empty_engine) == []
    assert migrate.current_revision(empty_engine) == migrate.head_revision()


def test_the_head_known_without_the_scripts_is_their_head() -> None:
    assert migrate.head_revision() == migrate.HEAD


def test_a_new_database_is_created_at_head_as_upgrading_would_build_it(
    empty_engine: Engine,
) -> None:
    """Opening an empty database creates the metadata and stamps head (instead of running
    every revision): the same schema `upgrade head` builds (the tests above), which the
    revisions then carry on from."""
    migrate.create_or_upgrade(empty_engine)
    assert differences(empty_engine) == []
    assert migrate.current_revision(empty_engine) == migrate.head_revision()
    migrate.upgrade(empty_engine)  # at head already: nothing to do, nothing refused
    migrate.downgrade(empty_engine, revisions()[-2])
    migrate.upgrade(empty_engine)
    assert differences(empty_engine) == []


def test_a_database_with_tables_but_no_revision_is_refused_untouched(
    empty_engine: Engine,
) -> None:
    """Only a database with no tables at all is created from the metadata: one holding
    anything but no revision (here, someone's own table) is another application's, and is
    left as it was."""
    with empty_engine.begin() as connection:
        connection.execute(text("CREATE TABLE someone_elses (x INTEGER)"))
    with pytest.raises(DatabaseUnusable, match=r"another application's tables \(someone_elses\)"):
        migrate.create_or_upgrade(empty_engine)
    assert inspect(empty_engine).get_table_names() == ["someone_elses"]
    with empty_engine.begin() as connection:
        connection.execute(text("DROP TABLE someone_elses"))


def test_indexes_and_checks_are_all_created(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    inspector = inspect(empty_engine)
    for table in metadata.tables.values():
        made = {ix["name"] for ix in inspector.get_indexes(table.name)}
        assert {str(ix.name) for ix in table.indexes} <= made, table.name
        checks = {ck["name"] for ck in inspector.get_check_constraints(table.name)}
        declared = {
            str(c.name) for c in table.constraints if c.__class__.__name__ == "CheckConstraint"
        }
        assert declared <= checks, table.name


def test_downgrade_to_base_and_up_again(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_engine)
    assert differences(empty_engine) == []


def test_every_revision_is_applied_one_by_one(empty_engine: Engine) -> None:
    for revision in revisions():
        migrate.upgrade(empty_engine, revision)
        assert migrate.current_revision(empty_engine) == revision
    assert differences(empty_engine) == []


def test_the_history_is_one_line_with_no_orphan_file() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    files = sorted(
        p.stem.split("_")[0] for p in (migrate.script_location() / "versions").glob("*.py")
    )
    assert sorted(revisions()) == files  # a file outside the chain would never run
    chain = revisions()
    for older, newer in pairwise(chain):
        assert script.get_revision(newer).down_revision == older


def test_opening_an_older_database_applies_every_missing_revision(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    engine = create_database_engine(path)
    first = revisions()[0]
    migrate.upgrade(engine, first)
    assert "audit_logs" not in inspect(engine).get_table_names()
    engine.dispose()

    with Database.open(path) as db:
        assert db.schema_revision() == migrate.head_revision()
        assert "audit_logs" in db.tables()
        assert db.engine is not None
        assert differences(db.engine) == []


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "newer.db")
    Database.open(path).close()
    engine = create_database_engine(path)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaError, match="'9999', which this version of agentkeel does not know"):
        Database.open(path)


def test_migrations_keep_foreign_keys_on_afterwards(tmp_path: Path) -> None:
    with Database.open(str(tmp_path / "fk.db")) as db:
        assert db.engine is not None
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_the_comparison_sees_json_payloads_stored_the_old_way(tmp_path: Path) -> None:
    """On SQLite a column typed JSON converts bare numbers; the metadata wants TEXT there,
    and the comparison the tests rely on must see the difference."""
    engine = create_database_engine(str(tmp_path / "old.db"))
    migrate.upgrade(engine, "0002")
    changed = {
        (change[0], change[2], change[3])
        for diff in differences(engine)
        if isinstance(diff, list)
        for change in diff
    }
    assert changed == {
        ("modify_type", "audit_logs", "event_data"),
        ("modify_type", "audit_logs", "before_state"),
        ("modify_type", "audit_logs", "after_state"),
    }
    engine.dispose()


def _insert_audit_rows(engine: Engine, payloads: dict[str, str | None]) -> None:
    """Audit rows whose event_data is the given JSON text, as the library wrote them."""
    with engine.begin() as connection:
        for key, payload in payloads.items():
            connection.execute(
                text(
                    "INSERT INTO audit_logs (id, event_type, event_category, severity, message,"
                    " event_data, source, timestamp) VALUES (:id, 'x', 'record', 'info', 'm',"
                    " :data, 'system', '2026-01-01 00:00:00.000000')"
                ),
                {"id": key, "data": payload},
            )


def test_payloads_written_before_json_was_text_read_back_as_they_did(tmp_path: Path) -> None:
    """SQLite had converted bare numbers as they were written; upgrading keeps what they
    had become, exactly (not SQLite's 15-digit text), and an infinity, which no listing
    could read, becomes null."""
    path = str(tmp_path / "old.db")
    engine = create_database_engine(path)
    migrate.upgrade(engine, "0002")
    _insert_audit_rows(
        engine,
        {
            "object": '{"a": [1, 2.5, "1"], "b": null}',
            "one-point-zero": "1.0",
            "third": "0.30000000000000004",
            "two-to-63": "9223372036854775808",
            "huge": "1" + "0" * 400,
            "string": '"1"',
            "null": None,
        },
    )
    engine.dispose()

    with Database.open(path) as db, db.unit_of_work(read_only=True) as uow:
        read = {entry.id: entry.event_data for entry in uow.audit_logs.list()}
    assert read == {
        "object": {"a": [1, 2.5, "1"], "b": None},
        "one-point-zero": 1,
        "third": 0.30000000000000004,
        "two-to-63": 9.223372036854776e18,
        "huge": None,
        "string": "1",
        "null": None,
    }
    assert type(read["one-point-zero"]) is int


def test_downgrading_keeps_payloads_readable_by_the_older_version(tmp_path: Path) -> None:
    path = str(tmp_path / "down.db")
    engine = create_database_engine(path)
    migrate.upgrade(engine)
    _insert_audit_rows(engine, {"object": '{"a":[1,2.5]}', "number": "1.5", "text": '"x"'})
    migrate.downgrade(engine, "0002")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, event_data, typeof(event_data) FROM audit_logs ORDER BY id")
        ).all()
    assert [tuple(row) for row in rows] == [
        ("number", 1.5, "real"),
        ("object", '{"a":[1,2.5]}', "text"),
        ("text", '"x"', "text"),
    ]
    migrate.upgrade(engine)
    assert differences(engine) == []
    engine.dispose()


def test_an_upgrade_back_to_a_schema_this_process_knows_at_head_is_not_refused(
    tmp_path: Path,
) -> None:
    """A process remembers schemas it found at head and reads them again without their
    columns; the check after an upgrade must not take that short read for a schema with no
    columns (a downgrade and upgrade that rebuild the very same schema made it refuse)."""
    path = str(tmp_path / "known.db")
    for _ in range(2):  # created, then found at head: this process knows its schema now
        Database.open(path).close()
    engine = create_database_engine(path)
    try:
        migrate.downgrade(engine, revisions()[-2])
        migrate.upgrade(engine)
        assert differences(engine) == []
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
