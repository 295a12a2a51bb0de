"""Events the workflows context records."""

from __future__ import annotations
