"""build_server(settings): a fresh shopdesk MCP server, its tools registered, its database opened per lifespan."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.settings import AuthSettings
from pydantic import AnyHttpUrl

from . import __version__
from .access.gate import AccessGate
from .access.tokens import AuthFile
from .access.verifiers import FileTokenVerifier
from .domain.rules_text import INSTRUCTION_LINES
from .oauth.serving import add_consent_page, oauth_server
from .ops.endpoints import healthz_endpoint, metrics_endpoint
from .ops.observability import CallObserver
from .settings import Settings
from .shop import Shop
from .storage.sqlite import readable
from .surface import apps as apps_ui
from .surface import client_log, completions, prompts, resources
from .surface.client_log import ClientLog
from .surface.mcp_server import ShopServer
from .surface.prompts import PROMPT_TOOLS
from .tools import TOOLS, register_all
from .tools.toolsets import ALL_TOOLS, TOOL_VERSIONS, enabled_tools, views_shown
from .writes.path import refused_arguments


def instructions(enabled: Collection[str]) -> str:
    """The instructions for a server offering `enabled`: no line names a tool the client cannot see."""
    off = set(ALL_TOOLS) - set(enabled)
    lines = [line for line in INSTRUCTION_LINES if not off & set(re.findall(r"[a-z_]+", line))]
    return "\n".join(lines) + "\n"


def build_server(settings: Settings | None = None, *, shop: Shop | None = None) -> ShopServer:
    """A new server; pass `shop` to keep a handle on its database (tests do)."""
    shop = shop or Shop(settings or Settings())
    enabled = enabled_tools(shop.settings)
    auth = oauth_server(shop) if shop.settings.oauth_server else _bearer_auth(shop.settings)
    server = ShopServer(
        "shopdesk",
        lifespan=shop.lifespan,
        **auth,
        title="shopdesk",
        description="A shop's customer-service tools: customers, orders, returns, exchanges, support tickets.",
        instructions=instructions(enabled),
        version=__version__,
        log_level=shop.settings.log_level,
        tool_versions=TOOL_VERSIONS,
        # A confirmation token is used only with --confirm always; elsewhere it would be noise the model reads.
        hidden_arguments=() if shop.settings.confirm == "always" else ("confirmation_token",),
        # MCP Apps: the views of an order, a customer and a ticket (surface/apps.py).
        extensions=[apps_ui.extension(views_shown(enabled))],
    )
    add_consent_page(server, auth)
    register_all(server, shop, enabled)
    server.refused_write = functools.partial(refused_arguments, shop)
    resources.register(server, shop, enabled)
    prompts.register(server, enabled)
    completions.register(server, shop)
    client_log.register(server)
    metrics = server.metrics
    # Outermost first: every request's log records reach its client; every call is observed, the gate's
    # refusals included.
    server.middleware.append(resources.ShortResourceErrors())
    server.middleware.append(ClientLog())
    server.middleware.append(apps_ui.ViewsForAppsClients())
    server.middleware.append(CallObserver(metrics, known_tools=set(ALL_TOOLS)))
    gate = AccessGate(
        shop, {spec.name: spec.access for spec in TOOLS}, server.list_tools, PROMPT_TOOLS, server.list_prompts
    )
    server.middleware.append(gate)
    server.guard = gate.guard_call
    server.custom_route("/healthz", methods=["GET"])(healthz_endpoint(functools.partial(database_answers, shop)))
    server.custom_route("/metrics", methods=["GET"])(metrics_endpoint(metrics))
    # The SDK keeps no public count of open HTTP sessions; read its table (0 before HTTP starts, and on stdio).
    metrics.count_sessions_with(lambda: len(open_sessions(server)))
    server.session_book.alive = lambda session_id: session_id in open_sessions(server)
    return server


def open_sessions(server: ShopServer) -> Collection[str]:
    """The ids of the HTTP sessions open now. The SDK keeps no public table of them; this reads its own
    (read only: nothing here changes how it keeps sessions); none before HTTP starts, and on stdio."""
    table: Collection[str] = getattr(_session_manager(server), "_server_instances", ())
    return table


def _session_manager(server: ShopServer) -> object | None:
    try:
        return server.session_manager
    except RuntimeError:  # not serving HTTP
        return None


async def database_answers(shop: Shop) -> bool:
    """For /healthz: the database opens and answers a query (on a connection of its own, so the check
    works whether or not a session has the shop open)."""
    if shop.settings.db_url is not None:
        from .storage.postgres import readable as postgres_readable

        return await postgres_readable(shop.settings.db_url)
    return await asyncio.to_thread(readable, shop.settings.db_path)


def _bearer_auth(settings: Settings) -> dict[str, Any]:
    """With an auth file, the SDK's bearer gate guards HTTP: 401 without a valid token, pointing at the
    protected resource metadata (RFC 9728) it serves. Tokens come from `shopdesk token create`; the
    issuer named in that metadata is the server itself, as there is no separate authorization server.
    With --oauth-issuer the metadata names that provider instead, and its tokens are accepted beside the
    auth file's (oauth/resource_server.py)."""
    path = settings.auth_path()
    if settings.oauth_issuer is not None:
        from .oauth.resource_server import resource_server_auth

        return resource_server_auth(settings, before=[FileTokenVerifier(AuthFile(path))] if path else [])
    if path is None:
        return {}
    url = settings.mcp_url()
    parts = urlsplit(url)
    return {
        "token_verifier": FileTokenVerifier(AuthFile(path)),
        "auth": AuthSettings(
            issuer_url=AnyHttpUrl(f"{parts.scheme}://{parts.netloc}"),
            resource_server_url=AnyHttpUrl(url),
            # Our tokens are made for this server alone and carry no audience to check.
            validate_token_resource=False,
        ),
    }
