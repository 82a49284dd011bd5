"""The one path every write takes.

    idempotency key seen before? -> the first result again, marked as a replay, nothing written
    otherwise, in one transaction:  re-read, check the rules, write (the tool's `change`),
                                     remember the key, append the audit row
    refused?                       -> the refusal gets an audit row of its own, and the error goes back

A tool describes what its write changes, as a `change(conn) -> Written`; this module does the rest,
so no write can skip its key check or its audit row.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import aiosqlite
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from .errors import InvalidArguments, ShopError
from .repositories import audit, idempotency
from .shop import Shop
from .statuses import AuditOutcome

log = logging.getLogger("shopdesk")

IdempotencyKey = Annotated[
    str | None,
    Field(
        description="Optional. Any short unique string, e.g. a UUID: a retry with the same key and arguments "
        "returns the first result instead of writing again.",
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:-]+$",
    ),
]
REPLAY_META = "io.shopdesk/replay"


@dataclass
class Written:
    """What a write did: the record to answer with, its text, and what to put in the audit row."""

    record: BaseModel
    text: str
    target: str  # the id of the record written
    customer: str | None  # whose record it is
    details: dict[str, Any] = field(default_factory=dict)
    changed: bool = True  # False: a repeat that found nothing left to change


Change = Callable[[aiosqlite.Connection], Awaitable[Written]]

# Argument values that identify a person are masked in the audit log; free text is reduced to its length.
_PERSONAL = {"email", "first_name", "last_name", "phone", "address1", "address2", "city", "zip"}
_FREE_TEXT = {"message", "body", "summary"}


def caller_subject() -> str:
    """Who is writing: the bearer token's subject over HTTP, else the local operator."""
    token = get_access_token()
    return "local" if token is None else token.subject or token.client_id


def masked(arguments: Mapping[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for name, value in arguments.items():
        if value is None:
            continue
        if name in _PERSONAL and isinstance(value, str):
            shown[name] = value[:1] + "***" if value else ""
        elif name in _FREE_TEXT and isinstance(value, str):
            shown[name] = f"<{len(value)} characters>"
        else:
            shown[name] = value
    return shown


def fingerprint(tool: str, arguments: Mapping[str, Any]) -> str:
    text = json.dumps([tool, {k: v for k, v in arguments.items() if v is not None}], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _target(arguments: Mapping[str, Any], tool: str) -> str:
    for name in ("order_id", "ticket_id", "user_id"):
        if isinstance(arguments.get(name), str):
            return str(arguments[name])
    return tool


def _answer(structured: dict[str, Any], text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


async def perform(
    shop: Shop, tool: str, arguments: Mapping[str, Any], key: str | None, change: Change
) -> CallToolResult:
    """Run one write of `tool` called with `arguments` (and idempotency `key`) along the path above."""
    subject, shown = caller_subject(), masked(arguments)
    try:
        async with shop.db.transaction() as conn:
            if key is not None:
                replay = await _replay(conn, subject, key, tool, arguments, shown)
                if replay is not None:
                    return replay
            written = await change(conn)
            structured = written.record.model_dump(mode="json")
            if key is not None:
                kept = {
                    "structured": structured,
                    "text": written.text,
                    "target": written.target,
                    "customer": written.customer,
                }
                await idempotency.store(conn, subject, key, tool, fingerprint(tool, arguments), kept)
            outcome: AuditOutcome = "done" if written.changed else "unchanged"
            await audit.record(
                conn,
                tool=tool,
                target=written.target,
                outcome=outcome,
                subject=subject,
                customer=written.customer,
                arguments=shown,
                details=written.details,
            )
        return _answer(structured, written.text)
    except ShopError as refusal:
        await record_outside(shop, tool, _target(arguments, tool), "refused", subject, shown, refusal.problem)
        raise


async def _replay(
    conn: aiosqlite.Connection, subject: str, key: str, tool: str, arguments: Mapping[str, Any], shown: dict[str, Any]
) -> CallToolResult | None:
    earlier = await idempotency.find(conn, subject, key)
    if earlier is None:
        return None
    earlier_tool, earlier_fingerprint, kept = earlier
    if earlier_fingerprint != fingerprint(tool, arguments):
        raise InvalidArguments(
            f"This idempotency_key was already used for a different call ({earlier_tool} with other arguments).",
            "Use a new idempotency_key for a new request; nothing was changed.",
        )
    await audit.record(
        conn,
        tool=tool,
        target=kept["target"],
        outcome="replayed",
        subject=subject,
        customer=kept.get("customer"),
        arguments=shown,
    )
    answer = _answer(
        kept["structured"],
        "Replay of an earlier call with this idempotency_key; nothing was changed again. Its result:\n" + kept["text"],
    )
    return answer.model_copy(update={"meta": {REPLAY_META: True}})


async def record_outside(
    shop: Shop,
    tool: str,
    target: str,
    outcome: AuditOutcome,
    subject: str,
    shown: dict[str, Any],
    reason: str,
    customer: str | None = None,
) -> None:
    """An audit row for a write that did not happen (refused, declined), committed on its own."""
    try:
        async with shop.db.transaction() as conn:
            await audit.record(
                conn,
                tool=tool,
                target=target,
                outcome=outcome,
                subject=subject,
                customer=customer,
                arguments=shown,
                reason=reason,
            )
    except sqlite3.Error as exc:  # a read-only or full database cannot take the row; the answer still goes back
        log.warning("could not record a %s %s in the audit log: %s", outcome, tool, exc)
