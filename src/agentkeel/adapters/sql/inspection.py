"""What a database holds, read in a few catalogue queries before agentkeel works on it, and
whether agentkeel may: `Database.open` refuses a database it cannot use with a domain error
naming the problem, and leaves it exactly as it was.

A SQLite file is looked at before any connection with agentkeel's settings touches it (such
a connection switches the file to WAL, a change to the file): its header is read from the
file, then its catalogue through a read-only connection (`mode=ro`). PostgreSQL is read
through a read-only connection of the engine. Either way the live schema costs two
catalogue queries (columns of every table; every index with its columns), not a round trip
per table, and is compared with the metadata at head: every table, every column, every
index (by name: its table, columns, uniqueness and whether it is partial) and every unique
constraint (by its columns) must be there. Tables, columns and indexes the database holds
beyond these are allowed (an application may add its own).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Index, UniqueConstraint

from agentkeel.domain.errors import Busy, DatabaseUnusable, SchemaError
from agentkeel.schema import metadata

MIGRATION_TABLE = "alembic_version"
SQLITE_HEADER = b"SQLite format 3\x00"

Run = Callable[[str], Iterable[Sequence[Any]]]
"""Runs one catalogue query and returns its rows (a DB-API or a SQLAlchemy connection)."""


@dataclass(frozen=True)
class IndexShape:
    """What an index enforces or speeds up: its table, its columns in order, whether it is
    unique and whether it is partial (has a WHERE)."""

    table: str
    columns: tuple[str, ...]
    unique: bool
    partial: bool

    def describe(self, name: str) -> str:
        kind = ("partial " if self.partial else "") + ("unique " if self.unique else "")
        return f"{kind}index {name} on {self.table}({', '.join(self.columns)})"


@dataclass
class LiveSchema:
    """The tables, columns and indexes a database holds, and its Alembic revision rows."""

    columns: dict[str, set[str]] = field(default_factory=dict)
    indexes: dict[str, IndexShape] = field(default_factory=dict)
    revisions: list[str] = field(default_factory=list)
    fingerprint: int | None = None
    """SQLite: a hash of `sqlite_master` (every CREATE statement) and the revision."""
    known_good: bool = False
    """SQLite: this process found a schema with the same fingerprint to be at head."""

    @property
    def tables(self) -> set[str]:
        """Every table but Alembic's bookkeeping table."""
        return set(self.columns) - {MIGRATION_TABLE}

    @property
    def is_empty(self) -> bool:
        return not self.columns


# -- the schema at head -----------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    columns: dict[str, tuple[str, ...]]
    indexes: dict[str, IndexShape]
    uniques: dict[str, IndexShape]  # unique constraints, by name (the databases name them apart)


@cache
def expected() -> Expected:
    """The tables, columns, indexes and unique constraints of the metadata at head."""
    columns: dict[str, tuple[str, ...]] = {}
    indexes: dict[str, IndexShape] = {}
    uniques: dict[str, IndexShape] = {}
    for table in metadata.sorted_tables:
        columns[table.name] = tuple(column.name for column in table.columns)
        for index in table.indexes:
            indexes[str(index.name)] = IndexShape(
                table.name,
                tuple(column.name for column in index.columns),
                bool(index.unique),
                _is_partial(index),
            )
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                uniques[str(constraint.name)] = IndexShape(
                    table.name, tuple(column.name for column in constraint.columns), True, False
                )
    return Expected(columns, indexes, uniques)


def _is_partial(index: Index) -> bool:
    return any(
        index.dialect_options[dialect]["where"] is not None for dialect in ("sqlite", "postgresql")
    )


def differences(live: LiveSchema) -> list[str]:
    """How the live schema falls short of the metadata at head, one sentence per problem
    (empty when it has everything)."""
    want = expected()
    problems: list[str] = []
    missing = [name for name in want.columns if name not in live.columns]
    for name in missing:
        problems.append(f"table {name} is missing")
    if missing and (unknown := sorted(live.tables - set(want.columns))):
        problems.append(f"it holds tables agentkeel does not know: {', '.join(unknown)}")
    for name, columns in want.columns.items():
        if name in live.columns:
            problems += [
                f"column {name}.{column} is missing"
                for column in columns
                if column not in live.columns[name]
            ]
    for name, shape in want.indexes.items():
        if shape.table not in live.columns:
            continue
        found = live.indexes.get(name)
        if found is None:
            problems.append(f"{shape.describe(name)} is missing")
        elif found != shape:
            problems.append(f"{shape.describe(name)} was changed to a {found.describe(name)}")
    present = {(shape.table, shape.columns) for shape in live.indexes.values() if shape.unique}
    for name, shape in want.uniques.items():
        if shape.table in live.columns and (shape.table, shape.columns) not in present:
            problems.append(
                f"unique constraint {name} on {shape.table}({', '.join(shape.columns)}) is missing"
            )
    return problems


