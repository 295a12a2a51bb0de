"""Events of the workspace context, recorded by its repositories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentkeel.domain.events import DomainEvent


@dataclass(frozen=True)
class ProjectArchived(DomainEvent):
    project_id: str


@dataclass(frozen=True)
class ProjectUnarchived(DomainEvent):
    project_id: str


@dataclass(frozen=True)
class DefaultRepositoryChanged(DomainEvent):
    project_id: str
    repository_id: str


@dataclass(frozen=True)
class SettingChanged(DomainEvent):
    key: str
    value: Any


@dataclass(frozen=True)
class TemplateRendered(DomainEvent):
    template_id: str
