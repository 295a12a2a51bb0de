"""A write the database refuses for a reason of its own (a trigger that raises, a constraint
added by hand) is `RefusedByDatabase`, never a `Conflict` (which says "retry") nor a
driver's exception; on inserts, updates, deletes, bulk inserts and commits, on SQLite and
PostgreSQL. The fakes hold no triggers: these tests take the SQL backends only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agentkeel.adapters.sql.store import SqlStore
from agentkeel.database import Database
from agentkeel.domain.agents import Agent
from agentkeel.domain.errors import Conflict, RefusedByDatabase
from agentkeel.domain.workspace import Project, Repository
from agentkeel.ports.unit_of_work import UnitOfWork
from tests.conftest import POSTGRES_URL, open_backend
from tests.factories import store_of

SQL = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    SQL.append(pytest.param("postgres", marks=pytest.mark.postgres))

MESSAGE = "projects are frozen"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER refuse_insert BEFORE INSERT ON projects
    WHEN substr(NEW.name, 1, 6) = 'Frozen' BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER refuse_update BEFORE UPDATE ON projects WHEN NEW.description = 'frozen'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER refuse_delete BEFORE DELETE ON projects WHEN OLD.name = 'Keep me'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    """CREATE TRIGGER refuse_chunk BEFORE INSERT ON agent_log_chunks WHEN NEW.content = 'boom'
    BEGIN SELECT RAISE(ABORT, 'no booms in logs'); END""",
    """CREATE TRIGGER refuse_event BEFORE INSERT ON event_log
    WHEN NEW.event_type = 'ProjectArchived'
    BEGIN SELECT RAISE(ABORT, 'archiving is not logged here'); END""",
]

POSTGRES_SETUP = [
    f"""CREATE FUNCTION refuse_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""",
    """CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'no booms in logs'; END $$""",
    """CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'archiving is not logged here'; END $$""",
    """CREATE TRIGGER refuse_insert BEFORE INSERT ON projects FOR EACH ROW
    WHEN (left(NEW.name, 6) = 'Frozen') EXECUTE FUNCTION refuse_frozen()""",
    """CREATE TRIGGER refuse_update BEFORE UPDATE ON projects FOR EACH ROW
    WHEN (NEW.description = 'frozen') EXECUTE FUNCTION refuse_frozen()""",
    """CREATE TRIGGER refuse_delete BEFORE DELETE ON projects FOR EACH ROW
    WHEN (OLD.name = 'Keep me') EXECUTE FUNCTION refuse_frozen()""",
    """CREATE TRIGGER refuse_chunk BEFORE INSERT ON agent_log_chunks FOR EACH ROW
    WHEN (NEW.content = 'boom') EXECUTE FUNCTION refuse_boom()""",
    """CREATE TRIGGER refuse_event BEFORE INSERT ON event_log FOR EACH ROW
    WHEN (NEW.event_type = 'ProjectArchived') EXECUTE FUNCTION refuse_event()""",
    # Checked when the transaction commits.
    """CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON projects
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.name = 'Deferred') EXECUTE FUNCTION refuse_frozen()""",
    """ALTER TABLE projects ADD CONSTRAINT hand_made_check
    CHECK (description IS DISTINCT FROM 'forbidden')""",
    "CREATE UNIQUE INDEX hand_made_unique ON projects (root_path)",
]
POSTGRES_TEARDOWN = [
    "DROP INDEX IF EXISTS hand_made_unique",
    "ALTER TABLE projects DROP CONSTRAINT IF EXISTS hand_made_check",
    "DROP TRIGGER IF EXISTS refuse_at_commit ON projects",
    "DROP TRIGGER IF EXISTS refuse_event ON event_log",
    "DROP TRIGGER IF EXISTS refuse_chunk ON agent_log_chunks",
    "DROP TRIGGER IF EXISTS refuse_delete ON projects",
    "DROP TRIGGER IF EXISTS refuse_update ON projects",
    "DROP TRIGGER IF EXISTS refuse_insert ON projects",
    "DROP FUNCTION IF EXISTS refuse_event()",
    "DROP FUNCTION IF EXISTS refuse_boom()",
    "DROP FUNCTION IF EXISTS refuse_frozen()",
]


def _run(engine: Engine, statements: list[str]) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def _add_sqlite_check_and_unique(engine: Engine) -> None:
    """SQLite cannot add a CHECK to a table: it is written into the table's definition, as
    a person editing the schema by hand would."""
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE UNIQUE INDEX hand_made_unique ON projects (root_path)")
        (version,) = connection.exec_driver_sql("PRAGMA schema_version").one()
        connection.exec_driver_sql("PRAGMA writable_schema = ON")
        connection.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, "
            "'CONSTRAINT pk_projects PRIMARY KEY (id)', "
            "'CONSTRAINT pk_projects PRIMARY KEY (id), CONSTRAINT hand_made_check "
            "CHECK (description IS NOT ''forbidden'')') "
            "WHERE type = 'table' AND name = 'projects'"
        )
        connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
        connection.exec_driver_sql("PRAGMA writable_schema = OFF")


@pytest.fixture(params=SQL)
def guarded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Database]]:
    """A database whose `projects` (and log tables) carry triggers and constraints of the
    database's own; removed again afterwards on the shared PostgreSQL database."""
    backend: str = request.param
    db = open_backend(request, backend, tmp_path)
    engine = db.engine
    assert engine is not None
    try:
        if backend == "sqlite":
            _run(engine, SQLITE_TRIGGERS)
            _add_sqlite_check_and_unique(engine)
        else:
            _run(engine, POSTGRES_TEARDOWN + POSTGRES_SETUP)
        yield backend, db
    finally:
        if backend == "postgres":
            _run(engine, POSTGRES_TEARDOWN)
        else:
            db.close()


