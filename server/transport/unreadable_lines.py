"""Answers to stdio lines that are not a JSON-RPC message the SDK can read, so the client is never left waiting.

The SDK drops such a line with a DEBUG log line and answers nothing: a client waits for its own timeout (a
request over the size limit, or one holding a lone surrogate escape such as "\\ud800", which Python's json
takes but the SDK's parser refuses). Here each gets a JSON-RPC error carrying the request's id when the
line's start shows it, else id null, as JSON-RPC 2.0 says for a request whose id cannot be read.

The id is read from the start of the line only, by decoding the top-level members in order: `"id"` is found
when it comes before any member too long for that start (`"params"` holding a large argument). Nothing of a
skipped line beyond its start is kept.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_types import INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR
from pydantic import ValidationError

# How much of an over-long line is read to look for its id: the envelope ("jsonrpc", "id", "method") and
# small params come well within it.
HEAD_BYTES = 4096

_WHITESPACE = " \t\r\n"
_decoder = json.JSONDecoder()

RequestId = str | int


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


def request_id(text: str) -> RequestId | None:
    """The id of the JSON-RPC request `text` starts with; None when it has none, or it cannot be read there
    (a member before it is cut off, the text is not a JSON object, the id is not a string or an integer)."""
    try:
        at = _skip_space(text, 0)
        if text[at : at + 1] != "{":
            return None
        at += 1
        while True:
            at = _skip_space(text, at)
            key, at = _decoder.raw_decode(text, at)
            at = _skip_space(text, at)
            if not isinstance(key, str) or text[at : at + 1] != ":":
                return None
            value, at = _decoder.raw_decode(text, _skip_space(text, at + 1))
            at = _skip_space(text, at)
            ends = text[at : at + 1]
            if ends not in (",", "}"):  # also a number the cut may have shortened ("id": 12|34)
                return None
            if key == "id":
                return value if isinstance(value, str | int) and not isinstance(value, bool) else None
            if ends == "}":
                return None
            at += 1
    except (ValueError, IndexError, RecursionError):  # cut off, malformed, or nested too deep to read
        return None


def _is_notification(text: str) -> bool:
    """Whether `text` reads, whole, as a JSON object with a method and no id: nobody waits for its answer."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(message, dict) and "method" in message and "id" not in message


def _error(id_: RequestId | None, code: int, message: str) -> bytes:
    # ASCII JSON: an id holding a lone surrogate still goes out as its escape, never as bytes UTF-8 refuses.
    answer: dict[str, Any] = {"jsonrpc": "2.0", "id": id_, "error": {"code": code, "message": message}}
    return json.dumps(answer, separators=(",", ":")).encode("ascii") + b"\n"


def internal_error_answer(id_: RequestId | None) -> bytes:
    """The answer in place of one that could not be written (text that UTF-8 cannot carry)."""
    return _error(id_, INTERNAL_ERROR, "The answer could not be encoded as UTF-8; the server's log has the details.")


def too_long_answer(head: bytes, limit: int) -> bytes:
    """The answer to a line over `limit` bytes that starts with `head`."""
    return _error(
        request_id(head.decode("utf-8", errors="replace")),
        INVALID_REQUEST,
        f"The message is longer than the {limit:,} bytes shopdesk reads over stdio. "
        "Send smaller arguments (or page through results).",
    )


def unreadable_answer(line: str, error: ValidationError) -> bytes | None:
    """The answer to a whole line the SDK's parser refused with `error`; None for a blank line or a
    notification, which nobody waits for."""
    if not line.strip() or _is_notification(line):
        return None
    first = error.errors(include_input=False, include_url=False)[0]
    if first["type"] == "json_invalid":  # e.g. "Invalid JSON: unexpected end of hex escape at line 1 column 92"
        code, problem = PARSE_ERROR, str(first["msg"])[:120]
    else:
        code, problem = INVALID_REQUEST, "not a JSON-RPC 2.0 request"
    return _error(
        request_id(line),
        code,
        f"{problem}. Send one JSON-RPC message a line, as UTF-8 text (no lone surrogate escapes such as \\ud800).",
    )


def unusable_id_answer(line: str) -> bytes | None:
    """The answer to a line the SDK's parser took as a notification although it has an id, one that is not a
    string or an integer (1.5, true, null, [1]): the SDK would drop it as a notification, and its sender waits
    for an answer. None for a true notification."""
    if '"id"' not in line:  # most notifications: no need to read them again
        return None
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or "id" not in message:
        return None
    return _error(None, INVALID_REQUEST, "A request's id must be a string or an integer; nothing was done.")
