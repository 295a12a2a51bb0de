"""The retention purge: what grows with time shrinks.

Five kinds of rows accumulate for as long as the orchestrator runs; each has a retention
setting in whole days (default in brackets) and a purge that removes the rows older:

- `audit_logs`, `logging.retentionDays` (30): audit entries; each batch leaves one entry
  saying how many went.
- `event_log`, `retention.eventLogDays` (7): the oldest events, never one after the
  position of a registered consumer.
- `idempotency_keys`, `retention.idempotencyKeyDays` (30): remembered keys; a command
  repeated with a purged key creates anew.
- `agent_log_chunks`, `retention.agentLogDays` (30): agents' oldest output.
- `metrics`, `retention.metricsDays` (365): measurements; the aggregates count what is left.

0 days (allowed for all but the audit trail, whose CO setting is 1 to 36,500) keeps a kind
forever. `purge_expired(db)` runs every purge in bounded batches, each batch one unit of
work of its own that removes at most `batch_size` rows and commits, so no purge holds the
write lock for long, however much there is to remove. Run it from a coordinator on a
timer (once an hour is plenty); see docs/retention.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import assert_never

from agentkeel.domain.errors import InvalidValue
from agentkeel.ports.base import PURGE_LIMIT
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services.audit import RETENTION_SETTING as AUDIT_RETENTION_SETTING
from agentkeel.services.events import UnitsOfWork

LABEL = "retention"
DEFAULT_BATCH_SIZE = 1000
"""Rows one batch removes by default: milliseconds of a writer's time on SQLite."""


class RetentionKind(StrEnum):
    """What the retention purge shrinks."""

    AUDIT_LOGS = "audit_logs"
    EVENT_LOG = "event_log"
    IDEMPOTENCY_KEYS = "idempotency_keys"
    AGENT_LOG_CHUNKS = "agent_log_chunks"
    METRICS = "metrics"


@dataclass(frozen=True)
class KindPurged:
    """What one purge did to one kind: the retention in force (`days`, 0 for "kept
    forever", when `cutoff` is None and nothing was looked at), the cutoff (rows older
    went), how many rows went, and in how many batches (units of work committed, each
    removing at most the batch size)."""

    kind: RetentionKind
    days: int
    cutoff: datetime | None
    removed: int
    batches: int


@dataclass(frozen=True)
class RetentionReport:
    """What `purge_expired` did, per kind, in the order the kinds were purged."""

    kinds: tuple[KindPurged, ...]

    @property
    def removed(self) -> int:
        """Rows removed, all kinds together."""
        return sum(purged.removed for purged in self.kinds)

    def of(self, kind: RetentionKind) -> KindPurged:
        """What was done to `kind`. Raises KeyError if it was not purged."""
        for purged in self.kinds:
            if purged.kind == kind:
                return purged
        raise KeyError(kind)


def retention_setting(kind: RetentionKind) -> str:
    """The key of the setting that holds `kind`'s retention in days."""
    match kind:
        case RetentionKind.AUDIT_LOGS:
            return AUDIT_RETENTION_SETTING
        case RetentionKind.EVENT_LOG:
            return "retention.eventLogDays"
        case RetentionKind.IDEMPOTENCY_KEYS:
            return "retention.idempotencyKeyDays"
        case RetentionKind.AGENT_LOG_CHUNKS:
            return "retention.agentLogDays"
        case RetentionKind.METRICS:
            return "retention.metricsDays"
        case _:
            assert_never(kind)


def retention_cutoff(uow: UnitOfWork, kind: RetentionKind) -> datetime | None:
    """The time before which `kind`'s rows are past their retention: now (by the unit of
    work's clock) less the setting's days; None when the setting is 0 (kept forever).
    Raises InvalidValue naming `kind` for something that is no RetentionKind, NotFound if
    the setting is missing (seed the defaults first)."""
    days = uow.settings.value_as(retention_setting(_kind(kind)), int)
    return None if days == 0 else uow.clock.now() - timedelta(days=days)


