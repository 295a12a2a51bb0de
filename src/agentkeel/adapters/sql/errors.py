"""Translation of the driver's integrity errors into the domain's errors.

The memory store raises its errors from the rules in `adapters/constraints.py`; here the
database's complaint is mapped back to the same rule, so both say the same thing. Where the
driver does not say which rule (SQLite's foreign keys), the store asks the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from agentkeel.adapters.constraints import (
    TableRules,
    UniqueRule,
    not_allowed_error,
    not_null_error,
    rules_of,
)
from agentkeel.domain.errors import Conflict, DomainError
from agentkeel.repositories.writers import busy
from agentkeel.schema import label_of


@dataclass(frozen=True)
class Broken:
    """Which kind of rule the database says was broken, and which one if it says."""

    kind: str  # "unique" | "foreign_key" | "not_null" | "check" | "unknown"
    constraint: str | None = None
    columns: tuple[str, ...] = ()


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")
_SQLITE_NOT_NULL = re.compile(r"NOT NULL constraint failed: \w+\.(\w+)")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")


def broken_rule(exc: IntegrityError) -> Broken:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        diag = getattr(orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        column = getattr(diag, "column_name", None)
        kind = {
            "23505": "unique",
            "23503": "foreign_key",
            "23502": "not_null",
            "23514": "check",
        }.get(sqlstate, "unknown")
        return Broken(kind, constraint, (column,) if column else ())
    message = str(orig)
    if match := _SQLITE_UNIQUE.match(message):
        columns = tuple(part.strip().split(".")[-1] for part in match.group(1).split(","))
        return Broken("unique", None, columns)
    if message.startswith("FOREIGN KEY constraint failed"):
        return Broken("foreign_key")
    if match := _SQLITE_NOT_NULL.match(message):
        return Broken("not_null", None, (match.group(1),))
    if match := _SQLITE_CHECK.match(message):
        return Broken("check", match.group(1))
    return Broken("unknown")


# SQLite: the busy timeout ran out. PostgreSQL: lock timeout, deadlock, serialization failure.
_BUSY_SQLSTATES = {"55P03", "40P01", "40001"}


def is_busy(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _BUSY_SQLSTATES
    return "database is locked" in str(exc.orig) or "database is busy" in str(exc.orig)


def busy_error(context: ExceptionContext) -> Conflict | None:
    """The engines' `handle_error` listener: a lock wait that ran out is `Busy` wherever a
    statement ran (a unit of work, a migration, a `BEGIN IMMEDIATE`, a new connection)."""
    return domain_error(
        context.sqlalchemy_exception, context.original_exception, context.is_disconnect
    )


def domain_error(
    error: BaseException | None, original: BaseException, disconnect: bool
) -> Conflict | None:
    """The retryable domain error a driver failure means, or None: a lock wait that ran
    out (Busy), a lost connection, a transaction an earlier failure aborted."""
    if isinstance(error, OperationalError) and is_busy(error):
        return busy()
    if disconnect:
        # Connections are not pinged on checkout (a round trip per unit of work): one the
        # server dropped fails at its first statement, and the pool replaces it.
        return Conflict(
            "database", None, "the connection to the database was lost; retry the unit of work"
        )
    if getattr(original, "sqlstate", None) == _ABORTED_SQLSTATE:
        # A statement that failed outside a savepoint (writes run in one; a read that hit
        # the lock timeout does not) aborts the whole PostgreSQL transaction.
        return aborted()
    return None


def aborted() -> Conflict:
    """The error of every call in a transaction an earlier failure ended."""
    return Conflict(
        "unit_of_work",
        None,
        "an earlier statement failed and aborted its transaction; retry the unit of work",
    )


_ABORTED_SQLSTATE = "25P02"  # in_failed_sql_transaction


def database_message(exc: DBAPIError) -> str:
    """What the database said, in its own words: PostgreSQL's primary message (without the
    CONTEXT lines a PL/pgSQL trigger adds), SQLite's message."""
    orig = exc.orig
    primary = getattr(getattr(orig, "diag", None), "message_primary", None)
    return str(primary if primary else orig).strip()


def unique_rule(rules: TableRules, broken: Broken) -> UniqueRule | None:
    if broken.constraint is not None:
        return rules.unique_named(broken.constraint)
    return rules.unique_on(broken.columns)


def value_error(table: Table, broken: Broken, row: dict[str, object]) -> DomainError | None:
    """NOT NULL and CHECK failures, named as the memory store names them."""
    rules = rules_of(table.name)
    label = label_of(table)
    if broken.kind == "not_null" and broken.columns:
        return not_null_error(label, broken.columns[0])
    if broken.kind == "check" and (column := rules.checks.get(broken.constraint or "")):
        return not_allowed_error(label, column, row.get(column), rules.allowed[column])
    return None
