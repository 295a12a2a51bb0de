"""Implementation plan steps: numbered 1..n without gaps by every path (add inserts,
delete closes the gap, move and reorder renumber in two phases under the UNIQUE
constraint), agent override, gate and review flags, and the audit of every change."""

from __future__ import annotations

import pytest

from agentkeel.database import Database
from agentkeel.domain.audit import EventCategory, EventSource
from agentkeel.domain.errors import InvalidValue, NotFound, ReferenceMissing
from agentkeel.domain.workflows import ImplementationPlan, ImplementationPlanStep
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories
from tests.contract.workflows import plan_data as data


def _plan_with(uow: UnitOfWork, *titles: str) -> ImplementationPlan:
    plan = data.plan(uow)
    for title in titles:
        data.plan_step(uow, plan, title)
    return plan


def _titles(uow: UnitOfWork, plan: ImplementationPlan) -> list[str]:
    rows = data.numbers(uow, plan)
    assert [(n, i) for _, n, i in rows] == [(k, k - 1) for k in range(1, len(rows) + 1)]
    return [title for title, _, _ in rows]


def test_append_numbers_densely(uow: UnitOfWork) -> None:
    plan = _plan_with(uow, "a", "b", "c")
    assert data.numbers(uow, plan) == [("a", 1, 0), ("b", 2, 1), ("c", 3, 2)]
    other = _plan_with(uow, "x")
    assert data.numbers(uow, other) == [("x", 1, 0)]


def test_add_inserts_at_its_number(uow: UnitOfWork) -> None:
    plan = _plan_with(uow, "a", "b", "c")
    add = uow.implementation_plan_steps.add
    add(ImplementationPlanStep(plan_id=plan.id, step_number=1, title="first"))
    add(ImplementationPlanStep(plan_id=plan.id, step_number=3, title="middle"))
    add(ImplementationPlanStep(plan_id=plan.id, step_number=6, title="last"))
    assert _titles(uow, plan) == ["first", "a", "middle", "b", "c", "last"]
    for number in (0, 8):
        with pytest.raises(InvalidValue) as caught:
            add(ImplementationPlanStep(plan_id=plan.id, step_number=number, title="x"))
        assert caught.value.field == "step_number"
    with pytest.raises(ReferenceMissing):
        add(ImplementationPlanStep(plan_id="gone", step_number=1, title="x"))
    # A refused insert leaves the numbers as they were.
    with pytest.raises(ReferenceMissing):
        add(ImplementationPlanStep(plan_id=plan.id, step_number=1, title="x", agent_id="gone"))
    assert _titles(uow, plan) == ["first", "a", "middle", "b", "c", "last"]


def test_add_many_inserts_each(uow: UnitOfWork) -> None:
    plan = _plan_with(uow, "a")
    data.below_ports(uow).implementation_plan_steps.add_many(
        [
            ImplementationPlanStep(plan_id=plan.id, step_number=1, title="z"),
            ImplementationPlanStep(plan_id=plan.id, step_number=3, title="y"),
        ]
    )
    assert _titles(uow, plan) == ["z", "a", "y"]


def test_delete_closes_the_gap(uow: UnitOfWork) -> None:
    plan = _plan_with(uow, "a", "b", "c", "d")
    steps = uow.implementation_plan_steps.find_by_plan(plan.id)
    uow.implementation_plan_steps.delete(steps[1].id)
    assert _titles(uow, plan) == ["a", "c", "d"]
    uow.implementation_plan_steps.delete(steps[3].id)
    uow.implementation_plan_steps.delete(steps[0].id)
    assert _titles(uow, plan) == ["c"]
    with pytest.raises(NotFound):
        uow.implementation_plan_steps.delete(steps[0].id)