def purge_batch(
    uow: UnitOfWork,
    kind: RetentionKind,
    *,
    cutoff: datetime | None = None,
    limit: int = DEFAULT_BATCH_SIZE,
) -> int:
    """One batch of `kind`'s purge, in the caller's unit of work (which commits it): the
    rows older than `cutoff` (None: the retention's, `retention_cutoff`; nothing when
    the kind is kept forever), the oldest first, at most `limit`; returns how many went.
    Each kind's repository method writes the audit entry and records the event (see
    `purge_before` of `AuditLogs`, `EventLog`, `IdempotencyKeys`, `AgentLogChunks` and
    `Metrics`). Raises InvalidValue naming `kind`, `limit` (a whole number from 1 to
    100,000) or the compared column for a bad cutoff; NotFound for a missing setting."""
    kind = _kind(kind)
    _check_batch_size("limit", limit)
    if cutoff is None:
        cutoff = retention_cutoff(uow, kind)
        if cutoff is None:
            return 0
    match kind:
        case RetentionKind.AUDIT_LOGS:
            return uow.audit_logs.purge_before(cutoff, limit=limit)
        case RetentionKind.EVENT_LOG:
            return uow.event_log.purge_before(cutoff, limit=limit)
        case RetentionKind.IDEMPOTENCY_KEYS:
            return uow.idempotency_keys.purge_before(cutoff, limit=limit)
        case RetentionKind.AGENT_LOG_CHUNKS:
            return uow.agent_log_chunks.purge_before(cutoff, limit=limit)
        case RetentionKind.METRICS:
            return uow.metrics.purge_before(cutoff, limit=limit)
        case _:
            assert_never(kind)


def purge_expired(
    db: UnitsOfWork,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    kinds: Iterable[RetentionKind] | None = None,
) -> RetentionReport:
    """Purge every kind (or `kinds`) of what is past its retention, in bounded batches:
    each batch is a unit of work of its own that removes at most `batch_size` rows (1 to
    100,000) and commits, so other writers wait at most one batch. A kind's batches go on
    until one removes fewer than `batch_size` rows; a batch that removes nothing commits
    nothing, so N rows take exactly ceil(N / batch_size) commits. The cutoffs are taken
    once, at the start, from the settings and the database's clock: rows that age past
    them while the purge runs wait for the next run.

    Returns what went, per kind. Raises InvalidValue naming `batch_size` or `kinds` (not
    RetentionKinds) before anything is done; NotFound for a missing setting; Busy (or
    another Conflict) when a batch cannot get the database: the batches committed before
    stay, and the next run goes on from there."""
    _check_batch_size("batch_size", batch_size)
    chosen = list(RetentionKind) if kinds is None else _kinds(kinds)
    with db.unit_of_work(read_only=True) as uow:
        cutoffs = [
            (kind, uow.settings.value_as(retention_setting(kind), int), retention_cutoff(uow, kind))
            for kind in chosen
        ]
    report = []
    for kind, days, cutoff in cutoffs:
        removed = batches = 0
        while cutoff is not None:
            with db.unit_of_work() as uow:
                went = purge_batch(uow, kind, cutoff=cutoff, limit=batch_size)
                if went:
                    uow.commit()
            if went:
                removed, batches = removed + went, batches + 1
            if went < batch_size:
                break
        report.append(KindPurged(kind, days, cutoff, removed, batches))
    return RetentionReport(tuple(report))


def _member(kind: object) -> RetentionKind | None:
    # Only text is looked up: the enum's own lookup writes out (repr) whatever it is given
    # when it fails, which never ends for a value nested deep enough.
    if isinstance(kind, str) and kind in RetentionKind._value2member_map_:
        return RetentionKind(kind)
    return None


def _kind(kind: object) -> RetentionKind:
    member = _member(kind)
    if member is None:
        problem = f"must be one of {', '.join(RetentionKind)}"
        raise InvalidValue(LABEL, "kind", kind, problem)
    return member


def _kinds(kinds: object) -> list[RetentionKind]:
    if isinstance(kinds, str | bytes) or not isinstance(kinds, Iterable):
        problem = "must be a collection of kinds to purge, e.g. [RetentionKind.METRICS]"
        raise InvalidValue(LABEL, "kinds", kinds, problem)
    chosen: list[RetentionKind] = []
    for kind in kinds:
        member = _member(kind)
        if member is None:
            problem = f"must hold only kinds: {', '.join(RetentionKind)}"
            raise InvalidValue(LABEL, "kinds", kind, problem)
        if member not in chosen:
            chosen.append(member)
    return chosen


def _check_batch_size(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= PURGE_LIMIT:
        problem = f"must be a whole number from 1 to {PURGE_LIMIT:,}"
        raise InvalidValue(LABEL, name, value, problem)
