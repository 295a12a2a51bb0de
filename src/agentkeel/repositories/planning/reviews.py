"""Review comments on a phase's work."""

from __future__ import annotations

import builtins

from agentkeel.domain.planning import (
    ReviewComment,
)
from agentkeel.ports.store import (
    Asc,
    Eq,
    IsNull,
    Where,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema.columns import REVIEW_COMMENTS


class ReviewCommentsTable(TableRepository[ReviewComment]):
    entity = ReviewComment

    def find_by_phase(
        self, phase_id: str, *, include_resolved: bool = True
    ) -> builtins.list[ReviewComment]:
        where: list[Where] = [Eq(REVIEW_COMMENTS.phase_id, phase_id)]
        if not include_resolved:
            where.append(IsNull(REVIEW_COMMENTS.resolved_at))
        order = [
            Asc(REVIEW_COMMENTS.file_path),
            Asc(REVIEW_COMMENTS.line_number),
            Asc(REVIEW_COMMENTS.created_at),
        ]
        return self._select(where, order)

    def resolve(self, key: str) -> ReviewComment:
        comment = self.get(key)
        comment.resolved_at = comment.resolved_at or self._store.clock.now()
        return self.update(comment)

    def unresolve(self, key: str) -> ReviewComment:
        comment = self.get(key)
        comment.resolved_at = None
        return self.update(comment)
