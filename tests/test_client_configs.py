"""The ready-made client configurations in the repository (Claude Code, VS Code, Cursor): each stdio entry
really starts the server and answers, and each HTTP entry names the address `shopdesk serve --transport http`
listens on by default."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp.client.stdio import StdioServerParameters
from shop_support import connected

from shopdesk.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Each client's file and the key its servers sit under.
CONFIGS = {".mcp.json": "mcpServers", ".vscode/mcp.json": "servers", ".cursor/mcp.json": "mcpServers"}
BIN = Path(sys.executable).parent


def servers(config: str) -> dict[str, dict[str, Any]]:
    data = json.loads((ROOT / config).read_text(encoding="utf-8"))
    assert set(data) == {CONFIGS[config]}, config
    entries: dict[str, dict[str, Any]] = data[CONFIGS[config]]
    return entries


def kind(config: str, entry: dict[str, Any]) -> str:
    if config == ".vscode/mcp.json":
        assert entry["type"] in ("stdio", "http")  # VS Code requires the type
    return str(entry.get("type") or ("http" if "url" in entry else "stdio"))


ENTRIES = [(config, name, entry) for config in CONFIGS for name, entry in servers(config).items()]
STDIO = [pytest.param(c, e, id=f"{c}:{n}") for c, n, e in ENTRIES if kind(c, e) == "stdio"]
HTTP = [pytest.param(c, e, id=f"{c}:{n}") for c, n, e in ENTRIES if kind(c, e) == "http"]


def test_every_client_has_a_stdio_and_an_http_entry() -> None:
    for config in CONFIGS:
        assert sorted(kind(config, e) for e in servers(config).values()) == ["http", "stdio"], config


@pytest.mark.slow
@pytest.mark.parametrize(("config", "entry"), STDIO)
async def test_the_stdio_entry_starts_the_server(config: str, entry: dict[str, Any], tmp_path: Path) -> None:
    # The command as an activated venv (or pipx, or uv tool) puts it on PATH; a database of the test's own.
    command = shutil.which(entry["command"], path=str(BIN))
    assert command, f"{config}: {entry['command']} is not in {BIN}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")}
    env.update(entry.get("env", {}))
    env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "SHOPDESK_DB": str(tmp_path / "shop.sqlite3")})
    params = StdioServerParameters(command=command, args=entry.get("args", []), env=env, cwd=str(ROOT))
    async with connected(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"get_order_details", "cancel_pending_order", "create_ticket"} <= names
    assert (tmp_path / "shop.sqlite3").is_file()


@pytest.mark.parametrize(("config", "entry"), HTTP)
def test_the_http_entry_is_where_the_server_listens_by_default(
    config: str, entry: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SHOPDESK_HOST", "SHOPDESK_PORT", "SHOPDESK_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    assert entry["url"] == Settings().mcp_url() == "http://127.0.0.1:8000/mcp"