def test_move(uow: UnitOfWork) -> None:
    plan = _plan_with(uow, "a", "b", "c", "d")
    a, b, c, d = uow.implementation_plan_steps.find_by_plan(plan.id)
    moved = uow.implementation_plan_steps.move(a.id, 3)
    assert moved.step_number == 3 and moved.row_version == a.row_version + 1
    assert _titles(uow, plan) == ["b", "c", "a", "d"]
    uow.implementation_plan_steps.move(d.id, 1)
    assert _titles(uow, plan) == ["d", "b", "c", "a"]
    assert uow.implementation_plan_steps.move(c.id, 3).step_number == 3  # in place
    for bad in (0, 5, "2", 2.0, True):
        with pytest.raises(InvalidValue) as caught:
            uow.implementation_plan_steps.move(b.id, bad)  # type: ignore[arg-type]
        assert caught.value.field == "step_number"
    with pytest.raises(NotFound):
        uow.implementation_plan_steps.move("gone", 1)
    assert _titles(uow, plan) == ["d", "b", "c", "a"]


def test_reorder(uow: UnitOfWork) -> None:
    plan = _plan_with(uow, "a", "b", "c", "d", "e")
    other = _plan_with(uow, "x", "y")
    a, b, c, d, e = uow.implementation_plan_steps.find_by_plan(plan.id)
    result = uow.implementation_plan_steps.reorder(plan.id, [e.id, c.id, a.id, b.id, d.id])
    assert [s.title for s in result] == ["e", "c", "a", "b", "d"]
    assert _titles(uow, plan) == ["e", "c", "a", "b", "d"]
    assert _titles(uow, other) == ["x", "y"]
    reversed_ids = [s.id for s in reversed(result)]
    assert [s.title for s in uow.implementation_plan_steps.reorder(plan.id, reversed_ids)] == [
        "d",
        "b",
        "a",
        "c",
        "e",
    ]
    # Unchanged positions keep their row.
    same = uow.implementation_plan_steps.reorder(plan.id, reversed_ids)
    assert [s.row_version for s in same] == [
        s.row_version for s in uow.implementation_plan_steps.find_by_plan(plan.id)
    ]


def test_reorder_is_atomic(uow: UnitOfWork) -> None:
    plan = _plan_with(uow, "a", "b", "c")
    other = _plan_with(uow, "x")
    ids = [s.id for s in uow.implementation_plan_steps.find_by_plan(plan.id)]
    [x] = [s.id for s in uow.implementation_plan_steps.find_by_plan(other.id)]
    for bad in (
        ids[:2],
        [*ids, ids[0]],
        [ids[0], ids[0], ids[1]],
        [ids[2], ids[1], x],
        [ids[2], ids[1], "gone"],
        "abc",
        [ids[2], ids[1], None],
        [ids[2], ids[1], [ids[0]]],
        None,
        42,
    ):
        with pytest.raises(InvalidValue) as caught:
            uow.implementation_plan_steps.reorder(plan.id, bad)  # type: ignore[arg-type]
        assert caught.value.field == "ordered_step_ids"
        assert _titles(uow, plan) == ["a", "b", "c"]
    with pytest.raises(NotFound):
        uow.implementation_plan_steps.reorder("gone", [])
    assert uow.implementation_plan_steps.reorder(data.plan(uow).id, []) == []


def test_reorder_survives_a_rolled_back_unit(db: Database) -> None:
    with db.unit_of_work() as uow:
        plan = _plan_with(uow, "a", "b", "c")
        uow.commit()
    with db.unit_of_work() as uow:
        ids = [s.id for s in uow.implementation_plan_steps.find_by_plan(plan.id)]
        uow.implementation_plan_steps.reorder(plan.id, ids[::-1])
        assert _titles(uow, plan) == ["c", "b", "a"]
        uow.rollback()
        assert _titles(uow, plan) == ["a", "b", "c"]


def test_numbers_change_only_by_move_and_reorder(uow: UnitOfWork) -> None:
    plan = _plan_with(uow, "a", "b")
    other = _plan_with(uow, "x")
    for field, value in (("step_number", 2), ("order_index", 5), ("plan_id", other.id)):
        step = uow.implementation_plan_steps.find_by_plan(plan.id)[0]
        setattr(step, field, value)
        with pytest.raises(InvalidValue) as caught:
            uow.implementation_plan_steps.update(step)
        assert caught.value.field == field
    assert _titles(uow, plan) == ["a", "b"]


