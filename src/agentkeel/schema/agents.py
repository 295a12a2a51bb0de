"""Tables of the agents context.

`agents.task_id / initiative_id` and `conversations.initiative_id / phase_id / task_id` point
at the planning context's tables (they came with its migration).
"""

from agentkeel.domain.agents import (
    Account,
    Agent,
    AgentLogChunk,
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    Conversation,
    InteractionSession,
    Message,
    Metric,
)
from agentkeel.schema.base import entity_table, index, references, unique

agent_profiles = entity_table(
    AgentProfile,
    "agent_profiles",
    references("project_id", "projects", on_delete="CASCADE"),
    references("parent_profile_id", "agent_profiles", on_delete="SET NULL"),
    unique("name"),
    index("type"),
)

agent_profile_tools = entity_table(
    AgentProfileTool,
    "agent_profile_tools",
    references("profile_id", "agent_profiles", on_delete="CASCADE", index=False),
    unique("profile_id", "tool_name", "tool_pattern"),
)

agent_profile_skills = entity_table(
    AgentProfileSkill,
    "agent_profile_skills",
    references("profile_id", "agent_profiles", on_delete="CASCADE", index=False),
    unique("profile_id", "skill_name"),
)

accounts = entity_table(Account, "accounts", index("provider", "last_used_at"))

agents = entity_table(
    Agent,
    "agents",
    references("profile_id", "agent_profiles", on_delete="SET NULL"),
    references("account_id", "accounts", on_delete="SET NULL"),
    references("task_id", "tasks", on_delete="SET NULL", cycle=True),
    references("initiative_id", "initiatives", on_delete="SET NULL"),
    unique("name"),
    index("session_id"),
    index("status"),
)

# No foreign key: chunks outlive their agent.
agent_log_chunks = entity_table(
    AgentLogChunk,
    "agent_log_chunks",
    unique("agent_id", "chunk_number"),
    index("created_at"),  # the retention purge, oldest first
)

conversations = entity_table(
    Conversation,
    "conversations",
    references("from_agent_id", "agents", on_delete="CASCADE"),
    references("to_agent_id", "agents", on_delete="CASCADE", index=False),
    index("to_agent_id", "status"),
    references("initiative_id", "initiatives", on_delete="SET NULL"),
    references("phase_id", "phases", on_delete="SET NULL"),
    references("task_id", "tasks", on_delete="SET NULL"),
)

messages = entity_table(
    Message,
    "messages",
    references("sender_agent_id", "agents", on_delete="CASCADE"),
    references("recipient_agent_id", "agents", on_delete="CASCADE"),
    references("parent_message_id", "messages", on_delete="CASCADE"),
    # find_pending_for_user: to the user, not read; find_requiring_response: asked, unanswered.
    index("recipient_type", "read_at"),
    index("requires_response_at", "responded_at"),
)

# No foreign key to agents or tasks: metrics outlive them.
metrics = entity_table(
    Metric,
    "metrics",
    references("project_id", "projects", on_delete="CASCADE", index=False),
    index("project_id", "type", "timestamp"),
    index("agent_id"),
    index("task_id"),
    index("timestamp"),  # the retention purge, oldest first
)

interaction_sessions = entity_table(
    InteractionSession,
    "interaction_sessions",
    references("project_id", "projects", on_delete="CASCADE"),
    index("status"),
)
