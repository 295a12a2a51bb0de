"""Tables of the planning context.

`tasks.feature_id / sub_feature_id` (the backlog context's) have no ON DELETE (NO ACTION, as
Nexus declares them): a feature that still has tasks cannot be deleted; deleting the project
removes both together.
"""

from agentkeel.domain.planning import (
    ChangeSet,
    ChangeSetEntry,
    ChatMessage,
    ChatSession,
    Errand,
    Initiative,
    InitiativeRepositoryLink,
    Page,
    Phase,
    PhaseDependency,
    Proposal,
    ReviewComment,
    Task,
    TaskDependency,
)
from agentkeel.schema.base import Only, entity_table, index, references, unique, unique_where

initiatives = entity_table(
    Initiative,
    "initiatives",
    references("project_id", "projects", on_delete="CASCADE"),
    index("status"),
    index("archived_at"),
)

initiative_repositories = entity_table(
    InitiativeRepositoryLink,
    "initiative_repositories",
    references("initiative_id", "initiatives", on_delete="CASCADE", index=False),
    references("repository_id", "repositories", on_delete="CASCADE"),
    unique("initiative_id", "repository_id"),
)

phases = entity_table(
    Phase,
    "phases",
    references("initiative_id", "initiatives", on_delete="CASCADE"),
)

phase_dependencies = entity_table(
    PhaseDependency,
    "phase_dependencies",
    references("phase_id", "phases", on_delete="CASCADE", index=False),
    references("depends_on_phase_id", "phases", on_delete="CASCADE"),
    unique("phase_id", "depends_on_phase_id"),
)

tasks = entity_table(
    Task,
    "tasks",
    # Indexed below, each leading the index of the finders that filter by it.
    references("project_id", "projects", on_delete="CASCADE", index=False),
    references("initiative_id", "initiatives", on_delete="CASCADE", index=False),
    references("phase_id", "phases", on_delete="CASCADE", index=False),
    references("parent_task_id", "tasks", on_delete="CASCADE"),
    references("assigned_agent_id", "agents", on_delete="SET NULL"),
    references("feature_id", "features", on_delete="NO ACTION"),
    references("sub_feature_id", "sub_features", on_delete="NO ACTION"),
    # What an orchestrator asks in its loop (ready tasks, tasks by status, a claim) is one
    # scope and a status, read in task order: each such query walks one of these in order,
    # with no sort and whatever the planner's statistics, at 10,000 tasks as at 1,000,000.
    index("phase_id", "status", "order_index", "created_at", "id"),
    index("initiative_id", "status", "order_index", "created_at", "id"),
    index("project_id", "status", "order_index", "created_at", "id"),
    index("status"),
)

task_dependencies = entity_table(
    TaskDependency,
    "task_dependencies",
    references("task_id", "tasks", on_delete="CASCADE", index=False),
    references("depends_on_task_id", "tasks", on_delete="CASCADE"),
    unique("task_id", "depends_on_task_id"),
)

pages = entity_table(
    Page,
    "pages",
    references("initiative_id", "initiatives", on_delete="CASCADE"),
    references("parent_page_id", "pages", on_delete="CASCADE"),
    # One root page per initiative, even when two units of work create it at once.
    unique_where("initiative_id", only=Only("parent_page_id", "unset"), name="root"),
)

proposals = entity_table(
    Proposal,
    "proposals",
    references("agent_id", "agents", on_delete="CASCADE", index=False),
    references("initiative_id", "initiatives", on_delete="CASCADE"),
    index("agent_id", "status"),
    index("target_type", "target_id"),
)

review_comments = entity_table(
    ReviewComment,
    "review_comments",
    references("phase_id", "phases", on_delete="CASCADE"),
)

chat_sessions = entity_table(
    ChatSession,
    "chat_sessions",
    references("initiative_id", "initiatives", on_delete="CASCADE"),
    references("agent_id", "agents", on_delete="SET NULL"),
    index("target_type", "target_id"),
    # At most one active session per target.
    unique_where("target_type", "target_id", only=Only("status", "equal", "active"), name="active"),
)

change_sets = entity_table(
    ChangeSet,
    "change_sets",
    references("initiative_id", "initiatives", on_delete="CASCADE"),
    references("chat_session_id", "chat_sessions", on_delete="SET NULL"),
)

chat_messages = entity_table(
    ChatMessage,
    "chat_messages",
    references("chat_session_id", "chat_sessions", on_delete="CASCADE", index=False),
    references("change_set_id", "change_sets", on_delete="SET NULL"),
    unique("chat_session_id", "sequence"),
)

change_set_entries = entity_table(
    ChangeSetEntry,
    "change_set_entries",
    references("change_set_id", "change_sets", on_delete="CASCADE", index=False),
    unique("change_set_id", "position"),
    index("entity_type", "entity_id"),
)

errands = entity_table(
    Errand,
    "errands",
    references("repository_id", "repositories", on_delete="CASCADE"),
    references("agent_id", "agents", on_delete="SET NULL"),
    index("status"),
)
