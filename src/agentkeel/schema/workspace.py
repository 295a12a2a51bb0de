"""Tables of the workspace context."""

from agentkeel.domain.workspace import (
    Project,
    Repository,
    Setting,
    Template,
    TemplatePlaceholder,
    Worktree,
)
from agentkeel.schema.base import entity_table, exclusive_flag, index, references, unique

projects = entity_table(Project, "projects", index("archived_at"), index("created_at"))

repositories = entity_table(
    Repository,
    "repositories",
    references("project_id", "projects", on_delete="CASCADE"),
    unique("project_id", "name"),
    exclusive_flag("set_as_default_at", per="project_id"),
    index("path"),
)

worktrees = entity_table(
    Worktree,
    "worktrees",
    references("repository_id", "repositories", on_delete="CASCADE"),
    references("workflow_id", "workflows", on_delete="SET NULL", index=False),
    unique("path"),
    unique("workflow_id"),
    index("status"),
)

settings = entity_table(Setting, "settings", unique("key"), index("category"))

templates = entity_table(Template, "templates", unique("name"), index("category"))

template_placeholders = entity_table(
    TemplatePlaceholder,
    "template_placeholders",
    references("template_id", "templates", on_delete="CASCADE"),
    unique("template_id", "name"),
)
