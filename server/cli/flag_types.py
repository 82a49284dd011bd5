"""What a command-line value must be: a port, a whole number, a rate, seconds, a list of names, a database.

Each is an argparse `type`: it turns the text into a value or raises ArgumentTypeError with a one-line reason.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..settings import SettingsError, is_database_url, parse_port


def port(text: str) -> int:
    try:
        return parse_port(text)
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def whole_number(text: str, *, least: int) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text[:20]!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"expected a number of {least} or more, not {value}")
    return value


def rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of requests a second, not {text[:20]!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected 0 (no limit) or more, not {text[:20]!r}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text[:20]!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text[:20]!r}")
    return value


def names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def database(text: str) -> Path | str:
    """--db: a SQLite file's path, or a PostgreSQL URL."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a database file or a postgresql:// URL, not an empty value")
    return text if is_database_url(text) else Path(text)


def customers(text: str) -> int:
    return whole_number(text, least=1)


def orders(text: str) -> int:
    return whole_number(text, least=0)
