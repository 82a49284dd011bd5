"""The Claude Desktop bundle (.mcpb): what packaging/build_mcpb.py puts in it, what the official mcpb CLI
says about it, and that the server it carries starts the way the manifest says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from mcp.client.stdio import StdioServerParameters
from shop_support import connected

from shopdesk import __version__
from shopdesk.app import build_server
from shopdesk.settings import Settings

pytestmark = pytest.mark.slow  # builds the bundle and starts its server and the mcpb CLI (Node) as processes

ROOT = Path(__file__).resolve().parents[1]
MCPB = ROOT / "tests" / "peers" / "node_modules" / ".bin" / "mcpb"
WRITES = {"cancel_pending_order", "modify_user_address", "create_ticket", "return_delivered_order_items"}


def mcpb_cli() -> Path:
    """The pinned official CLI; CI (SHOPDESK_REQUIRE_PEERS=1) fails rather than skip without it."""
    if not MCPB.exists():
        reason = "the mcpb CLI is not installed: run `npm ci` in tests/peers"
        if os.environ.get("SHOPDESK_REQUIRE_PEERS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return MCPB


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(mcpb_cli()), *map(str, args)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")}
    built = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "build_mcpb.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("*.mcpb")
    assert path.name == f"shopdesk-{__version__}.mcpb"
    return path


@pytest.fixture(scope="module")
def unpacked(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    return folder


def manifest_of(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return data


def test_the_archive_holds_the_server_and_its_data_only(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    tops = {name.split("/")[0] for name in names}
    assert tops == {"manifest.json", "pyproject.toml", "main.py", "LICENSE", "shopdesk"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # Every module of the server package is there, and the τ² data where the server looks for it once installed.
    source = {
        "shopdesk/" + p.relative_to(ROOT / "server").as_posix()
        for p in (ROOT / "server").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert source <= names
    data = {n for n in names if n.startswith("shopdesk/") and not n.endswith(".py")}
    assert data == {
        "shopdesk/bundled_data/tau2-retail/db.json.gz",
        "shopdesk/bundled_data/tau2-retail/LICENSE",
        "shopdesk/bundled_data/tau2-retail/README.md",
        "shopdesk/surface/views/customer.html",
        "shopdesk/surface/views/order.html",
        "shopdesk/surface/views/ticket.html",
    }


def test_the_host_installs_the_servers_dependencies_but_not_the_demo_clients(unpacked: Path) -> None:
    bundled = tomllib.loads((unpacked / "pyproject.toml").read_text(encoding="utf-8"))
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    deps = bundled["project"]["dependencies"]
    assert deps == [d for d in project["dependencies"] if not d.startswith("anthropic")]
    assert len(deps) == len(project["dependencies"]) - 1
    assert bundled["project"]["requires-python"] == project["requires-python"]
    assert bundled["tool"]["uv"]["package"] is False  # nothing to build: uv installs the dependencies only


async def test_the_manifest_lists_the_real_servers_tools_and_version(unpacked: Path, tmp_path: Path) -> None:
    manifest = manifest_of(unpacked)
    assert manifest["version"] == __version__
    assert manifest["manifest_version"] == "0.4" and manifest["server"]["type"] == "uv"
    listed = await build_server(Settings(db_path=tmp_path / "unused.sqlite3")).list_tools()
    assert [t["name"] for t in manifest["tools"]] == [t.name for t in listed]
    for tool, real in zip(manifest["tools"], listed, strict=True):
        assert tool["description"] and "\n" not in tool["description"]
        assert " ".join((real.description or "").split()).startswith(tool["description"])
    server = manifest["server"]
    assert (unpacked / server["entry_point"]).is_file()
    assert server["mcp_config"]["args"][-1] == "${__dirname}/" + server["entry_point"]
    assert server["mcp_config"]["env"] == {
        "SHOPDESK_DB": "${user_config.database}",
        "SHOPDESK_READ_ONLY": "${user_config.read_only}",
    }
    options = manifest["user_config"]
    assert options["database"]["required"] is False and options["database"]["default"] == ""
    assert options["read_only"]["type"] == "boolean" and options["read_only"]["default"] is False


def test_the_official_cli_validates_it_and_packs_the_same_archive(bundle: Path, unpacked: Path, tmp_path: Path) -> None:
    assert "validation passes" in run_cli("validate", unpacked / "manifest.json").stdout
    repacked = tmp_path / "by-the-cli.mcpb"
    run_cli("pack", unpacked, repacked)
    with zipfile.ZipFile(bundle) as ours, zipfile.ZipFile(repacked) as theirs:
        assert sorted(ours.namelist()) == sorted(theirs.namelist())
        assert all(ours.read(name) == theirs.read(name) for name in ours.namelist())
    out = tmp_path / "by-the-cli"
    run_cli("unpack", bundle, out)
    assert manifest_of(out) == manifest_of(unpacked)


def launch(unpacked: Path, user_config: dict[str, str], home: Path) -> StdioServerParameters:
    """The server as a host starts it: the manifest's entry point and environment, ${...} filled in.

    The manifest's command is the host's uv; here the entry point runs on this venv's Python, which has the
    dependencies the bundle's pyproject.toml names. HOME and XDG_DATA_HOME point into the test's folder."""
    config = manifest_of(unpacked)["server"]["mcp_config"]

    def fill(text: str) -> str:
        text = text.replace("${__dirname}", str(unpacked))
        for key, value in user_config.items():
            text = text.replace("${user_config." + key + "}", value)
        return text

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_") and k != "PYTHONPATH"}
    env.update({"HOME": str(home), "XDG_DATA_HOME": str(home / "data")})
    env.update({name: fill(value) for name, value in config["env"].items()})
    return StdioServerParameters(command=sys.executable, args=[fill(config["args"][-1])], env=env, cwd=str(home))


async def test_the_bundled_server_starts_with_its_database_in_the_users_data_folder(
    unpacked: Path, tmp_path: Path
) -> None:
    # The user left both options at their defaults: no database path, not read-only.
    async with connected(launch(unpacked, {"database": "", "read_only": "false"}, tmp_path)) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert names == [t["name"] for t in manifest_of(unpacked)["tools"]]
        page = (await client.call_tool("search_orders", {"limit": 1})).structured_content
        assert len(page["orders"]) == 1  # type: ignore[index]
    assert (tmp_path / "data" / "shopdesk" / "shopdesk.sqlite3").is_file()
    assert not list(unpacked.rglob("*.sqlite3"))  # nothing written into the bundle


async def test_the_bundled_server_honours_the_database_and_read_only_options(unpacked: Path, tmp_path: Path) -> None:
    db = tmp_path / "my-shop.sqlite3"
    async with connected(launch(unpacked, {"database": str(db), "read_only": "false"}, tmp_path)) as client:
        assert WRITES <= {t.name for t in (await client.list_tools()).tools}
    assert db.is_file()
    async with connected(launch(unpacked, {"database": str(db), "read_only": "true"}, tmp_path)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "get_order_details" in names and not WRITES & names
