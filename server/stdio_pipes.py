"""stdio without threads: the SDK's stdio transport, reading and writing pipes on the event loop itself.

The SDK's `stdio_server()` reads stdin and writes stdout through anyio's file wrapper, which runs each
readline, write and flush on a worker thread: three hand-offs to a thread and back for every call, more
than a lookup costs shopdesk itself. `stdio_server()` also takes the two files as arguments; here they
are the same pipes, read and written by the event loop's own pipe transports, so waiting for a message
is part of the loop's one wait for everything. The framing, parsing and serialising stay the SDK's.

Only pipes and sockets are served this way (what an MCP client launching shopdesk gives it). A terminal,
a regular file, or Windows keep the SDK's default. As the SDK does with its own files, fd 0 and fd 1 are
pointed away from the wire while serving (stdin at the null device, stdout at stderr), so a stray print
or a child process cannot corrupt a message; the wire is used through private duplicates.

A line longer than `max_line` (shopdesk's request size limit, as over HTTP) is not read into memory: it
is skipped and answered as the SDK answers any line that is not JSON-RPC.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from typing import Any, cast

import anyio
from mcp.server.stdio import stdio_server

from .mcp_server import ShopServer

_TOO_LONG = "(a line longer than shopdesk reads)"  # not JSON: the SDK reports it as a parse error


def _is_pipe(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def served_without_threads() -> bool:
    """Whether this process's stdin and stdout are both pipes (or sockets) the event loop can serve."""
    return sys.platform != "win32" and _is_pipe(0) and _is_pipe(1)


def _stderr_or_nowhere() -> int:
    try:
        return os.dup(2)
    except OSError:  # no stderr: stray output goes nowhere rather than onto the wire
        return os.open(os.devnull, os.O_WRONLY)


@contextlib.contextmanager
def _diverted(fd: int, diversion: int) -> Iterator[int]:
    """`fd` pointed at `diversion` while serving; yields a private duplicate of what it was (the wire)."""
    import fcntl  # POSIX only, as this way of serving is; imported here so the module loads on Windows

    wire = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    saved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.dup2(diversion, fd)
    os.close(diversion)
    try:
        yield wire
    finally:
        os.dup2(saved, fd)
        os.close(saved)


class _Lines:
    """stdin's lines as the SDK iterates them (`async for line in stdin`)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        try:
            line = await self._reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            line = exc.partial  # the last line, without its newline; nothing at the end of input
        except asyncio.LimitOverrunError:
            await self._skip_line()
            return _TOO_LONG
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")

    async def _skip_line(self) -> None:
        """Drop the rest of an over-long line, never holding more of it than the limit."""
        while True:
            try:
                await self._reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as exc:
                await self._reader.readexactly(exc.consumed)  # bytes known to come before the line's end
            except asyncio.IncompleteReadError:
                return


class _Output:
    """stdout as the SDK writes it: `write` then `flush`, which waits only when the pipe is full."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> int:
        self._writer.write(text.encode("utf-8"))
        return len(text)

    async def flush(self) -> None:
        await self._writer.drain()


async def run_stdio(server: ShopServer, *, max_line: int) -> None:
    """Serve `server` over stdio: on the event loop's pipes when it can, else the SDK's default way."""
    if not served_without_threads():
        await server.run_stdio_async()
        return
    loop = asyncio.get_running_loop()
    with (
        _diverted(0, os.open(os.devnull, os.O_RDONLY)) as wire_in,
        _diverted(1, _stderr_or_nowhere()) as wire_out,
    ):
        reader = asyncio.StreamReader(limit=max_line)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", 0))
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", 0)
        )
        writer = asyncio.StreamWriter(transport, protocol, None, loop)
        stdin = cast(anyio.AsyncFile[str], cast(Any, _Lines(reader)))
        stdout = cast(anyio.AsyncFile[str], cast(Any, _Output(writer)))
        lowlevel = server._lowlevel_server
        try:
            async with stdio_server(stdin=stdin, stdout=stdout) as (read_stream, write_stream):
                await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
        finally:
            transport.close()
