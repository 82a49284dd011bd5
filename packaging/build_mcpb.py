"""Build shopdesk's Claude Desktop bundle (.mcpb): `python packaging/build_mcpb.py [--out DIR]`.

The bundle uses the MCPB "uv" server type (manifest 0.4): it carries the server's own code, the τ²
retail data and a pyproject.toml naming the server's dependencies, and the host installs those with uv
for the user's platform. Nothing compiled (pydantic_core) is vendored, so one file works on macOS,
Windows and Linux. The demo client (and its `anthropic` dependency), the tests, bench and CI stay out.

The tool list in the manifest comes from the real server's tool listing, and the version from
server.__version__, so neither can drift from the code.

Run this file by its path, not with `python -m packaging...`: a folder named `packaging` on the
import path would hide the `packaging` library that pip and setuptools use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Dependencies of the whole distribution that the server never imports (the demo client's).
NOT_FOR_THE_SERVER = {"anthropic"}
# The launcher the host runs (entry_point); it lives at the bundle's root, beside the `shopdesk` package.
ENTRY_POINT = "main.py"
PACKAGE = "shopdesk"  # the import name of the folder server/, as pyproject.toml installs it
LAUNCHER = '''\
"""Starts the shopdesk MCP server from an unpacked Claude Desktop bundle: stdio, settings from the environment."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shopdesk.__main__ import main  # noqa: E402

