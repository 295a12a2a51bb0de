"""Units of work completing, reopening and moving tasks of one feature at once leave its
`completed_tasks` equal to a recount: each change is an addition in SQL on the feature's
row (PostgreSQL: the row lock orders them; SQLite and the fakes: one writer at a time), not
a read-modify-write."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from agentkeel.database import Database
from agentkeel.domain.planning import TaskStatus
from tests import factories


def test_concurrent_task_writes_keep_completed_tasks_true(db: Database) -> None:
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        feature = factories.feature(uow, project)
        other = factories.feature(uow, project, "Other")
        tasks = [factories.task(uow, project, f"t{i}", feature_id=feature.id) for i in range(8)]
        uow.commit()
    start = threading.Barrier(4)

    def work(worker: int) -> None:
        start.wait(10)
        for task in tasks[worker::4]:
            with db.unit_of_work() as uow:
                uow.tasks.move_to(task.id, TaskStatus.IN_PROGRESS)
                uow.tasks.complete(task.id)
                uow.commit()
        with db.unit_of_work() as uow:  # one reopened, one moved to the other feature
            reopened, moved = uow.tasks.get(tasks[worker].id), uow.tasks.get(tasks[worker + 4].id)
            uow.tasks.move_to(reopened.id, TaskStatus.PENDING)
            moved.feature_id = other.id
            uow.tasks.update(moved)
            uow.commit()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(work, range(4)))
    with db.unit_of_work() as uow:
        assert uow.features.get(feature.id).completed_tasks == uow.features.recount(feature.id) == 0
        assert uow.features.get(other.id).completed_tasks == uow.features.recount(other.id) == 4
