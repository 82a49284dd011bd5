"""Opaque page cursors for the search tools: where the last page ended, and for which search."""

from __future__ import annotations

import base64
import json

from ..errors import InvalidArguments
from ..repositories.paging import PageKey


def encode_cursor(kind: str, key: PageKey | None) -> str | None:
    """An opaque cursor for continuing after `key`; None when there is nothing more."""
    if key is None:
        return None
    text = json.dumps([kind, *key], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None, shape: tuple[type, ...] = (int,)) -> PageKey | None:
    """The key inside a cursor made by `encode_cursor(kind, ...)`, whose parts have the types in `shape`;
    None for no cursor."""
    if cursor is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        value = None
    if (
        isinstance(value, list)
        and len(value) == len(shape) + 1
        and value[0] == kind
        and all(type(part) is wanted for part, wanted in zip(value[1:], shape, strict=True))
    ):
        return tuple(value[1:])
    raise InvalidArguments(
        "`cursor` is not a cursor this search returned.",
        "Pass the next_cursor of the previous page unchanged, or omit it to start again.",
    )
