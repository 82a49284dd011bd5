"""The one path every write takes.

    confirmation declined?         -> an audit row saying so; nothing written (see confirm.py)
    idempotency key seen before?   -> the first result again, marked as a replay, nothing written
    otherwise, in one transaction:  re-read, check the rules (the tool's plan), check the plan is still
                                     word for word what the person confirmed, write (the plan's apply),
                                     spend the confirmation token, remember the key, append the audit row
    refused?                       -> the refusal gets an audit row of its own (naming the customer whose
                                     record it was, if it exists), and the error goes back

A tool describes its write as a plan: `plan(conn) -> Plan`, reading and checking only, whose `words`
say what will change and whose `apply(conn) -> Written` changes it. This module does the rest, so
no write can skip its confirmation, its key check or its audit row.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from .confirm import (
    Asker,
    Consent,
    Declined,
    Preview,
    TokenSigner,
    asker,
    consented,
    signing_key,
    spend,
    will_ask,
)
from .database import is_storage_error
from .db import utc_now
from .errors import Conflict, InvalidArguments, ShopError
from .masking import masked_id
from .repositories import audit, idempotency, ownership
from .repositories.ownership import RecordKind
from .repositories.rows import Connection
from .shop import Shop
from .statuses import AuditOutcome
from .tokens import key_holder

log = logging.getLogger("shopdesk")

IdempotencyKey = Annotated[
    str | None,
    Field(
        description="A UUID makes a retry safe.",
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


Change = Callable[[Connection], Awaitable[Written]]


@dataclass
class Plan:
    """A write worked out but not made: what it will change, for the person, and how to make it."""

    words: str  # empty: nothing the person needs to confirm
    apply: Change


Planner = Callable[[Connection], Awaitable[Plan]]


@dataclass(frozen=True)
class Write:
    """One call of a destructive tool: its name, its arguments, and its plan."""

    tool: str
    arguments: Mapping[str, Any]
    plan: Planner


def caller_subject() -> str:
    """Who is writing, for the audit trail: the bearer token's subject over HTTP, else the local operator. An
    OAuth token (one naming its issuer) also names the client acting for its subject, when that is another."""
    token = get_access_token()
    if token is None:
        return "local"
    subject = token.subject or token.client_id
    if "iss" in (token.claims or {}) and subject != token.client_id:
        return f"{subject} via {token.client_id}"
    return subject


def caller_holder() -> str:
    """Whose idempotency keys and confirmation tokens these are: the bearer token's own (two tokens of one
    subject, e.g. bound to two customers, share neither), else the local operator's."""
    token = get_access_token()
    return "local" if token is None else key_holder(token.token, token.claims)


