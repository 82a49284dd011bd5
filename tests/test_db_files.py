"""Files that are no shop: refused as they are, with nothing made beside them; a shop in a read-only folder
still opens for reading."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from mcp.client.stdio import StdioServerParameters
from shop_support import connected, server_env

from shopdesk.storage.sqlite import Database, DatabaseUnavailable


def _shop(path: Path) -> None:
    """A new, empty shop (in WAL mode, as every shop), made in a thread of its own (the test's loop is busy)."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _new_shop(path)).result()


async def _new_shop(path: Path) -> None:
    await (await Database.open(path)).close()


def _other_app(journal: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute(f"PRAGMA journal_mode = {journal}")
            conn.execute("CREATE TABLE notes (body TEXT)")
            conn.commit()

    return make


def _newer_shop(path: Path) -> None:
    _shop(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT INTO schema_migrations VALUES ('9999_from_the_future', '2030-01-01')")


def _truncated_shop(path: Path) -> None:
    _shop(path)
    path.write_bytes(path.read_bytes()[: 3 * 4096])


def _corrupt_shop(path: Path) -> None:
    _shop(path)
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema's page, past the header
    path.write_bytes(bytes(data))


def _device(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a device file needs root (tests/test_cli.py tries /dev/null itself, and a pipe)")
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is


KINDS: dict[str, Callable[[Path], None]] = {
    "text": lambda path: path.write_text("name,email\nNoah,noah@example.com\n"),
    "directory": lambda path: path.mkdir(),
    "device": _device,
    "truncated shop": _truncated_shop,
    "corrupt shop": _corrupt_shop,
    "another app's database": _other_app("DELETE"),
    "another app's WAL database": _other_app("WAL"),
    "a newer shopdesk's shop": _newer_shop,
}


def _listing(folder: Path) -> dict[str, bytes | None]:
    """Every name in the folder, with the bytes of each regular file."""
    return {p.name: p.read_bytes() if p.is_file() and not p.is_fifo() else None for p in folder.iterdir()}


@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_refused_file_is_left_as_it_was_with_nothing_beside_it(
    tmp_path: Path, kind: str, read_only: bool
) -> None:
    path = tmp_path / "shop.sqlite3"
    KINDS[kind](path)
    before = _listing(tmp_path)
    with pytest.raises(DatabaseUnavailable) as refusal:
        await asyncio.wait_for(Database.open(path, create=False, read_only=read_only), timeout=30)
    assert "\n" not in str(refusal.value)
    assert _listing(tmp_path) == before  # no -journal, -wal or -shm; the file itself byte for byte


async def test_an_empty_file_is_refused_read_only_with_nothing_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite3"
    path.touch()
    with pytest.raises(DatabaseUnavailable, match="start shopdesk once without --read-only"):
        await Database.open(path, read_only=True)
    assert _listing(tmp_path) == {"shop.sqlite3": b""}


@contextmanager
def read_only_folder(folder: Path) -> Iterator[None]:
    folder.chmod(0o555)
    try:
        yield
    finally:
        folder.chmod(0o755)


async def test_a_shop_in_a_read_only_folder_opens_read_only_without_a_file_made(tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    folder.mkdir()
    _shop(folder / "shop.sqlite3")
    before = _listing(folder)
    # Even as root, who may write there anyway: SQLite must read it as immutable, making no -wal or -shm.
    with read_only_folder(folder):
        db = await Database.open(folder / "shop.sqlite3", read_only=True)
        try:
            assert await db.is_empty()
        finally:
            await db.close()
        assert _listing(folder) == before


@pytest.mark.slow
async def test_a_shop_in_a_read_only_folder_serves_read_only_and_prints_its_audit(tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    folder.mkdir()
    shop = folder / "shop.sqlite3"
    made = _shopdesk("init", "--db", str(shop), "--customers", "2", "--orders", "3", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    before = _listing(folder)
    with read_only_folder(folder):
        audit = _shopdesk("audit", "--db", str(shop), cwd=tmp_path)
        assert audit.returncode == 0 and audit.stderr == "", audit.stderr
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "shopdesk", "serve", "--read-only", "--db", str(shop)], env=server_env()
        )
        async with connected(params) as client:
            found = await client.call_tool("search_orders", {})
            assert not found.is_error and len(found.structured_content["orders"]) == 3  # type: ignore[index]
        assert _listing(folder) == before


def _shopdesk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopdesk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=server_env(),
        timeout=120,
    )
