"""Opaque page cursors for the search tools: where the last page ended, and for which search.

A cursor comes back from the caller, who may have made it up: it decodes only to what `encode_cursor`
could have made, row ids and placed dates that the database can take as they are (a bigger integer
overflows SQLite's and PostgreSQL's 64-bit columns; a lone surrogate or NUL cannot be sent to them).
"""

from __future__ import annotations

import base64
import json

from ..domain.errors import InvalidArguments
from ..storage.repositories.paging import PageKey

# Row ids stay far below this; the headroom keeps sums such as a search window's end (id + 1000) in 64 bits.
MAX_KEY = 2**62
# A placed date-time (ISO 8601) or '' for an order without one.
MAX_TEXT = 40


def encode_cursor(kind: str, key: PageKey | None) -> str | None:
    """An opaque cursor for continuing after `key`; None when there is nothing more."""
    if key is None:
        return None
    text = json.dumps([kind, *key], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _fits(part: object, wanted: type) -> bool:
    if type(part) is not wanted:  # bool is not int here
        return False
    if isinstance(part, int):
        return 0 <= part < MAX_KEY
    return isinstance(part, str) and len(part) <= MAX_TEXT and part.isascii() and part.isprintable()


def decode_cursor(kind: str, cursor: str | None, shape: tuple[type, ...] = (int,)) -> PageKey | None:
    """The key inside a cursor made by `encode_cursor(kind, ...)`, whose parts have the types in `shape`;
    None for no cursor. Anything else, however it is malformed, is one refusal."""
    if cursor is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError):  # bad base64, bad UTF-8, bad JSON
        value = None
    if (
        isinstance(value, list)
        and len(value) == len(shape) + 1
        and value[0] == kind
        and all(_fits(part, wanted) for part, wanted in zip(value[1:], shape, strict=True))
    ):
        return tuple(value[1:])
    raise InvalidArguments(
        "`cursor` is not a cursor this search returned.",
        "Pass the next_cursor of the previous page unchanged, or omit it to start again.",
    )
