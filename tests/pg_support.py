"""A throwaway PostgreSQL server on 127.0.0.1 for the tests and the bench.

`PostgresServer.start()` runs initdb into a fresh temporary folder and starts `postgres` on a free port
(listening on 127.0.0.1 only, with its socket in that folder), trusting local connections. PostgreSQL
refuses to run as root; as root, it is started as the `postgres` account that Debian's package makes.
`stop()` stops it and removes the folder. Nothing here touches a system cluster.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Debian puts the server programs under a versioned folder; PATH may have them too.
_BIN_FOLDERS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def postgres_bin(program: str) -> str | None:
    for folder in _BIN_FOLDERS:
        if (folder / program).exists():
            return str(folder / program)
    return shutil.which(program)


def unavailable_reason() -> str | None:
    """Why a PostgreSQL server cannot be started here, or None if it can."""
    for program in ("initdb", "pg_ctl", "postgres"):
        if postgres_bin(program) is None:
            return f"PostgreSQL's {program} is not installed (Debian: apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no 'postgres' account to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self, folder: Path, port: int, user: str) -> None:
        self.folder = folder
        self.port = port
        self.user = user  # the superuser's name inside the cluster

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls) -> PostgresServer:
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        folder = Path(tempfile.mkdtemp(prefix="shopdesk-pg-"))
        as_root = os.geteuid() == 0
        account = pwd.getpwnam("postgres") if as_root else pwd.getpwuid(os.geteuid())
        if as_root:
            os.chown(folder, account.pw_uid, account.pw_gid)
        data = folder / "data"
        port = _free_port()
        # The server needs neither durability nor logging of its own here: it is thrown away after the run.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c shared_buffers=64MB"
        )
        cls._run(
            as_root,
            [
                postgres_bin("initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                account.pw_name,
                "--locale=C.UTF-8",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )
        cls._run(
            as_root,
            [
                postgres_bin("pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        return cls(folder, port, account.pw_name)

    @staticmethod
    def _run(as_root: bool, command: list[str | None]) -> None:
        args = [str(part) for part in command]
        if as_root:
            args = ["runuser", "-u", "postgres", "--", *args]
        result = subprocess.run(args, capture_output=True, text=True, cwd="/")
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[-1]).name} failed: {(result.stderr or result.stdout).strip()[-2000:]}")

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run(
                os.geteuid() == 0,
                [postgres_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop"],
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "server.log").read_text(errors="replace")[-4000:]
        return ""


@contextlib.contextmanager
def running() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()
