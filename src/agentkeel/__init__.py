"""agentkeel: the domain core of an AI coding-agent orchestrator.

Start with `Database.open(url)` and `db.unit_of_work()`. Everything an application names
imports from here: the facade and the unit of work, the entities and their enums, the
errors, the events and the clocks. Rules that span aggregates are functions in
`agentkeel.services` (`from agentkeel.services import workspace`).
"""

from agentkeel.database import Database
from agentkeel.domain.audit import (
    AuditEntry,
    AuditLogsPurged,
    EventCategory,
    EventSource,
    Severity,
)
from agentkeel.domain.clock import Clock, FakeClock, SystemClock
from agentkeel.domain.errors import (
    AlreadyExists,
    Busy,
    Conflict,
    DependencyCycle,
    DomainError,
    InvalidTransition,
    InvalidValue,
    NotFound,
    Protected,
    ReadOnly,
    ReferenceMissing,
    SchemaError,
    StillReferenced,
)
from agentkeel.domain.events import DomainEvent, HandlerFailure, RecordDeleted
from agentkeel.domain.workspace import (
    DefaultRepositoryChanged,
    Project,
    ProjectArchived,
    ProjectMode,
    ProjectUnarchived,
    Repository,
    Setting,
    SettingCategory,
    SettingChanged,
    SettingValueType,
    Template,
    TemplateCategory,
    TemplatePlaceholder,
    TemplateRendered,
    Worktree,
    WorktreeStatus,
)
from agentkeel.ports.unit_of_work import UnitOfWork

__all__ = [
    "AlreadyExists",
    "AuditEntry",
    "AuditLogsPurged",
    "Busy",
    "Clock",
    "Conflict",
    "Database",
    "DefaultRepositoryChanged",
    "DependencyCycle",
    "DomainError",
    "DomainEvent",
    "EventCategory",
    "EventSource",
    "FakeClock",
    "HandlerFailure",
    "InvalidTransition",
    "InvalidValue",
    "NotFound",
    "Project",
    "ProjectArchived",
    "ProjectMode",
    "ProjectUnarchived",
    "Protected",
    "ReadOnly",
    "RecordDeleted",
    "ReferenceMissing",
    "Repository",
    "SchemaError",
    "Setting",
    "SettingCategory",
    "SettingChanged",
    "SettingValueType",
    "Severity",
    "StillReferenced",
    "SystemClock",
    "Template",
    "TemplateCategory",
    "TemplatePlaceholder",
    "TemplateRendered",
    "UnitOfWork",
    "Worktree",
    "WorktreeStatus",
]
