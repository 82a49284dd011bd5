"""Reading a request's id from the start of a line that is not read whole (server/transport/unreadable_lines.py): the
top-level id when the start shows it, else nothing; never another member's id or a wrong value."""

from __future__ import annotations

import json
from typing import Any

import hypothesis
from hypothesis import given
from hypothesis import strategies as st

from shopdesk.transport.unreadable_lines import request_id

PROPERTY = hypothesis.settings(max_examples=200, deadline=None, derandomize=True, database=None)

ids = st.one_of(st.integers(min_value=-(2**63), max_value=2**63), st.text(max_size=20))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
# Members other than the id, some of them holding an "id" of their own.
members = st.dictionaries(
    st.text(max_size=8).filter(lambda key: key != "id"),
    json_values | st.builds(lambda v: {"id": v}, json_values),
    max_size=4,
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, Any]:
    """A JSON object with a top-level id somewhere among other members, written compactly or indented."""
    before, after, id_ = draw(members), draw(members), draw(ids)
    message = {**before, "id": id_, **{k: v for k, v in after.items() if k not in before}}
    return json.dumps(message, indent=draw(st.sampled_from([None, 2]))), id_


@PROPERTY
@given(requests())
def test_the_top_level_id_of_a_whole_request_is_found(request: tuple[str, Any]) -> None:
    text, id_ = request
    assert request_id(text) == id_


@PROPERTY
@given(requests(), st.data())
def test_the_start_of_a_request_gives_its_id_or_nothing(request: tuple[str, Any], data: st.DataObject) -> None:
    text, id_ = request
    cut = data.draw(st.integers(min_value=0, max_value=len(text)), label="cut")
    assert request_id(text[:cut]) in (None, id_)


def test_an_id_after_a_cut_off_member_is_not_read() -> None:
    start = '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x","arguments":{"name":"xxxxxxxx'
    assert request_id(start) is None
    assert request_id('{"jsonrpc":"2.0","id":"a-1","params":{"name":"xxxx') == "a-1"


def test_an_id_only_inside_params_is_not_the_requests_id() -> None:
    assert request_id('{"jsonrpc":"2.0","method":"m","params":{"id":5}}') is None


def test_an_id_that_is_not_a_string_or_integer_is_not_read() -> None:
    for value in ("true", "1.5", "null", "[1]", '{"a":1}'):
        assert request_id('{"id":' + value + ',"method":"m"}') is None
