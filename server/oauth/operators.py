"""Operators: the people who may sign in on the consent page and grant an app access to the shop.

Each is an email and an argon2id password hash (argon2-cffi's defaults), kept in the shop's database.
Sign-in attempts are limited per email address: after `MAX_FAILURES` wrong passwords within `WINDOW`
seconds, that address is refused until the window has passed, whatever password it brings (a counter in
this process's memory: each replica counts its own). A check runs in a worker thread, at most
`PARALLEL_CHECKS` at once, so that a flood of sign-ins neither stalls the event loop nor takes 64 MiB per
attempt at once.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..storage.database import ShopDatabase
from ..storage.repositories import oauth as store
from ..storage.sqlite import utc_now

MAX_FAILURES = 5
WINDOW = 15 * 60
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte-long "password" is only work for the server
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
PARALLEL_CHECKS = 2
_hasher = PasswordHasher()
_checks = threading.BoundedSemaphore(PARALLEL_CHECKS)
T = TypeVar("T")


async def _off_the_loop(work: Callable[[], T]) -> T:
    """Run argon2's `work` in a worker thread, no more than PARALLEL_CHECKS at once."""

    def limited() -> T:
        with _checks:
            return work()

    return await anyio.to_thread.run_sync(limited)


class OperatorError(ValueError):
    """An operator command cannot do what was asked (one line, for the CLI)."""


def normal_email(text: str) -> str:
    email = text.strip().lower()
    if not _EMAIL.match(email):
        raise OperatorError(f"{text[:80]!r} is not an email address")
    return email


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise OperatorError(f"the password is too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise OperatorError(f"the password is too long: at most {MAX_PASSWORD} characters")


async def add(db: ShopDatabase, email: str, password: str) -> str:
    email = normal_email(email)
    check_password(password)
    hashed = _hasher.hash(password)
    async with db.transaction() as conn:
        if await store.operator_hash(conn, email) is not None:
            raise OperatorError(f"{email} is an operator already; remove it first to set a new password")
        await store.add_operator(conn, email, hashed, utc_now())
    return email


async def remove(db: ShopDatabase, email: str) -> tuple[str, int]:
    """Remove the operator and end the grants they gave (their apps lose access with them): (email, grants)."""
    email = normal_email(email)
    async with db.transaction() as conn:
        if not await store.remove_operator(conn, email):
            raise OperatorError(f"{email} is not an operator")
        revoked = await store.revoke_grants_of(conn, email)
    return email, revoked


async def verify(db: ShopDatabase, email: str, password: str) -> bool:
    """Whether `password` is this operator's (a rehash with newer parameters is saved on the way)."""
    hashed = await store.operator_hash(db.read, email)
    if hashed is None or len(password) > MAX_PASSWORD:
        # The same work as a real check, so a missing address does not answer faster than a wrong password.
        await _off_the_loop(lambda: _hasher.hash(password[:MAX_PASSWORD]))
        return False

    def check() -> bool:
        try:
            return _hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    if not await _off_the_loop(check):
        return False
    if _hasher.check_needs_rehash(hashed):
        rehashed = await _off_the_loop(lambda: _hasher.hash(password))
        async with db.transaction() as conn:
            await store.set_operator_hash(conn, email, rehashed)
    return True


class SignInLimit:
    """Wrong passwords per email address, in this process's memory."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, list[float]] = {}

    def blocked(self, email: str) -> bool:
        return len(self._recent(email)) >= MAX_FAILURES

    def failed(self, email: str) -> None:
        self._failures[email] = [*self._recent(email), self._clock()]
        if len(self._failures) > 10_000:  # a flood of made-up addresses must not grow this without end
            oldest = min(self._failures, key=lambda e: self._failures[e][-1])
            del self._failures[oldest]

    def succeeded(self, email: str) -> None:
        self._failures.pop(email, None)

    def _recent(self, email: str) -> list[float]:
        since = self._clock() - WINDOW
        return [t for t in self._failures.get(email, []) if t > since]
