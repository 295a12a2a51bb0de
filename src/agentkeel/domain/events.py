"""Domain events: facts that repositories and services record on a unit of work.

They reach subscribers only after the unit of work commits, never after a rollback. Every
event reaches every subscriber of its type (and of its base types), in the order recorded;
a subscriber that raises is logged and reported in the commit's result, and delivery goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

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
