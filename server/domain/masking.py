"""What the audit log keeps of a write's values: every field masked by its kind, here and nowhere else.

The kind of a field is told by its name, wherever it sits (an argument, or a key of the details, at any depth):

- record ids (order, ticket, payment method, item): kept when they have the shape of such an id, so the trail
  can be followed; any other value is masked as free text. The row's `target` and `customer` are ids too,
  of records that exist (see writes/path.py).
- fixed choices (statuses, priorities, authors, cancel reasons, the names of address fields): kept when they
  are one of the choices, else masked as free text.
- personal values (names, email, phone, every address field, user_id: a user id is made of a name): the first
  character and '***'.
- anything else (subjects, messages, summaries, escalation reasons, a name not listed here): free text, kept
  as its length only.

Names are masked too where the caller chose them: a key of a nested mapping that is not a name listed here
(say a dict passed where a string is expected), and a field a refusal's reason quotes in backticks that is
neither listed here nor one of the row's arguments (an argument the tool does not declare), are free text.

Numbers and yes/no are kept. A card-like run of digits (13 to 19, spaces or dashes between) is masked in
whatever text is kept, and a refusal's reason has the masked arguments' values taken out of it. Masking
is idempotent, so rows written before it are masked again as they are read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args

from .errors import excerpt
from .statuses import CancelReason, MessageAuthor, TicketPriority, TicketStatus

_IDS: dict[str, re.Pattern[str]] = {
    "order_id": re.compile(r"#W[0-9]{1,12}"),
    "ticket_id": re.compile(r"TCK-[0-9]{1,12}"),
    **dict.fromkeys(
        ("payment_method_id", "old_payment_method_id"),
        re.compile(r"[a-z_]{1,27}_[0-9]{1,12}"),
    ),
    **dict.fromkeys(("item_ids", "new_item_ids"), re.compile(r"[0-9]{1,20}")),
}
_ADDRESS = ("address1", "address2", "city", "state", "country", "zip")
_CHOICES: dict[str, frozenset[str]] = {
    **dict.fromkeys(("status", "old_status"), frozenset(get_args(TicketStatus))),
    "priority": frozenset(get_args(TicketPriority)),
    "author": frozenset(get_args(MessageAuthor)),
    "reason": frozenset(get_args(CancelReason)),
    "changed": frozenset(_ADDRESS),
}
_PERSONAL = frozenset({"user_id", "email", "first_name", "last_name", "name", "phone", *_ADDRESS})
# The names a nested mapping may keep as they are (addresses, refunds); any other key is the caller's text.
_KNOWN = frozenset({*_IDS, *_CHOICES, *_PERSONAL, "amount_cents", "difference_cents", "arguments"})
_QUOTED = re.compile(r"`([^`]*)`")

# 13 to 19 digits, single spaces or dashes between: how card numbers are written.
_CARD_LIKE = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")
CARD_MASK = "<card-like number>"
_LENGTH = re.compile(r"<[0-9]+ characters>(?: #[0-9]+)?")  # a masked key may carry a count (see _nested)


def without_card_numbers(text: str) -> str:
    return _CARD_LIKE.sub(CARD_MASK, text)


def _personal(text: str) -> str:
    return text[:1] + "***" if text else ""


def _free_text(text: str) -> str:
    return text if _LENGTH.fullmatch(text) or text == CARD_MASK else f"<{len(text)} characters>"


def _text(name: str, text: str) -> str:
    if name in _PERSONAL:
        return _personal(text)
    pattern = _IDS.get(name)
    if pattern is not None and pattern.fullmatch(text):
        return without_card_numbers(text)
    if text in _CHOICES.get(name, ()):
        return text
    return _free_text(text)


def masked_value(name: str, value: Any) -> Any:
    """`value` of a field called `name` as the audit log may keep it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):  # an amount, unless it is a card number passed as one
        return CARD_MASK if _CARD_LIKE.search(str(value)) else value
    if isinstance(value, Mapping):
        return _nested(value)
    if isinstance(value, list | tuple):
        return [masked_value(name, v) for v in value]
    return _text(name, str(value))


def masked(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments or details as the audit log may keep them."""
    return {str(name): masked_value(str(name), value) for name, value in fields.items()}


def _key(name: str, kept: frozenset[str] | set[str]) -> str:
    return name if name in kept or (name.isdigit() and len(name) <= 6) else _free_text(name)


def _nested(fields: Mapping[Any, Any]) -> dict[str, Any]:
    """A mapping inside a value: its keys are the caller's words unless they are names listed above; two keys
    masked alike are told apart by a count, so no entry is lost."""
    shown: dict[str, Any] = {}
    for name, value in fields.items():
        key = base = _key(str(name), _KNOWN)
        n = 1
        while key in shown:
            n += 1
            key = f"{base} #{n}"
        shown[key] = masked_value(str(name), value)
    return shown


def masked_id(name: str, value: str) -> str:
    """A record id as the row's target: kept when it has the shape of one, else masked as its kind says."""
    return str(masked_value(name, value))


def masked_reason(reason: str, arguments: Mapping[str, Any]) -> str:
    """A refusal's words with no value the arguments' masking hides: those the refusal echoes (whole, or
    shortened and escaped as errors.excerpt echoes them) are replaced by their masked form."""
    for name, value in arguments.items():
        if not isinstance(value, str) or len(value) < 3:
            continue
        shown = masked_value(name, value)
        if shown == value:
            continue
        escaped = excerpt(value, 10 * len(value))  # escaped, not shortened
        for echo in sorted({value, escaped, excerpt(value, 30), excerpt(value, 40)}, key=len, reverse=True):
            reason = reason.replace(echo, str(shown))
    names = _KNOWN | {str(name) for name in arguments}

    def field(quoted: re.Match[str]) -> str:  # a dotted path such as `address.zip` or `item_ids.0`
        return "`" + ".".join(_key(part, names) for part in quoted.group(1).split(".")) + "`"

    return without_card_numbers(_QUOTED.sub(field, reason))
