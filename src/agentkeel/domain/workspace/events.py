"""Events of the workspace context, recorded by its repositories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentkeel.domain.events import DomainEvent


@dataclass(frozen=True)
class ProjectArchived(DomainEvent):
    """A project was archived (hidden from listings)."""

    project_id: str


@dataclass(frozen=True)
class ProjectUnarchived(DomainEvent):
    """An archived project was brought back into listings."""

    project_id: str


@dataclass(frozen=True)
class DefaultRepositoryChanged(DomainEvent):
    """A repository became its project's default (the previous default was cleared)."""

    project_id: str
    repository_id: str


@dataclass(frozen=True)
class SettingChanged(DomainEvent):
    """A setting's value changed (`value` is the new, decoded value)."""

    key: str
    value: Any


@dataclass(frozen=True)
class TemplateRendered(DomainEvent):
    """A template was used (`record_use`, which every render calls)."""

    template_id: str