def test_stale_reads_after_a_renumber_are_refused(uow: UnitOfWork) -> None:
    from agentkeel.domain.errors import Conflict

    plan = _plan_with(uow, "a", "b")
    a, b = uow.implementation_plan_steps.find_by_plan(plan.id)
    uow.implementation_plan_steps.move(b.id, 1)
    a.title = "stale"
    with pytest.raises(Conflict):
        uow.implementation_plan_steps.update(a)
    fresh = uow.implementation_plan_steps.get(a.id)
    fresh.title = "fresh"
    assert uow.implementation_plan_steps.update(fresh).step_number == 2


def test_agent_override_and_flags(uow: UnitOfWork) -> None:
    plan = data.plan(uow)
    planned = factories.profile(uow, "planned")
    chosen = factories.profile(uow, "chosen")
    step = data.plan_step(uow, plan, agent_id=planned.id)
    assert step.assigned_agent_id == planned.id
    overridden = uow.implementation_plan_steps.override_agent(step.id, chosen.id)
    assert overridden.agent_override_id == chosen.id
    assert overridden.assigned_agent_id == chosen.id and overridden.agent_id == planned.id
    assert uow.implementation_plan_steps.override_agent(step.id, None).assigned_agent_id == (
        planned.id
    )
    with pytest.raises(ReferenceMissing):
        uow.implementation_plan_steps.override_agent(step.id, "gone")
    gate = uow.implementation_plan_steps.get(step.id)
    gate.quality_gate_at = uow.clock.now()
    gate = uow.implementation_plan_steps.update(gate)
    assert gate.has_quality_gate and not gate.has_gemini_review
    gate.gemini_review_at = uow.clock.now()
    with pytest.raises(InvalidValue) as both:
        uow.implementation_plan_steps.update(gate)
    assert both.value.field == "gemini_review_at"
    with pytest.raises(InvalidValue):
        data.plan_step(
            uow,
            plan,
            quality_gate_at=uow.clock.now(),
            gemini_review_at=uow.clock.now(),
        )


def test_changes_are_audited(db: Database) -> None:
    with db.unit_of_work() as uow:
        plan = _plan_with(uow, "a", "b")
        uow.commit()
    with db.unit_of_work(source=EventSource.USER) as uow:
        a, b = uow.implementation_plan_steps.find_by_plan(plan.id)
        a.title = "renamed"
        uow.implementation_plan_steps.update(a)
        uow.implementation_plan_steps.reorder(plan.id, [b.id, a.id])
        data.plan_step(uow, plan, "c")
        uow.implementation_plan_steps.delete(b.id)
        uow.commit()
    with db.unit_of_work() as uow:
        entries = uow.audit_logs.list(entity_type="implementation_plan_step")[::-1]
        assert [(e.event_type, e.source) for e in entries] == [
            ("implementation_plan_step.added", EventSource.SYSTEM),
            ("implementation_plan_step.added", EventSource.SYSTEM),
            ("implementation_plan_step.edited", EventSource.USER),
            ("implementation_plan_step.moved", EventSource.USER),
            ("implementation_plan_step.moved", EventSource.USER),
            ("implementation_plan_step.added", EventSource.USER),
            ("implementation_plan_step.deleted", EventSource.USER),
        ]
        assert {e.event_category for e in entries} == {EventCategory.USER_ACTION}
        assert {e.workflow_id for e in entries} == {plan.workflow_id}
        edited = entries[2]
        before, after = data.state(edited.before_state), data.state(edited.after_state)
        assert (before["title"], after["title"]) == ("a", "renamed")
        moved = {e.entity_id: e for e in entries[3:5]}
        assert data.state(moved[b.id].before_state)["step_number"] == 2
        assert data.state(moved[b.id].after_state)["step_number"] == 1
        deleted = entries[6]
        assert deleted.entity_id == b.id and deleted.after_state is None
        assert _titles(uow, plan) == ["renamed", "c"]
