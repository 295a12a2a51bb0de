"""Phases: finders, the status machine, `merge_base`, and the dependency DAG."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import (
    AlreadyExists,
    DependencyCycle,
    InvalidTransition,
    InvalidValue,
    NotFound,
    ReferenceMissing,
)
from agentkeel.domain.planning import Phase, PhaseDependency, PhaseStatus
from agentkeel.domain.planning.events import PhaseStatusChanged
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories
from tests.factories import store_of

S = PhaseStatus


def test_find_by_initiative_lists_its_phases_oldest_first(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    auth, billing = factories.initiative(uow, project), factories.initiative(uow, project, "Bill")
    first = factories.phase(uow, auth, "Design")
    second = factories.phase(uow, auth, "Build")
    factories.phase(uow, billing, "Other")
    assert [p.id for p in uow.phases.find_by_initiative(auth.id)] == [first.id, second.id]
    assert uow.phases.find_by_initiative("nobody") == []


def test_status_follows_the_review_flow(uow: UnitOfWork) -> None:
    phase = factories.phase(uow, factories.initiative(uow, factories.project(uow)))
    assert phase.status is S.PENDING
    for status in (S.APPROVED, S.IN_PROGRESS, S.PENDING_REVIEW, S.IN_PROGRESS):
        assert uow.phases.move_to(phase.id, status).status is status
    for status in (S.PENDING_REVIEW, S.COMPLETED, S.IN_PROGRESS, S.BLOCKED, S.APPROVED):
        assert uow.phases.move_to(phase.id, status).status is status
    uow.phases.move_to(phase.id, S.PENDING)
    with pytest.raises(InvalidTransition) as caught:
        uow.phases.move_to(phase.id, S.COMPLETED)
    assert str(caught.value) == "phase.status cannot change from 'pending' to 'completed'"
    with pytest.raises(InvalidTransition):
        uow.phases.move_to(phase.id, S.PENDING_REVIEW)
    with pytest.raises(NotFound):
        uow.phases.move_to("nope", S.APPROVED)


def test_every_status_change_records_an_event(uow: UnitOfWork) -> None:
    phase = factories.phase(uow, factories.initiative(uow, factories.project(uow)))
    uow.phases.move_to(phase.id, S.APPROVED)
    renamed = uow.phases.get(phase.id)
    renamed.name = "Renamed"
    uow.phases.update(renamed)
    events = [e for e in factories.recorded(uow) if isinstance(e, PhaseStatusChanged)]
    assert events == [PhaseStatusChanged(phase.id, phase.initiative_id, "pending", "approved")]


def test_a_phase_stays_in_its_initiative(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    phase = factories.phase(uow, factories.initiative(uow, project))
    other = factories.initiative(uow, project, "Other")
    phase.initiative_id = other.id
    with pytest.raises(InvalidValue) as caught:
        uow.phases.update(phase)
    assert caught.value.field == "initiative_id"


def test_merge_base_is_a_commit_hash(uow: UnitOfWork) -> None:
    phase = factories.phase(uow, factories.initiative(uow, factories.project(uow)))
    phase.merge_base = "9fceb02d0ae598e95dc970b74767f19372d61af8"
    assert uow.phases.update(phase).merge_base == phase.merge_base
    with pytest.raises(InvalidValue) as caught:
        Phase(initiative_id="i", name="n", merge_base="not a hash")
    assert caught.value.field == "merge_base"


# -- dependencies ---------------------------------------------------------------------------


def _three(uow: UnitOfWork) -> tuple[Phase, Phase, Phase]:
    initiative = factories.initiative(uow, factories.project(uow))
    return (
        factories.phase(uow, initiative, "A", id="phase-a"),
        factories.phase(uow, initiative, "B", id="phase-b"),
        factories.phase(uow, initiative, "C", id="phase-c"),
    )


def test_dependencies_and_dependents(uow: UnitOfWork) -> None:
    a, b, c = _three(uow)
    edge = uow.phase_dependencies.create(c.id, a.id)
    assert (edge.phase_id, edge.depends_on_phase_id) == (c.id, a.id)
    uow.phase_dependencies.create(c.id, b.id)
    uow.phase_dependencies.create(b.id, a.id)
    assert uow.phase_dependencies.get_dependencies(c.id) == [a.id, b.id]
    assert uow.phase_dependencies.get_dependents(a.id) == [b.id, c.id]
    assert uow.phase_dependencies.get_dependencies(a.id) == []
    uow.phase_dependencies.remove(c.id, a.id)
    assert uow.phase_dependencies.get_dependencies(c.id) == [b.id]
    with pytest.raises(NotFound) as caught:
        uow.phase_dependencies.remove(c.id, a.id)
    assert str(caught.value) == (
        "phase_dependency not found: phase_id -> depends_on_phase_id='phase-c -> phase-a'"
    )


def test_a_self_dependency_is_a_cycle(uow: UnitOfWork) -> None:
    a, _, _ = _three(uow)
    with pytest.raises(DependencyCycle) as caught:
        uow.phase_dependencies.create(a.id, a.id)
    assert caught.value.path == [a.id, a.id]


def test_a_duplicate_pair_is_refused(uow: UnitOfWork) -> None:
    a, b, _ = _three(uow)
    uow.phase_dependencies.create(b.id, a.id)
    with pytest.raises(AlreadyExists):
        uow.phase_dependencies.create(b.id, a.id)
    assert uow.phase_dependencies.count() == 1


def test_an_edge_closing_a_cycle_is_refused_naming_the_cycle(uow: UnitOfWork) -> None:
    a, b, c = _three(uow)
    uow.phase_dependencies.create(a.id, b.id)
    uow.phase_dependencies.create(b.id, c.id)
    with pytest.raises(DependencyCycle) as caught:
        uow.phase_dependencies.create(c.id, a.id)
    assert caught.value.path == [c.id, a.id, b.id, c.id]
    assert str(caught.value) == (
        "phase_dependency dependency would form a cycle: phase-c -> phase-a -> phase-b -> phase-c"
    )
    assert uow.phase_dependencies.count() == 2


def test_the_generic_paths_keep_the_graph_acyclic_too(uow: UnitOfWork) -> None:
    a, b, c = _three(uow)
    uow.phase_dependencies.add(PhaseDependency(phase_id=a.id, depends_on_phase_id=b.id))
    b_c = uow.phase_dependencies.add(PhaseDependency(phase_id=b.id, depends_on_phase_id=c.id))
    a_c = uow.phase_dependencies.add(PhaseDependency(phase_id=a.id, depends_on_phase_id=c.id))
    a_c.phase_id, a_c.depends_on_phase_id = c.id, a.id
    with pytest.raises(DependencyCycle) as caught:
        uow.phase_dependencies.update(a_c)
    assert caught.value.path == [c.id, a.id, b.id, c.id]
    # Turning an edge around is no cycle with the edge it was.
    b_c.phase_id, b_c.depends_on_phase_id = c.id, b.id
    assert uow.phase_dependencies.update(b_c).phase_id == c.id


def test_both_ends_must_be_phases_of_one_initiative(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    here = factories.phase(uow, factories.initiative(uow, project))
    there = factories.phase(uow, factories.initiative(uow, project, "Other"))
    with pytest.raises(InvalidValue) as caught:
        uow.phase_dependencies.create(here.id, there.id)
    assert caught.value.field == "depends_on_phase_id"
    assert "same initiative" in str(caught.value)
    with pytest.raises(ReferenceMissing):
        uow.phase_dependencies.create(here.id, "missing")
    with pytest.raises(ReferenceMissing):
        uow.phase_dependencies.create("missing", here.id)


def test_deleting_a_phase_removes_its_dependencies_and_tasks(uow: UnitOfWork) -> None:
    a, b, c = _three(uow)
    uow.phase_dependencies.create(b.id, a.id)
    uow.phase_dependencies.create(c.id, b.id)
    project_id = uow.initiatives.get(a.initiative_id).project_id
    factories.task(uow, uow.projects.get(project_id), phase_id=b.id)
    assert uow.phases.delete(b.id) == {"phases": 1, "phase_dependencies": 2, "tasks": 1}
    assert uow.phase_dependencies.count() == 0
    assert store_of(uow).count(uow.tasks._table) == 0  # type: ignore[attr-defined]


def test_deleting_an_initiative_removes_its_phases(uow: UnitOfWork) -> None:
    a, b, _ = _three(uow)
    uow.phase_dependencies.create(b.id, a.id)
    removed = uow.initiatives.delete(a.initiative_id)
    assert removed["phases"] == 3 and removed["phase_dependencies"] == 1
