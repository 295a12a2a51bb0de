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
    # `Agents.list` reads in spawn order: its indexes lead with what it filters on and end
    # with that order (migration 0015).
    references("profile_id", "agent_profiles", on_delete="SET NULL", index=False),
    index("profile_id", "spawned_at"),
    references("account_id", "accounts", on_delete="SET NULL"),
    references("task_id", "tasks", on_delete="SET NULL", cycle=True),
    references("initiative_id", "initiatives", on_delete="SET NULL"),
    unique("name"),
    index("session_id"),
    index("status", "spawned_at"),
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
    references("from_agent_id", "agents", on_delete="CASCADE", index=False),
    references("to_agent_id", "agents", on_delete="CASCADE", index=False),
    # Oldest first, by agent or by status (the listen poll: to an agent, pending).
    index("from_agent_id", "created_at"),
    index("to_agent_id", "status", "created_at"),
    index("status", "created_at"),
    references("initiative_id", "initiatives", on_delete="SET NULL"),
    references("phase_id", "phases", on_delete="SET NULL"),
    references("task_id", "tasks", on_delete="SET NULL"),
)

messages = entity_table(
    Message,
    "messages",
    references("sender_agent_id", "agents", on_delete="CASCADE"),
    references("recipient_agent_id", "agents", on_delete="CASCADE", index=False),
    references("parent_message_id", "messages", on_delete="CASCADE", index=False),
    # Each finder's filter, then its order (oldest first). find_pending_for_user: to the
    # user, not read; find_requiring_response: to one agent, unanswered (or, to any,
    # asked and unanswered); find_replies: a thread's replies.
    index("recipient_agent_id", "responded_at", "created_at"),
    index("parent_message_id", "created_at"),
    index("recipient_type", "read_at", "created_at"),
    index("requires_response_at", "responded_at"),
)

# No foreign key to agents or tasks: metrics outlive them.
metrics = entity_table(
    Metric,
    "metrics",
    references("project_id", "projects", on_delete="CASCADE", index=False),
    index("project_id", "type", "timestamp"),
    index("agent_id", "timestamp"),
    index("task_id", "timestamp"),
    index("timestamp"),  # the retention purge, oldest first
)

interaction_sessions = entity_table(
    InteractionSession,
    "interaction_sessions",
    references("project_id", "projects", on_delete="CASCADE"),
    index("status"),
)