# -- reading the live schema --------------------------------------------------------------

_SQLITE_COLUMNS = (
    "SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p "
    "WHERE m.type = 'table'"
)
_SQLITE_INDEXES = (
    'SELECT m.name, l.name, l."unique", l.partial, i.name '
    "FROM sqlite_master AS m JOIN pragma_index_list(m.name) AS l "
    "JOIN pragma_index_info(l.name) AS i WHERE m.type = 'table' ORDER BY l.name, i.seqno"
)
_POSTGRES_COLUMNS = (
    "SELECT c.relname, a.attname FROM pg_catalog.pg_class AS c "
    "JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid "
    "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
    "AND a.attnum > 0 AND NOT a.attisdropped"
)
_POSTGRES_INDEXES = (
    "SELECT t.relname, i.relname, x.indisunique, x.indpred IS NOT NULL, a.attname "
    "FROM pg_catalog.pg_index AS x "
    "JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid "
    "JOIN pg_catalog.pg_class AS t ON t.oid = x.indrelid "
    "CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, position) "
    "JOIN pg_catalog.pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = k.attnum "
    "WHERE t.relnamespace = current_schema()::regnamespace ORDER BY i.relname, k.position"
)


_SQLITE_MASTER = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"

_AT_HEAD: set[int] = set()
"""Fingerprints of SQLite schemas this process found at head with nothing missing."""


def read_live(
    run: Run, dialect: Literal["sqlite", "postgresql"], *, full: bool = False
) -> LiveSchema:
    """The live schema in three queries (two if the database has no revision table).

    On SQLite, `sqlite_master` (its CREATE statements, which define every table, column
    and index) and the revision are read first: a schema this process already found at
    head is not read again (the test suite opens thousands of copies of one database)."""
    sqlite = dialect == "sqlite"
    live = LiveSchema()
    if sqlite:
        master = [tuple(row) for row in run(_SQLITE_MASTER)]
        if any(row[1] == MIGRATION_TABLE for row in master):
            live.revisions = [
                str(row[0]) for row in run(f"SELECT version_num FROM {MIGRATION_TABLE}")
            ]
        live.fingerprint = hash((tuple(master), tuple(live.revisions)))
        if live.fingerprint in _AT_HEAD and not full:
            live.known_good = True
            live.columns = {str(row[1]): set() for row in master if row[0] == "table"}
            return live
    for table, column in run(_SQLITE_COLUMNS if sqlite else _POSTGRES_COLUMNS):
        live.columns.setdefault(str(table), set()).add(str(column))
    columns: dict[str, list[str]] = {}
    shapes: dict[str, tuple[str, bool, bool]] = {}
    for table, name, unique, partial, column in run(
        _SQLITE_INDEXES if sqlite else _POSTGRES_INDEXES
    ):
        columns.setdefault(str(name), []).append(str(column))
        shapes[str(name)] = (str(table), bool(unique), bool(partial))
    live.indexes = {
        name: IndexShape(table, tuple(columns[name]), unique, partial)
        for name, (table, unique, partial) in shapes.items()
    }
    if MIGRATION_TABLE in live.columns and not sqlite:
        live.revisions = [str(row[0]) for row in run(f"SELECT version_num FROM {MIGRATION_TABLE}")]
    return live


def read_live_connection(connection: Connection, *, full: bool = False) -> LiveSchema:
    """The live schema, through a SQLAlchemy connection (in its current transaction);
    `full`: read every table and index even of a schema this process found at head."""
    if connection.dialect.name == "sqlite":
        # The driver's own cursor: a few hundred catalogue rows cost less without SQLAlchemy
        # results (the connection is in autocommit or in the caller's transaction alike).
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return read_live(lambda sql: driver.execute(sql).fetchall(), "sqlite", full=full)
    return read_live(lambda sql: connection.exec_driver_sql(sql).all(), "postgresql", full=full)


# -- what to do with it ---------------------------------------------------------------------

