"""Values at their edges round-trip exactly through every backend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agentkeel.adapters.unit_of_work import BaseUnitOfWork
from agentkeel.domain.workspace import Project


@pytest.mark.parametrize(
    "moment", [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)]
)
def test_the_ends_of_the_calendar_are_stored_exactly(uow: BaseUnitOfWork, moment: datetime) -> None:
    project = uow.projects.add(Project(name="p", archived_at=moment))
    assert uow.projects.get(project.id).archived_at == moment
