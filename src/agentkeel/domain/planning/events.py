"""Events the planning context records."""

from __future__ import annotations
