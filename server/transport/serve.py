"""Running the server on a transport: stdio (what Claude Desktop launches) or Streamable HTTP."""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import logging
import socket
from collections.abc import Callable, Collection
from typing import Literal
from urllib.parse import urlsplit

import anyio
import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp

from ..app import build_server, open_sessions
from ..oauth.endpoints import guard_routes
from ..settings import Settings, SettingsError
from ..shop import open_or_create
from ..storage.repositories import ownership
from ..surface.mcp_server import ShopServer
from .event_store import keep_events_per_session, resumable_streams
from .http_edges import EdgeGuard, NoStandingStreams
from .http_limits import TokenLimits
from .memory import give_back_memory_as_sessions_end
from .slow_clients import protocol_with_deadline
from .stdio_pipes import run_stdio

log = logging.getLogger("shopdesk")
RETRY_MS = 1000  # how soon a client should reconnect a dropped SSE stream (the `retry` field)


async def _prepare(settings: Settings) -> None:
    """Open (creating and seeding on first start) and close the database, so a missing or corrupt
    file, or a --customer who does not exist, is reported before any client connects."""
    db = await open_or_create(settings)
    try:
        if settings.customer is not None and await ownership.owner(db.read, "customer", settings.customer) is None:
            raise SettingsError(f"--customer {settings.customer[:80]!r} is not a customer in {settings.db_location}")
    finally:
        await db.close()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, *, no_auth: bool) -> None:
    """Refuse to put every customer's data on a network without tokens, unless told so plainly."""
    auth = settings.auth_path()
    if auth is not None and not auth.exists():
        raise SettingsError(
            f"no auth file at {auth}; create a token first (`shopdesk token create --auth-file {auth} ...`)"
        )
    if (auth is not None or settings.oauth_issuer or settings.oauth_server) and settings.customer is not None:
        raise SettingsError(
            "--customer binds sessions without tokens; with an auth file, bind each token instead "
            "(`shopdesk token create --customer USER_ID`); with --oauth-issuer, use --oauth-customer-claim"
        )
    if settings.oauth_issuer and settings.oauth_server:
        raise SettingsError(
            "--oauth-issuer and --oauth-server each name who signs people in; choose one (the auth file works "
            "beside either)"
        )
    public = urlsplit(settings.mcp_url())
    if settings.oauth_server and public.scheme != "https" and not is_loopback(public.hostname or ""):
        raise SettingsError(
            "--oauth-server signs people in and hands out tokens: off this machine it needs an https "
            "--public-url (run it behind a TLS proxy)"
        )
    if settings.oauth_server and settings.read_only:
        raise SettingsError(
            "--oauth-server keeps clients, grants and tokens in the database, which --read-only cannot write; "
            "give the agents read scopes instead"
        )
    if auth is None and not (settings.oauth_issuer or settings.oauth_server) and not is_loopback(settings.host):
        if not no_auth:
            raise SettingsError(
                f"--host {settings.host} would let anyone who reaches it read and change every customer's data; "
                "create a token first (`shopdesk token create --subject NAME --scopes ...`), "
                "or pass --no-auth-i-know to serve without one"
            )
        log.warning(
            "serving on %s with NO authentication (--no-auth-i-know): anyone who reaches it has full access",
            settings.host,
        )


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Host and Origin checks for every bind (DNS-rebinding protection), matching host:port exactly."""
    public = urlsplit(settings.mcp_url())
    return _security(
        settings.host,
        settings.port,
        {public.netloc, *settings.allowed_hosts},
        {f"{public.scheme}://{public.netloc}", *settings.allowed_origins},
    )


def metrics_security(settings: Settings) -> TransportSecuritySettings:
    """The Host check of the metrics port (--metrics-port): its own address and --allowed-hosts."""
    assert settings.metrics_port is not None
    return _security(settings.metrics_host, settings.metrics_port, set(settings.allowed_hosts), set())


def _security(host: str, port: int, more_hosts: set[str], more_origins: set[str]) -> TransportSecuritySettings:
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}  # this machine may always reach it
    if not is_loopback(host):
        hosts.add(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    hosts |= more_hosts
    origins = {f"http://{name}" for name in hosts} | more_origins
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=sorted(hosts), allowed_origins=sorted(origins)
    )


def http_app(server: ShopServer, settings: Settings) -> ASGIApp:
    """The HTTP app: the SDK's Starlette app, its /mcp route inside the per-token limits (and, stateless, with no
    standing GET streams), and the whole of it behind the edge checks."""
    app: Starlette = server.streamable_http_app(
        host=settings.host,
        transport_security=transport_security(settings),
        session_idle_timeout=settings.session_idle_timeout,
        max_sessions=settings.max_sessions,
        max_request_body_size=settings.max_request_bytes,
        # Stateless: each request stands alone, so replicas behind a load balancer can take any of them.
        stateless_http=settings.stateless,
        # Resumable SSE: a client that loses a stream reconnects with Last-Event-ID and gets what it missed
        # (kept in this process's memory, so not when stateless: the next request may reach another replica).
        event_store=None if settings.stateless else resumable_streams(),
        retry_interval=None if settings.stateless else RETRY_MS,
    )
    if not settings.stateless:
        keep_events_per_session(server.session_manager)  # never one store shared by every session
    if settings.oauth_issuer is not None:
        from ..oauth.resource_server import list_scopes_in_metadata

        assert server.settings.auth is not None
        list_scopes_in_metadata(app, server.settings.auth, settings.oauth_scope_map)
    if settings.oauth_server:
        guard_routes(app.routes, settings.mcp_url())  # RFC 8707 at /token too; public clients' /revoke
    for route in app.routes:
        if isinstance(route, Route) and route.path == "/mcp":
            # Inside the route, so after the SDK's bearer authentication: the limits know the token.
            inner = NoStandingStreams(route.app) if settings.stateless else route.app
            route.app = TokenLimits(
                inner,
                book=server.session_book,
                max_sessions=settings.max_sessions_per_token,
                rate=settings.rate_limit,
                burst=settings.rate_burst,
                on_limited=server.metrics.rate_limited,
            )
    return EdgeGuard(
        app,
        security=transport_security(settings),
        metrics_token=settings.metrics_token,
        metrics_port=settings.metrics_port,
        metrics_security=metrics_security(settings) if settings.metrics_port is not None else None,
    )


def listening_socket(host: str, port: int) -> socket.socket:
    """The HTTP server's socket, bound here rather than by uvicorn so that a port in use is an error the CLI
    reports in one line.

    With TCP_NODELAY, which the connections it accepts inherit: asyncio sets it only on sockets it creates
    itself, and without it every answer sent as a small SSE write waited for the client's delayed ACK,
    about 40 ms a call (bench/mcp_bench.py, HTTP, get_order_details: 13.6-15x the floor without, 1.3x with).
    """
    try:
        sock = socket.create_server((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SettingsError(f"port {port} on {host} is already in use; choose another --port") from exc
        raise SettingsError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def serve(settings: Settings, *, transport: Literal["stdio", "http"], no_auth: bool = False) -> None:
    if transport == "http":
        check_exposure(settings, no_auth=no_auth)
        if settings.oauth_issuer is not None:
            from ..oauth.resource_server import resource_server_auth

            resource_server_auth(settings)  # a bad OAuth setting stops here, before the database is touched
        if settings.host in ("0.0.0.0", "::") and not (settings.public_url or settings.allowed_hosts):
            log.warning(
                "bound to every address: requests from other machines must name this server in their Host "
                "header as --public-url or --allowed-hosts says; none is set, so only this machine can connect"
            )
    asyncio.run(_prepare(settings))
    server = build_server(settings)
    if transport == "http" and settings.oauth_issuer is not None:
        from ..oauth.resource_server import check_issuer

        log.info("%s", asyncio.run(check_issuer(settings.oauth_issuer, need_keys=not settings.oauth_introspection_url)))
    if transport == "stdio":
        log.info("serving %s over stdio", settings.db_location)
        anyio.run(functools.partial(run_stdio, server, max_line=settings.max_request_bytes))
        return
    if settings.metrics_port == settings.port:
        raise SettingsError("--metrics-port must differ from --port, or be left out to serve /metrics on --port")
    sockets = [listening_socket(settings.host, settings.port)]
    if settings.metrics_port is not None:
        sockets.append(listening_socket(settings.metrics_host, settings.metrics_port))
    app = http_app(server, settings)
    auth = settings.auth_path()
    signs_in = [f"bearer tokens from {auth}"] if auth else []
    if settings.oauth_issuer:
        signs_in.append(f"OAuth tokens of {settings.oauth_issuer}")
    if settings.oauth_server:
        signs_in.append("its own OAuth authorization server")
    log.info(
        "serving %s on %s (%s%s)",
        settings.db_location,
        settings.mcp_url(),
        ", ".join(signs_in) or "no authentication",
        ", stateless" if settings.stateless else "",
    )
    config = uvicorn.Config(
        app,
        log_level="warning",
        log_config=None,
        http=protocol_with_deadline(settings.read_timeout),
        timeout_keep_alive=settings.keep_alive_timeout,
    )
    anyio.run(_serve_http, uvicorn.Server(config), sockets, functools.partial(open_sessions, server))


async def _serve_http(http: uvicorn.Server, sockets: list[socket.socket], count: Callable[[], Collection[str]]) -> None:
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(give_back_memory_as_sessions_end, lambda: len(count()))
        await http.serve(sockets=sockets)
        tasks.cancel_scope.cancel()
