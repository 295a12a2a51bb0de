"""The event log (an outbox): every committed unit of work's domain events, appended in its
own transaction, for consumers in other processes. Append-only, no foreign keys: an event
outlives whatever it is about."""

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from agentkeel.schema.base import UtcDateTime, metadata

EVENT_TYPE_LENGTH = 200

event_log = Table(
    "event_log",
    metadata,
    # INTEGER PRIMARY KEY AUTOINCREMENT on SQLite (the rowid, never reused), BIGSERIAL on
    # PostgreSQL. Assigned in commit order (see RowStore.append_log).
    Column(
        "sequence",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("event_type", String(EVENT_TYPE_LENGTH), nullable=False),
    # The event's fields as JSON text, ASCII only (see domain/events.py: encode_event).
    Column("payload", Text(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    sqlite_autoincrement=True,
    info={
        # No entity and no update path: only `RowStore.append_log` writes it.
        "append_only": True,
        "doc": "the event log (an outbox): each committed unit of work's domain events, "
        "appended in its own transaction, numbered in commit order; read with "
        "`uow.event_log` or `services.events.EventLogReader`. Append-only, no foreign keys.",
    },
)
