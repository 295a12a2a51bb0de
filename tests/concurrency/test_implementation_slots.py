"""Units of work racing for the last free slot of `workflow.maxConcurrentImplementations`:
one gets it, the others a LimitReached, and the cap is never exceeded.

The check takes turns (`serialize`): on PostgreSQL an advisory lock held until the winner
commits, after which the loser's count sees the winner's slot; SQLite and the fakes queue
the second writer behind the first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from agentkeel.database import Database
from agentkeel.domain.errors import LimitReached
from agentkeel.domain.workflows import WorkflowStatus
from tests import factories


def _workflows(db: Database, count: int, cap: int, running: int) -> list[str]:
    """`count` created implementation workflows, after `running` that hold a slot."""
    with db.unit_of_work() as uow:
        uow.settings.set_value("workflow.maxConcurrentImplementations", cap)
        project = factories.project(uow)
        for n in range(running):
            uow.workflows.start(factories.workflow(uow, project, name=f"busy {n}").id)
        ids = [factories.workflow(uow, project, name=f"new {n}").id for n in range(count)]
        uow.commit()
    return ids


def test_the_second_of_two_racing_for_the_last_slot_is_refused(db: Database) -> None:
    first_id, second_id = _workflows(db, 2, cap=3, running=2)
    started = threading.Event()

    def first() -> WorkflowStatus:
        with db.unit_of_work() as uow:
            workflow = uow.workflows.start(first_id)
            started.set()
            time.sleep(0.5)  # the second tries meanwhile
            uow.commit()
            return workflow.status

    def second() -> str:
        assert started.wait(10)
        with db.unit_of_work() as uow:
            try:
                uow.workflows.start(second_id)
            except LimitReached as error:
                uow.workflows.count()  # the unit of work is still usable
                return error.setting
            uow.commit()
            return "started"

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        assert a.result() == WorkflowStatus.RUNNING
        assert b.result() == "workflow.maxConcurrentImplementations"
    with db.unit_of_work() as uow:
        assert uow.workflows.count_active_implementations() == 3
        assert uow.workflows.get(second_id).status == WorkflowStatus.CREATED


def test_many_racing_for_one_slot_one_wins(db: Database) -> None:
    ids = _workflows(db, 4, cap=1, running=0)
    start = threading.Barrier(len(ids))

    def race(workflow_id: str) -> bool:
        start.wait(10)
        with db.unit_of_work() as uow:
            try:
                uow.workflows.start(workflow_id)
            except LimitReached:
                return False
            uow.commit()
            return True

    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        won = list(pool.map(race, ids))
    assert won.count(True) == 1
    with db.unit_of_work() as uow:
        assert uow.workflows.count_active_implementations() == 1
        running = uow.workflows.list(status=WorkflowStatus.RUNNING)
        assert [w.id for w in running] == [ids[won.index(True)]]
