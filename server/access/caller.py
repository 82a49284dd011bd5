"""Who is calling, and what each tool declares about who may call it.

The gate (gate.py) works out the `Caller` of each request once, from the bearer token the SDK verified or, with
none, as the local operator; everything else asks `current_caller()` / `calling()`. Each tool declares its
`ToolAccess` (scope and customer binding) beside its handler (tools/declare.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ..domain.errors import NotFound
from ..storage.repositories.ownership import RecordKind
from .tokens import SCOPES

Call = Callable[[dict[str, Any]], Awaitable[Any]]
# Runs a call on behalf of the server: may refuse (raise a ShopError), change the arguments, or check the result.
CallGuard = Callable[[str, dict[str, Any], Call], Awaitable[Any]]


@dataclass(frozen=True)
class Binding:
    """What a customer-bound session may pass to one tool."""

    ids: Mapping[str, RecordKind] = field(default_factory=dict)  # arguments naming records: must be the customer's
    fills: str | None = None  # an optional customer argument that defaults to the bound customer
    finds: Callable[[Mapping[str, Any]], NotFound] | None = None  # the result names a customer: must be this one
    hidden: bool = False  # not offered at all


@dataclass(frozen=True)
class ToolAccess:
    """What a tool declares about who may call it (tools/declare.py)."""

    scope: str | None  # the scope its effect implies; None: it touches no shop data
    binding: Binding | None = None  # what a customer-bound session may pass it; None: not offered to one


# A name with no declaration: closed, as a tool given no scope needs `admin`.
UNDECLARED = ToolAccess("admin")


@dataclass(frozen=True)
class Caller:
    """Who makes a request: worked out once per request by the gate, read by everything else (current_caller)."""

    subject: str  # for the audit trail: the token's subject, or "local" for the operator running shopdesk
    scopes: frozenset[str]
    customer: str | None = None  # the customer the session is bound to
    read_only: bool = False
    holder: str = "local"  # whose idempotency keys and confirmation tokens: the token's own (access/tokens.py)

    def missing_scope(self, access: ToolAccess) -> str | None:
        """The scope a tool declaring `access` needs that this caller lacks; None when it may call it."""
        needed = access.scope
        if needed is None or "admin" in self.scopes or needed in self.scopes:
            return None
        return needed

    def may_read(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes

    def offered(self, access: ToolAccess, *, read_only: bool) -> bool:
        """Whether a tool declaring `access` (a read-only one or not) is listed for and callable by this caller."""
        if self.missing_scope(access) is not None:
            return False
        if self.read_only and not read_only:
            return False
        if self.customer is not None:
            return access.binding is not None and not access.binding.hidden
        return True


_CALLER: ContextVar[Caller | None] = ContextVar("shopdesk_caller", default=None)


def current_caller() -> Caller | None:
    """Who made the request being handled (set by AccessGate); None outside a request."""
    return _CALLER.get()


# Outside any request (a test calling the write path directly): the operator running shopdesk.
LOCAL_OPERATOR = Caller("local", frozenset(SCOPES))


def calling() -> Caller:
    """Who made the request being handled; the local operator outside a request."""
    return _CALLER.get() or LOCAL_OPERATOR


@contextmanager
def in_the_name_of(caller: Caller) -> Iterator[None]:
    token = _CALLER.set(caller)
    try:
        yield
    finally:
        _CALLER.reset(token)
