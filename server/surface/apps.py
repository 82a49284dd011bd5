"""The MCP Apps views (`io.modelcontextprotocol/ui`): an order, a customer and a ticket drawn for the person.

A host that supports MCP Apps sees `_meta.ui.resourceUri` on get_order_details, get_user_details and
get_ticket, reads that `ui://` resource (one self-contained HTML file, served as
`text/html;profile=mcp-app`) and shows it in a sandboxed iframe, handing it the tool's result. The
views call tools only through the host (the order view's return/exchange picker calls
return_delivered_order_items or exchange_delivered_order_items, get_user_details and
get_product_details; the customer view opens orders with get_order_details), so every rule, scope
and confirmation of the server applies to them as to any other call.

Nothing changes for a client that did not negotiate the extension: the tools answer the same text
and structured content, the only addition to the tool listing is the `_meta.ui` entry, and its
resource listing does not show the views (`ViewsForAppsClients`; a view stays readable by its URI).

The HTML is built from views/ (`npm run build` there) and committed under server/surface/views/, so
installing shopdesk never needs Node.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

from mcp.server.apps import Apps, ResourceCsp, client_supports_apps
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from pydantic import BaseModel

ORDER_VIEW = "ui://shopdesk/order.html"
CUSTOMER_VIEW = "ui://shopdesk/customer.html"
TICKET_VIEW = "ui://shopdesk/ticket.html"

# view URI -> (its file under server/surface/views/, its title). The tool whose result a view shows names it
# in its declaration (`view=`, tools/declare.py).
VIEWS: dict[str, tuple[str, str]] = {
    ORDER_VIEW: ("order.html", "Order view"),
    CUSTOMER_VIEW: ("customer.html", "Customer view"),
    TICKET_VIEW: ("ticket.html", "Support ticket view"),
}

# No domain of any kind: a view loads nothing and connects nowhere (the HTML says the same in its own CSP).
NO_NETWORK = ResourceCsp(connect_domains=[], resource_domains=[], frame_domains=[], base_uri_domains=[])


def ui(uri: str) -> dict[str, Any]:
    """The `_meta` a tool carries to name its view (what `Apps.tool` would stamp)."""
    return {"ui": {"resourceUri": uri}}


@functools.cache  # read once per process, whatever the number of servers built
def view_html(file: str) -> str:
    return resources.files("shopdesk.surface").joinpath("views", file).read_text(encoding="utf-8")


def extension(shown_by: Mapping[str, str]) -> Apps:
    """The Apps extension with the views the enabled tools show (`shown_by`: view URI -> tool).

    The tools themselves are registered as usual (with `meta=ui(...)`), not through `Apps.tool`, so a
    toolset that turns a tool off takes its view away too.
    """
    apps = Apps()
    for uri, (file, title) in VIEWS.items():
        tool = shown_by.get(uri)
        if tool is None:
            continue
        apps.add_html_resource(
            uri,
            view_html(file),
            name=file.removesuffix(".html") + "-view",
            title=title,
            description=f"Shows the result of {tool} to the person (MCP Apps).",
            csp=NO_NETWORK,
            prefers_border=True,
        )
    return apps


class ViewsForAppsClients:
    """SDK middleware: `resources/list` names the `ui://` views only to a client that negotiated MCP Apps."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method != "resources/list" or client_supports_apps(ctx):
            return result
        listing: dict[str, Any] = (
            result.model_dump(mode="json", by_alias=True, exclude_none=True)
            if isinstance(result, BaseModel)
            else dict(result or {})
        )
        kept = [r for r in listing.get("resources", []) if not str(r.get("uri", "")).startswith("ui://")]
        return {**listing, "resources": kept}
