"""Workflow policy an application reads: where a workflow's worktree goes and what is done
with its branch, from the `worktree.*` settings."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from agentkeel.domain.errors import InvalidValue
from agentkeel.ports.unit_of_work import UnitOfWork

LOCATION_PATTERN = "worktree.locationPattern"
AUTO_CREATE_BRANCH = "worktree.autoCreateBranch"
AUTO_CLEANUP = "worktree.autoCleanup"
PUSH_ON_COMPLETION = "worktree.pushOnCompletion"
FEATURE_SLUG = "{feature-slug}"
# What a feature name that keeps no ASCII letter or digit becomes.
FALLBACK_FEATURE_SLUG = "feature"
FEATURE_SLUG_MAX_LENGTH = 100


def feature_slug(feature_name: str) -> str:
    """`feature_name` as a path component: accents dropped, lowercase ASCII letters and
    digits, every other run of characters one hyphen, no hyphen at either end, at most 100
    characters; "feature" if nothing is left."""
    ascii_name = unicodedata.normalize("NFKD", feature_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    slug = slug[:FEATURE_SLUG_MAX_LENGTH].rstrip("-")
    return slug or FALLBACK_FEATURE_SLUG


def worktree_path(pattern: str, feature_name: str) -> str:
    """The worktree location `pattern` with every `{feature-slug}` replaced by the slug of
    `feature_name`. A pattern without the placeholder is refused (InvalidValue): every
    workflow would get the same path, and worktree paths are unique."""
    if FEATURE_SLUG not in pattern:
        raise InvalidValue("setting", LOCATION_PATTERN, pattern, f"must contain {FEATURE_SLUG}")
    return pattern.replace(FEATURE_SLUG, feature_slug(feature_name))


@dataclass(frozen=True)
class WorktreePlan:
    """What to do about a workflow's worktree, as the settings say now: where to create it
    (`path`), whether to create its feature branch (`auto_create_branch`), whether to push
    the branch when the workflow completes (`push_on_completion`), and whether the worktree
    is moved to cleaning when the workflow completes (`auto_cleanup`, which the workflow
    repository applies by itself)."""

    path: str
    auto_create_branch: bool
    push_on_completion: bool
    auto_cleanup: bool


def worktree_plan(uow: UnitOfWork, workflow_id: str) -> WorktreePlan:
    """The worktree decisions for a workflow, from its feature name and the `worktree.*`
    settings. Only reads. Raises NotFound, InvalidValue (a location pattern without
    `{feature-slug}`)."""
    workflow = uow.workflows.get(workflow_id)
    settings = uow.settings
    return WorktreePlan(
        path=worktree_path(settings.value_as(LOCATION_PATTERN, str), workflow.feature_name),
        auto_create_branch=settings.value_as(AUTO_CREATE_BRANCH, bool),
        push_on_completion=settings.value_as(PUSH_ON_COMPLETION, bool),
        auto_cleanup=settings.value_as(AUTO_CLEANUP, bool),
    )
