"""`shopdesk backup DEST`: a consistent copy of a SQLite shop, also while a server writes to it.

The copy is SQLite's online backup API (`sqlite3.Connection.backup`) run in one step: the source is read
in one read transaction, so the copy is the shop as of one commit, and in WAL mode that read never holds up
the server's writes (they go on into the -wal; only the checkpoint waits until the copy is done). It copies
pages as they are, so it costs little more than reading the file; `VACUUM INTO` rebuilds every table and
index (a compacted file, but 3.1 s against 0.2 s for 84 MB, on a machine that is serving).

The copy is written to a hidden temporary name beside DEST, checked (`PRAGMA quick_check`), synced, and only
then linked into place: a half-made backup never has DEST's name, and an existing DEST is never replaced.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from pathlib import Path

from ..storage.sqlite import DatabaseUnavailable, check_is_shopdesk, read_only_uri, refuse_special_file, storage_problem

PG_DUMP_HINT = (
    "shopdesk backup copies SQLite shops; back up a PostgreSQL shop with pg_dump, "
    "e.g. pg_dump --format=custom --file=shop.dump DATABASE_URL"
)


def backup(source: Path, dest: Path) -> int:
    """Copy the shop at `source` to the new file `dest`; the size of the copy, in bytes."""
    if os.path.lexists(dest):
        raise DatabaseUnavailable(f"{dest} already exists; a backup never replaces a file, choose a new name")
    if not dest.parent.is_dir():
        raise DatabaseUnavailable(f"the folder {dest.parent} does not exist; create it or choose another DEST")
    refuse_special_file(source)
    if not source.is_file():
        raise DatabaseUnavailable(f"no database at {source}; nothing to back up")
    if not check_is_shopdesk(source):  # an empty file (or one that reads as empty, such as /proc/self/status)
        raise DatabaseUnavailable(f"{source} holds no shop; nothing to back up")
    partial = dest.with_name(f".{dest.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    try:
        _copy(source, partial)
        try:
            os.link(partial, dest)  # unlike rename, never replaces a DEST that appeared meanwhile
        except FileExistsError:
            raise DatabaseUnavailable(f"{dest} already exists; a backup never replaces a file") from None
        except OSError:
            if os.path.lexists(dest):
                raise
            os.rename(partial, dest)  # a file system without hard links
        _sync_folder(dest.parent)
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"could not back up to {dest}: {storage_problem(exc)}; nothing was left") from exc
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
    return dest.stat().st_size


def _open_source(source: Path) -> sqlite3.Connection:
    """The shop, for reading. A stopped shop (no -wal beside it) in a folder one may write to gets an ordinary
    connection kept to queries: SQLite's read-only mode would leave the -wal and -shm it makes beside the
    shop, where an ordinary connection, the last to close, removes them. Otherwise SQLite's read-only mode."""
    if Path(f"{source}-wal").exists() or "immutable=1" in read_only_uri(source):
        return sqlite3.connect(read_only_uri(source), uri=True, timeout=10)
    shop = sqlite3.connect(source, timeout=10)
    shop.execute("PRAGMA query_only = ON")
    return shop


def _copy(source: Path, partial: Path) -> None:
    with (
        contextlib.closing(_open_source(source)) as shop,
        contextlib.closing(sqlite3.connect(partial)) as copy,
    ):
        shop.backup(copy)  # pages=-1: all in one step, one read transaction (see the module's docstring)
        verdict = copy.execute("PRAGMA quick_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise DatabaseUnavailable(f"the copy of {source} failed its check ({verdict}); nothing was left")
    with open(partial, "rb+") as written:  # all of it on disk before it takes DEST's name
        os.fsync(written.fileno())


def _sync_folder(folder: Path) -> None:
    """The new name itself on disk (a power cut right after must not lose the link)."""
    with contextlib.suppress(OSError):  # some file systems cannot open a folder to sync it
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
