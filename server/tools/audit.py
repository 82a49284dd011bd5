"""The audit log, for administrators: every write, refused write, declined confirmation and replay."""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..access.caller import Binding
from ..domain.models import AuditEvent, AuditPage
from ..shop import Shop
from ..storage.repositories import audit as repo
from ..text import render
from .arguments import Cursor, IsoDate, OrderId, PageSize, UserId
from .cursors import decode_cursor, encode_cursor
from .declare import tool
from .results import lookup, present


@tool(lookup("Read the audit log"), toolset="audit", scope="admin", binding=Binding(hidden=True))
async def list_audit_events(
    shop: Shop,
    since: Annotated[IsoDate, Field(description="Only events at or after this time (ISO 8601, UTC).")] = None,
    user_id: Annotated[UserId | None, Field(description="Only events about this customer.")] = None,
    order_id: Annotated[OrderId | None, Field(description="Only events about this order.")] = None,
    cursor: Cursor = None,
    limit: PageSize = 20,
) -> Annotated[CallToolResult, AuditPage]:
    """The audit log, oldest first: each write call's time, caller, customer, masked arguments and
    outcome. For administrators."""
    rows, last = await repo.search(
        shop.db.read,
        since=since,
        customer=user_id,
        target=order_id,
        after=decode_cursor("a", cursor),
        limit=limit,
    )
    page = AuditPage(events=[AuditEvent(**row) for row in rows], next_cursor=encode_cursor("a", last))
    return present(page, render.audit_page(page))
