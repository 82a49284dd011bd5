"""Money conversions: dollars as results carry them, and back to cents."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shopdesk.domain.money import cents_of, format_money, to_cents, to_dollars


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_a_results_dollars_go_back_to_the_same_cents(cents: int) -> None:
    dollars = to_dollars(cents)
    assert cents_of(dollars) == to_cents(dollars) == cents


def test_people_read_money_with_a_sign_a_dollar_sign_and_thousands() -> None:
    assert [format_money(c) for c in (53665, -1234, 0, 123456789)] == ["$536.65", "-$12.34", "$0.00", "$1,234,567.89"]
