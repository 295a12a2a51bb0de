"""Named consumers of the event log and the position each has read up to."""

from __future__ import annotations

import builtins

from agentkeel.domain.audit import EventConsumer
from agentkeel.domain.errors import InvalidValue, NotFound
from agentkeel.domain.fields import INT64_MAX
from agentkeel.ports.store import Asc, Eq, Row
from agentkeel.repositories.audit.events import (
    check_whole,
    fallen_behind,
    hold_the_log,
    last_sequence,
    purged_through,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema.columns import EVENT_CONSUMERS


class EventConsumersTable(TableRepository[EventConsumer]):
    """Consumers by name. Their rules hold on every path, `add` and `update` included: a
    position is never below the purge's horizon when a consumer is added (`EventsPurged`),
    never past the newest event, and only moves forward; a name is fixed once stored."""

    entity = EventConsumer

    def register(self, name: str, *, position: int | None = None) -> EventConsumer:
        if position is not None:
            check_whole(self._label, "position", position, 0, INT64_MAX)
        consumer = EventConsumer(name=name)
        hold_the_log(self._store)
        consumer.position = purged_through(self._store) if position is None else position
        return self.add(consumer)

    def find_by_name(self, name: str) -> EventConsumer | None:
        return self._first([Eq(EVENT_CONSUMERS.name, self.entity.required_value("name", name))])

    def list(self) -> builtins.list[EventConsumer]:
        return self._select(order_by=[Asc(EVENT_CONSUMERS.name)])

    def acknowledge(self, name: str, position: int) -> EventConsumer:
        check_whole(self._label, "position", position, 0, INT64_MAX)
        consumer = self._named(name)
        if position == consumer.position:
            return consumer
        consumer.position = position
        return self.update(consumer)

    def unregister(self, name: str) -> EventConsumer:
        consumer = self._named(name)
        self.delete(consumer.id)
        return consumer

    def _named(self, name: str) -> EventConsumer:
        consumer = self.find_by_name(name)
        if consumer is None:
            raise NotFound(self._label, name, field="name")
        return consumer

    def _before_write(self, consumer: EventConsumer, stored: Row | None) -> None:
        if stored is None:
            hold_the_log(self._store)
            horizon = purged_through(self._store)
            if consumer.position < horizon:
                raise fallen_behind(self._store, consumer.position, horizon)
        else:
            if consumer.name != stored[EVENT_CONSUMERS.name]:
                was = stored[EVENT_CONSUMERS.name]
                problem = f"cannot change once the consumer is registered (was {was!r})"
                raise InvalidValue(self._label, "name", consumer.name, problem)
            was = stored[EVENT_CONSUMERS.position]
            if consumer.position < was:
                problem = f"cannot move back from {was}: a consumer's position only moves forward"
                raise InvalidValue(self._label, "position", consumer.position, problem)
        newest = last_sequence(self._store)
        if consumer.position > newest:
            problem = f"must not be past the newest event, {newest}"
            raise InvalidValue(self._label, "position", consumer.position, problem)