def _project(db: Database, name: str, **fields: object) -> Project:
    with db.unit_of_work() as uow:
        project = uow.projects.add(Project(name=name, **fields))  # type: ignore[arg-type]
        uow.commit()
    return project


def _names(db: Database) -> list[str]:
    with db.unit_of_work(read_only=True) as uow:
        return sorted(project.name for project in uow.projects.list())


def _goes_on_or_says_retry(backend: str, uow: UnitOfWork, usable: bool) -> None:
    """After the refusal: a unit of work that goes on writes and commits; one whose
    transaction the refused statement ended says "retry the unit of work" for every call."""
    if usable:
        uow.projects.add(Project(name="Afterwards"))
        uow.commit()
    else:
        assert backend == "postgres"
        with pytest.raises(Conflict, match="retry the unit of work"):
            uow.projects.add(Project(name="Afterwards"))


@pytest.mark.parametrize("operation", ["insert", "update", "delete"])
def test_a_trigger_that_raises_is_refused_by_database_not_a_conflict(
    guarded: tuple[str, Database], operation: str
) -> None:
    backend, db = guarded
    kept = _project(db, "Keep me", description="as it was")
    with db.unit_of_work() as uow:
        with pytest.raises(RefusedByDatabase) as caught:
            if operation == "insert":
                key = uow.projects.add(Project(name="Frozen one")).id
            elif operation == "update":
                key = kept.id
                project = uow.projects.get(kept.id)
                project.description = "frozen"
                uow.projects.update(project)
            else:
                key = kept.id
                uow.projects.delete(kept.id)
        refused = caught.value
        assert not isinstance(refused, Conflict)
        assert (refused.entity, refused.message) == ("project", MESSAGE)
        if operation != "insert":
            assert refused.key == key
        assert str(refused).endswith(f": {MESSAGE}")
        # A delete runs in a savepoint everywhere; on PostgreSQL an insert or an update of
        # columns no rule of ours can refuse runs bare, and its failure ends the transaction.
        usable = backend == "sqlite" or operation == "delete"
        _goes_on_or_says_retry(backend, uow, usable)
    with db.unit_of_work(read_only=True) as uow:
        assert uow.projects.get(kept.id).description == "as it was"
    assert _names(db) == (["Afterwards", "Keep me"] if usable else ["Keep me"])


@pytest.mark.parametrize("operation", ["insert", "update"])
def test_a_check_added_by_hand_is_refused_by_database(
    guarded: tuple[str, Database], operation: str
) -> None:
    _, db = guarded
    project = _project(db, "Checked")
    with db.unit_of_work() as uow:
        with pytest.raises(RefusedByDatabase) as caught:
            if operation == "insert":
                uow.projects.add(Project(name="Other", description="forbidden"))
            else:
                stored = uow.projects.get(project.id)
                stored.description = "forbidden"
                uow.projects.update(stored)
        assert caught.value.entity == "project"
        assert "hand_made_check" in caught.value.message
        assert not isinstance(caught.value, Conflict)
    assert _names(db) == ["Checked"]


