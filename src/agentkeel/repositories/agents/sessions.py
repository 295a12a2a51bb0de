"""Interaction sessions: one open at a time per agent, ended once."""

from __future__ import annotations

import builtins

from pydantic import JsonValue

from agentkeel.domain.agents import (
    InteractionSession,
    SessionStatus,
    SessionType,
)
from agentkeel.domain.errors import (
    InvalidTransition,
    InvalidValue,
)
from agentkeel.ports.store import (
    Desc,
    Eq,
    Row,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema.columns import INTERACTION_SESSIONS


class InteractionSessionsTable(TableRepository[InteractionSession]):
    entity = InteractionSession

    def start(
        self, project_id: str, type: SessionType, data: JsonValue | None = None
    ) -> InteractionSession:
        return self.add(InteractionSession(project_id=project_id, type=type, data=data))

    def complete(self, key: str) -> InteractionSession:
        return self._end(key, SessionStatus.COMPLETED)

    def abandon(self, key: str) -> InteractionSession:
        return self._end(key, SessionStatus.ABANDONED)

    def update_data(self, key: str, data: JsonValue | None) -> InteractionSession:
        session = self.get(key)
        session.data = data
        return self.update(session)

    def list(
        self,
        *,
        project_id: str,
        type: SessionType | None = None,
        status: SessionStatus | None = None,
    ) -> builtins.list[InteractionSession]:
        where = [
            Eq(INTERACTION_SESSIONS.project_id, project_id),
            *self._eq_filters(type=type, status=status),
        ]
        return self._select(where, [Desc(INTERACTION_SESSIONS.started_at)])

    def active_for(
        self, project_id: str, *, type: SessionType | None = None
    ) -> builtins.list[InteractionSession]:
        return self.list(project_id=project_id, type=type, status=SessionStatus.ACTIVE)

    def _end(self, key: str, status: SessionStatus) -> InteractionSession:
        session = self.get(key)
        if session.status is not SessionStatus.ACTIVE:
            raise InvalidTransition(self._label, "status", session.status.value, status.value)
        session.status = status
        return self.update(session)

    def _before_write(self, session: InteractionSession, stored: Row | None) -> None:
        active = session.status is SessionStatus.ACTIVE
        if stored is None and not active:
            raise InvalidValue(
                self._label,
                "status",
                session.status.value,
                "must be active when the session is stored (it starts now)",
            )
        if active:
            if session.ended_at is not None:
                raise InvalidValue(
                    self._label,
                    "ended_at",
                    session.ended_at,
                    "must be empty while the session is active (end it to set it)",
                )
            return
        # Ended (only an update can end a session: it is stored active). A caller's own end
        # time is kept; without one, the time it was first ended, else now.
        assert stored is not None
        started = stored[INTERACTION_SESSIONS.started_at]
        if session.ended_at is None:
            session.ended_at = stored[INTERACTION_SESSIONS.ended_at] or self._store.clock.now()
        elif session.ended_at < started:
            raise InvalidValue(
                self._label,
                "ended_at",
                session.ended_at,
                f"must not be before started_at ({started.isoformat()})",
            )
