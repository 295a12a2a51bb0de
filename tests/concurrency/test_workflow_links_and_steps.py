"""Writes of one workflow's links and steps take turns: two first links at once leave one
primary, steps added at once all count in the workflow's `total_steps`, and a step does not
complete in a workflow cancelled meanwhile."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from agentkeel.database import Database
from agentkeel.domain.errors import Conflict, InvalidTransition
from agentkeel.domain.workflows import StepStatus, StepType, WorkflowStatus, WorkflowStep
from tests import factories


def _retrying(db: Database, write: object) -> None:
    """Run `write(uow)` in a unit of work, again after a Conflict (Busy), as an application
    would."""
    assert callable(write)
    while True:
        try:
            with db.unit_of_work() as uow:
                write(uow)
                uow.commit()
            return
        except Conflict:
            continue


def test_a_first_link_made_while_another_is_open_is_not_primary(db: Database) -> None:
    """The second links while the first has linked and not yet committed: it waits its
    turn, then finds the first link and does not become primary."""
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        first_repo, second_repo = (factories.repository(uow, project, n).id for n in "ab")
        workflow = factories.workflow(uow, project).id
        uow.commit()
    linked = threading.Event()

    def first() -> bool:
        with db.unit_of_work() as uow:
            link = uow.workflow_repositories.link(workflow, first_repo)
            linked.set()
            time.sleep(0.5)  # the second links meanwhile
            uow.commit()
            return link.is_primary

    def second() -> bool:
        assert linked.wait(10)
        with db.unit_of_work() as uow:
            link = uow.workflow_repositories.link(workflow, second_repo)
            uow.commit()
            return link.is_primary

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        assert (a.result(), b.result()) == (True, False)
    with db.unit_of_work() as uow:
        primary = uow.workflow_repositories.primary_of(workflow)
    assert primary is not None and primary.id == first_repo


def test_first_links_at_once_leave_one_primary(db: Database) -> None:
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        repos = [factories.repository(uow, project, f"r{n}").id for n in range(4)]
        workflow = factories.workflow(uow, project).id
        uow.commit()
    start = threading.Barrier(len(repos))

    def link(repo: str) -> None:
        start.wait(10)
        _retrying(db, lambda uow: uow.workflow_repositories.link(workflow, repo))

    with ThreadPoolExecutor(max_workers=len(repos)) as pool:
        list(pool.map(link, repos))
    with db.unit_of_work() as uow:
        links = uow.workflow_repositories.of_workflow(workflow)
    assert len(links) == len(repos)
    assert sum(link.is_primary for link in links) == 1


def test_steps_added_at_once_all_count(db: Database) -> None:
    with db.unit_of_work() as uow:
        workflow = factories.workflow(uow, factories.project(uow)).id
        uow.commit()
    numbers = range(1, 5)
    start = threading.Barrier(len(numbers))

    def add(number: int) -> None:
        start.wait(10)
        step = WorkflowStep(
            workflow_id=workflow, step_type=StepType.DISCOVERY, step_number=number, title="s"
        )
        _retrying(db, lambda uow: uow.workflow_steps.add(step))

    with ThreadPoolExecutor(max_workers=len(numbers)) as pool:
        list(pool.map(add, numbers))
    with db.unit_of_work() as uow:
        assert uow.workflows.get(workflow).total_steps == len(numbers)


def test_a_step_does_not_complete_in_a_workflow_cancelled_meanwhile(db: Database) -> None:
    """The cancel has written and not yet committed when the step's runner completes it:
    the completion waits for the cancel (on PostgreSQL, on the workflow's row, which the
    step's write locks) and is then refused."""
    with db.unit_of_work() as uow:
        workflow = uow.workflows.start(factories.workflow(uow, factories.project(uow)).id).id
        step = factories.step(uow, uow.workflows.get(workflow), 1).id
        uow.workflow_steps.start(step, pid=4242)
        uow.commit()
    cancelled = threading.Event()

    def cancel() -> None:
        with db.unit_of_work() as uow:
            uow.workflows.cancel(workflow)
            cancelled.set()
            time.sleep(0.5)  # the step completes meanwhile
            uow.commit()

    def complete() -> str:
        assert cancelled.wait(10)
        with db.unit_of_work() as uow:
            try:
                uow.workflow_steps.complete(step, output_text="late")
            except InvalidTransition as refused:
                return str(refused)
            uow.commit()
            return "completed"

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(cancel), pool.submit(complete)
        a.result()
        assert "is cancelled" in b.result()
    with db.unit_of_work() as uow:
        assert uow.workflows.get(workflow).status is WorkflowStatus.CANCELLED
        assert uow.workflow_steps.get(step).status is StepStatus.RUNNING