def test_a_unique_index_added_by_hand_is_refused_by_database(
    guarded: tuple[str, Database],
) -> None:
    """PostgreSQL inserts skip a clash (ON CONFLICT DO NOTHING) and then name the rule of
    ours it broke: here none, so the insert is made once more and the database says why."""
    _, db = guarded
    first = _project(db, "First", root_path="/src/shared")
    with db.unit_of_work() as uow:
        with pytest.raises(RefusedByDatabase) as caught:
            uow.projects.add(Project(name="Second", root_path="/src/shared"))
        assert caught.value.entity == "project"
        assert "unique" in caught.value.message.lower()
        assert not isinstance(caught.value, Conflict)
        # The insert ran in a savepoint: the unit of work goes on, on every backend.
        uow.projects.add(Project(name="Third", root_path="/src/other"))
        uow.commit()
    assert _names(db) == ["First", "Third"]
    with db.unit_of_work() as uow:
        second = uow.projects.add(Project(name="Second"))
        uow.commit()
    with db.unit_of_work() as uow:
        second.root_path = first.root_path
        with pytest.raises(RefusedByDatabase):
            uow.projects.update(second)


def test_a_refused_batch_writes_nothing(guarded: tuple[str, Database]) -> None:
    _, db = guarded
    with db.unit_of_work() as uow:
        agent = uow.agents.add(Agent(name="brave-otter"))
        uow.commit()
    with db.unit_of_work() as uow:
        with pytest.raises(RefusedByDatabase) as caught:
            uow.agent_log_chunks.append(agent.id, agent.name, 1, ["one", "two", "boom", "four"])
        assert (caught.value.entity, caught.value.key) == ("agent_log_chunk", None)
        assert caught.value.message == "no booms in logs"
        assert uow.agent_log_chunks.find_by_agent(agent.id) == []
        assert uow.agent_log_chunks.append(agent.id, agent.name, 1, ["fine"]) == 1
        uow.commit()


def test_a_commit_refused_by_a_deferred_rule_rolls_back_and_the_unit_goes_on(
    guarded: tuple[str, Database],
) -> None:
    """PostgreSQL: a deferred constraint trigger. SQLite: its foreign keys deferred to the
    commit (`PRAGMA defer_foreign_keys`), set by hand in the transaction."""
    backend, db = guarded
    with db.unit_of_work() as uow:
        uow.projects.add(Project(name="Lost with the commit"))
        if backend == "postgres":
            uow.projects.add(Project(name="Deferred"))
        else:
            store = store_of(uow)
            assert isinstance(store, SqlStore)
            store.transaction.driver.execute("PRAGMA defer_foreign_keys = ON")
            uow.repositories.add(Repository(project_id="no-such-project", name="r", path="/r"))
        with pytest.raises(RefusedByDatabase) as caught:
            uow.commit()
        assert (caught.value.entity, caught.value.key) == ("unit_of_work", None)
        assert not isinstance(caught.value, Conflict)
        uow.projects.add(Project(name="Next transaction"))
        uow.commit()
    assert _names(db) == ["Next transaction"]


def test_a_refused_event_log_append_refuses_the_commit(guarded: tuple[str, Database]) -> None:
    _, db = guarded
    project = _project(db, "Archived soon")
    with db.unit_of_work() as uow:
        uow.projects.archive(project.id)
        with pytest.raises(RefusedByDatabase) as caught:
            uow.commit()
        assert (caught.value.entity, caught.value.message) == (
            "event_log",
            "archiving is not logged here",
        )
        assert not uow.projects.get(project.id).is_archived  # rolled back
        uow.projects.add(Project(name="Next transaction"))
        uow.commit()
    assert _names(db) == ["Archived soon", "Next transaction"]


@pytest.mark.sqlite
def test_a_sqlite_trigger_that_rolls_back_the_transaction_ends_the_unit_of_work(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """`RAISE(ROLLBACK)` undoes the whole transaction: every later call says "retry the
    unit of work" (none may run outside a transaction, committing at once), also the
    commit; rolled back, the unit of work begins again."""
    db = open_backend(request, "sqlite", tmp_path)
    try:
        assert db.engine is not None
        _run(
            db.engine,
            [
                """CREATE TRIGGER refuse_all BEFORE INSERT ON projects
                WHEN NEW.name = 'Rollback' BEGIN SELECT RAISE(ROLLBACK, 'all of it'); END"""
            ],
        )
        with db.unit_of_work() as uow:
            uow.projects.add(Project(name="Written before"))
            with pytest.raises(RefusedByDatabase, match="all of it"):
                uow.projects.add(Project(name="Rollback"))
            with pytest.raises(Conflict, match="retry the unit of work"):
                uow.projects.add(Project(name="Never"))
            with pytest.raises(Conflict, match="retry the unit of work"):
                uow.commit()
            uow.projects.add(Project(name="After the retry"))
            uow.commit()
        assert _names(db) == ["After the retry"]
    finally:
        db.close()
