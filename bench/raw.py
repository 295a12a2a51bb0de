"""The raw sqlite3 side of each scenario: the same work, written by hand.

The tables have the columns, keys, checks and indexes of agentkeel's `projects` and
`repositories`; the connection uses agentkeel's pragmas (WAL, foreign keys, synchronous
NORMAL) and manages its transactions explicitly, BEGIN IMMEDIATE for writes. Ids are random
URL-safe strings and timestamps are text, as a hand-written application would make them.
Each function does its setup (outside the clock) and returns the work to time.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench.keel import LIST_CALLS, PROJECTS_WITH_REPOSITORIES

Work = Callable[[], None]

SCHEMA = """
CREATE TABLE projects (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    name VARCHAR(200) NOT NULL,
    description TEXT,
    mode VARCHAR(32) CHECK (mode IN ('genesis', 'evolution')),
    status VARCHAR(100),
    root_path VARCHAR(4096),
    repository_url VARCHAR(2048),
    completed_at DATETIME,
    archived_at DATETIME
);
CREATE INDEX ix_projects_archived_at ON projects (archived_at);
CREATE INDEX ix_projects_created_at ON projects (created_at);

CREATE TABLE repositories (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    project_id VARCHAR(64) NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name VARCHAR(200) NOT NULL,
    path VARCHAR(4096),
    url VARCHAR(2048),
    default_branch VARCHAR(255) NOT NULL,
    set_as_default_at DATETIME,
    last_fetched_at DATETIME,
    UNIQUE (project_id, name)
);
CREATE INDEX ix_repositories_path ON repositories (path);
CREATE INDEX ix_repositories_project_id ON repositories (project_id);
CREATE UNIQUE INDEX uq_repositories_project_id_set_as_default_at
    ON repositories (project_id) WHERE set_as_default_at IS NOT NULL;
"""

INSERT_PROJECT = (
    "INSERT INTO projects (id, created_at, updated_at, name, description) VALUES (?, ?, ?, ?, ?)"
)
INSERT_REPOSITORY = (
    "INSERT INTO repositories (id, created_at, updated_at, project_id, name, path, default_branch)"
    " VALUES (?, ?, ?, ?, ?, ?, 'main')"
)
SELECT_PROJECT = "SELECT * FROM projects WHERE id = ?"
LIST_PROJECTS = "SELECT * FROM projects WHERE archived_at IS NULL ORDER BY created_at, id"
DELETE_PROJECT = "DELETE FROM projects WHERE id = ?"


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (we write BEGIN/COMMIT) to a new database at `path`."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.executescript(SCHEMA)
    return connection


@contextmanager
def transaction(connection: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    connection.execute(begin)
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def new_id() -> str:
    return secrets.token_urlsafe(16)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def insert_project(connection: sqlite3.Connection, i: int) -> str:
    key, stamp = new_id(), now()
    row = (key, stamp, stamp, f"project {i}", f"benchmark project number {i}")
    connection.execute(INSERT_PROJECT, row)
    return key


def add_projects(connection: sqlite3.Connection, count: int) -> list[str]:
    with transaction(connection):
        return [insert_project(connection, i) for i in range(count)]


def add_repositories(connection: sqlite3.Connection, n: int, project_ids: list[str]) -> None:
    with transaction(connection):
        for i in range(n):
            stamp = now()
            project_id = project_ids[i % len(project_ids)]
            row = (new_id(), stamp, stamp, project_id, f"repository {i}", f"/src/repo-{i}")
            connection.execute(INSERT_REPOSITORY, row)


def insert_each(connection: sqlite3.Connection, n: int) -> Work:
    def work() -> None:
        for i in range(n):
            with transaction(connection):
                insert_project(connection, i)

    return work


def insert_batch(connection: sqlite3.Connection, n: int) -> Work:
    def work() -> None:
        add_projects(connection, n)

    return work


def get_by_id(connection: sqlite3.Connection, n: int) -> Work:
    ids = add_projects(connection, n)

    def work() -> None:
        with transaction(connection, "BEGIN"):
            for key in ids:
                connection.execute(SELECT_PROJECT, (key,)).fetchone()

    return work


def list_all(connection: sqlite3.Connection, n: int) -> Work:
    add_projects(connection, n)

    def work() -> None:
        for _ in range(LIST_CALLS):
            with transaction(connection, "BEGIN"):
                connection.execute(LIST_PROJECTS).fetchall()

    return work


def insert_repositories(connection: sqlite3.Connection, n: int) -> Work:
    project_ids = add_projects(connection, PROJECTS_WITH_REPOSITORIES)

    def work() -> None:
        add_repositories(connection, n, project_ids)

    return work


def delete_cascade(connection: sqlite3.Connection, n: int) -> Work:
    project_ids = add_projects(connection, PROJECTS_WITH_REPOSITORIES)
    add_repositories(connection, n, project_ids)

    def work() -> None:
        for key in project_ids:
            with transaction(connection):
                connection.execute(DELETE_PROJECT, (key,))

    return work
