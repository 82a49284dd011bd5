"""Every knob the server has, with defaults that work with no configuration.

Values come from flags first, then environment variables, then these defaults.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast, get_args
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The environment variables shopdesk reads, for --help and the README.
ENVIRONMENT = {
    "SHOPDESK_DB": "the database file, or a postgresql:// URL (as --db)",
    "SHOPDESK_HOST": "the HTTP address to bind (as --host; default 127.0.0.1)",
    "SHOPDESK_PORT": "the HTTP port (as --port; default 8000)",
    "SHOPDESK_LOG_LEVEL": "DEBUG, INFO (default), WARNING, ERROR or CRITICAL; logs go to stderr",
    "SHOPDESK_LOG_FORMAT": "text (default) or json: one JSON object per line",
    "SHOPDESK_AUTH_FILE": "the bearer-token file for HTTP (as --auth-file; default beside the database)",
    "SHOPDESK_OAUTH_SERVER": "1: be an OAuth authorization server with a consent page (as --oauth-server)",
    "SHOPDESK_READ_ONLY": "1 to serve read tools only, on a read-only database connection (as --read-only)",
    "SHOPDESK_CUSTOMER": "a user id: serve only that customer's records (as --customer)",
    "SHOPDESK_PUBLIC_URL": "the URL clients use to reach /mcp, if not http://HOST:PORT/mcp (as --public-url)",
    "SHOPDESK_ALLOWED_HOSTS": "more Host headers to accept, comma-separated host:port (as --allowed-hosts)",
    "SHOPDESK_ALLOWED_ORIGINS": "more browser Origins to accept, comma-separated (as --allowed-origins)",
    "SHOPDESK_CONFIRM": "auto (default), always or off: how a person confirms destructive writes (as --confirm)",
    "SHOPDESK_SYNCHRONOUS": "FULL (default: acknowledged writes survive a power cut) or NORMAL (faster)",
    "SHOPDESK_TOOLSETS": "toolsets to offer, comma-separated (as --toolsets; `shopdesk tools` lists them)",
    "SHOPDESK_TOOLS": "single tools to offer as well, comma-separated tool names (as --tools)",
    "SHOPDESK_SESSION_IDLE_TIMEOUT": "seconds before an idle HTTP session is closed (default 600)",
    "SHOPDESK_MAX_SESSIONS": "the most HTTP sessions open at once (default 500)",
    "SHOPDESK_STATELESS": "1 for stateless HTTP: no sessions kept, so replicas behind a load balancer share clients",
    "SHOPDESK_MAX_SESSIONS_PER_TOKEN": "the most HTTP sessions one token may hold open at once (default 50)",
    "SHOPDESK_RATE_LIMIT": "HTTP requests per second one token may make, on average; 0: no limit (default 10)",
    "SHOPDESK_RATE_BURST": "HTTP requests one token may make at once before the rate applies (default 50)",
    "SHOPDESK_READ_TIMEOUT": "seconds a client has to send a whole HTTP request before it is disconnected (default 30)",
    "SHOPDESK_METRICS_TOKEN": "a bearer token /metrics requires (default: none)",
    "SHOPDESK_METRICS_PORT": "serve /metrics on this port of its own instead of the main one (as --metrics-port)",
    "SHOPDESK_METRICS_HOST": "the address the metrics port binds (default 127.0.0.1)",
    "SHOPDESK_OAUTH_ISSUER": "accept access tokens this identity provider issues (as --oauth-issuer)",
    "SHOPDESK_OAUTH_AUDIENCE": "the audience those tokens must name (default: the public MCP URL)",
    "SHOPDESK_OAUTH_SCOPE_MAP": "provider=shopdesk scope names, comma-separated (as --oauth-scope-map)",
    "SHOPDESK_OAUTH_CUSTOMER_CLAIM": "the token claim naming the customer a session is bound to",
    "SHOPDESK_OAUTH_INTROSPECTION_URL": "check opaque tokens at this RFC 7662 endpoint",
    "SHOPDESK_OAUTH_CLIENT_ID": "shopdesk's own client id at the provider, for introspection",
    "SHOPDESK_OAUTH_CLIENT_SECRET": "shopdesk's own client secret at the provider, for introspection",
}


class SettingsError(ValueError):
    """A setting has a value shopdesk cannot use."""


def default_db_path() -> Path:
    """`data/shopdesk.sqlite3` in a source checkout, else the user's data folder.

    A checkout has pyproject.toml and data/ beside server/. An installed copy (a wheel, uvx, pipx, a Claude
    Desktop bundle) keeps its database in the platform's per-user data folder: ~/.local/share/shopdesk (or
    $XDG_DATA_HOME/shopdesk) on Linux, ~/Library/Application Support/shopdesk on macOS, %LOCALAPPDATA%\\shopdesk
    on Windows; never inside the installed package, which may be read-only or replaced on upgrade.
    """
    if (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "data").is_dir():
        return PROJECT_ROOT / "data" / "shopdesk.sqlite3"
    from platformdirs import user_data_dir

    return Path(user_data_dir("shopdesk", appauthor=False)) / "shopdesk.sqlite3"


def is_database_url(text: str) -> bool:
    """Whether `--db` names a PostgreSQL database rather than a SQLite file."""
    return text.startswith(("postgresql://", "postgres://"))


def redacted_url(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _env_db_path() -> Path:
    text = os.environ.get("SHOPDESK_DB") or ""
    return Path(text) if text and not is_database_url(text) else default_db_path()


def _env_db_url() -> str | None:
    text = os.environ.get("SHOPDESK_DB") or ""
    return text if is_database_url(text) else None


def _path(text: str | None) -> Path | None:
    return Path(text) if text else None


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _log_level(text: str) -> LogLevel:
    level = text.strip().upper()
    if level not in get_args(LogLevel):
        raise SettingsError(f"SHOPDESK_LOG_LEVEL must be one of {', '.join(get_args(LogLevel))}, not {text[:20]!r}")
    return cast(LogLevel, level)


def parse_port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise SettingsError(f"a port is a number from 1 to 65535, not {text[:20]!r}") from None
    if not 1 <= port <= 65535:
        raise SettingsError(f"a port is a number from 1 to 65535, not {port}")
    return port


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 or 0 (true or false), not {value[:20]!r}")


def _list(name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in os.environ.get(name, "").split(",") if part.strip())


def _number(name: str, default: str, kind: type[int] | type[float], *, least: float) -> float:
    text = os.environ.get(name) or default
    try:
        value = kind(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {text[:20]!r}") from None
    if not math.isfinite(value) or value < least:
        raise SettingsError(f"{name} must be a number of at least {least:g}, not {text[:20]!r}")
    return value


def _confirm(text: str) -> Literal["auto", "always", "off"]:
    value = text.strip().lower()
    if value not in ("auto", "always", "off"):
        raise SettingsError(f"SHOPDESK_CONFIRM must be auto, always or off, not {text[:20]!r}")
    return cast(Literal["auto", "always", "off"], value)


def _synchronous(text: str) -> Literal["FULL", "NORMAL"]:
    value = text.strip().upper()
    if value not in ("FULL", "NORMAL"):
        raise SettingsError(f"SHOPDESK_SYNCHRONOUS must be FULL or NORMAL, not {text[:20]!r}")
    return cast(Literal["FULL", "NORMAL"], value)


def _log_format(text: str) -> Literal["text", "json"]:
    if text not in ("text", "json"):
        raise SettingsError(f"SHOPDESK_LOG_FORMAT must be text or json, not {text[:20]!r}")
    return cast(Literal["text", "json"], text)


def default_auth_file(db_path: Path) -> Path:
    """Beside the database: data/shopdesk.sqlite3 -> data/shopdesk.auth.json."""
    return db_path.with_name(db_path.stem + ".auth.json")


@dataclass(frozen=True)
class Settings:
    db_path: Path = field(default_factory=_env_db_path)
    # A PostgreSQL shop (postgres.py); when set, it is used instead of the file at db_path.
    db_url: str | None = field(default_factory=_env_db_url)
    # With no database file yet, create one and fill it with this many demo customers.
    seed_customers: int = 500
    seed_orders: int = 1000
    seed: int = 7
    host: str = field(default_factory=lambda: os.environ.get("SHOPDESK_HOST") or "127.0.0.1")
    port: int = field(default_factory=lambda: parse_port(os.environ.get("SHOPDESK_PORT") or "8000"))
    log_level: LogLevel = field(default_factory=lambda: _log_level(os.environ.get("SHOPDESK_LOG_LEVEL") or "INFO"))
    confirm: Literal["auto", "always", "off"] = field(
        default_factory=lambda: _confirm(os.environ.get("SHOPDESK_CONFIRM") or "auto")
    )
    synchronous: Literal["FULL", "NORMAL"] = field(
        default_factory=lambda: _synchronous(os.environ.get("SHOPDESK_SYNCHRONOUS") or "FULL")
    )
    log_format: Literal["text", "json"] = field(
        default_factory=lambda: _log_format(os.environ.get("SHOPDESK_LOG_FORMAT") or "text")
    )
    # Who may do what (see access/gate.py). No auth file given: the one beside the database, if it exists.
    auth_file: Path | None = field(default_factory=lambda: _path(os.environ.get("SHOPDESK_AUTH_FILE")))
    # shopdesk as its own OAuth authorization server (oauth/): a consent page, operators, tokens in the database.
    oauth_server: bool = field(default_factory=lambda: _flag("SHOPDESK_OAUTH_SERVER"))
    read_only: bool = field(default_factory=lambda: _flag("SHOPDESK_READ_ONLY"))
    customer: str | None = field(default_factory=lambda: os.environ.get("SHOPDESK_CUSTOMER") or None)
    # HTTP: the URL clients reach, the Host and Origin headers accepted, and the sessions kept.
    public_url: str | None = field(default_factory=lambda: os.environ.get("SHOPDESK_PUBLIC_URL") or None)
    allowed_hosts: tuple[str, ...] = field(default_factory=lambda: _list("SHOPDESK_ALLOWED_HOSTS"))
    allowed_origins: tuple[str, ...] = field(default_factory=lambda: _list("SHOPDESK_ALLOWED_ORIGINS"))
    session_idle_timeout: float = field(
        default_factory=lambda: _number("SHOPDESK_SESSION_IDLE_TIMEOUT", "600", float, least=1)
    )
    max_sessions: int = field(default_factory=lambda: int(_number("SHOPDESK_MAX_SESSIONS", "500", int, least=1)))
    # No token may starve the others (transport/http_limits.py); the local operator (no tokens) is not limited.
    max_sessions_per_token: int = field(
        default_factory=lambda: int(_number("SHOPDESK_MAX_SESSIONS_PER_TOKEN", "50", int, least=1))
    )
    rate_limit: float = field(default_factory=lambda: _number("SHOPDESK_RATE_LIMIT", "10", float, least=0))
    rate_burst: int = field(default_factory=lambda: int(_number("SHOPDESK_RATE_BURST", "50", int, least=1)))
    # Slow sockets (slow_clients.py): a request's head and body must arrive within this; an idle keep-alive
    # connection is closed after keep_alive_timeout.
    read_timeout: float = field(default_factory=lambda: _number("SHOPDESK_READ_TIMEOUT", "30", float, least=0.01))
    keep_alive_timeout: int = 5
    # /metrics: behind a bearer token, and/or on a port of its own (bound to metrics_host).
    metrics_token: str | None = field(default_factory=lambda: os.environ.get("SHOPDESK_METRICS_TOKEN") or None)
    metrics_port: int | None = field(
        default_factory=lambda: (
            parse_port(os.environ["SHOPDESK_METRICS_PORT"]) if os.environ.get("SHOPDESK_METRICS_PORT") else None
        )
    )
    metrics_host: str = field(default_factory=lambda: os.environ.get("SHOPDESK_METRICS_HOST") or "127.0.0.1")
    max_request_bytes: int = 256 * 1024  # an HTTP request's body, a stdio message's line
    # Stateless HTTP: every request stands alone (no session ids, no resumable streams), so any replica can
    # answer any request; what must be shared lives in the database.
    stateless: bool = field(default_factory=lambda: _flag("SHOPDESK_STATELESS"))
    # Which tools are offered (see tools/toolsets.py): None and no tools means all of them.
    toolsets: tuple[str, ...] | None = field(default_factory=lambda: _list("SHOPDESK_TOOLSETS") or None)
    tools: tuple[str, ...] = field(default_factory=lambda: _list("SHOPDESK_TOOLS"))
    # An identity provider whose access tokens are accepted (oauth/): beside the auth file's, not instead.
    oauth_issuer: str | None = field(default_factory=lambda: os.environ.get("SHOPDESK_OAUTH_ISSUER") or None)
    oauth_audience: str | None = field(default_factory=lambda: os.environ.get("SHOPDESK_OAUTH_AUDIENCE") or None)
    oauth_scope_map: str = field(default_factory=lambda: os.environ.get("SHOPDESK_OAUTH_SCOPE_MAP") or "")
    oauth_customer_claim: str | None = field(
        default_factory=lambda: os.environ.get("SHOPDESK_OAUTH_CUSTOMER_CLAIM") or None
    )
    oauth_introspection_url: str | None = field(
        default_factory=lambda: os.environ.get("SHOPDESK_OAUTH_INTROSPECTION_URL") or None
    )
    oauth_client_id: str | None = field(default_factory=lambda: os.environ.get("SHOPDESK_OAUTH_CLIENT_ID") or None)
    oauth_client_secret: str | None = field(
        default_factory=lambda: os.environ.get("SHOPDESK_OAUTH_CLIENT_SECRET") or None, repr=False
    )

    def auth_path(self) -> Path | None:
        """The auth file in force: the one given, else the one beside the database if it exists."""
        if self.auth_file is not None or self.db_url is not None:
            return self.auth_file  # a PostgreSQL shop has no folder to keep one beside
        beside = default_auth_file(self.db_path)
        return beside if beside.exists() else None

    @property
    def db_location(self) -> str:
        """Where the shop lives, for messages: the file, or the URL without its password."""
        return str(self.db_path) if self.db_url is None else redacted_url(self.db_url)

    def mcp_url(self) -> str:
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/mcp"
