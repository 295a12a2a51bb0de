"""Writers of one implementation plan take turns: steps inserted, moved and reordered by
several units of work at once stay numbered 1..n; and two units starting one approved plan
make one implementation workflow (the second is refused: Protected, as a retry would be)."""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import InvalidValue, Protected
from agentkeel.domain.workflows import ImplementationPlanStep, WorkflowType
from agentkeel.services.workflows import start_implementation
from tests.contract.workflows import plan_data as data


def test_concurrent_writers_keep_the_numbers_dense(db: Database) -> None:
    with db.unit_of_work() as uow:
        plan = data.plan(uow)
        for title in "abc":
            data.plan_step(uow, plan, title)
        uow.commit()
    start = threading.Barrier(4)

    def write(n: int) -> None:
        start.wait(10)
        for round_ in range(3):
            with db.unit_of_work() as uow:
                steps = uow.implementation_plan_steps
                match (n + round_) % 4:
                    case 0:
                        steps.add(
                            ImplementationPlanStep(plan_id=plan.id, step_number=1, title=f"{n}")
                        )
                    case 1:
                        data.plan_step(uow, plan, f"{n}")
                    case 2:
                        ids = [s.id for s in steps.find_by_plan(plan.id)]
                        # The plan is held only from the reorder on: a list read before
                        # another writer added a step is refused, with nothing written.
                        with contextlib.suppress(InvalidValue):
                            steps.reorder(plan.id, ids[::-1])
                    case _:
                        first = steps.find_by_plan(plan.id)[0]
                        steps.move(first.id, 2)
                uow.commit()

    with ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(write, n) for n in range(4)]:
            done.result()
    with db.unit_of_work() as uow:
        rows = data.numbers(uow, plan)
    assert [(n, i) for _, n, i in rows] == [(k, k - 1) for k in range(1, len(rows) + 1)]
    assert len(rows) >= 3


def test_two_units_starting_one_plan_make_one_workflow(db: Database) -> None:
    with db.unit_of_work() as uow:
        plan = data.plan(uow)
        data.plan_step(uow, plan)
        uow.implementation_plans.approve(plan.id)
        uow.commit()
    claimed = threading.Event()

    def first() -> str:
        with db.unit_of_work() as uow:
            workflow = start_implementation(uow, plan.id)
            claimed.set()
            time.sleep(0.5)  # the second starts meanwhile
            uow.commit()
            return workflow.id

    def second() -> str:
        assert claimed.wait(10)
        with db.unit_of_work() as uow:
            return start_implementation(uow, plan.id).id

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        winner = a.result()
        with pytest.raises(Protected, match="implemented already"):
            b.result()
    with db.unit_of_work() as uow:
        started = [
            w
            for w in data.below_ports(uow).store.select(data.workflows_table())
            if w["type"] == WorkflowType.IMPLEMENTATION.value
        ]
    assert [w["id"] for w in started] == [winner]
