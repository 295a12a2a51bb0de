"""A unit of work's transaction, run on the pooled driver connection itself.

SQLAlchemy's `Connection` and `Transaction` objects cost a unit of work on SQLite about
30 µs (their construction, begin and end, event dispatch), three times the get by id they
wrap. A unit of work instead checks a driver connection out of the engine's pool (so the
pool's size and its wait still bound how many units of work are open at once), begins,
commits and rolls back on it, and runs its prepared statements on its cursor. What
SQLAlchemy did around them is kept:

- SQLite writers begin with `BEGIN IMMEDIATE` (they queue on the busy timeout instead of
  failing midway), read-only units of work with a plain `BEGIN` (a WAL snapshot);
  PostgreSQL's driver begins by itself, REPEATABLE READ for read-only units of work;
- the transaction begins with the first statement, as SQLAlchemy's autobegin did; a
  `BEGIN` that failed (Busy) is tried again at the next statement;
- the engine's listeners hear `begin`, `commit`, `rollback` and every statement
  (`before_cursor_execute`, savepoints included), with no `Connection` object (None);
- a lock wait that ran out is `Busy`, a lost connection a retryable `Conflict` (and the pool
  replaces it), any other driver error SQLAlchemy's wrapped one (`IntegrityError`...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from agentkeel.adapters.sql.engine import checkout, give_back
from agentkeel.adapters.sql.errors import aborted, database_message, domain_error
from agentkeel.adapters.sql.prepared import Fetched, Prepared
from agentkeel.domain.errors import RefusedByDatabase


class DriverTransaction:
    """One pooled driver connection and the transactions a unit of work runs on it."""

    def __init__(self, engine: Engine, *, read_only: bool) -> None:
        self.dialect = engine.dialect
        self._dispatch: Any = engine.dispatch
        self._read_only = read_only
        self._sqlite = self.dialect.name == "sqlite"
        self._error = self.dialect.loaded_dbapi.Error
        # The pool's wait (Busy when it runs out) and its connect listeners (pragmas,
        # session settings) are SQLAlchemy's.
        self._engine = engine
        self._pooled = checkout(engine)
        self.driver: Any = self._pooled.driver_connection
        self._dbapi: Any = self._pooled.dbapi_connection
        self._begun = False
        self._isolated = False
        self._lost = False
        # SQLite: a failure rolled the whole transaction back (a trigger's RAISE(ROLLBACK)):
        # every statement is refused until the unit of work rolls back, so that none runs
        # outside a transaction, committing at once.
        self._ended = False
        self._savepoints = 0

    @property
    def begun(self) -> bool:
        """Whether a transaction is open (it begins with the first statement)."""
        return self._begun

    @property
    def aborted(self) -> bool:
        """Whether a failed statement ended the transaction (PostgreSQL: one outside a
        savepoint; SQLite: one that rolled it all back): nothing more can be asked in it
        until it is rolled back."""
        if self._sqlite:
            return self._ended
        return self._begun and self.driver.info.transaction_status.name == "INERROR"

    # -- statements ------------------------------------------------------------------------

    def run(self, prepared: Prepared, params: Any) -> Fetched:
        """Run a prepared statement in the transaction (begun first if need be)."""
        if not self._begun:
            self._begin()
        elif self._ended:
            raise aborted()
        sql, parameters = prepared.expanded(params)
        return self._execute(sql, parameters, prepared)

    def run_after(
        self, first: Prepared, params: Any, prepared: Prepared, rows: Sequence[Any]
    ) -> None:
        """Run `first` (its result unread) and then `prepared` once per row, in one round
        trip where the driver can pipeline (psycopg): an append to a log behind the lock
        that orders appends costs one round trip, not two. SQLite runs them one after the
        other."""
        if self._sqlite:
            self.run(first, params)
            self.run_many(prepared, rows)
            return
        if not self._begun:
            self._begin()
        elif self._ended:
            raise aborted()
        sql, parameters = first.expanded(params)
        try:
            # What the database refuses comes out when the pipeline ends (or as the
            # inserts' own error, translated by `run_many`).
            with self.driver.pipeline():
                cursor = self.driver.cursor()
                if self._dispatch.before_cursor_execute:
                    self._dispatch.before_cursor_execute(None, cursor, sql, parameters, None, False)
                cursor.execute(sql, parameters)
                cursor.close()
                self.run_many(prepared, rows)
        except self._error as exc:
            raise self._translated(exc, prepared.sql, (), None) from exc

    def run_many(self, prepared: Prepared, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run a prepared statement once per row with the driver's `executemany` (one bulk
        statement: a pipeline on psycopg, one statement stepped per row on sqlite3); returns
        the rows it changed."""
        if not self._begun:
            self._begin()
        elif self._ended:
            raise aborted()
        sql, parameters = prepared.sql, prepared.parameters_many(rows)
        cursor = self.driver.cursor()
        try:
            if self._dispatch.before_cursor_execute:
                self._dispatch.before_cursor_execute(None, cursor, sql, parameters, None, True)
            cursor.executemany(sql, parameters)
            return int(cursor.rowcount)
        except self._error as exc:
            raise self._translated(exc, sql, parameters, cursor) from exc
        finally:
            cursor.close()

    def _execute(self, sql: str, parameters: Any, prepared: Prepared | None = None) -> Fetched:
        cursor = self.driver.cursor()
        try:
            if self._dispatch.before_cursor_execute:
                self._dispatch.before_cursor_execute(None, cursor, sql, parameters, None, False)
            cursor.execute(sql, parameters)
            if prepared is None or not prepared.columns:
                return Fetched([], cursor.rowcount)
            row = prepared.row
            return Fetched([row(raw) for raw in cursor.fetchall()], cursor.rowcount)
        except self._error as exc:
            raise self._translated(exc, sql, parameters, cursor) from exc
        finally:
            cursor.close()

    # -- the transaction -------------------------------------------------------------------

    def _begin(self) -> None:
        if self._dispatch.begin:
            self._dispatch.begin(None)
        if self._sqlite:
            # Sent without a statement event, as SQLAlchemy's own BEGIN is.
            begin = "BEGIN" if self._read_only else "BEGIN IMMEDIATE"
            try:
                self.driver.execute(begin)
            except self._error as exc:
                raise self._translated(exc, begin, (), None) from exc
        elif self._read_only and not self._isolated:
            # psycopg begins at the first statement, at the isolation level it holds.
            self.dialect.set_isolation_level(self._dbapi, "REPEATABLE READ")
            self._isolated = True
        self._begun = True

    def commit(self) -> None:
        """Commit. One that fails leaves nothing of the transaction (rolled back), and the
        next statement begins a new one."""
        if not self._begun:
            return
        if self._ended:
            self._begun, self._ended, self._savepoints = False, False, 0
            raise aborted()
        if self._dispatch.commit:
            self._dispatch.commit(None)
        try:
            self.driver.commit()
        except self._error as exc:
            error = self._translated(exc, "COMMIT", (), None)
            if not self._lost and self._sqlite and self.driver.in_transaction:
                # SQLite keeps the transaction open after a refused COMMIT (a deferred
                # foreign key): it is ended here, as PostgreSQL ends it.
                self.driver.rollback()
            if isinstance(error, DBAPIError):
                # A deferred trigger or constraint of the database's own (ours are checked
                # as each statement runs).
                raise RefusedByDatabase("unit_of_work", None, database_message(error)) from exc
            raise error from exc
        finally:
            self._begun = False
            self._ended = False
            self._savepoints = 0

    def rollback(self) -> None:
        if not self._begun:
            return
        self._begun = False
        self._ended = False
        self._savepoints = 0
        if self._lost:
            return
        if self._dispatch.rollback:
            self._dispatch.rollback(None)
        try:
            self.driver.rollback()
        except self._error as exc:
            raise self._translated(exc, "ROLLBACK", (), None) from exc

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint: if the block raises, what it wrote is undone and the transaction
        stays usable."""
        if not self._begun:
            self._begin()
        self._savepoints += 1
        name = f"sa_savepoint_{self._savepoints}"
        self._execute(f"SAVEPOINT {name}", ())
        try:
            yield
        except BaseException:
            if not self._lost and self._begun and not self._ended:
                self._execute(f"ROLLBACK TO SAVEPOINT {name}", ())
            raise
        self._execute(f"RELEASE SAVEPOINT {name}", ())

    def close(self) -> None:
        """Roll back what was not committed and give the connection back to the pool."""
        try:
            try:
                if self._begun:
                    self.rollback()
                elif not self._lost:
                    # No transaction of ours, but one begun beneath us (a tool or test using
                    # the driver) must not go back to the pool; a no-op for the drivers
                    # when none is open.
                    self.driver.rollback()
            except BaseException:
                self._lost = True
                raise
            if self._isolated and not self._lost:
                self.dialect.reset_isolation_level(self._dbapi)
        finally:
            if self._lost:
                self._pooled.invalidate()
            give_back(self._engine, self._pooled)

    # -- errors ----------------------------------------------------------------------------

    def _translated(
        self, exc: Exception, sql: str, parameters: Sequence[Any] | dict[str, Any], cursor: Any
    ) -> Exception:
        dialect = self.dialect
        error = cast(Any, exc)  # the driver's Error class, known only at run time
        disconnect = dialect.is_disconnect(error, self._dbapi, cursor)
        wrapped = DBAPIError.instance(
            sql, parameters, exc, self._error, dialect=dialect, connection_invalidated=disconnect
        )
        if disconnect:
            self._lost = True
        elif self._sqlite and self._begun and not self.driver.in_transaction:
            self._ended = True
        return domain_error(wrapped, exc, disconnect) or wrapped
