"""The files a workflow discovers, by priority."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from agentkeel.domain.audit import EventCategory
from agentkeel.domain.errors import (
    AlreadyExists,
    InvalidValue,
    NotFound,
)
from agentkeel.domain.workflows import (
    DiscoveredFile,
    FileAction,
    FilePriority,
    WorkflowStep,
)
from agentkeel.ports.store import (
    Asc,
    Eq,
    Max,
    NotNull,
    Row,
    Where,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema import table_of
from agentkeel.schema.columns import DISCOVERED_FILES, WORKFLOW_STEPS

# Discovered files listed by priority: high first.
_PRIORITY_RANK = {FilePriority.HIGH: 0, FilePriority.MEDIUM: 1, FilePriority.LOW: 2}


def _flag_argument(entity: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(entity, name, value, "must be True or False")
    return value


class DiscoveredFilesTable(TableRepository[DiscoveredFile]):
    entity = DiscoveredFile
    # True while `discover` writes: discovery's own update, not a user edit.
    _discovering = False

    # -- the generic port, with the inclusion default ---------------------------------------

    def _add(self, entity: DiscoveredFile) -> DiscoveredFile:
        return super()._add(self._included_unless_said(entity))

    def add_many(self, entities: Sequence[DiscoveredFile]) -> builtins.list[DiscoveredFile]:
        return super().add_many([self._included_unless_said(entity) for entity in entities])

    def _included_unless_said(self, entity: DiscoveredFile) -> DiscoveredFile:
        """A file added without a word on `included_at` is included from now."""
        if isinstance(entity, DiscoveredFile) and "included_at" not in entity.model_fields_set:
            entity = entity.model_copy(
                update={DISCOVERED_FILES.included_at: self._store.clock.now()}
            )
        return entity

    # -- the port's own methods ------------------------------------------------------------

    def discover(
        self,
        workflow_step_id: str,
        file_path: str,
        *,
        priority: FilePriority = FilePriority.MEDIUM,
        action: FileAction = FileAction.MODIFY,
        description: str | None = None,
        exists: bool | None = None,
        included: bool = True,
        order_index: int | None = None,
    ) -> DiscoveredFile:
        label = self._label
        included = _flag_argument(label, "included", included)
        if exists is not None:
            exists = _flag_argument(label, "exists", exists)
        step_key = self._step_key(workflow_step_id)
        now = self._store.clock.now()
        fresh = DiscoveredFile(
            workflow_step_id=step_key,
            file_path=file_path,
            priority=priority,
            action=action,
            description=description,
            order_index=0 if order_index is None else order_index,
            file_exists_at=now if exists else None,
            included_at=now if included else None,
        )
        if self._store.get(table_of(WorkflowStep), step_key) is None:
            raise NotFound("workflow_step", step_key)
        current = self.find_by_path(step_key, fresh.file_path)
        if current is None:
            if order_index is None:
                fresh.order_index = self._next_order(step_key)
            try:
                with self._store.atomic():
                    return self.add(fresh)
            except AlreadyExists:
                # Another unit of work recorded it first: update theirs.
                current = self.find_by_path(step_key, fresh.file_path)
                if current is None:
                    raise
        current.action = fresh.action
        if description is not None:
            current.description = fresh.description
        if exists is not None:
            current.file_exists_at = (current.file_exists_at or now) if exists else None
        if order_index is not None:
            current.order_index = fresh.order_index
        if not (current.is_user_added or current.is_user_modified):
            current.priority = fresh.priority
            current.included_at = (current.included_at or now) if included else None
        self._discovering = True
        try:
            return self.update(current)
        finally:
            self._discovering = False

    def add_by_user(
        self,
        workflow_step_id: str,
        file_path: str,
        *,
        priority: FilePriority = FilePriority.MEDIUM,
        action: FileAction = FileAction.MODIFY,
        description: str | None = None,
    ) -> DiscoveredFile:
        step_key = self._step_key(workflow_step_id)
        now = self._store.clock.now()
        file = DiscoveredFile(
            workflow_step_id=step_key,
            file_path=file_path,
            priority=priority,
            action=action,
            description=description,
            included_at=now,
            user_added_at=now,
        )
        if self._store.get(table_of(WorkflowStep), step_key) is None:
            raise NotFound("workflow_step", step_key)
        file.order_index = self._next_order(step_key)
        return self.add(file)

    def set_priority(self, key: str, priority: FilePriority) -> DiscoveredFile:
        file = self.get(key)
        file.priority = priority
        return self.update(file)

    def include(self, key: str) -> DiscoveredFile:
        file = self.get(key)
        file._raise_flag("included_at", self._store.clock.now())
        return self.update(file)

    def exclude(self, key: str) -> DiscoveredFile:
        file = self.get(key)
        file._lower_flag("included_at")
        return self.update(file)

    def find_by_step(
        self, workflow_step_id: str, *, included_only: bool = False
    ) -> builtins.list[DiscoveredFile]:
        where: list[Where] = [Eq(DISCOVERED_FILES.workflow_step_id, workflow_step_id)]
        if _flag_argument(self._label, "included_only", included_only):
            where.append(NotNull(DISCOVERED_FILES.included_at))
        files = self._select(
            where, [Asc(DISCOVERED_FILES.order_index), Asc(DISCOVERED_FILES.file_path)]
        )
        return sorted(files, key=lambda file: _PRIORITY_RANK[file.priority])

    def find_by_path(self, workflow_step_id: str, file_path: str) -> DiscoveredFile | None:
        return self._first(
            [
                Eq(DISCOVERED_FILES.workflow_step_id, workflow_step_id),
                Eq(DISCOVERED_FILES.file_path, file_path),
            ]
        )

    # -- rules on every path ---------------------------------------------------------------

    def _before_write(self, file: DiscoveredFile, stored: Row | None) -> None:
        if stored is None:
            return
        if file.workflow_step_id != stored[DISCOVERED_FILES.workflow_step_id]:
            raise InvalidValue(
                self._label,
                "workflow_step_id",
                file.workflow_step_id,
                "cannot change: a discovered file stays with its step",
            )
        if self._discovering or not self._user_edit(file, stored):
            return
        if (
            file.priority.value != stored[DISCOVERED_FILES.priority]
            and stored[DISCOVERED_FILES.original_priority] is None
        ):
            file.original_priority = FilePriority(stored[DISCOVERED_FILES.priority])
        file._raise_flag("user_modified_at", self._store.clock.now())

    def _after_write(self, file: DiscoveredFile, stored: Row | None) -> None:
        if stored is None:
            if file.is_user_added:
                self._audit_file(file, "user_added", f"User added {file.file_path}", None)
            return
        if not self._discovering and self._user_edit(file, stored):
            before = DiscoveredFile.from_row(stored)
            self._audit_file(file, "user_edited", f"User edited {file.file_path}", before)

    @staticmethod
    def _user_edit(file: DiscoveredFile, stored: Row) -> bool:
        """Whether the write changes what the user decides: the priority, the inclusion."""
        return file.priority.value != stored[DISCOVERED_FILES.priority] or (
            file.included_at is None
        ) != (stored[DISCOVERED_FILES.included_at] is None)

    def _audit_file(
        self, file: DiscoveredFile, what: str, message: str, before: DiscoveredFile | None
    ) -> None:
        step = self._store.get(table_of(WorkflowStep), file.workflow_step_id)
        self._audit(
            file.id,
            f"{self._label}.{what}",
            EventCategory.FILE,
            message,
            before_state=None if before is None else before.audit_state(),
            after_state=file.audit_state(),
            workflow_id=None if step is None else step[WORKFLOW_STEPS.workflow_id],
            workflow_step_id=file.workflow_step_id,
        )

    def _step_key(self, workflow_step_id: str) -> str:
        key: str = self.entity.query_value("workflow_step_id", workflow_step_id)
        if key is None:
            raise InvalidValue(self._label, "workflow_step_id", None, "is required")
        return key

    def _next_order(self, step_key: str) -> int:
        ((last,),) = self._store.aggregate(
            self._table,
            [Max(DISCOVERED_FILES.order_index)],
            [Eq(DISCOVERED_FILES.workflow_step_id, step_key)],
        )
        return 0 if last is None else int(last) + 1
