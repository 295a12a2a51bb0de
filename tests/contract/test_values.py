"""Values at their edges round-trip exactly through every backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork


@pytest.mark.parametrize(
    "moment", [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)]
)
def test_the_ends_of_the_calendar_are_stored_exactly(uow: UnitOfWork, moment: datetime) -> None:
    project = uow.projects.add(Project(name="p", archived_at=moment))
    assert uow.projects.get(project.id).archived_at == moment


PAYLOADS = [
    0,
    1,
    -7,
    1.0,
    0.1,
    -0.0,
    0.30000000000000004,
    5e-324,
    1e308,
    2**63 - 1,
    -(2**63),
    2**53 + 1,
    "1",
    "1.0",
    "",
    "null",
    True,
    False,
    [1, 1.0, "1", None, True, [], {}],
    {"ключ": {"🚢": [0.1, -0.0, 2**63 - 1]}, "a b": "é\u2028\n\"'\\", "": None},
    {"z": 1, "a": 2, "m": 3},
]


def exact(value: object) -> str:
    """The value with its types spelled out: 1 and 1.0, 0.0 and -0.0, 1 and True differ."""
    return json.dumps(value, ensure_ascii=False)


def entry(**payloads: object) -> AuditEntry:
    return AuditEntry.model_validate(
        {"event_type": "x", "event_category": EventCategory.RECORD, "message": "m", **payloads}
    )


def test_json_payloads_round_trip_exactly(uow: UnitOfWork) -> None:
    """SQLite once gave JSON numeric affinity: 1.0 came back as 1, 2**63 as a float."""
    added = [
        uow.audit_logs.add(entry(event_data=payload, after_state=[payload])) for payload in PAYLOADS
    ]
    for stored, payload in zip(added, PAYLOADS, strict=True):
        read = uow.audit_logs.get(stored.id)
        assert exact(read.event_data) == exact(payload)
        assert exact(read.after_state) == exact([payload])
    listed = {read.id: read.event_data for read in uow.audit_logs.list()}
    assert [exact(listed[stored.id]) for stored in added] == [exact(p) for p in PAYLOADS]


@pytest.mark.parametrize("number", [2**63, 10**400])
def test_a_number_no_backend_keeps_is_refused_and_the_trail_stays_readable(
    uow: UnitOfWork, number: int
) -> None:
    uow.audit_logs.add(entry())
    with pytest.raises(InvalidValue, match=r"audit_entry\.event_data must hold only integers"):
        uow.audit_logs.add(entry(event_data=number))
    assert len(uow.audit_logs.list()) == 1
