"""Pages of an initiative (Codewalkers): a tree of documents with one root."""

from __future__ import annotations

from agentkeel.domain.entity import Timestamped
from agentkeel.domain.fields import Id, Integer, Json, Name


class Page(Timestamped):
    """A page of an initiative's tree; the root has no parent (one root per initiative).
    `content` is a Tiptap JSON document."""

    initiative_id: Id
    parent_page_id: Id | None = None
    title: Name
    content: Json | None = None
    sort_order: Integer = 0
