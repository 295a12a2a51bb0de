"""The SQLAlchemy internals that agentkeel.adapters.sql.prepared and .transaction rely on
are still there, in the shape those modules use them.

Both skip SQLAlchemy's per-statement work (see their docstrings) by reading what its
compiler leaves on a compiled statement and by calling the engine's listeners and the
dialect's error handling themselves. None of that is public API, so pyproject.toml caps
the version; a failure here names the internal to review before the cap is raised.
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import (
    Column,
    Dialect,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

from agentkeel.adapters.sql.prepared import _result_processor
from agentkeel.schema import metadata

# The dialects of the drivers the project uses (pysqlite, psycopg 3); no connection is made.
DIALECTS = {
    "sqlite": create_engine("sqlite://").dialect,
    "postgresql": create_engine("postgresql+psycopg://").dialect,
}
ROWS = Table("rows", MetaData(), Column("id", String, primary_key=True), Column("n", Integer))
# A parameter the caller gives, an IN's list, and a literal the statement carries (SQLite
# adds another: LIMIT -1).
STATEMENT = (
    select(ROWS.c.id)
    .where(ROWS.c.id == bindparam("id"), ROWS.c.n.in_(bindparam("ns", expanding=True)))
    .offset(0)
)
_MISSING = object()


def gone(module: str, internal: str) -> str:
    return (
        f"agentkeel.adapters.sql.{module} relies on {internal}, which SQLAlchemy "
        f"{sqlalchemy.__version__} no longer has as used: review {module}.py before "
        "raising the upper bound in pyproject.toml"
    )


def attribute(owner: object, name: str, module: str) -> Any:
    value = getattr(owner, name, _MISSING)
    assert value is not _MISSING, gone(module, f"{type(owner).__name__}.{name}")
    return value


def compiled(dialect: Dialect) -> SQLCompiler:
    result = STATEMENT.compile(dialect=dialect)
    assert isinstance(result, SQLCompiler), gone("prepared", "compile() giving an SQLCompiler")
    return result


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_a_compiled_statement_names_its_binds_in_order(dialect: Dialect) -> None:
    statement = compiled(dialect)
    names = attribute(statement, "bind_names", "prepared")
    assert isinstance(names, dict) and all(isinstance(b, BindParameter) for b in names), gone(
        "prepared", "SQLCompiler.bind_names as a dict of BindParameter to name"
    )
    by_name = {name: bind for bind, name in names.items()}
    assert by_name.keys() >= {"id", "ns"}, gone("prepared", "SQLCompiler.bind_names")
    sql = attribute(statement, "string", "prepared")
    assert "__[POSTCOMPILE_ns]" in sql, gone("prepared", "an IN rendered as __[POSTCOMPILE_name]")
    if attribute(dialect, "positional", "prepared"):
        assert attribute(dialect, "paramstyle", "prepared") == "qmark", gone(
            "prepared", "SQLite's `?` parameters"
        )
        order = attribute(statement, "positiontup", "prepared")
        assert order is not None and list(order) == list(by_name), gone(
            "prepared", "SQLCompiler.positiontup as the names in the order of the `?`s"
        )
    else:
        assert dialect.paramstyle == "pyformat" and "%(id)s" in sql, gone(
            "prepared", "psycopg's `%(name)s` parameters"
        )
    given, listed = by_name["id"], by_name["ns"]
    literals = [bind for name, bind in by_name.items() if name not in ("id", "ns")]
    assert (given.required, listed.required, listed.expanding) == (True, True, True), gone(
        "prepared", "BindParameter.required and .expanding"
    )
    assert not any(bind.required for bind in literals), gone("prepared", "BindParameter.required")
    assert 0 in [bind.effective_value for bind in literals], gone(
        "prepared", "BindParameter.effective_value of a literal (OFFSET 0)"
    )


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_a_dialect_tells_what_compiling_depends_on(dialect: Dialect) -> None:
    for name in ("server_version_info", "max_identifier_length", "label_length"):
        attribute(dialect, name, "prepared")


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_every_column_type_processes_without_a_cursor(dialect: Dialect) -> None:
    for table in metadata.sorted_tables:
        for column in table.columns:
            impl = column.type.dialect_impl(dialect)
            try:
                processors = (impl.bind_processor(dialect), _result_processor(column.type, dialect))
            except Exception as error:
                pytest.fail(
                    gone("prepared", f"TypeEngine.result_processor(dialect, None): {error}")
                )
            assert all(p is None or callable(p) for p in processors), gone(
                "prepared", f"TypeEngine.bind_processor and .result_processor ({column})"
            )


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    yield engine
    engine.dispose()


@pytest.mark.parametrize("name", ["before_cursor_execute", "begin", "commit", "rollback"])
def test_the_engine_listeners_are_called_without_a_connection(engine: Engine, name: str) -> None:
    heard: list[tuple[Any, ...]] = []
    dispatch = attribute(engine, "dispatch", "transaction")
    assert not attribute(dispatch, name, "transaction"), gone(
        "transaction", f"Engine.dispatch.{name} false while nothing listens"
    )
    event.listen(engine, name, lambda *args: heard.append(args))
    # As transaction.py calls them: no Connection, no execution context.
    statement = (None, "cursor", "SELECT 1", (), None, False)
    args = statement if name == "before_cursor_execute" else (None,)
    getattr(engine.dispatch, name)(*args)
    assert heard == [args], gone("transaction", f"calling Engine.dispatch.{name}{args}")


def test_the_pool_hands_out_the_driver_connection(engine: Engine) -> None:
    pooled = engine.raw_connection()
    try:
        assert isinstance(attribute(pooled, "driver_connection", "transaction"), sqlite3.Connection)
        assert attribute(pooled, "dbapi_connection", "transaction") is pooled.driver_connection
        assert callable(attribute(pooled, "invalidate", "transaction"))
    finally:
        pooled.close()


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_a_dialect_tells_driver_errors_and_sets_isolation(dialect: Dialect) -> None:
    error = attribute(dialect, "loaded_dbapi", "transaction").Error
    assert issubclass(error, Exception), gone("transaction", "Dialect.loaded_dbapi.Error")
    # How many arguments transaction.py passes each (the error, the driver connection...).
    calls = {"is_disconnect": 3}
    if dialect.name == "postgresql":
        calls |= {"set_isolation_level": 2, "reset_isolation_level": 1}
    for name, count in calls.items():
        method = attribute(dialect, name, "transaction")
        try:
            inspect.signature(method).bind(*[None] * count)
        except TypeError:
            pytest.fail(gone("transaction", f"Dialect.{name} taking {count} arguments"))


def test_a_driver_error_is_wrapped_as_sqlalchemy_would(engine: Engine) -> None:
    wrapped = DBAPIError.instance(
        "INSERT",
        (),
        sqlite3.IntegrityError("refused"),
        sqlite3.Error,
        dialect=engine.dialect,
        connection_invalidated=False,
    )
    assert isinstance(wrapped, IntegrityError), gone("transaction", "DBAPIError.instance")
