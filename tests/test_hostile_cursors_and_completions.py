"""No internal error reaches a client from a made-up page cursor or completion argument, on SQLite and
PostgreSQL (`SHOPDESK_TEST_DB=postgresql`): a cursor the server did not make is one short refusal the model
can act on, and a value no id can start with completes to nothing. Never a protocol error (-32603), never
a crash in the server's log.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from mcp import Client
from mcp.types import PromptReference, ResourceTemplateReference

from shopdesk.domain.errors import MESSAGE_BUDGET
from shopdesk.storage.repositories.tickets import ticket_key

PROPERTY = hypothesis.settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Each paged tool, its cursor's kind, and the arguments it needs besides the cursor.
PAGED_TOOLS: dict[str, tuple[str, dict[str, Any]]] = {
    "list_audit_events": ("a", {}),
    "search_orders": ("o", {}),
    "list_tickets": ("t", {}),
    "search_customers": ("c", {"name": "a"}),
}
NOT_A_CURSOR = "`cursor` is not a cursor this search returned."


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


huge_ints = st.one_of(
    st.integers(min_value=2**62, max_value=2**200),
    st.integers(max_value=-1),
    st.sampled_from([2**63 - 1, 2**63, 2**64, -(2**63), -(2**63) - 1]),
)
parts = st.one_of(huge_ints, st.integers(), st.text(max_size=30), st.floats(), st.booleans(), st.none())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def cursors(kind: str) -> st.SearchStrategy[str]:
    """Strings that are not cursors the server made: any text, base64 of any JSON, and cursors of the right
    kind and shape whose parts are out of range (huge or negative integers, text a date cannot be)."""
    return st.one_of(
        st.text(max_size=200),
        json_values.map(_b64),
        st.lists(parts, min_size=1, max_size=2).map(lambda ps: _b64([kind, *ps])),
        st.tuples(st.text(max_size=30), huge_ints).map(lambda p: _b64([kind, *p])),
        huge_ints.map(lambda n: _b64([kind, n])),
    ).filter(lambda cursor: len(cursor) <= 200)


def assert_short_refusal(text: str) -> None:
    assert "internal error" not in text and "Traceback" not in text, text
    assert "\n" not in text and len(text) <= MESSAGE_BUDGET, text


def assert_no_crash_logged(records: list[logging.LogRecord]) -> None:
    crashes = [r.getMessage() for r in records if r.exc_info or r.levelno >= logging.ERROR]
    assert not crashes, crashes


@pytest.mark.parametrize("tool", sorted(PAGED_TOOLS))
@PROPERTY
@given(data=st.data())
async def test_a_made_up_cursor_is_refused_in_one_short_line(
    client: Client, caplog: pytest.LogCaptureFixture, tool: str, data: st.DataObject
) -> None:
    kind, needs = PAGED_TOOLS[tool]
    cursor = data.draw(cursors(kind), label="cursor")
    caplog.clear()
    result = await client.call_tool(tool, {**needs, "cursor": cursor})
    if result.is_error:
        assert_short_refusal(result.content[0].text)  # type: ignore[union-attr]
    assert_no_crash_logged(caplog.records)


@pytest.mark.parametrize("tool", sorted(PAGED_TOOLS))
async def test_a_cursor_holding_a_64_bit_overflow_is_not_a_cursor(client: Client, tool: str) -> None:
    kind, needs = PAGED_TOOLS[tool]
    key = ["2026-01-01T00:00:00", 2**63] if kind == "o" else [2**63]
    result = await client.call_tool(tool, {**needs, "cursor": _b64([kind, *key])})
    assert result.is_error
    assert result.content[0].text.startswith(NOT_A_CURSOR)  # type: ignore[union-attr]


async def test_an_order_cursor_with_a_lone_surrogate_is_not_a_cursor(client: Client) -> None:
    result = await client.call_tool("search_orders", {"cursor": _b64(["o", "\ud800", 1])})
    assert result.is_error
    assert result.content[0].text.startswith(NOT_A_CURSOR)  # type: ignore[union-attr]


async def _completion_targets(client: Client) -> list[tuple[PromptReference | ResourceTemplateReference, str]]:
    """Every completable (reference, argument): each prompt's and each resource template's id arguments."""
    targets: list[tuple[PromptReference | ResourceTemplateReference, str]] = []
    for prompt in (await client.list_prompts()).prompts:
        for argument in prompt.arguments or []:
            targets.append((PromptReference(type="ref/prompt", name=prompt.name), argument.name))
    for template in (await client.list_resource_templates()).resource_templates:
        for name in ("order_id", "user_id", "ticket_id"):
            if "{" + name + "}" in template.uri_template:
                targets.append((ResourceTemplateReference(type="ref/resource", uri=template.uri_template), name))
    return targets


typed_values = st.one_of(
    st.text(max_size=100),
    st.sampled_from(["TCK-", "tck-", "#W", "#", ""]).flatmap(lambda start: st.text(max_size=20).map(start.__add__)),
    st.sampled_from(["TCK-²", "TCK-١٢", "#W\ud800", "\x00", "TCK-0\n"]),
)


@PROPERTY
@given(data=st.data())
async def test_any_typed_value_completes_without_an_error(
    client: Client, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    targets = await _completion_targets(client)
    assert {name for _, name in targets} == {"order_id", "user_id", "ticket_id"}
    ref, name = data.draw(st.sampled_from(targets), label="target")
    value = data.draw(typed_values, label="value")
    caplog.clear()
    answer = await client.complete(ref, {"name": name, "value": value})
    assert len(answer.completion.values) <= 100
    assert_no_crash_logged(caplog.records)


@pytest.mark.parametrize("typed", ["TCK-²", "TCK-٠", "TCK-0٠"])
async def test_a_ticket_id_with_a_non_ascii_digit_completes_to_nothing(
    client: Client, tau2_data: dict[str, Any], typed: str
) -> None:
    user = next(iter(tau2_data["users"]))
    opened = await client.call_tool("create_ticket", {"user_id": user, "subject": "Lost", "message": "Not here."})
    assert not opened.is_error
    ticket_id = opened.structured_content["ticket_id"]  # type: ignore[index]
    triage = PromptReference(type="ref/prompt", name="triage_ticket")
    assert (await client.complete(triage, {"name": "ticket_id", "value": ticket_id[:5]})).completion.values
    assert (await client.complete(triage, {"name": "ticket_id", "value": typed})).completion.values == []


@pytest.mark.parametrize("public_id", ["TCK-000001\n", "TCK-٠٠٠٠٠١", "TCK-00000²"])
def test_a_ticket_id_is_ascii_digits_and_nothing_after(public_id: str) -> None:
    assert ticket_key("TCK-000001") == 1
    assert ticket_key(public_id) is None


async def test_a_nul_character_in_any_text_argument_is_refused_by_name(client: Client) -> None:
    # PostgreSQL refuses such text with an error of its own, which came back as "the shop's system cannot".
    for tool in (await client.list_tools()).tools:
        texts = [name for name, spec in tool.input_schema.get("properties", {}).items() if _takes_text(spec)]
        for name in texts:
            result = await client.call_tool(tool.name, {name: "a\x00b"})
            assert result.is_error, (tool.name, name)
            text = result.content[0].text  # type: ignore[union-attr]
            assert f"`{name}` holds a NUL character" in text, (tool.name, text)


def _takes_text(spec: dict[str, Any]) -> bool:
    return any(option.get("type") == "string" for option in [spec, *spec.get("anyOf", [])])
