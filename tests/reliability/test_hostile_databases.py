"""Hostile databases: `Database.open` refuses what it cannot use with a domain error naming
the problem, at open (never a driver's error at first use), and leaves it as it was.

SQLite cases compare the file's bytes (and its directory's entries) before and after;
PostgreSQL cases compare the schema's tables and revision."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, make_url, text

from agentkeel.adapters.sql import migrate
from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.database import Database
from agentkeel.domain.errors import DatabaseUnusable, SchemaError
from tests.conftest import POSTGRES_URL, reset_postgres_schema
from tests.figures import Figures

NOBODY = 65534
HEADING = "hostile databases"


def fingerprint(path: Path) -> tuple[str, list[str]]:
    """The file's bytes (hashed) and the names in its directory."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(os.listdir(path.parent))


def refused(path: Path, error: type[DatabaseUnusable], match: str, figures: Figures) -> str:
    """Open `path`, expect `error` matching `match`, and check the file did not change."""
    before = fingerprint(path)
    with pytest.raises(error, match=match) as caught:
        Database.open(str(path))
    assert fingerprint(path) == before
    assert caught.value.database == str(path)
    figures.add(HEADING, refused_sqlite=1, left_unchanged=1)
    return str(caught.value)


@pytest.fixture
def agentkeel_file(tmp_path: Path) -> Path:
    """A new agentkeel SQLite database, closed (so checkpointed: its file is the whole of it)."""
    path = tmp_path / "agentkeel.db"
    Database.open(str(path)).close()
    return path


def alter(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA foreign_keys=OFF")
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


# -- files that are not (whole) databases -----------------------------------------------------


def test_a_text_file_is_not_a_database(tmp_path: Path, figures: Figures) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    refused(path, DatabaseUnusable, "is not a SQLite database", figures)


def test_random_bytes_are_not_a_database(tmp_path: Path, figures: Figures) -> None:
    path = tmp_path / "noise.db"
    path.write_bytes(os.urandom(8192))
    refused(path, DatabaseUnusable, "is not a SQLite database", figures)


def test_an_empty_file_is_a_new_database(tmp_path: Path) -> None:
    """Documented choice: SQLite takes a 0-byte file for an empty database, and so does
    agentkeel (as after `touch agentkeel.db`)."""
    path = tmp_path / "touched.db"
    path.touch()
    with Database.open(str(path)) as db:
        assert db.schema_revision() == migrate.HEAD
        assert db.integrity_check() == []


@pytest.mark.parametrize("keep", [0.5, 0.01])
def test_a_truncated_file_is_refused(agentkeel_file: Path, keep: float, figures: Figures) -> None:
    data = agentkeel_file.read_bytes()
    agentkeel_file.write_bytes(data[: max(50, int(len(data) * keep))])
    refused(agentkeel_file, DatabaseUnusable, "is truncated", figures)


def test_a_damaged_schema_page_is_refused(agentkeel_file: Path, figures: Figures) -> None:
    """Page 1 holds the schema: garbage there is found at open. (Damage to a data page is
    found by `integrity_check`: see test_backup_and_check.py.)"""
    data = bytearray(agentkeel_file.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)
    agentkeel_file.write_bytes(bytes(data))
    refused(agentkeel_file, DatabaseUnusable, "damaged|malformed", figures)


def test_a_directory_is_not_a_database(tmp_path: Path, figures: Figures) -> None:
    path = tmp_path / "folder.db"
    path.mkdir()
    with pytest.raises(DatabaseUnusable, match="is a directory"):
        Database.open(str(path))
    assert list(path.iterdir()) == []
    figures.add(HEADING, refused_sqlite=1, left_unchanged=1)


def test_a_path_in_a_missing_directory_is_refused_and_nothing_is_created(
    tmp_path: Path, figures: Figures
) -> None:
    path = tmp_path / "no" / "such" / "dir" / "agentkeel.db"
    with pytest.raises(DatabaseUnusable, match=r"its directory .*no/such/dir does not exist"):
        Database.open(str(path))
    assert not (tmp_path / "no").exists()
    figures.add(HEADING, refused_sqlite=1, left_unchanged=1)


# -- another application's database, a newer agentkeel's ------------------------------------


def test_another_applications_database_is_refused_untouched(
    tmp_path: Path, figures: Figures
) -> None:
    """Before: agentkeel created its 43 tables inside it and switched it to WAL."""
    path = tmp_path / "browser-history.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE visits (url TEXT, at INTEGER)")
    connection.execute("INSERT INTO visits VALUES ('https://example.org', 1)")
    connection.commit()
    connection.close()
    refused(path, DatabaseUnusable, r"another application's tables \(visits\)", figures)
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == [("visits",)]
    connection.close()


def test_a_database_from_a_newer_agentkeel_is_refused_untouched(
    agentkeel_file: Path, figures: Figures
) -> None:
    alter(agentkeel_file, "UPDATE alembic_version SET version_num = '9999'")
    refused(
        agentkeel_file,
        SchemaError,
        "'9999', which this version of agentkeel does not know",
        figures,
    )


