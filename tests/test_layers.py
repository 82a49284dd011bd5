"""The layers of server/ (docs/architecture.md) hold: every import goes to the module's own layer or one below."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[1] / "server"

# From the top down. A module may import from its own layer and from any layer after it in this list.
LAYERS = (
    "__main__",
    "cli",
    "transport",
    "app",
    "oauth",
    "tools",
    "surface",
    "writes",
    "access",
    "shop",
    "shopdata",
    "storage",
    "text",
    "domain",
    "ops",
    "settings",
    "__init__",
)


def layer_of(module: tuple[str, ...]) -> str:
    """The layer of a module named by its parts under `shopdesk` (the package itself: __init__)."""
    return module[0] if module else "__init__"


@functools.cache
def imports() -> list[tuple[str, str, str]]:
    """(importing file, its layer, the imported layer) for every import of shopdesk's own modules."""
    found = []
    for path in sorted(SERVER.rglob("*.py")):
        parts = path.relative_to(SERVER).with_suffix("").parts
        package = parts[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = (*base, *(node.module.split(".") if node.module else ()))
            elif node.module and node.module.split(".")[0] == "shopdesk":
                target = tuple(node.module.split(".")[1:])
            else:
                continue
            # `from . import x` at the top: x is a layer, or a name the package itself defines (__version__)
            targets = [target] if target else [(a.name,) if a.name in LAYERS else () for a in node.names]
            for each in targets:
                found.append((str(path.relative_to(SERVER)), layer_of(parts), layer_of(each)))
    return found


def test_every_folder_of_server_is_a_known_layer() -> None:
    folders = {p.name for p in SERVER.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in SERVER.glob("*.py")}
    assert folders | modules <= set(LAYERS), f"add {sorted((folders | modules) - set(LAYERS))} to LAYERS"
    assert len(modules) <= 10  # the rest lives in the layers' folders


@pytest.mark.parametrize("importer", sorted({file for file, _, _ in imports()}))
def test_imports_run_only_downward(importer: str) -> None:
    upward = [
        f"{file} ({mine}) imports {theirs}"
        for file, mine, theirs in imports()
        if file == importer and LAYERS.index(theirs) < LAYERS.index(mine)
    ]
    assert not upward, upward


SQL = ("SELECT ", "INSERT INTO", "DELETE FROM", "UPDATE ")


def test_sql_is_only_in_storage() -> None:
    outside = []
    for path in sorted(SERVER.rglob("*.py")):
        name = str(path.relative_to(SERVER))
        if name.startswith("storage/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(SQL):
                outside.append(f"{name}:{node.lineno}")
    assert outside == [], "SQL belongs in server/storage/repositories/"
