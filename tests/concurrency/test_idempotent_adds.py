"""Units of work racing with one idempotency key create one entity, and all get it.

The first holds the key, uncommitted, while the others ask: on PostgreSQL they wait on the
key's advisory lock and then read the first's record; SQLite and the fakes queue writers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from agentkeel.database import Database
from agentkeel.domain.planning import Task
from tests import factories


def test_racing_adds_with_one_key_create_one_task(db: Database) -> None:
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        uow.commit()
    added = threading.Event()

    def first() -> str:
        with db.unit_of_work() as uow:
            task = uow.tasks.add(Task(project_id=project.id, name="First"), idempotency_key="k")
            added.set()
            time.sleep(0.5)  # the others ask meanwhile
            uow.commit()
            return task.id

    def retry(_: int) -> str:
        assert added.wait(10)
        with db.unit_of_work() as uow:
            task = uow.tasks.add(Task(project_id=project.id, name="Retry"), idempotency_key="k")
            uow.commit()
            return task.id

    with ThreadPoolExecutor(max_workers=4) as pool:
        winner = pool.submit(first)
        others = list(pool.map(retry, range(3)))
    assert set(others) == {winner.result()}
    with db.unit_of_work() as uow:
        assert [(t.id, t.name) for t in uow.tasks.list(project.id)] == [(winner.result(), "First")]