# -- hand-altered schemas ---------------------------------------------------------------------

ALTERATIONS = {
    "dropped table": (["DROP TABLE review_comments"], "table review_comments is missing"),
    "dropped column": (
        ["ALTER TABLE tasks DROP COLUMN summary"],
        r"column tasks\.summary is missing",
    ),
    "renamed table": (
        ["ALTER TABLE initiatives RENAME TO initiatives_old"],
        "table initiatives is missing; it holds tables agentkeel does not know: initiatives_old",
    ),
    # The index that lets a project have one default repository at most.
    "dropped partial unique index": (
        ["DROP INDEX uq_repositories_project_id_set_as_default_at"],
        r"partial unique index uq_repositories_project_id_set_as_default_at on "
        r"repositories\(project_id\) is missing",
    ),
    "unique index made plain": (
        [
            "DROP INDEX uq_pages_initiative_id_root",
            "CREATE INDEX uq_pages_initiative_id_root ON pages (initiative_id)",
        ],
        "partial unique index uq_pages_initiative_id_root on pages.* was changed to a index",
    ),
    "dropped plain index": (["DROP INDEX ix_tasks_status"], r"index ix_tasks_status on tasks"),
}


@pytest.mark.parametrize("alteration", list(ALTERATIONS))
def test_a_hand_altered_schema_is_refused_naming_what_changed(
    agentkeel_file: Path, alteration: str, figures: Figures
) -> None:
    statements, match = ALTERATIONS[alteration]
    alter(agentkeel_file, *statements)
    refused(agentkeel_file, SchemaError, match, figures)


def test_a_dropped_unique_constraint_is_found(agentkeel_file: Path, figures: Figures) -> None:
    """SQLite cannot drop a constraint: rebuilding the table without it is how it is lost."""
    connection = sqlite3.connect(agentkeel_file)
    (sql,) = connection.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'settings'"
    ).fetchone()
    connection.close()
    assert "CONSTRAINT uq_settings_key UNIQUE" in sql
    rebuilt = re.sub(r",\s*CONSTRAINT uq_settings_key UNIQUE \(\"?key\"?\)", "", sql)
    rebuilt = rebuilt.replace("settings", "settings_new", 1)
    assert "uq_settings_key" not in rebuilt
    alter(
        agentkeel_file,
        rebuilt,
        "INSERT INTO settings_new SELECT * FROM settings",
        "DROP TABLE settings",
        "ALTER TABLE settings_new RENAME TO settings",
        "CREATE INDEX ix_settings_category ON settings (category)",
    )
    refused(
        agentkeel_file,
        SchemaError,
        r"unique constraint uq_settings_key on settings\(key\)",
        figures,
    )


def test_an_older_database_altered_by_hand_is_not_upgraded(
    tmp_path: Path, figures: Figures
) -> None:
    """An upgrade commits only if the schema it leaves is whole: otherwise it rolls back."""
    path = tmp_path / "old.db"
    engine = create_database_engine(str(path))
    migrate.upgrade(engine, "0005")
    engine.dispose()
    alter(path, "DROP INDEX ix_agents_session_id")
    before = fingerprint(path)
    with pytest.raises(SchemaError, match="would leave it altered, so nothing was changed"):
        Database.open(str(path))
    assert fingerprint(path)[0] == before[0]
    engine = create_database_engine(str(path))
    assert migrate.current_revision(engine) == "0005"
    engine.dispose()
    figures.add(HEADING, refused_sqlite=1, left_unchanged=1)


# -- permissions ------------------------------------------------------------------------------


def open_as_nobody(path: Path) -> str:
    """The outcome of `Database.open(path)` as the user `nobody` (root may write anything),
    run in a forked child that has the library loaded already."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.close(reader)
        outcome = "opened"
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            Database.open(str(path)).close()
        except DatabaseUnusable as exc:
            outcome = f"DatabaseUnusable: {exc}"
        except BaseException as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        os.write(writer, outcome.encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        outcome = pipe.read().decode()
    os.waitpid(child, 0)
    return outcome


def open_without_write_permission(path: Path) -> str:
    if os.geteuid() == 0:
        return open_as_nobody(path)
    try:
        Database.open(str(path)).close()
    except DatabaseUnusable as exc:
        return f"DatabaseUnusable: {exc}"
    return "opened"


@pytest.fixture
def shared_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory the user `nobody` can reach (pytest's are its owner's alone)."""
    outer = Path(f"/tmp/agentkeel-reliability-{uuid.uuid4().hex}")
    outer.mkdir(mode=0o755)
    outer.chmod(0o755)
    yield outer
    for root, dirs, files in os.walk(outer, topdown=False):
        for name in files:
            Path(root, name).unlink()
        for name in dirs:
            Path(root, name).chmod(0o755)
            Path(root, name).rmdir()
    outer.rmdir()


