"""Repositories of the planning context: initiatives, phases and tasks with their dependency
graphs, pages, proposals, reviews, chat and change sets; each module holds only what is
particular to its aggregate.
"""

from agentkeel.repositories.planning.change_sets import ChangeSetEntriesTable, ChangeSetsTable
from agentkeel.repositories.planning.chat import ChatMessagesTable, ChatSessionsTable
from agentkeel.repositories.planning.dependencies import (
    PhaseDependenciesTable,
    TaskDependenciesTable,
)
from agentkeel.repositories.planning.errands import ErrandsTable
from agentkeel.repositories.planning.initiatives import (
    InitiativeRepositoriesTable,
    InitiativesTable,
)
from agentkeel.repositories.planning.pages import PagesTable
from agentkeel.repositories.planning.phases import PhasesTable
from agentkeel.repositories.planning.proposals import ProposalsTable
from agentkeel.repositories.planning.reviews import ReviewCommentsTable
from agentkeel.repositories.planning.tasks import TasksTable

__all__ = [
    "ChangeSetEntriesTable",
    "ChangeSetsTable",
    "ChatMessagesTable",
    "ChatSessionsTable",
    "ErrandsTable",
    "InitiativeRepositoriesTable",
    "InitiativesTable",
    "PagesTable",
    "PhaseDependenciesTable",
    "PhasesTable",
    "ProposalsTable",
    "ReviewCommentsTable",
    "TaskDependenciesTable",
    "TasksTable",
]
