"""Units of work racing with one idempotency key create one entity, and all get it.

The first holds the key, uncommitted, while the others ask: on PostgreSQL they wait on the
key's advisory lock and then read the first's record; SQLite and the fakes queue writers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from agentkeel.database import Database
from agentkeel.domain.planning import Task
from agentkeel.services import workflows
from tests import factories
from tests.contract.workflows import plan_data


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
        assert [(t.id, t.name) for t in uow.tasks.list(project_id=project.id)] == [
            (winner.result(), "First")
        ]


def test_racing_starts_of_one_plan_under_one_key_start_it_once(db: Database) -> None:
    with db.unit_of_work() as uow:
        plan = plan_data.plan(uow)
        plan_data.plan_step(uow, plan, "Build")
        uow.implementation_plans.approve(plan.id)
        uow.commit()
    started = threading.Event()

    def first() -> str:
        with db.unit_of_work() as uow:
            workflow = workflows.start_implementation(uow, plan.id, idempotency_key="start")
            started.set()
            time.sleep(0.5)  # the retry asks meanwhile
            uow.commit()
            return workflow.id

    def retry() -> str:
        assert started.wait(10)
        with db.unit_of_work() as uow:
            # Without the key this would be a Conflict (the plan is being implemented).
            workflow = workflows.start_implementation(uow, plan.id, idempotency_key="start")
            uow.commit()
            return workflow.id

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(first), pool.submit(retry)
        assert a.result() == b.result()
    with db.unit_of_work() as uow:
        [workflow] = uow.workflows.find_by_parent(plan.workflow_id)
        assert len(uow.workflow_steps.find_by_workflow(workflow.id)) == 1
