"""The person confirms a destructive write through the server, not only through the model.

Each destructive tool takes two resolved parameters (the SDK's `Resolve`, never in its input schema):
`preview`, the words saying exactly what will change, computed from the records as they are (the
shop's rules are checked there too, so nobody is asked about a write that would be refused), and
`consent`, the person's answer. `--confirm` chooses how it is asked:

- auto (default): by MCP elicitation where the client supports it; otherwise the write goes ahead,
  for clients such as Claude Desktop that ask the person before every tool call;
- always: by elicitation, else a two-step token: the first call is answered with the preview and a
  short-lived token bound to the caller's bearer token (not its subject), the exact arguments and the
  preview; the same call repeated with `confirmation_token` writes;
- off: no question (automation, benchmarks).

The write path (`writes.perform`) then re-reads the records in its transaction and writes only if
the preview is still word for word what the person confirmed.

No `from __future__ import annotations` here: the resolvers' annotations name per-tool functions
and must be real objects when the SDK reads them.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, Elicit, Resolve
from pydantic import BaseModel, Field

from ..domain.errors import MESSAGE_BUDGET, NEXT_STEP_BUDGET, InvalidArguments, PolicyRefusal, ShopError
from ..storage.repositories import confirmations
from ..storage.repositories.rows import Connection

ConfirmMode = Literal["auto", "always", "off"]
TOKEN_LIFETIME = 600  # seconds
_PREFIX = "ct_"

ConfirmationToken = Annotated[
    str | None,
    Field(
        description="Only when an earlier call answered 'Confirmation needed' with a token: the customer has "
        "agreed, so pass that token with the same arguments.",
        max_length=600,
    ),
]


class Consent(BaseModel):
    """The form under the question, which itself ends "Go ahead?": one yes/no, yes already chosen."""

    confirm: bool = Field(
        default=True, title="Make this change", description="Yes to make it; no to leave everything as it is."
    )


@dataclass(frozen=True)
class Preview:
    """What a write will change, in words for the person; empty words: nothing to ask.

    `worked_out` is false where nobody would be asked (see `will_ask`): then the write's own transaction is
    the first to read the records, and the preview's reads are saved."""

    tool: str
    arguments: Mapping[str, Any]
    words: str
    worked_out: bool = True


def consented(consent: ElicitationResult[Consent]) -> bool:
    return isinstance(consent, AcceptedElicitation) and bool(consent.data.confirm)


class ConfirmationNeeded(ShopError):
    """The first of the two steps: the preview and the token that confirms it."""

    budget = MESSAGE_BUDGET * 6  # the preview must reach the person whole, and the token the model
    next_step_budget = NEXT_STEP_BUDGET * 3


class Declined(ShopError):
    """Nothing written: the client's answer to the question was not a yes (`reason` says what it was)."""

    def __init__(self, tool: str, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"Nothing was changed: {tool} was declined ({reason}).",
            "Ask the customer what they would like instead; do not retry unless they ask for it.",
        )


class UnreadableAnswer(Declined):
    """The client accepted the question with no answer, or one that is not the form's yes/no. The SDK refuses
    it while fulfilling the resolver's `Elicit`, before `ask` or the tool sees it, so mcp_server.ShopServer
    turns it into this."""

    def __init__(self, tool: str) -> None:
        super().__init__(tool, "the answer to the confirmation could not be read")


def can_elicit(ctx: Context[Any, Any]) -> bool:
    """Whether the client can show the person a form (the SDK's own rule: form support, or elicitation
    declared without modes)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def will_ask(mode: ConfirmMode, ctx: Context[Any, Any]) -> bool:
    """Whether a destructive call on this connection puts its preview to the person (asked through the
    client, or as a two-step token); the rule `asker` below and writes.preview_of both go by."""
    return mode == "always" or (mode == "auto" and can_elicit(ctx))


def fingerprint(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class TokenSigner:
    key: bytes

    def issue(self, holder: str, preview: Preview) -> str:
        payload = {
            "n": secrets.token_hex(8),
            "holder": holder,
            "tool": preview.tool,
            "args": fingerprint(preview.arguments),
            "words": fingerprint(preview.words),
            "exp": int(time.time()) + TOKEN_LIFETIME,
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return _PREFIX + body + "." + _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest())

    def check(self, token: str, holder: str, preview: Preview) -> None:
        """Refuses, saying why, a token that does not confirm exactly this preview for this caller."""
        body, _, signature = token.removeprefix(_PREFIX).partition(".")
        try:
            expected = hmac.new(self.key, body.encode(), hashlib.sha256).digest()
            valid = token.startswith(_PREFIX) and hmac.compare_digest(_unb64(signature), expected)
            payload = json.loads(_unb64(body)) if valid else {}
        except (ValueError, UnicodeDecodeError):
            valid, payload = False, {}
        again = "Call the tool again without confirmation_token to get a new preview and token."
        if not valid or not isinstance(payload, dict):
            raise InvalidArguments("`confirmation_token` is not a token this shop issued.", again)
        if payload.get("exp", 0) < time.time():
            raise PolicyRefusal("The confirmation token has expired (they last 10 minutes).", again)
        if payload.get("holder") != holder:
            raise PolicyRefusal("The confirmation token was issued to someone else.", again)
        if payload.get("tool") != preview.tool or payload.get("args") != fingerprint(preview.arguments):
            raise PolicyRefusal("The confirmation token was issued for a different call (other arguments).", again)
        if payload.get("words") != fingerprint(preview.words):
            raise PolicyRefusal(
                "The record changed since the customer confirmed, so what would change is no longer what they "
                "agreed to.",
                again,
            )


async def signing_key(conn: Connection) -> bytes:
    """The database's own key for confirmation tokens (made once), so every replica checks them alike."""
    found = await confirmations.signing_key_hex(conn)
    if found is not None:
        return bytes.fromhex(found)
    await confirmations.offer_signing_key(conn, secrets.token_bytes(32).hex())
    return await signing_key(conn)


async def spend(conn: Connection, token: str, at: str) -> None:
    """Mark a confirmation token used, in the write's own transaction; a second use is refused."""
    if not await confirmations.mark_spent(conn, fingerprint(token), at):
        raise PolicyRefusal(
            "This confirmation token was already used.",
            "Call the tool again without confirmation_token to get a new preview and token.",
        )


Asker = Callable[..., Awaitable[Consent | Elicit[Consent]]]


def asker(
    mode: Callable[[], ConfirmMode],
    preview_fn: Callable[..., Awaitable[Preview]],
    issue: Callable[[Preview], Awaitable[str]],
    check: Callable[[str, Preview], Awaitable[None]],
) -> Asker:
    """The `consent` resolver of one tool, whose `preview` resolver is `preview_fn`."""

    async def ask(
        preview: Annotated[Preview, Resolve(preview_fn)],
        ctx: Context,
        confirmation_token: str | None = None,
    ) -> Consent | Elicit[Consent]:
        if not preview.words or not will_ask(mode(), ctx):
            # --confirm off; or auto with a client that cannot elicit, which asks the person before each call itself
            return Consent(confirm=True)
        if can_elicit(ctx):
            return Elicit(f"{preview.words}\n\nGo ahead?", Consent)
        if confirmation_token is None:  # always, with a client that cannot elicit: the two-step token
            token = await issue(preview)
            raise ConfirmationNeeded(
                f"Confirmation needed. {preview.words}",
                f"Read this to the customer. If they agree, call {preview.tool} again with the same arguments "
                f"and confirmation_token='{token}' (valid for 10 minutes); if not, do nothing.",
            )
        await check(confirmation_token, preview)
        return Consent(confirm=True)

    return ask