sys.exit(main(["serve", *sys.argv[1:]]))
'''
# The shop the server can import, as in the wheel: data/tau2-retail/ becomes shopdesk/bundled_data/tau2-retail/.
# Not the benchmark's tasks: only the demo client's τ² runner reads those.
DATA_PATTERNS = ("db.json.gz", "LICENSE", "README.md")
# Fixed timestamps, so the same sources give the same archive.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)["project"]
    return data


def version() -> str:
    text = (ROOT / "server" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if not found:
        raise SystemExit("build_mcpb: no __version__ in server/__init__.py")
    return found.group(1)


def one_line(description: str) -> str:
    """The first sentence of a tool's description, on one line."""
    text = " ".join(description.split())
    end = re.search(r"(?<=[.!?])\s", text)
    return text[: end.start()] if end else text


def server_tools() -> list[dict[str, str]]:
    """Every tool the server lists (all toolsets, writes included), as the server itself describes them."""
    sys.path.insert(0, str(ROOT))
    # The listing of a server with default settings: no SHOPDESK_* variable of this shell may narrow it.
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("SHOPDESK_")}
    try:
        from shopdesk.app import build_server
        from shopdesk.settings import Settings

        with tempfile.TemporaryDirectory() as scratch:  # listing tools opens no database; give it a path anyway
            server = build_server(Settings(db_path=Path(scratch) / "unused.sqlite3"))
            tools = asyncio.run(server.list_tools())
    finally:
        os.environ.update(saved)
    return [{"name": t.name, "description": one_line(t.description or "")} for t in tools]


def manifest(tools: list[dict[str, str]]) -> dict[str, Any]:
    meta = project()
    return {
        "manifest_version": "0.4",
        "name": "shopdesk",
        "display_name": "shopdesk: a shop's customer service",
        "version": version(),
        "description": meta["description"],
        "long_description": (
            "Customer-service tools for a demo shop (customers, orders, cancellations, returns, exchanges, "
            "support tickets), with the τ²-bench retail tool names. The database is a SQLite file in your "
            "user data folder, created with a generated demo shop on first start. Destructive writes ask you "
            "to confirm what will change; every write is audited."
        ),
        "author": {"name": "The shopdesk authors"},
        "license": meta["license"],
        "keywords": ["customer service", "shop", "orders", "tickets", "sqlite", "tau2-bench"],
        "server": {
            "type": "uv",
            "entry_point": ENTRY_POINT,
            # The host runs entry_point with the dependencies of pyproject.toml installed (uv); the command
            # below says the same for a host that reads it, and carries the settings as environment variables.
            "mcp_config": {
                "command": "uv",
                "args": ["run", "--directory", "${__dirname}", "${__dirname}/" + ENTRY_POINT],
                "env": {
                    "SHOPDESK_DB": "${user_config.database}",
                    "SHOPDESK_READ_ONLY": "${user_config.read_only}",
                },
            },
        },
        "tools": tools,
        "compatibility": {
            "platforms": ["darwin", "win32", "linux"],
            "runtimes": {"python": meta["requires-python"]},
        },
        "user_config": {
            "database": {
                "type": "string",
                "title": "Database file",
                "description": (
                    "Path of the shop's SQLite database. Leave empty for shopdesk.sqlite3 in your user data "
                    "folder; a file that does not exist yet is created with a demo shop (its folder must exist)."
                ),
                "required": False,
                "default": "",
            },
            "read_only": {
                "type": "boolean",
                "title": "Read only",
                "description": "Offer only the read tools, on a read-only database connection.",
                "required": False,
                "default": False,
            },
        },
    }


def bundle_pyproject() -> str:
    """The pyproject.toml the host installs from: the server's dependencies only, nothing to build."""
    meta = project()
    deps = [d for d in meta["dependencies"] if re.split(r"[\s<>=!~\[;]", d, maxsplit=1)[0] not in NOT_FOR_THE_SERVER]
    lines = [
        "# The shopdesk server's dependencies, for the host's uv (generated by packaging/build_mcpb.py).",
        "[project]",
        'name = "shopdesk-mcpb"',
        f'version = "{version()}"',
        f"requires-python = {json.dumps(meta['requires-python'])}",
        "dependencies = [",
        *(f"    {json.dumps(d)}," for d in deps),
        "]",
        "",
        "[tool.uv]",
        "# Only the dependencies are installed; the code runs from the bundle's folder.",
        "package = false",
        "",
    ]
    return "\n".join(lines)


def bundle_files(tools: list[dict[str, str]]) -> dict[str, bytes]:
    """Every file of the bundle, by its path inside the archive."""
    files: dict[str, bytes] = {
        "manifest.json": (json.dumps(manifest(tools), indent=2, ensure_ascii=False) + "\n").encode(),
        "pyproject.toml": bundle_pyproject().encode(),
        ENTRY_POINT: LAUNCHER.encode(),
        "LICENSE": (ROOT / "LICENSE").read_bytes(),
    }
    # The folder server/ is the package `shopdesk`, as in the wheel.
    for path in sorted((ROOT / "server").rglob("*.py")):
        if "__pycache__" not in path.parts:
            files[f"{PACKAGE}/{path.relative_to(ROOT / 'server').as_posix()}"] = path.read_bytes()
    # The MCP Apps views (server/surface/apps.py), as in the wheel.
    for path in sorted((ROOT / "server" / "surface" / "views").glob("*.html")):
        files[f"{PACKAGE}/surface/views/{path.name}"] = path.read_bytes()
    data = ROOT / "data" / "tau2-retail"
    for pattern in DATA_PATTERNS:
        for path in sorted(data.glob(pattern)):
            files[f"{PACKAGE}/bundled_data/tau2-retail/{path.name}"] = path.read_bytes()
    return files


def write_archive(files: dict[str, bytes], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    partial.replace(target)


def build(out_dir: Path) -> Path:
    """Write dist/shopdesk-VERSION.mcpb (or into out_dir); returns its path."""
    files = bundle_files(server_tools())
    target = out_dir / f"shopdesk-{version()}.mcpb"
    write_archive(files, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build shopdesk's Claude Desktop bundle (.mcpb).")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the .mcpb (default dist/)")
    parser.add_argument("--stage", type=Path, help="also lay the bundle's files out unpacked in this folder")
    args = parser.parse_args(argv)
    target = build(args.out)
    if args.stage is not None:
        if args.stage.exists():
            shutil.rmtree(args.stage)
        with zipfile.ZipFile(target) as archive:
            archive.extractall(args.stage)
    with zipfile.ZipFile(target) as archive:
        count = len(archive.namelist())
    print(f"built {target} ({count} files, {target.stat().st_size / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
