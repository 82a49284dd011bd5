"""The tool listing as clients receive it: lean schemas, clean descriptions, a version per tool.

pydantic writes JSON Schemas for validators, not for readers: a `title` on every property ("Order
Id" under `order_id`), `anyOf: [X, {"type": "null"}]` for every optional value, `default: null`,
and `$defs` reached through `$ref` even where a definition is used once. A model reads all of it
on every request, and a client validating results walks every `$ref` and `anyOf`. `compact_schema`
rewrites a schema into the same constraints with none of that:

- titles go (the property name says it), and so does `default: null` (not being required says it);
- `anyOf: [X, {"type": "null"}]` becomes X with `"null"` added to its `type` (and to its `enum`);
- a definition used once is written in place; one used more often stays in `$defs`;
- an array that has a description of its own does not describe its items again.

Nothing a validator checks is lost: types, patterns, lengths, bounds, enums, required names and
`additionalProperties` are kept as they are.

Several tools answer with the same object (six order changes return the order, as
get_order_details does). MCP has no way to share a schema between tools, so `share_output_schemas`
publishes it in full once, on a read tool where there is one, and gives the others a short schema
naming the identifying fields, open to the rest (`additionalProperties` is not closed), with a
description saying where the full schema is. Every result still validates; results are unchanged.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections import Counter
from collections.abc import Collection
from typing import Any

from mcp.types import Tool

VERSION_KEY = "io.shopdesk/version"

JsonSchema = dict[str, Any]


def compact_schema(schema: JsonSchema) -> JsonSchema:
    """The same constraints as `schema`, written for a reader."""
    schema = copy.deepcopy(schema)
    definitions: dict[str, JsonSchema] = schema.pop("$defs", {})
    uses = Counter(_refs(schema))
    for definition in definitions.values():
        uses.update(_refs(definition))
    kept = {name: body for name, body in definitions.items() if uses[name] > 1}
    inline = {name: body for name, body in definitions.items() if uses[name] <= 1}
    result = _compact(schema, inline)
    if kept:
        result["$defs"] = {name: _compact(body, inline) for name, body in kept.items()}
    return result


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.append(ref.removeprefix("#/$defs/"))
        for value in node.values():
            found.extend(_refs(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_refs(value))
    return found


def _compact(node: JsonSchema, inline: dict[str, JsonSchema]) -> JsonSchema:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.removeprefix("#/$defs/") in inline:
        # A description next to the $ref (pydantic puts one there for a described field) wins.
        target = _compact(inline[ref.removeprefix("#/$defs/")], inline)
        extra = {key: value for key, value in node.items() if key != "$ref"}
        node = {**target, **_compact(extra, inline)} if extra else target
        return node
    out: JsonSchema = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and value is None:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _compact(prop, inline) for name, prop in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _compact(value, inline)
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems") and isinstance(value, list):
            out[key] = [_compact(option, inline) for option in value]
        else:
            out[key] = value
    out = _nullable(out)
    items = out.get("items")
    if isinstance(items, dict) and "description" in out and "description" in items:
        items = dict(items)
        del items["description"]
        out["items"] = items
    return out


def _nullable(node: JsonSchema) -> JsonSchema:
    """`anyOf: [X, {"type": "null"}]` as X accepting null, when X is a plain typed schema."""
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
        return node
    (other,) = [option for option in options if option != {"type": "null"}]
    kind = other.get("type")
    if not isinstance(kind, str) or "$ref" in other or "anyOf" in other:
        return node
    merged = {key: value for key, value in node.items() if key != "anyOf"}
    merged.update(other)
    merged["type"] = [kind, "null"]
    if isinstance(other.get("enum"), list):
        merged["enum"] = [*other["enum"], None]
    # Keep the property's own description, which describes the value, over the option's.
    if "description" in node:
        merged["description"] = node["description"]
    return merged


def _omittable(spec: JsonSchema) -> JsonSchema:
    """An optional argument's schema without its `null`: leaving the argument out is how to say "none"
    (the server still takes an explicit null)."""
    kind = spec.get("type")
    if not (isinstance(kind, list) and len(kind) == 2 and "null" in kind):
        return spec
    (other,) = [k for k in kind if k != "null"]
    spec = {**spec, "type": other}
    if isinstance(spec.get("enum"), list):
        spec["enum"] = [value for value in spec["enum"] if value is not None]
    return spec


def share_output_schemas(tools: list[Tool]) -> list[Tool]:
    """`tools` with each output schema written out in full once; see the module's docstring."""
    by_schema: dict[str, list[Tool]] = {}
    for tool in tools:
        if tool.output_schema:
            by_schema.setdefault(json.dumps(tool.output_schema, sort_keys=True), []).append(tool)
    shared: dict[str, Tool] = {}
    for group in by_schema.values():
        if len(group) < 2:
            continue
        owner = next((tool for tool in group if _read_only(tool)), group[0])
        for tool in group:
            reference = _reference(owner)
            if tool is not owner and len(json.dumps(reference)) < len(json.dumps(tool.output_schema)):
                shared[tool.name] = tool.model_copy(update={"output_schema": reference})
    return [shared.get(tool.name, tool) for tool in tools]


def _read_only(tool: Tool) -> bool:
    return bool(tool.annotations and tool.annotations.read_only_hint)


def _reference(owner: Tool) -> JsonSchema:
    """A short schema for a result that has the same shape as `owner`'s: its required identifying fields."""
    schema = owner.output_schema or {}
    required = [name for name in schema.get("required", []) if name.endswith("_id") or name == "status"]
    return {
        "type": "object",
        "description": f"The same object as {owner.name} returns (its output schema lists every field).",
        # Types only: the owner's schema has the enums and descriptions.
        "properties": {name: {"type": schema["properties"][name].get("type", "string")} for name in required},
        "required": required,
    }


def lean(tool: Tool, version: str | None, hidden: Collection[str] = ()) -> Tool:
    """`tool` as published: compact schemas, the description without docstring indentation, its version.

    `hidden` names optional arguments left out of the input schema (arguments the server's settings
    make pointless, such as a confirmation token when confirmation never uses one); a call passing
    one is refused as it would be for any argument the tool does not list.
    """
    inputs = compact_schema(tool.input_schema)
    properties = {name: _omittable(spec) for name, spec in inputs.get("properties", {}).items() if name not in hidden}
    return tool.model_copy(
        update={
            "description": inspect.cleandoc(tool.description or ""),
            "input_schema": {**inputs, "properties": properties, "additionalProperties": False},
            "output_schema": compact_schema(tool.output_schema) if tool.output_schema else None,
            "meta": {**(tool.meta or {}), VERSION_KEY: version} if version else tool.meta,
        }
    )
