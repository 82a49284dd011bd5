"""A JSONL trace of every tool call, with personal data masked.

Masking rule: values of arguments that hold personal data (email, phone, names, street
address lines, zip) keep only their first character; anywhere in any string, email
addresses and runs of 13 to 19 digits (card-number-like) are masked too. Ids (orders,
items, products, users, payment methods) are kept: they are what a trace is read for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TextIO

_PERSONAL_KEYS = re.compile(r"email|phone|name|address|zip|last_four|card_number", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_CARD = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


def _mask_text(text: str) -> str:
    text = _EMAIL.sub(lambda m: m.group(0)[0] + "***@***", text)
    return _CARD.sub(lambda m: "*" * (len(m.group(0)) - 4) + m.group(0)[-4:], text)


def mask(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, key) for v in value]
    if isinstance(value, str):
        if _PERSONAL_KEYS.search(key) and not key.endswith("_id"):
            return value[:1] + "***" if value else value
        return _mask_text(value)
    return value


class Tracer:
    """Appends one JSON object per line; a `None` path traces nowhere."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.write(json.dumps(record, default=str) + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
