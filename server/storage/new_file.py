"""New SQLite shops: built in a temporary file beside their place and moved there only when complete."""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from .sqlite import Database, DatabaseUnavailable, storage_problem


def _remove_with_sidecars(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@asynccontextmanager
async def build_new(path: Path) -> AsyncIterator[Database]:
    """A new database at `path`, built in a temporary file beside it and moved into place only when
    the block completes; on any failure (bad input, a full disk, Ctrl-C) nothing is left at `path`."""
    if path.exists():
        raise DatabaseUnavailable(f"{path} already exists; choose another --db path or move it away first")
    if not path.parent.is_dir():
        raise DatabaseUnavailable(f"the folder {path.parent} does not exist; create it or choose another --db")
    building = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.building")
    try:
        try:
            db = await Database.open(building)
        except DatabaseUnavailable as exc:
            raise DatabaseUnavailable(f"cannot create {path}: {exc.__cause__ or exc}") from exc
        try:
            # Nothing relies on this file until it is moved into place, and a failed build is deleted
            # whole, so while the shop is written the writer syncs nothing to disk (the file is synced
            # once, below), and its cache holds the indexes a large shop's rows land all over instead of
            # writing and re-reading their pages in every batch (memory taken only as used; a million
            # orders use most of it). A million orders: 10 GB written and 35 s of system time -> 1.6 GB, 6 s.
            # Settings of this connection, not of the file: the finished file is an ordinary one.
            await db._writer.execute("PRAGMA synchronous = OFF")
            await db._writer.execute("PRAGMA cache_size = -524288")  # in KiB: at most 512 MiB
            yield db
        except BaseException:
            await db.close()
            raise
        await db.finish()
        with open(building, "rb+") as built:  # all of it on disk before it is moved into place
            os.fsync(built.fileno())
        try:
            os.link(building, path)  # unlike rename, never replaces a file that appeared meanwhile
        except FileExistsError:
            raise DatabaseUnavailable(
                f"{path} already exists; choose another --db path or move it away first"
            ) from None
        except OSError:
            if path.exists():
                raise
            os.rename(building, path)  # a file system without hard links
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"could not create {path}: {storage_problem(exc)}; nothing was left behind") from exc
    finally:
        _remove_with_sidecars(building)
