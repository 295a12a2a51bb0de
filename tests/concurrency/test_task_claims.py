"""Many agents claiming ready tasks at once: every task is handed to exactly one agent.

Eight threads, each its own agent and unit of work per claim, claim until nothing is left;
each completes what it claimed. SQLite queues the writers, PostgreSQL skips rows another
transaction is claiming (FOR UPDATE SKIP LOCKED), the fakes hold their lock."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from agentkeel.database import Database
from agentkeel.domain.agents import Agent
from agentkeel.domain.errors import Busy, Conflict
from agentkeel.domain.planning import Task, TaskStatus
from agentkeel.services import planning
from tests import factories
from tests.figures import Figures

TASKS, WORKERS = 60, 8


def test_concurrent_claims_never_hand_out_a_task_twice(db: Database, figures: Figures) -> None:
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        for i in range(TASKS):
            uow.tasks.add(Task(project_id=project.id, name=f"T{i}", order_index=i))
        agents = [uow.agents.add(Agent(name=f"worker-{i}")) for i in range(WORKERS)]
        uow.commit()

    def work(agent_id: str) -> tuple[list[str], int]:
        claimed: list[str] = []
        attempts = 0
        while True:
            attempts += 1
            try:
                with db.unit_of_work() as uow:
                    task = planning.claim_next_ready_task(uow, agent_id, project_id=project.id)
                    if task is not None:
                        uow.tasks.complete(task.id, f"by {agent_id}")
                    uow.commit()
            except (Busy, Conflict):
                continue  # a lost race: the unit of work is retried, as an application would
            if task is None:
                return claimed, attempts
            claimed.append(task.id)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(work, [a.id for a in agents]))
    handed = Counter(task_id for claimed, _ in results for task_id in claimed)
    doubles = sum(n - 1 for n in handed.values())
    attempts = sum(n for _, n in results)
    backend = "memory" if db.engine is None else db.engine.dialect.name
    figures.set(
        f"task claims ({backend})",
        claims_attempted=attempts,
        tasks=TASKS,
        handed_out=len(handed),
        double_claims=doubles,
    )
    assert doubles == 0 and len(handed) == TASKS
    with db.unit_of_work() as uow:
        done = uow.tasks.list(project_id=project.id)
        assert {t.status for t in done} == {TaskStatus.COMPLETED}
        assert all(t.summary == f"by {t.assigned_agent_id}" for t in done)
