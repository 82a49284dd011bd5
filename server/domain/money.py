"""The one place that converts and formats money. Storage is integer cents."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .statuses import TransactionType


def to_cents(amount: float | int | str | Decimal) -> int:
    """Dollars (as written in JSON, e.g. 536.65) to integer cents, rounding half up."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_dollars(cents: int) -> float:
    """Integer cents to a float of dollars with at most two decimals, as the τ² format has it."""
    return round(cents / 100, 2)


def cents_of(dollars: float) -> int:
    """A result's dollar amount back to cents. Results only hold amounts `to_dollars` made, whole cents,
    for which rounding the product is exact (and a tenth of `to_cents`'s cost, which renders pay per line)."""
    return round(dollars * 100)


def format_money(cents: int) -> str:
    """Cents for people to read: 53665 -> '$536.65', -1234 -> '-$12.34'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


@dataclass(frozen=True)
class Movement:
    """Money moving on an order: a payment taken from a method, or a refund given back to it."""

    kind: TransactionType
    cents: int
    method_id: str

    @property
    def balance_change(self) -> int:
        """What it does to the method's balance (only gift cards keep one): a payment takes, a refund gives."""
        return self.cents if self.kind == "refund" else -self.cents
