"""Which tools a server offers: the toolsets, the choice made by `--toolsets`/`--tools`, each tool's version.

A toolset is a group of tools a deployment turns on or off as one (a support desk without a
catalogue, a ticket triage bot). `--toolsets` picks groups, `--tools` picks single tools, the two
add up; with neither, everything is on. A tool that is off is not registered at all: not listed,
not callable, not named in the instructions or in a prompt.

Versions: every tool carries `_meta["io.shopdesk/version"]`. The published listing is compared
with `tests/snapshots/tools.json`; a change to a tool's schema or description must be made on
purpose (the snapshot updated, the CHANGELOG told), and an incompatible one must raise the
tool's major version and keep the old shape callable for one more minor release (see
`tests/test_tool_versions.py`).
"""

from __future__ import annotations

from collections.abc import Iterable

TOOLSETS: dict[str, tuple[str, ...]] = {
    "customers": (
        "find_user_id_by_email",
        "find_user_id_by_name_zip",
        "get_user_details",
        "search_customers",
        "modify_user_address",
    ),
    "orders": (
        "get_order_details",
        "search_orders",
        "cancel_pending_order",
        "modify_pending_order_address",
        "modify_pending_order_payment",
        "modify_pending_order_items",
        "return_delivered_order_items",
        "exchange_delivered_order_items",
    ),
    "catalog": ("list_all_product_types", "get_product_details", "get_item_details", "calculate"),
    "tickets": (
        "get_ticket",
        "list_tickets",
        "create_ticket",
        "add_ticket_message",
        "set_ticket_status",
        "escalate_ticket",
        "transfer_to_human_agents",
    ),
    "audit": ("list_audit_events",),
}

ALL_TOOLS: tuple[str, ...] = tuple(name for names in TOOLSETS.values() for name in names)

# The published version of each tool's interface (semantic: major = incompatible, minor = compatible additions).
TOOL_VERSIONS: dict[str, str] = {name: "1.0.0" for name in ALL_TOOLS}


class ToolChoiceError(ValueError):
    """--toolsets or --tools names something that does not exist."""


def chosen_tools(toolsets: Iterable[str] | None, tools: Iterable[str] = ()) -> frozenset[str]:
    """The tools to offer. `toolsets` None and no `tools`: all of them; 'all' names every toolset."""
    sets = [name.strip() for name in toolsets or () if name.strip()]
    singles = [name.strip() for name in tools if name.strip()]
    unknown_sets = sorted(set(sets) - set(TOOLSETS) - {"all"})
    if unknown_sets:
        raise ToolChoiceError(
            f"unknown toolset {', '.join(unknown_sets)}; the toolsets are {', '.join(TOOLSETS)} (or all)"
        )
    unknown_tools = sorted(set(singles) - set(ALL_TOOLS))
    if unknown_tools:
        raise ToolChoiceError(f"unknown tool {', '.join(unknown_tools)}; `shopdesk tools` lists them")
    if toolsets is None and not singles:
        return frozenset(ALL_TOOLS)
    chosen = set(singles)
    for name in sets:
        chosen.update(ALL_TOOLS if name == "all" else TOOLSETS[name])
    if not chosen:
        raise ToolChoiceError("no tools chosen; name at least one toolset or tool")
    return frozenset(chosen)
