"""Every knob the server has, with defaults that work with no configuration.

Values come from flags first, then environment variables, then these defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast, get_args

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_db_path() -> Path:
    """`data/shopdesk.sqlite3` in a source checkout, else a per-user data folder."""
    if (_PROJECT_ROOT / "pyproject.toml").exists():
        return _PROJECT_ROOT / "data" / "shopdesk.sqlite3"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "shopdesk" / "shopdesk.sqlite3"


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _log_level(text: str) -> LogLevel:
    level = text.upper()
    if level not in get_args(LogLevel):
        raise ValueError(f"SHOPDESK_LOG_LEVEL must be one of {', '.join(get_args(LogLevel))}, not {text!r}")
    return cast(LogLevel, level)


@dataclass(frozen=True)
class Settings:
    db_path: Path = field(default_factory=lambda: Path(os.environ.get("SHOPDESK_DB") or default_db_path()))
    # With no database file yet, create one and fill it with this many demo customers.
    seed_customers: int = 500
    seed_orders: int = 1000
    seed: int = 7
    host: str = field(default_factory=lambda: os.environ.get("SHOPDESK_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("SHOPDESK_PORT", "8000")))
    log_level: LogLevel = field(default_factory=lambda: _log_level(os.environ.get("SHOPDESK_LOG_LEVEL", "INFO")))
