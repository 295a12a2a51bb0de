"""Repositories of the workspace context: projects, their git repositories and worktrees,
settings, templates and their placeholders.
"""

from agentkeel.repositories.workspace.projects import ProjectsTable
from agentkeel.repositories.workspace.repositories import RepositoriesTable
from agentkeel.repositories.workspace.settings import SettingsTable
from agentkeel.repositories.workspace.templates import TemplatePlaceholdersTable, TemplatesTable
from agentkeel.repositories.workspace.worktrees import WorktreesTable

__all__ = [
    "ProjectsTable",
    "RepositoriesTable",
    "SettingsTable",
    "TemplatePlaceholdersTable",
    "TemplatesTable",
    "WorktreesTable",
]
