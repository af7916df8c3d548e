"""Paging for list tools: ``limit`` (default 25, at most 200) and ``offset``.

Every list result keeps the CLI's page shape (``total``, ``limit``, ``offset`` and the items)
and gains ``next_offset``: the offset of the next page, or ``null`` on the last one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from animus_cli.mcp._models import ToolInput
from animus_protocol.envelope import to_jsonable

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "PageInput", "page_of", "with_next_offset"]

DEFAULT_LIMIT = 25
MAX_LIMIT = 200


class PageInput(ToolInput):
    """Inputs shared by every list tool."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size (1-200).")
    offset: int = Field(0, ge=0, description="Skip this many items (next_offset of a page).")


def _next_offset(total: int, offset: int, shown: int) -> int | None:
    end = offset + shown
    return end if end < total else None


def with_next_offset(page: Any, items_key: str) -> dict[str, Any]:
    """A service page (``items_key`` + total/limit/offset) with ``next_offset`` added."""
    data: dict[str, Any] = to_jsonable(page)
    shown = len(data.get(items_key) or [])
    data["next_offset"] = _next_offset(int(data["total"]), int(data["offset"]), shown)
    return data


def page_of(
    items: Sequence[Any],
    items_key: str,
    args: PageInput,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Slice an in-memory list into the same page shape."""
    chosen = list(items[args.offset : args.offset + args.limit])
    return {
        items_key: to_jsonable(chosen),
        "total": len(items),
        "limit": args.limit,
        "offset": args.offset,
        "next_offset": _next_offset(len(items), args.offset, len(chosen)),
        **(extra or {}),
    }
