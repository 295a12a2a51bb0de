"""Inline review comments on a phase's diff (Codewalkers)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.fields import Count, FilePath, Id, Label, LongText, UtcDateTime


class LineType(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CONTEXT = "context"


class ReviewComment(Timestamped):
    """A comment on a line of a phase's diff (`line_number` is the new side's, the old
    side's for a removed line); `resolved_at` replaces CW's `resolved` boolean."""

    phase_id: Id
    file_path: FilePath
    line_number: Count
    line_type: LineType
    body: LongText
    author: Label = "you"
    resolved_at: UtcDateTime | None = None

    is_resolved: ClassVar[Flag] = Flag("resolved_at")
