"""agentkeel: the domain core of an AI coding-agent orchestrator.

Start with `Database.open(url)` and `db.unit_of_work()`; entities live in `agentkeel.domain`,
rules in `agentkeel.services`.
"""

from agentkeel.database import Database
from agentkeel.domain.audit import AuditEntry
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
from agentkeel.domain.workspace import (
    Project,
    Repository,
    Setting,
    Template,
    TemplatePlaceholder,
    Worktree,
)
from agentkeel.ports.unit_of_work import UnitOfWork

__all__ = [
    "AlreadyExists",
    "AuditEntry",
    "Busy",
    "Conflict",
    "Database",
    "DependencyCycle",
    "DomainError",
    "InvalidTransition",
    "InvalidValue",
    "NotFound",
    "Project",
    "Protected",
    "ReadOnly",
    "ReferenceMissing",
    "Repository",
    "SchemaError",
    "Setting",
    "StillReferenced",
    "Template",
    "TemplatePlaceholder",
    "UnitOfWork",
    "Worktree",
]
