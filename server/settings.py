"""Every knob the server has, with defaults that work with no configuration.

Values come from flags first, then environment variables, then these defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast, get_args

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The environment variables shopdesk reads, for --help and the README.
ENVIRONMENT = {
    "SHOPDESK_DB": "the database file (as --db)",
    "SHOPDESK_HOST": "the HTTP address to bind (as --host; default 127.0.0.1)",
    "SHOPDESK_PORT": "the HTTP port (as --port; default 8000)",
    "SHOPDESK_LOG_LEVEL": "DEBUG, INFO (default), WARNING, ERROR or CRITICAL; logs go to stderr",
}


class SettingsError(ValueError):
    """A setting has a value shopdesk cannot use."""


def default_db_path() -> Path:
    """`data/shopdesk.sqlite3` in a source checkout, else a per-user data folder."""
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / "data" / "shopdesk.sqlite3"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "shopdesk" / "shopdesk.sqlite3"


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


@dataclass(frozen=True)
class Settings:
    db_path: Path = field(default_factory=lambda: Path(os.environ.get("SHOPDESK_DB") or default_db_path()))
    # With no database file yet, create one and fill it with this many demo customers.
    seed_customers: int = 500
    seed_orders: int = 1000
    seed: int = 7
    host: str = field(default_factory=lambda: os.environ.get("SHOPDESK_HOST") or "127.0.0.1")
    port: int = field(default_factory=lambda: parse_port(os.environ.get("SHOPDESK_PORT") or "8000"))
    log_level: LogLevel = field(default_factory=lambda: _log_level(os.environ.get("SHOPDESK_LOG_LEVEL") or "INFO"))
