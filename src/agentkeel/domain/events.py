"""Domain events: facts that repositories and services record on a unit of work.

They reach subscribers only after the unit of work commits, never after a rollback. Every
event reaches every subscriber of its type (and of its base types), in the order recorded;
a subscriber that raises is logged and reported in the commit's result, and delivery goes on.

Committed events are also appended, in the unit of work's own transaction, to the event log
(an outbox, table `event_log`), for consumers in other processes: each as its type's name
and its fields as JSON (`encode_event`), read back as `LoggedEvent`s (`uow.event_log`,
`services.events.EventLogReader`) and turned into events again with `decode_event`.
The JSON form is stable: the class name, and one member per dataclass field, holding the
field's value with datetimes as ISO 8601 text in UTC and enums as their values.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from agentkeel.domain.errors import InvalidValue

logger = logging.getLogger("agentkeel.events")


@dataclass(frozen=True)
class DomainEvent:
    """Base of every event."""


@dataclass(frozen=True)
class RecordDeleted(DomainEvent):
    """A hard delete happened; `removed` counts the rows that went, per table."""

    entity_type: str
    entity_id: str
    removed: dict[str, int] = field(default_factory=dict)


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[Any], None]


@dataclass(frozen=True)
class HandlerFailure:
    """A subscriber raised `error` while handling `event`, after the data was committed."""

    event: DomainEvent
    handler: Handler
    error: Exception


class EventBus:
    """Subscribers by event type; `publish` calls the ones for the event's type and bases."""

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler]] = {}

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        self._handlers.setdefault(event_type, []).append(handler)

    def publish(self, event: DomainEvent) -> list[HandlerFailure]:
        """Call every subscriber of the event; one that raises does not stop the others.
        Each failure is logged (logger `agentkeel.events`) and returned."""
        failures = []
        for event_type in type(event).__mro__:
            for handler in self._handlers.get(event_type, ()):
                try:
                    handler(event)
                except Exception as error:
                    logger.exception("event handler %r failed on %r", handler, event)
                    failures.append(HandlerFailure(event, handler, error))
        return failures


# -- the JSON form, for the event log ------------------------------------------------------


@dataclass(frozen=True)
class LoggedEvent:
    """An event as the event log holds it: its `sequence` (strictly increasing in commit
    order; gaps are possible, a gap never fills later), its type's name, its `payload` (the
    event's fields by name, as JSON values already decoded into a dict: datetimes as ISO
    8601 text, enums as their values) and when its unit of work committed (by the unit of
    work's clock). `event()` rebuilds the event itself."""

    sequence: int
    event_type: str
    payload: dict[str, Any]
    recorded_at: datetime

    def event(self) -> DomainEvent:
        """The event itself again (see `decode_event`)."""
        return decode_event(self.event_type, self.payload)


def _to_json(value: Any) -> Any:
    if isinstance(value, Enum):  # before str: a StrEnum is a str too
        return _to_json(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("is a naive datetime")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Mapping):
        return {str(key): _to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_to_json(item) for item in items]
    raise TypeError(f"holds a {type(value).__name__}, which has no JSON form")


def event_payload(event: DomainEvent) -> dict[str, Any]:
    """The event's fields as JSON values, by field name. Raises InvalidValue naming the
    field whose value has no JSON form (a naive datetime, an arbitrary object): the unit of
    work recording it then fails to commit, and nothing is written."""
    payload = {}
    for item in dataclasses.fields(event):
        value = getattr(event, item.name)
        try:
            payload[item.name] = _to_json(value)
        except TypeError as exc:
            raise InvalidValue(type(event).__name__, item.name, value, str(exc)) from exc
    return payload


def encode_event(event: DomainEvent) -> tuple[str, str]:
    """(type name, payload as JSON text): ASCII only (every other character escaped, NUL
    and lone surrogates included), so that every backend stores it as it is; keys sorted."""
    text = json.dumps(event_payload(event), ensure_ascii=True, sort_keys=True)
    return type(event).__name__, text


def event_types() -> dict[str, type[DomainEvent]]:
    """Every event class defined so far, by name (a name defined twice is left out: it
    cannot be decoded unambiguously)."""
    found: dict[str, type[DomainEvent]] = {}
    clashes: set[str] = set()
    pending: list[type[DomainEvent]] = [DomainEvent]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__name__ in found and found[cls.__name__] is not cls:
            clashes.add(cls.__name__)
        found[cls.__name__] = cls
    return {name: cls for name, cls in found.items() if name not in clashes}


def decode_event(event_type: str, payload: Mapping[str, Any]) -> DomainEvent:
    """The event `encode_event` gave (`event_type`, `payload`) for. Raises InvalidValue if
    no event class of that name is loaded or the payload does not fit its fields."""
    cls = event_types().get(event_type)
    if cls is None:
        raise InvalidValue("logged_event", "event_type", event_type, "names no known event")
    hints = typing.get_type_hints(cls)
    values = {}
    for item in dataclasses.fields(cls):
        if item.name in payload:
            values[item.name] = _from_json(hints[item.name], payload[item.name])
    try:
        return cls(**values)
    except TypeError as exc:
        raise InvalidValue("logged_event", "payload", dict(payload), str(exc)) from exc


def _from_json(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    options = typing.get_args(hint) if _is_union(hint) else (hint,)
    for option in options:
        if option is datetime and isinstance(value, str):
            return datetime.fromisoformat(value)
        if isinstance(option, type) and issubclass(option, Enum):
            return option(value)
    return value


def _is_union(hint: Any) -> bool:
    return isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
