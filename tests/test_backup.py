"""`shopdesk backup`: a consistent copy of a shop while it serves, never over an existing file, never half made."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from shop_support import connected, server_env

pytestmark = pytest.mark.slow  # every test runs the shopdesk CLI or an HTTP server as a process


def shopdesk(*args: str, cwd: Path, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "shopdesk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=server_env(),
        timeout=120,
    )


def one_line_failure(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2, (run.returncode, run.stderr)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("shopdesk: error: "), run.stderr
    return lines[0]


def make_shop(path: Path, orders: int = 3) -> None:
    made = shopdesk("init", "--db", str(path), "--customers", "20", "--orders", str(orders), cwd=path.parent)
    assert made.returncode == 0, made.stderr


def serving(path: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "shopdesk", "serve", "--db", str(path)], env=server_env()
    )


def load_tickets(path: Path) -> list[str]:
    """The subjects of the tickets the writer opened, in the order they were written (their subjects count
    up; ticket ids are random)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT subject FROM tickets WHERE subject LIKE 'load %' ORDER BY subject").fetchall()
    return [row[0] for row in rows]


async def test_a_backup_under_write_load_holds_every_write_acknowledged_before_it_and_restores(tmp_path: Path) -> None:
    shop, copy = tmp_path / "shop.sqlite3", tmp_path / "backup.sqlite3"
    make_shop(shop, orders=3000)
    with closing(sqlite3.connect(shop)) as conn:
        (user_id,) = conn.execute("SELECT user_id FROM customers LIMIT 1").fetchone()
    acknowledged: list[str] = []  # subjects, in order, of the tickets the server said it opened
    ticket_ids: dict[str, str] = {}
    backup_done = asyncio.Event()

    async def write(client: Client) -> None:
        # One write after another until the backup is over: a sequence, so a consistent copy holds a prefix of it.
        while not backup_done.is_set() or len(acknowledged) < 10:
            subject = f"load {len(acknowledged):05d}"
            result = await client.call_tool(
                "create_ticket", {"user_id": user_id, "subject": subject, "message": "a write under load"}
            )
            assert not result.is_error, result.content
            ticket_ids[subject] = result.structured_content["ticket_id"]  # type: ignore[index]
            acknowledged.append(subject)
            if len(acknowledged) == 10:
                started.set()

    started = asyncio.Event()
    async with connected(serving(shop)) as client:
        writer = asyncio.create_task(write(client))
        await started.wait()
        before = list(acknowledged)  # acknowledged before the backup began
        backup = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "shopdesk", "backup", str(copy), "--db", str(shop), env=server_env(), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await backup.communicate()
        backup_done.set()
        await writer
        assert backup.returncode == 0, err.decode()
        assert b"backed up" in out
    with closing(sqlite3.connect(f"file:{copy}?mode=ro", uri=True)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    in_copy = load_tickets(copy)
    assert in_copy == acknowledged[: len(in_copy)]  # the writes of one moment: a prefix, no gaps, no strays
    assert len(in_copy) >= len(before)

    # Restore as docs/deployment.md says: the server is stopped; copy the backup over the shop, without its -wal/-shm.
    for suffix in ("-wal", "-shm"):
        Path(f"{shop}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(copy, shop)
    async with connected(serving(shop)) as client:
        for subject in before:
            ticket = await client.call_tool("get_ticket", {"ticket_id": ticket_ids[subject]})
            assert not ticket.is_error and ticket.structured_content["subject"] == subject  # type: ignore[index]
    assert load_tickets(shop) == in_copy and set(before) <= set(in_copy)


def test_a_backup_of_a_stopped_shop_leaves_its_folder_as_it_was(tmp_path: Path) -> None:
    shop, dest = tmp_path / "shop" / "shop.sqlite3", tmp_path / "backup.sqlite3"
    shop.parent.mkdir()
    make_shop(shop)
    before = {p.name: p.read_bytes() for p in shop.parent.iterdir()}
    run = shopdesk("backup", str(dest), "--db", str(shop), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert {p.name: p.read_bytes() for p in shop.parent.iterdir()} == before  # no -wal or -shm left beside it
    with closing(sqlite3.connect(dest)) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (3,)


def test_backup_refuses_an_existing_destination_and_leaves_it_untouched(tmp_path: Path) -> None:
    shop, dest = tmp_path / "shop.sqlite3", tmp_path / "yesterday.sqlite3"
    make_shop(shop)
    dest.write_bytes(b"last night's backup")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert "yesterday.sqlite3 already exists" in one_line_failure(
        shopdesk("backup", str(dest), "--db", str(shop), cwd=tmp_path)
    )
    assert dest.read_bytes() == b"last night's backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs util-linux prlimit")
def test_a_backup_that_fails_half_way_leaves_nothing_that_looks_like_a_shop(tmp_path: Path) -> None:
    shop, dest = tmp_path / "shop.sqlite3", tmp_path / "backup.sqlite3"
    make_shop(shop, orders=3000)
    assert shop.stat().st_size > 2_000_000
    # A file size limit: writes past 1 MB fail as on a full disk, half way through the copy.
    full = shopdesk("backup", str(dest), "--db", str(shop), cwd=tmp_path, prefix=("prlimit", "--fsize=1000000"))
    assert "nothing was left" in one_line_failure(full)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("shop.sqlite3")) == []


def test_backup_of_a_postgresql_shop_points_to_pg_dump(tmp_path: Path) -> None:
    run = shopdesk("backup", "shop.dump", "--db", "postgresql://shop:secret@127.0.0.1:1/shop", cwd=tmp_path)
    line = one_line_failure(run)
    assert "pg_dump" in line and "secret" not in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("source", ["empty", "/proc/self/status"])
def test_a_source_that_holds_no_shop_is_refused(tmp_path: Path, source: str) -> None:
    """An empty file, or one that reads as empty (a /proc file), is no shop: nothing to back up, nothing made."""
    path = tmp_path / "empty.sqlite3" if source == "empty" else Path(source)
    if source == "empty":
        path.write_bytes(b"")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert "holds no shop" in one_line_failure(shopdesk("backup", "copy.sqlite3", "--db", str(path), cwd=tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == before
