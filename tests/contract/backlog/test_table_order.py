"""Deleting a project removes its features, sub-features and tasks together on SQLite
whatever order the tables were created in: `tasks.feature_id / sub_feature_id` are NO
ACTION (checked when the statement ends, after every cascade), not RESTRICT (checked at
once, which would refuse the delete when the features' cascade happens to run first)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from agentkeel.adapters.sql.engine import create_database_engine
from agentkeel.database import Database
from agentkeel.domain.planning import TaskStatus
from agentkeel.schema import metadata
from tests import factories


@pytest.mark.parametrize("order", ["dependencies first", "reversed", "backlog last"])
def test_deleting_a_project_removes_its_backlog_in_any_table_order(
    tmp_path: Path, order: str
) -> None:
    tables = list(metadata.sorted_tables)
    if order == "reversed":
        tables.reverse()
    elif order == "backlog last":
        backlog = {"features", "sub_features"}
        tables = [t for t in tables if t.name not in backlog] + [
            t for t in tables if t.name in backlog
        ]
    engine = create_database_engine(str(tmp_path / "ordered.db"))
    with engine.begin() as connection:
        for table in tables:  # SQLite lets a table refer to one created later
            table.create(connection)
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db = Database(engine=engine)
    try:
        with db.unit_of_work() as uow:
            project = factories.project(uow)
            feature = factories.feature(uow, project)
            part = factories.sub_feature(uow, feature)
            factories.task(uow, project, "a", feature_id=feature.id, status=TaskStatus.COMPLETED)
            factories.task(uow, project, "b", sub_feature_id=part.id)
            uow.commit()
        with db.unit_of_work() as uow:
            removed = uow.projects.delete(project.id)
            uow.commit()
        assert (removed["features"], removed["sub_features"], removed["tasks"]) == (1, 1, 2)
        with engine.connect() as connection:
            for name in ("features", "sub_features", "tasks"):
                assert connection.execute(text(f"SELECT count(*) FROM {name}")).scalar() == 0
    finally:
        db.close()