def fingerprint(tool: str, arguments: Mapping[str, Any]) -> str:
    text = json.dumps([tool, {k: v for k, v in arguments.items() if v is not None}], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# The arguments that name the record a call is about, the customer's first; and what kind of record each names.
_RECORDS: tuple[tuple[str, RecordKind], ...] = (("user_id", "customer"), ("order_id", "order"), ("ticket_id", "ticket"))


async def _whose(conn: Connection, arguments: Mapping[str, Any]) -> str | None:
    """The customer whose record the arguments name, when that record exists."""
    for name, kind in _RECORDS:
        value = arguments.get(name)
        if isinstance(value, str) and 0 < len(value) <= 100 and value.isprintable():
            owner = await ownership.owner(conn, kind, value)
            if owner is not None:
                return owner
    return None


def _target(arguments: Mapping[str, Any], tool: str, customer: str | None) -> str:
    """The id a row about a write that did not happen is filed under: the order or ticket named (masked if it
    is not shaped like one), else the customer's user id when that customer exists (masked when not)."""
    for name in ("order_id", "ticket_id", "user_id"):
        value = arguments.get(name)
        if isinstance(value, str):
            return value if name == "user_id" and value == customer else masked_id(name, value)
    return tool


def _answer(structured: dict[str, Any], text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


async def perform(
    shop: Shop, tool: str, arguments: Mapping[str, Any], key: str | None, change: Change
) -> CallToolResult:
    """Run one write that needs no confirmation (it only adds, or its effect is undone as easily)."""

    async def plan(_: Connection) -> Plan:
        return Plan("", change)

    return await _run(shop, tool, arguments, key, plan, None, None)


async def perform_confirmed(
    shop: Shop,
    write: Write,
    key: str | None,
    preview: Preview,
    consent: ElicitationResult[Consent],
    token: str | None,
) -> CallToolResult:
    """Run one destructive write the person was asked about (see confirm.py) along the path above."""
    tool, arguments = write.tool, write.arguments
    if not consented(consent):
        # The client answers: a person may have said no, or the client may have declined on its own.
        if isinstance(consent, AcceptedElicitation):
            reason = "the answer to the confirmation was no"
        elif isinstance(consent, CancelledElicitation):
            reason = "the confirmation was dismissed"
        else:
            reason = "the confirmation was declined"
        await record_outside(shop, tool, arguments, "declined", reason)
        raise Declined(tool, reason)
    return await _run(shop, tool, arguments, key, write.plan, preview if preview.worked_out else None, token)


async def preview_of(shop: Shop, write: Write, key: str | None = None, ctx: Context[Any, Any] | None = None) -> Preview:
    """What the write would change, from the records as they are now; a write the rules refuse is refused
    (and audited) here, before anybody is asked about it. A retry with a known idempotency key asks
    nothing: it will be answered with the first result. On a connection where nobody would be asked
    (`ctx` given, see confirm.will_ask), nothing is read here: the write's transaction reads and checks."""
    tool, arguments = write.tool, write.arguments
    if ctx is not None and not will_ask(shop.settings.confirm, ctx):
        return Preview(tool, dict(arguments), "", worked_out=False)

    async def a_retry() -> bool:
        earlier = None if key is None else await idempotency.find(shop.db.read, caller_holder(), key)
        return earlier is not None and earlier[1] == fingerprint(tool, arguments)

    if await a_retry():
        return Preview(tool, dict(arguments), "")
    try:
        worked_out = await write.plan(shop.db.read)
    except ShopError as refusal:
        # The first call with this key may have committed between the two reads (the order is cancelled
        # now because of it): then this is still a retry, answered with the first result.
        if await a_retry():
            return Preview(tool, dict(arguments), "")
        await record_outside(shop, tool, arguments, "refused", refusal.problem)
        raise
    return Preview(tool, dict(arguments), worked_out.words)


async def issue_token(shop: Shop, preview: Preview) -> str:
    async with shop.db.transaction() as conn:
        key = await signing_key(conn)
    return TokenSigner(key).issue(caller_holder(), preview)


async def check_token(shop: Shop, token: str, preview: Preview) -> None:
    async with shop.db.transaction() as conn:
        key = await signing_key(conn)
    TokenSigner(key).check(token, caller_holder(), preview)


def consent_resolver(shop: Shop, preview_fn: Callable[..., Awaitable[Preview]]) -> Asker:
    """The `consent` resolver of a destructive tool whose `preview` resolver is `preview_fn`."""

    async def issue(preview: Preview) -> str:
        return await issue_token(shop, preview)

    async def check(token: str, preview: Preview) -> None:
        await check_token(shop, token, preview)

    return asker(lambda: shop.settings.confirm, preview_fn, issue, check)


async def _run(
    shop: Shop,
    tool: str,
    arguments: Mapping[str, Any],
    key: str | None,
    plan: Planner,
    confirmed: Preview | None,
    token: str | None,
) -> CallToolResult:
    subject, holder = caller_subject(), caller_holder()
    try:
        async with shop.db.transaction() as conn:
            if key is not None:
                replay = await _replay(conn, holder, key, tool, arguments, subject)
                if replay is not None:
                    return replay
            worked_out = await plan(conn)
            if confirmed is not None and worked_out.words != confirmed.words:
                raise Conflict(
                    "The record changed after the person was asked, so what would change is no longer what they "
                    "agreed to. Nothing was changed.",
                    "Read the record again and ask the person again.",
                )
            written = await worked_out.apply(conn)
            if token is not None:
                await spend(conn, token, utc_now())
            structured = written.record.model_dump(mode="json")
            if key is not None:
                kept = {
                    "structured": structured,
                    "text": written.text,
                    "target": written.target,
                    "customer": written.customer,
                }
                await idempotency.store(conn, holder, key, tool, fingerprint(tool, arguments), kept)
            outcome: AuditOutcome = "done" if written.changed else "unchanged"
            await audit.record(
                conn,
                tool=tool,
                target=written.target,
                outcome=outcome,
                subject=subject,
                customer=written.customer,
                arguments=arguments,
                details=written.details,
            )
        return _answer(structured, written.text)
    except ShopError as refusal:
        await record_outside(shop, tool, arguments, "refused", refusal.problem)
        raise


async def _replay(
    conn: Connection, holder: str, key: str, tool: str, arguments: Mapping[str, Any], subject: str
) -> CallToolResult | None:
    earlier = await idempotency.find(conn, holder, key)
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
        arguments=arguments,
    )
    answer = _answer(
        kept["structured"],
        "Replay of an earlier call with this idempotency_key; nothing was changed again. Its result:\n" + kept["text"],
    )
    return answer.model_copy(update={"meta": {REPLAY_META: True}})


async def record_outside(
    shop: Shop, tool: str, arguments: Mapping[str, Any], outcome: AuditOutcome, reason: str
) -> None:
    """An audit row for a write that did not happen (refused, declined), committed on its own; it names the
    customer whose record the call was about, when that record exists."""
    try:
        async with shop.db.transaction() as conn:
            customer = await _whose(conn, arguments)
            await audit.record(
                conn,
                tool=tool,
                target=_target(arguments, tool, customer),
                outcome=outcome,
                subject=caller_subject(),
                customer=customer,
                arguments=arguments,
                reason=reason,
            )
    except Exception as exc:  # a read-only or full database cannot take the row; the answer still goes back
        if not is_storage_error(exc):
            raise
        log.warning("could not record a %s %s in the audit log: %s", outcome, tool, exc)


async def refused_arguments(shop: Shop, tool: str, arguments: Mapping[str, Any], refusal: ShopError) -> None:
    """The audit row of a write whose arguments failed the tool's schema, or whose confirmation answer could not
    be read (declined like a no: see mcp_server.ShopServer)."""
    if isinstance(refusal, Declined):
        await record_outside(shop, tool, arguments, "declined", refusal.reason)
    else:
        await record_outside(shop, tool, arguments, "refused", refusal.problem)
