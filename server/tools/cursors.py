"""Opaque page cursors for the search tools."""

from __future__ import annotations

import base64

from ..errors import InvalidArguments


def encode_cursor(kind: str, key: int | None) -> str | None:
    """An opaque cursor for continuing after `key`; None when there is nothing more."""
    if key is None:
        return None
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The key inside a cursor made by `encode_cursor(kind, ...)`; None for no cursor."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, key = text.partition(":")
        if prefix == kind and key.isdigit():
            return int(key)
    except (ValueError, UnicodeDecodeError):
        pass
    raise InvalidArguments(
        "`cursor` is not a cursor this search returned.",
        "Pass the next_cursor of the previous page unchanged, or omit it to start again.",
    )
