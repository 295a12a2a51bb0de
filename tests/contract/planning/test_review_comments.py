"""Review comments: create, find by phase (ordered, resolved or not), resolve, unresolve,
delete, and the cascade from their phase."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import InvalidValue, NotFound, ReferenceMissing
from agentkeel.domain.planning import LineType, ReviewComment
from agentkeel.ports.unit_of_work import UnitOfWork
from tests.contract.planning import review_data as data


def test_create_with_defaults(uow: UnitOfWork) -> None:
    phase = data.phase(uow, data.plan(uow))
    comment = data.comment(uow, phase, "src/app.py", 12, line_type=LineType.REMOVED)
    assert comment.author == "you"
    assert comment.line_type is LineType.REMOVED
    assert comment.resolved_at is None and not comment.is_resolved
    assert uow.review_comments.get(comment.id) == comment


def test_bad_values_are_refused(uow: UnitOfWork) -> None:
    with pytest.raises(InvalidValue) as caught:
        ReviewComment(phase_id="p", file_path="a", line_number=1, line_type="moved", body="b")  # type: ignore[arg-type]
    assert caught.value.field == "line_type"
    assert "'added', 'removed' or 'context'" in str(caught.value)
    with pytest.raises(InvalidValue) as negative:
        ReviewComment(phase_id="p", file_path="a", line_number=-1, line_type="added", body="b")  # type: ignore[arg-type]
    assert negative.value.field == "line_number"
    with pytest.raises(ReferenceMissing, match="phase_id"):
        uow.review_comments.add(
            ReviewComment(
                phase_id="gone", file_path="a", line_number=1, line_type=LineType.ADDED, body="b"
            )
        )


def test_find_by_phase_orders_by_file_then_line(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    phase = data.phase(uow, owner)
    other = data.phase(uow, owner, "Other")
    b10 = data.comment(uow, phase, "b.py", 10)
    a30 = data.comment(uow, phase, "a.py", 30)
    b2 = data.comment(uow, phase, "b.py", 2)
    a30_again = data.comment(uow, phase, "a.py", 30, body="and this")
    data.comment(uow, other, "a.py", 1)
    found = uow.review_comments.find_by_phase(phase.id)
    assert [c.id for c in found] == [a30.id, a30_again.id, b2.id, b10.id]
    uow.review_comments.resolve(b2.id)
    open_ones = uow.review_comments.find_by_phase(phase.id, include_resolved=False)
    assert [c.id for c in open_ones] == [a30.id, a30_again.id, b10.id]
    assert len(uow.review_comments.find_by_phase(phase.id)) == 4
    assert uow.review_comments.find_by_phase("no-phase") == []


def test_resolve_and_unresolve(uow: UnitOfWork) -> None:
    phase = data.phase(uow, data.plan(uow))
    comment = data.comment(uow, phase, "a.py", 1)
    resolved = uow.review_comments.resolve(comment.id)
    assert resolved.is_resolved
    first = resolved.resolved_at
    # Resolving again keeps the first time.
    assert uow.review_comments.resolve(comment.id).resolved_at == first
    unresolved = uow.review_comments.unresolve(comment.id)
    assert unresolved.resolved_at is None
    assert uow.review_comments.unresolve(comment.id).resolved_at is None
    for method in (uow.review_comments.resolve, uow.review_comments.unresolve):
        with pytest.raises(NotFound):
            method("missing")


def test_delete_and_cascade_from_phase(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    phase = data.phase(uow, owner)
    one = data.comment(uow, phase, "a.py", 1)
    data.comment(uow, phase, "a.py", 2)
    assert uow.review_comments.delete(one.id) == {"review_comments": 1}
    with pytest.raises(NotFound):
        uow.review_comments.delete(one.id)
    removed = uow.phases.delete(phase.id)
    assert removed["review_comments"] == 1
    assert uow.review_comments.count() == 0
