"""The JSON form of domain events (what the event log stores): every event class, built with
values of its fields' types, comes back equal from `encode_event` and `decode_event`."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest

import agentkeel  # noqa: F401  (loads every context's events)
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.events import DomainEvent, decode_event, encode_event, event_types


def every_event_class() -> list[type[DomainEvent]]:
    found, pending = [], [DomainEvent]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("agentkeel.") and cls is not DomainEvent:
            found.append(cls)
    return sorted(found, key=lambda cls: cls.__name__)


def sample(hint: Any) -> Any:
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    option = next(o for o in options if o is not type(None))
    if option is str:
        return "text \x00 \ud800 \u00e9"
    if option is int:
        return -(2**62)
    if option is bool:
        return True
    if option is datetime:
        return datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    if isinstance(option, type) and issubclass(option, Enum):
        return list(option)[-1]
    if typing.get_origin(option) is dict:
        return {"tasks": 3, "pages": 0}
    return {"any": [1, 2.5, None, "x", {"nested": True}]}  # Any: a JSON value


@pytest.mark.parametrize("cls", every_event_class(), ids=lambda cls: cls.__name__)
def test_every_event_comes_back_equal_from_its_json_form(cls: type[DomainEvent]) -> None:
    hints = typing.get_type_hints(cls)
    event = cls(**{field.name: sample(hints[field.name]) for field in dataclasses.fields(cls)})
    event_type, text = encode_event(event)
    assert event_type == cls.__name__
    assert text.isascii()
    assert decode_event(event_type, json.loads(text)) == event


def test_event_class_names_are_unique_so_a_name_decodes_to_one_class() -> None:
    classes = every_event_class()
    assert len({cls.__name__ for cls in classes}) == len(classes)
    assert all(event_types()[cls.__name__] is cls for cls in classes)


def test_an_unknown_event_type_or_unfitting_payload_is_a_domain_error() -> None:
    with pytest.raises(InvalidValue) as refused:
        decode_event("NoSuchEvent", {})
    assert refused.value.field == "event_type"
    with pytest.raises(InvalidValue) as refused:
        decode_event("ProjectArchived", {})
    assert refused.value.field == "payload"
