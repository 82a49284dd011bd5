"""The distribution: the wheel holds the two packages and the τ² data and nothing else, works once
installed away from the checkout, and the server never imports the demo client's `anthropic`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from mcp.client.stdio import StdioServerParameters
from shop_support import build_wheel, connected

from shopdesk import __version__

pytestmark = pytest.mark.slow  # builds and installs the wheel, runs it as processes

ROOT = Path(__file__).resolve().parents[1]
DATA = sorted(p.name for p in (ROOT / "data" / "tau2-retail").iterdir() if p.is_file())  # all of it ships
VIEWS = sorted(p.name for p in (ROOT / "server" / "surface" / "views").glob("*.html"))  # the MCP Apps views


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline with the venv's setuptools from a copy of the sources (the build writes
    build/ and egg-info beside pyproject.toml; the checkout is left alone)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for name in ("server", "client_demo", "data"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*"))
    path = build_wheel(source, tmp_path_factory.mktemp("wheel"))
    assert path.name == f"shopdesk_mcp-{__version__}-py3-none-any.whl"
    return path


def test_the_wheel_holds_the_packages_and_the_data_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        data = {name: archive.read(f"shopdesk/bundled_data/tau2-retail/{name}") for name in DATA}
    dist_info = f"shopdesk_mcp-{__version__}.dist-info"
    # Import names of our own: the folders server/ and client_demo/ install as shopdesk and shopdesk_demo.
    assert {name.split("/")[0] for name in names} == {"shopdesk", "shopdesk_demo", dist_info}
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "bench/", ".ci/", "packaging/"))]
    # Every module of both packages (a new subpackage must be listed in pyproject.toml), and nothing more.
    modules = {
        f"{package}/{p.relative_to(ROOT / folder).as_posix()}"
        for folder, package in (("server", "shopdesk"), ("client_demo", "shopdesk_demo"))
        for p in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert {n for n in names if n.endswith(".py")} == modules
    assert {n for n in names if not n.endswith(".py") and not n.startswith(dist_info)} == {
        f"shopdesk/bundled_data/tau2-retail/{name}" for name in DATA
    } | {f"shopdesk/surface/views/{name}" for name in VIEWS}
    for name, content in data.items():
        assert content == (ROOT / "data" / "tau2-retail" / name).read_bytes()


def test_the_wheel_names_the_distribution_and_its_commands(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"shopdesk_mcp-{__version__}.dist-info/METADATA").decode()
        scripts = archive.read(f"shopdesk_mcp-{__version__}.dist-info/entry_points.txt").decode()
    assert "Name: shopdesk-mcp\n" in metadata and f"Version: {__version__}\n" in metadata
    assert "Requires-Dist: platformdirs" in metadata
    for command in ("shopdesk", "shopdesk-mcp"):
        assert f"{command} = shopdesk.__main__:main" in scripts
    assert "shopdesk-demo = shopdesk_demo.__main__:main" in scripts


def test_installed_away_from_the_checkout_it_imports_the_bundled_shop(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert installed.returncode == 0, installed.stderr
    # -S: no site processing, so not the checkout's editable install; the venv's libraries on the path instead.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(target), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]),
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
    )

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-S", *args], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    where = run(
        "-c",
        "import shopdesk.shopdata.tau2 as t, shopdesk.settings as s; print(t.BUNDLED_DB); print(s.default_db_path())",
    )
    bundled, default_db = map(Path, where.split())
    assert bundled.is_relative_to(target) and bundled.is_file()
    assert default_db == tmp_path / "xdg" / "shopdesk" / "shopdesk.sqlite3"  # the user's data folder on Linux
    shop = tmp_path / "tau2.sqlite3"
    out = run("-m", "shopdesk", "--db", str(shop), "import-tau2")
    assert "the bundled τ² retail shop" in out and "500 customers, " in out and "50 products, " in out, out
    assert shop.is_file()
    # On a fresh install the user's data folder does not exist yet; the first command makes it.
    assert not default_db.parent.exists()
    run("-m", "shopdesk", "init", "--customers", "3", "--orders", "3")
    assert default_db.is_file()


def test_importing_and_building_the_server_does_not_import_anthropic(tmp_path: Path) -> None:
    code = (
        "import sys, asyncio, pathlib\n"
        "import shopdesk.cli.main, shopdesk.transport.serve\n"
        "from shopdesk.app import build_server\n"
        "from shopdesk.settings import Settings\n"
        "s = build_server(Settings(db_path=pathlib.Path(sys.argv[1])))\n"
        "assert asyncio.run(s.list_tools())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('anthropic', 'shopdesk_demo')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "x.sqlite3")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


async def test_the_server_serves_with_anthropic_unimportable(tmp_path: Path) -> None:
    # A stand-in `anthropic` first on the path that refuses to be imported: `shopdesk serve` must not care.
    poison = tmp_path / "poison" / "anthropic"
    poison.mkdir(parents=True)
    (poison / "__init__.py").write_text("raise ImportError('the server must not import anthropic')\n")
    check = subprocess.run(
        [sys.executable, "-c", "import anthropic"],
        env={**os.environ, "PYTHONPATH": str(poison.parent)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "must not import anthropic" in check.stderr  # the stand-in really hides the library
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")}
    env["PYTHONPATH"] = os.pathsep.join([str(poison.parent), str(ROOT)])
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "shopdesk", "serve", "--db", str(tmp_path / "shop.sqlite3")],
        env=env,
        cwd=str(tmp_path),
    )
    async with connected(params) as client:
        assert (await client.call_tool("list_all_product_types", {})).structured_content
