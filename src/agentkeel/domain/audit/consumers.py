"""Named consumers of the event log, and how far each has read: a durable position that the
retention purge respects."""

from __future__ import annotations

from agentkeel.domain.entity import Timestamped
from agentkeel.domain.fields import Count, Label


class EventConsumer(Timestamped):
    """A consumer of the event log, known by its `name` (unique, normalised like every
    name), and its `position`: the sequence number of the last event it has handled (0 for
    none yet). While it is registered, the event log keeps every event after its position,
    whatever the retention says; its position only moves forward."""

    name: Label
    position: Count = 0
