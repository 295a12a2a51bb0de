"""The event log (an outbox): every committed unit of work's domain events, appended in its
own transaction, for consumers in other processes. Append-only but for the retention purge,
which removes the oldest events (never one a registered consumer still needs) and records
how far it went; no foreign keys: an event outlives whatever it is about."""

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from agentkeel.domain.audit import EventConsumer
from agentkeel.domain.ids import ID_MAX_LENGTH
from agentkeel.schema.base import UtcDateTime, entity_table, metadata, unique

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
        "`uow.event_log` or `services.events.EventLogReader`. Append-only but for the "
        "retention purge, which removes the oldest events; no foreign keys.",
    },
)

# How far each log table has been purged: a reader at a lower position has missed events
# (see EventLogTable.read_after). One row per log table, `id` its name.
log_horizons = Table(
    "log_horizons",
    metadata,
    Column("id", String(ID_MAX_LENGTH), primary_key=True),
    # Every row of the log numbered up to this was purged (0: none yet).
    Column("purged_through", BigInteger(), nullable=False),
    Column("purged_at", UtcDateTime(), nullable=False),
    # One more on every move of the horizon, as every changing row has (its writes take
    # turns on the log anyway).
    Column("row_version", BigInteger(), nullable=False),
    info={
        "doc": "how far each log table (`id`: its name; today only `event_log`) has been "
        "purged: every row numbered up to `purged_through` is gone, so a reader whose "
        "position is below it has missed events and is told so (`EventsPurged`)."
    },
)

# Named consumers of the event log and their positions; the purge keeps every event after
# the lowest.
event_consumers = entity_table(EventConsumer, "event_consumers", unique("name"))