Action = Literal["create", "upgrade", "ready"]


def judge(live: LiveSchema, database: str, head: str, known: Callable[[], set[str]]) -> Action:
    """What opening must do with a database holding `live`: create the schema (it holds no
    table at all), upgrade it (it is at an earlier revision) or nothing (at head, every
    table, column and index there). Raises DatabaseUnusable for another application's
    database, SchemaError for a revision this version does not know (a newer agentkeel
    wrote it), a revision table that is not one revision, or a schema at head that was
    altered. `known()` gives every revision of this version (it loads the scripts, so it
    is only called off the fast path)."""
    if live.is_empty:
        return "create"
    if MIGRATION_TABLE not in live.columns:
        tables = sorted(live.tables)
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        raise DatabaseUnusable(
            database,
            f"it holds another application's tables ({shown}) and no agentkeel schema "
            "revision: agentkeel opens only its own databases or empty ones, and leaves "
            "this one untouched",
        )
    if len(live.revisions) != 1:
        raise SchemaError(
            f"its {MIGRATION_TABLE} table holds {len(live.revisions)} revisions "
            f"({', '.join(live.revisions) or 'none'}) instead of one",
            database,
        )
    (revision,) = live.revisions
    if revision == head:
        if live.known_good:
            return "ready"
        if problems := differences(live):
            raise SchemaError(
                f"its schema is at revision {head} but was altered: {'; '.join(problems)}",
                database,
            )
        if live.fingerprint is not None:
            _AT_HEAD.add(live.fingerprint)
        return "ready"
    if revision not in known():
        raise SchemaError(
            f"the database is at schema revision {revision!r}, which this version of "
            "agentkeel does not know (a newer version wrote it); upgrade agentkeel",
            database,
        )
    return "upgrade"


# -- a SQLite file, before any connection with agentkeel's settings ----------------------


