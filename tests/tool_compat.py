"""Is a tool listing a compatible successor of another? The rules behind tests/test_tool_versions.py.

A listing is the `tools` array of a `tools/list` answer, in its JSON wire form. A change to a tool
is incompatible when a call or a result that worked before may not work after:

- input: an argument removed, newly required, or narrowed (its type, pattern or enum changed
  other than by adding enum values, a length or number bound tightened, an array bound tightened);
- output: a field removed from the result or its type changed, or a field no longer required;
- the tool removed.

An incompatible change needs a new major version of the tool, and the old shape kept callable
for one more minor release of shopdesk: a tool named `<name>_v<old major>` with the old input
schema, a description starting "Deprecated", and `_meta["io.shopdesk/deprecated"]` saying which
tool replaces it and in which shopdesk release it goes. Such a tool may be removed once shopdesk's
version reaches that release.
"""

from __future__ import annotations

from typing import Any

VERSION = "io.shopdesk/version"
DEPRECATED = "io.shopdesk/deprecated"

Tool = dict[str, Any]
_BOUNDS_DOWN = ("maxLength", "maximum", "maxItems")  # lowering these narrows what is accepted
_BOUNDS_UP = ("minLength", "minimum", "minItems")  # raising these narrows it


def major(version: str) -> int:
    return int(version.split(".")[0])


def release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if kind else set()


def narrowed(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """How the argument schema `new` accepts less than `old`, or None."""
    if not _types(new) >= _types(old):
        return "its type changed"
    if old.get("pattern") != new.get("pattern"):
        return "its pattern changed"
    if "enum" in new and not set(map(str, new["enum"])) >= set(map(str, old.get("enum", new["enum"]))):
        return "enum values were removed"
    if "enum" in new and "enum" not in old:
        return "it became an enum"
    for key in _BOUNDS_DOWN:
        if key in new and (key not in old or new[key] < old[key]):
            return f"{key} went down"
    for key in _BOUNDS_UP:
        if key in new and (key not in old or new[key] > old[key]):
            return f"{key} went up"
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        inner = narrowed(old["items"], new["items"])
        if inner:
            return f"its items: {inner}"
    return None


def breaking_changes(old: Tool, new: Tool) -> list[str]:
    """What in `new` breaks a client written against `old` (the same tool, two listings)."""
    problems = []
    old_in, new_in = old["inputSchema"], new["inputSchema"]
    old_args, new_args = old_in.get("properties", {}), new_in.get("properties", {})
    for name in sorted(set(old_args) - set(new_args)):
        problems.append(f"argument {name} was removed")
    for name in sorted(set(new_in.get("required", [])) - set(old_in.get("required", []))):
        problems.append(f"argument {name} is now required")
    for name in sorted(set(old_args) & set(new_args)):
        how = narrowed(old_args[name], new_args[name])
        if how:
            problems.append(f"argument {name}: {how}")
    old_out, new_out = old.get("outputSchema") or {}, new.get("outputSchema") or {}
    old_fields, new_fields = old_out.get("properties", {}), new_out.get("properties", {})
    for name in sorted(set(old_out.get("required", [])) - set(new_out.get("required", []))):
        problems.append(f"result field {name} is no longer always there")
    for name in sorted(set(old_fields) & set(new_fields)):
        if not _types(new_fields[name]) <= _types(old_fields[name]) and _types(old_fields[name]):
            problems.append(f"result field {name}: its type changed")
    if old.get("outputSchema") and not new.get("outputSchema"):
        problems.append("the result lost its schema")
    return problems


def check_successor(old: list[Tool], new: list[Tool], shopdesk_version: str) -> list[str]:
    """Every way the listing `new` breaks the rules against its predecessor `old`; [] when it keeps them."""
    errors = []
    before, after = {t["name"]: t for t in old}, {t["name"]: t for t in new}
    for name, tool in after.items():
        if VERSION not in (tool.get("_meta") or {}):
            errors.append(f"{name} has no {VERSION} in its _meta")
    for name in sorted(set(before) - set(after)):
        gone = (before[name].get("_meta") or {}).get(DEPRECATED)
        if gone is None:
            errors.append(f"{name} was removed without first being deprecated")
        elif release(shopdesk_version) < release(gone["removed_in"]):
            errors.append(
                f"{name} is deprecated until shopdesk {gone['removed_in']}, and must stay callable until then"
            )
    for name in sorted(set(before) & set(after)):
        problems = breaking_changes(before[name], after[name])
        if not problems:
            continue
        old_version, new_version = before[name]["_meta"][VERSION], after[name]["_meta"][VERSION]
        if major(new_version) <= major(old_version):
            errors.append(f"{name}: {'; '.join(problems)}: an incompatible change needs a new major version")
            continue
        kept = after.get(f"{name}_v{major(old_version)}")
        if kept is None or kept["inputSchema"] != before[name]["inputSchema"]:
            errors.append(f"{name}: the old shape must stay callable as {name}_v{major(old_version)}")
        elif not kept.get("description", "").startswith("Deprecated") or DEPRECATED not in (kept.get("_meta") or {}):
            errors.append(f"{name}_v{major(old_version)} must say it is deprecated (description and _meta)")
    return errors