def test_a_read_only_file_is_refused_untouched(shared_dir: Path, figures: Figures) -> None:
    directory = shared_dir / "writable"
    directory.mkdir()
    path = directory / "agentkeel.db"
    Database.open(str(path)).close()
    path.chmod(0o444)
    if os.geteuid() == 0:
        os.chown(directory, NOBODY, NOBODY)
    before = fingerprint(path)
    outcome = open_without_write_permission(path)
    assert outcome.startswith("DatabaseUnusable:"), outcome
    assert "the file is read-only" in outcome
    assert fingerprint(path) == before
    figures.add(HEADING, refused_sqlite=1, left_unchanged=1)


def test_a_read_only_directory_is_refused_untouched(shared_dir: Path, figures: Figures) -> None:
    directory = shared_dir / "locked"
    directory.mkdir()
    path = directory / "agentkeel.db"
    Database.open(str(path)).close()
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)
    directory.chmod(0o555)
    before = fingerprint(path)
    outcome = open_without_write_permission(path)
    assert outcome.startswith("DatabaseUnusable:"), outcome
    assert "is read-only: SQLite writes its write-ahead log" in outcome
    assert fingerprint(path) == before
    figures.add(HEADING, refused_sqlite=1, left_unchanged=1)


# -- PostgreSQL ---------------------------------------------------------------------------------


def test_an_unreachable_server_is_refused_at_open(figures: Figures) -> None:
    with pytest.raises(DatabaseUnusable, match=r"the server cannot be reached: .*refused"):
        Database.open("postgresql://nobody:secret@127.0.0.1:1/agentkeel")
    figures.add(HEADING, refused_postgres=1)


def test_the_password_is_not_shown() -> None:
    with pytest.raises(DatabaseUnusable) as caught:
        Database.open("postgresql://nobody:secret@127.0.0.1:1/agentkeel")
    assert "secret" not in str(caught.value)
    assert caught.value.database == "postgresql://nobody:***@127.0.0.1:1/agentkeel"


POSTGRES = [pytest.param(POSTGRES_URL, marks=pytest.mark.postgres)] if POSTGRES_URL else []


@pytest.mark.parametrize("url", POSTGRES)
def test_a_missing_postgres_database_is_refused_at_open(url: str, figures: Figures) -> None:
    missing = make_url(url).set(database=f"agentkeel_missing_{uuid.uuid4().hex[:8]}")
    with pytest.raises(DatabaseUnusable, match=r"the server has no database .*createdb"):
        Database.open(missing)
    figures.add(HEADING, refused_postgres=1)


@pytest.fixture(params=POSTGRES)
def postgres(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The test server's schema, at head and empty; left at head afterwards (the session
    fixture of the contract suite expects it)."""
    engine = create_database_engine(request.param)
    reset_postgres_schema(engine)
    Database.open(request.param).close()
    yield engine
    reset_postgres_schema(engine)
    migrate.upgrade(engine)
    engine.dispose()


POSTGRES_ALTERATIONS = {
    "dropped table": ("DROP TABLE review_comments", "table review_comments is missing"),
    "dropped column": ("ALTER TABLE tasks DROP COLUMN summary", r"column tasks\.summary"),
    "renamed table": (
        "ALTER TABLE initiatives RENAME TO initiatives_old",
        "it holds tables agentkeel does not know: initiatives_old",
    ),
    "dropped partial unique index": (
        "DROP INDEX uq_repositories_project_id_set_as_default_at",
        "partial unique index uq_repositories_project_id_set_as_default_at",
    ),
    "dropped unique constraint": (
        "ALTER TABLE settings DROP CONSTRAINT uq_settings_key",
        r"unique constraint uq_settings_key on settings\(key\) is missing",
    ),
    "newer revision": (
        "UPDATE alembic_version SET version_num = '9999'",
        "'9999', which this version of agentkeel does not know",
    ),
}


def schema_state(engine: Engine) -> tuple[list[str], list[str], object]:
    inspector = inspect(engine)
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    indexes = sorted(
        str(index["name"])
        for table in inspector.get_table_names()
        for index in inspector.get_indexes(table)
    )
    return sorted(inspector.get_table_names()), indexes, revision


@pytest.mark.parametrize("alteration", list(POSTGRES_ALTERATIONS))
def test_a_hand_altered_postgres_schema_is_refused_untouched(
    postgres: Engine, alteration: str, figures: Figures
) -> None:
    statement, match = POSTGRES_ALTERATIONS[alteration]
    with postgres.begin() as connection:
        connection.exec_driver_sql(statement)
    before = schema_state(postgres)
    with pytest.raises(SchemaError, match=match):
        Database.open(postgres.url)
    assert schema_state(postgres) == before
    figures.add(HEADING, refused_postgres=1, left_unchanged=1)


def test_another_applications_postgres_database_is_refused_untouched(
    postgres: Engine, figures: Figures
) -> None:
    reset_postgres_schema(postgres)
    with postgres.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE visits (url TEXT)")
    with pytest.raises(DatabaseUnusable, match=r"another application's tables \(visits\)"):
        Database.open(postgres.url)
    assert inspect(postgres).get_table_names() == ["visits"]
    figures.add(HEADING, refused_postgres=1, left_unchanged=1)
