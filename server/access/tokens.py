"""Bearer tokens for the HTTP transport, kept in an auth file that holds only their hashes.

A token is `sdt_<id>_<secret>`: the id names it in `token list` and `token revoke`, the secret
is 32 random bytes. The file stores SHA-256 of the whole token (a secret this long needs no slow
hash), with its subject, scopes, bound customer and expiry, and is rewritten atomically with
mode 0600. Readers look at the file's stamp on every check, so a token revoked, or one that
expires, stops working at once, without a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeGuard

PREFIX = "sdt_"
SCOPES = (
    "customers:read",
    "customers:write",
    "orders:read",
    "orders:write",
    "catalog:read",
    "tickets:read",
    "tickets:write",
    "admin",
)
# Whole days only, at most ten years: a fraction of a day made tokens born expired, a huge number an expiry
# no date can show.
MAX_EXPIRY_DAYS = 3650


class TokenError(ValueError):
    """The auth file or a token command cannot be used as asked."""


@dataclass(frozen=True)
class TokenRecord:
    id: str
    hash: str
    subject: str
    scopes: list[str]
    customer: str | None
    created_at: int
    expires_at: int | None = None
    revoked_at: int | None = None

    def active(self, now: float) -> bool:
        return self.state(now) == "active"

    def state(self, now: float) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is None:
            return "active"
        if not _is_epoch(self.expires_at):
            return "invalid"  # an expiry edited into the file by hand, or written by an older shopdesk: never valid
        return "expired" if now >= self.expires_at else "active"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def key_holder(token: str, claims: Mapping[str, Any] | None = None) -> str:
    """The token's identity for the idempotency keys and confirmation tokens made with it: stable for the
    token's life, its own even when other tokens share its subject, and no use as a token. A verifier may
    name a steadier one in the claims it returns: an OAuth token's is its issuer, subject, client and customer
    (oauth/jwt_tokens.holder), so the token a client gets on refresh keeps its keys."""
    holder = (claims or {}).get("holder")
    return holder if isinstance(holder, str) else "token:" + digest(token)[:32]


def parse_scopes(text: str) -> list[str]:
    scopes = sorted({part.strip() for part in text.split(",") if part.strip()})
    unknown = [s for s in scopes if s not in SCOPES]
    if not scopes or unknown:
        raise TokenError(f"scopes must be a comma-separated list of {', '.join(SCOPES)}; not {', '.join(unknown)}")
    return scopes


def parse_expiry_days(text: str) -> int:
    """`--expires`: whole days, 1 to MAX_EXPIRY_DAYS, in plain ASCII digits (no 1e3, 1.5, inf or 1_000)."""
    days = text.strip()
    if not (days.isascii() and days.isdigit()) or not 1 <= int(days) <= MAX_EXPIRY_DAYS:
        raise TokenError(f"expected whole days from 1 to {MAX_EXPIRY_DAYS}, not {text[:20]!r}")
    return int(days)


_LAST_EPOCH = 253402300799  # 9999-12-31T23:59:59Z, the last second a date can show


def _is_epoch(value: object) -> TypeGuard[int]:
    return type(value) is int and 0 <= value <= _LAST_EPOCH


def _iso(epoch: object) -> str:
    if epoch is None:
        return "never"
    if not _is_epoch(epoch):
        return f"invalid ({str(epoch)[:24]})"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AuthFile:
    """The tokens of one auth file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._by_hash: dict[str, TokenRecord] = {}

    # -- reading -----------------------------------------------------------------------------

    def records(self) -> list[TokenRecord]:
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [TokenRecord(**entry) for entry in data["tokens"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError(f"{self.path} is not a shopdesk auth file ({exc})") from exc

    def find(self, token: str) -> TokenRecord | None:
        """The active record for `token`, re-reading the file whenever it has changed."""
        if not token.startswith(PREFIX):
            return None
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._by_hash = None, {}
            return None
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        if stamp != self._stamp:
            self._by_hash = {record.hash: record for record in self.records()}
            self._stamp = stamp
        record = self._by_hash.get(digest(token))
        return record if record is not None and record.active(time.time()) else None

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[TokenRecord]]:
        """The records, to change in place and write back, with other writers kept out meanwhile."""
        if not self.path.parent.is_dir():
            raise TokenError(f"the folder {self.path.parent} does not exist")
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            records = self.records()
            yield records
            text = json.dumps({"version": 1, "tokens": [asdict(r) for r in records]}, indent=2) + "\n"
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)

    def create(
        self, subject: str, scopes: Sequence[str], customer: str | None = None, expires_days: int | None = None
    ) -> tuple[TokenRecord, str]:
        """A new token: its record, and the token itself, which is shown once and stored nowhere."""
        if not subject.strip():
            raise TokenError("a token needs a subject: who or what will use it")
        if expires_days is not None and (type(expires_days) is not int or not 1 <= expires_days <= MAX_EXPIRY_DAYS):
            raise TokenError(f"--expires is whole days from 1 to {MAX_EXPIRY_DAYS}")
        token_id = secrets.token_hex(4)
        token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        now = int(time.time())
        record = TokenRecord(
            id=token_id,
            hash=digest(token),
            subject=subject.strip(),
            scopes=sorted(scopes),
            customer=customer,
            created_at=now,
            expires_at=None if expires_days is None else now + expires_days * 86400,
        )
        with self._locked() as records:
            records.append(record)
        return record, token

    def revoke(self, token_id: str) -> TokenRecord:
        with self._locked() as records:
            for index, record in enumerate(records):
                if record.id == token_id:
                    if record.revoked_at is None:
                        records[index] = replace(record, revoked_at=int(time.time()))
                    return records[index]
        raise TokenError(f"no token with id {token_id[:20]!r} in {self.path}; `shopdesk token list` shows them")


def describe(record: TokenRecord, now: float) -> str:
    customer = f" customer={record.customer}" if record.customer else ""
    return (
        f"{record.id}  {record.state(now):<8} {record.subject}  scopes={','.join(record.scopes)}{customer}  "
        f"created {_iso(record.created_at)}  expires {_iso(record.expires_at)}"
    )