def check_sqlite_file(path: str, *, busy_timeout: float) -> LiveSchema | None:
    """The live schema of the SQLite file at `path`, read without changing it; or None if
    a connection with agentkeel's settings may read it, as it changes nothing there: when
    there is no database yet (no file, or an empty (0-byte) one, which SQLite itself takes
    for an empty database), or the file is in WAL mode already (every file agentkeel
    writes is; its header is checked first).

    Raises DatabaseUnusable if its directory does not exist or is read-only (SQLite writes
    its write-ahead log beside the file), if the path is a directory, if the file is
    read-only, is not a SQLite database, is truncated or damaged; Busy if another process
    held it locked (a rollback-journal database being written) past `busy_timeout`.
    """
    file = Path(path)
    directory = file.absolute().parent
    if not directory.exists():
        raise DatabaseUnusable(path, f"its directory {directory} does not exist")
    if not directory.is_dir():
        raise DatabaseUnusable(path, f"{directory} is not a directory")
    if file.is_dir():
        raise DatabaseUnusable(path, "it is a directory, not a database file")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise DatabaseUnusable(
            path,
            f"its directory {directory} is read-only: SQLite writes its write-ahead log "
            "and shared-memory files beside the database",
        )
    if not file.exists():
        return None
    if not os.access(file, os.R_OK | os.W_OK):
        raise DatabaseUnusable(path, "the file is read-only: agentkeel writes to its database")
    wal = Path(f"{path}-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    with file.open("rb") as handle:
        header = handle.read(100)
        size = os.fstat(handle.fileno()).st_size
    if size == 0:  # SQLite takes it for an empty database (whatever a log beside it holds)
        return None
    _check_header(path, header, size, wal_size)
    if header[18:20] == b"\x02\x02":
        # In WAL mode already: agentkeel's connection settings change nothing in the file,
        # so the engine reads the schema (one connection fewer on the way to a ready one).
        return None
    try:
        connection = sqlite3.connect(
            f"{file.absolute().as_uri()}?mode=ro", uri=True, timeout=busy_timeout
        )
    except sqlite3.Error as exc:
        raise DatabaseUnusable(path, f"SQLite cannot open it: {exc}") from exc
    try:
        return read_live(lambda sql: connection.execute(sql).fetchall(), "sqlite")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise Busy("another process held the database file locked") from exc
        raise DatabaseUnusable(path, f"SQLite cannot read it: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnusable(path, f"it is damaged: SQLite says {exc}") from exc
    finally:
        connection.close()


def _check_header(path: str, header: bytes, size: int, wal_size: int) -> None:
    """Refuse a file that does not begin with SQLite's header or is shorter than its header
    says. With a write-ahead log present the file may lag its log (a checkpoint cut short
    by a crash), and SQLite mends it from the log: its length is then not judged."""
    if not header.startswith(SQLITE_HEADER[: len(header)]) or not header:
        raise DatabaseUnusable(
            path, "it is not a SQLite database (the file does not begin with SQLite's header)"
        )
    if len(header) < 100:
        raise DatabaseUnusable(path, f"it is truncated: {size} bytes, less than SQLite's header")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counted = header[24:28] == header[92:96]  # the page count is valid only if these agree
    if page_size < 512 or page_size & (page_size - 1):
        raise DatabaseUnusable(path, f"it is damaged: its header gives a page size of {page_size}")
    if wal_size == 0 and (size % page_size or (counted and size < pages * page_size)):
        raise DatabaseUnusable(
            path,
            f"it is truncated: its header says {pages} pages of {page_size} bytes "
            f"({pages * page_size} bytes), the file holds {size}",
        )


# -- integrity ------------------------------------------------------------------------------


def integrity_problems(connection: Connection, head: str) -> list[str]:
    """What is wrong with the database behind `connection`, one sentence per problem (see
    `Database.integrity_check`)."""
    live = read_live_connection(connection, full=True)
    problems: list[str] = []
    if live.revisions != [head]:
        revisions = ", ".join(live.revisions) or "none"
        problems.append(
            f"its schema revision is {revisions}, not this version's {head} "
            "(`agentkeel migrate` upgrades a database at an earlier revision)"
        )
    else:
        problems += differences(live)
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        try:
            checked = [str(row[0]) for row in driver.execute("PRAGMA integrity_check")]
            problems += [f"integrity_check: {line}" for line in checked if line != "ok"]
            orphans: dict[tuple[str, str], int] = {}
            for table, _rowid, parent, _key in driver.execute("PRAGMA foreign_key_check"):
                orphans[(str(table), str(parent))] = orphans.get((str(table), str(parent)), 0) + 1
        except sqlite3.DatabaseError as exc:  # damage so bad the check itself cannot go on
            return [*problems, f"integrity_check: SQLite stopped checking: {exc}"]
        problems += [
            f"{count} row(s) of {table} refer to a missing {parent}"
            for (table, parent), count in sorted(orphans.items())
        ]
        return problems
    return problems + _postgres_key_problems(connection, live)


_POSTGRES_KEYS = (
    "SELECT t.relname, a.attname, r.relname FROM pg_catalog.pg_constraint AS c "
    "JOIN pg_catalog.pg_class AS t ON t.oid = c.conrelid "
    "JOIN pg_catalog.pg_class AS r ON r.oid = c.confrelid "
    "CROSS JOIN LATERAL unnest(c.conkey) AS k(attnum) "
    "JOIN pg_catalog.pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = k.attnum "
    "WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace"
)


def _postgres_key_problems(connection: Connection, live: LiveSchema) -> list[str]:
    """Foreign keys the schema declares but the database lacks, and rows referring to a
    missing row (PostgreSQL enforces its keys, so only rows written while one was dropped
    or its triggers disabled): one query for the keys, one for every key's orphans."""
    present = {tuple(map(str, row)) for row in connection.exec_driver_sql(_POSTGRES_KEYS)}
    problems: list[str] = []
    counts: list[str] = []
    for table in metadata.sorted_tables:
        for key in table.foreign_key_constraints:
            for element in key.elements:
                child, parent = element.parent, element.column
                if table.name not in live.columns or parent.table.name not in live.columns:
                    continue
                if (table.name, child.name, parent.table.name) not in present:
                    problems.append(
                        f"the foreign key {table.name}.{child.name} -> {parent.table.name} "
                        "is missing"
                    )
                counts.append(
                    f"SELECT '{table.name}', '{child.name}', '{parent.table.name}', count(*) "
                    f'FROM "{table.name}" AS c WHERE c."{child.name}" IS NOT NULL AND NOT '
                    f'EXISTS (SELECT 1 FROM "{parent.table.name}" AS p '
                    f'WHERE p."{parent.name}" = c."{child.name}")'
                )
    if counts:
        for table, column, parent, count in connection.exec_driver_sql(" UNION ALL ".join(counts)):
            if count:
                problems.append(f"{count} row(s) of {table} refer to a missing {parent} ({column})")
    return problems
