"""The published tool listing changes only on purpose.

`tests/snapshots/tools.json` holds the listing as published (all tools on, default settings). Any
change to a name, description, schema or annotation fails here until the snapshot is rewritten:

    SHOPDESK_UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/test_tool_versions.py

which refuses to write a snapshot that breaks the compatibility rules (tests/tool_compat.py): an
incompatible change needs the tool's major version raised (server/tools/toolsets.py) and the old shape
kept callable, and every version other than 1.0.0 must be in the CHANGELOG.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from shop_support import ROOT
from tool_compat import DEPRECATED, VERSION, breaking_changes, check_successor

from shopdesk import __version__

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"


async def published(client: Client) -> list[dict[str, Any]]:
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in (await client.list_tools()).tools]


async def test_the_listing_matches_the_committed_snapshot(client: Client) -> None:
    listing = await published(client)
    if os.environ.get("SHOPDESK_UPDATE_SNAPSHOT") == "1":
        old = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else []
        assert check_successor(old, listing, __version__) == []
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(listing, indent=1, ensure_ascii=False) + "\n")
    snapshot = json.loads(SNAPSHOT.read_text())
    changed = sorted(
        {t["name"] for t in listing} ^ {t["name"] for t in snapshot} | {t["name"] for t in listing if t not in snapshot}
    )
    assert changed == [], (
        f"the published listing changed for {changed}: if on purpose, rewrite the snapshot with "
        "SHOPDESK_UPDATE_SNAPSHOT=1 (see this file's docstring) and say so in CHANGELOG.md"
    )


async def test_the_listing_keeps_the_compatibility_rules_against_the_snapshot(client: Client) -> None:
    assert check_successor(json.loads(SNAPSHOT.read_text()), await published(client), __version__) == []


async def test_every_tool_version_other_than_the_first_is_in_the_changelog(client: Client) -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    for tool in await published(client):
        version = tool["_meta"][VERSION]
        assert version == "1.0.0" or f"`{tool['name']}` {version}" in changelog, tool["name"]


def _tool(version: str = "1.0.0", **inputs: Any) -> dict[str, Any]:
    return {
        "name": "get_order_details",
        "description": "Get an order.",
        "inputSchema": {
            "type": "object",
            "properties": {"order_id": {"type": "string", "pattern": "^#W[0-9]+$"}, **inputs},
            "required": ["order_id"],
        },
        "outputSchema": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}, "status": {"type": "string"}},
            "required": ["order_id", "status"],
        },
        "_meta": {VERSION: version},
    }


def test_compatible_changes_pass_with_the_same_version() -> None:
    old = _tool()
    new = _tool(page={"type": "integer", "minimum": 1})  # a new optional argument
    new["description"] = "Get one order."
    new["outputSchema"]["properties"]["placed_at"] = {"type": "string"}  # a new result field
    assert breaking_changes(old, new) == []
    assert check_successor([old], [new], "0.2.0") == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t["inputSchema"]["properties"].pop("order_id"), "argument order_id was removed"),
        (lambda t: t["inputSchema"]["required"].append("page"), "argument page is now required"),
        (lambda t: t["inputSchema"]["properties"]["order_id"].update(pattern="^W$"), "pattern changed"),
        (lambda t: t["inputSchema"]["properties"]["order_id"].update(type="integer"), "type changed"),
        (lambda t: t["inputSchema"]["properties"]["order_id"].update(maxLength=5), "maxLength went down"),
        (lambda t: t["outputSchema"]["required"].remove("status"), "status is no longer always there"),
        (lambda t: t["outputSchema"]["properties"]["status"].update(type="integer"), "status: its type changed"),
    ],
)
def test_incompatible_changes_need_a_new_major_version(change: Any, expected: str) -> None:
    old = _tool(page={"type": "integer"})
    new = copy.deepcopy(old)
    change(new)
    errors = check_successor([old], [new], "0.2.0")
    assert len(errors) == 1 and expected in errors[0] and "new major version" in errors[0]


def test_a_new_major_version_keeps_the_old_shape_callable_and_marked_deprecated() -> None:
    old = _tool()
    new = _tool("2.0.0")
    new["inputSchema"]["properties"]["order_id"]["pattern"] = "^W[0-9]+$"
    assert check_successor([old], [new], "0.2.0") == [
        "get_order_details: the old shape must stay callable as get_order_details_v1"
    ]
    kept = {**_tool(), "name": "get_order_details_v1"}
    assert "must say it is deprecated" in check_successor([old], [new, kept], "0.2.0")[0]
    kept["description"] = "Deprecated: use get_order_details; removed in shopdesk 0.3.0. Get an order."
    kept["_meta"] = {VERSION: "1.0.0", DEPRECATED: {"use": "get_order_details", "removed_in": "0.3.0"}}
    assert check_successor([old], [new, kept], "0.2.0") == []
    # One minor release later the deprecated shape may go, and not before.
    assert check_successor([new, kept], [new], "0.2.5") == [
        "get_order_details_v1 is deprecated until shopdesk 0.3.0, and must stay callable until then"
    ]
    assert check_successor([new, kept], [new], "0.3.0") == []


def test_a_tool_cannot_disappear_without_deprecation_or_appear_without_a_version() -> None:
    unversioned = {**_tool(), "name": "new_tool", "_meta": {}}
    assert check_successor([_tool()], [unversioned], "0.2.0") == [
        f"new_tool has no {VERSION} in its _meta",
        "get_order_details was removed without first being deprecated",
    ]
