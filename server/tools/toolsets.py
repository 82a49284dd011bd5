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

from collections.abc import Collection, Iterable

from ..settings import Settings
from . import TOOLS


def _toolsets() -> dict[str, tuple[str, ...]]:
    sets: dict[str, list[str]] = {}
    for spec in TOOLS:
        sets.setdefault(spec.toolset, []).append(spec.name)
    return {name: tuple(tools) for name, tools in sets.items()}


# Each toolset's tools, from the tools' own declarations (declare.py).
TOOLSETS: dict[str, tuple[str, ...]] = _toolsets()

ALL_TOOLS: tuple[str, ...] = tuple(spec.name for spec in TOOLS)

# The published version of each tool's interface (semantic: major = incompatible, minor = compatible additions).
TOOL_VERSIONS: dict[str, str] = {spec.name: spec.version for spec in TOOLS}


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


def enabled_tools(settings: Settings) -> frozenset[str]:
    """The tools a server with these settings offers (--toolsets, --tools)."""
    return chosen_tools(settings.toolsets, settings.tools)


def views_shown(enabled: Collection[str]) -> dict[str, str]:
    """view URI -> the enabled tool that shows it: a toolset that turns a tool off takes its view away too."""
    return {spec.view: spec.name for spec in TOOLS if spec.view is not None and spec.name in enabled}
