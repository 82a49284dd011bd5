"""stdio without threads: the SDK's stdio transport redone on pipes read and written by the event loop itself.

The SDK's `stdio_server()` reads stdin and writes stdout through anyio's file wrapper, which runs each
readline, write and flush on a worker thread: three hand-offs to a thread and back for every call, more
than a lookup costs shopdesk itself. Here the same pipes are read and written by the event loop's own pipe
transports, so waiting for a message is part of the loop's one wait for everything. The lines are framed
as the SDK's transport frames them; parsing and serialising stay the SDK's (its parser, its models).

Only pipes and sockets are served this way (what an MCP client launching shopdesk gives it). A terminal,
a regular file, or Windows keep the SDK's default. As the SDK does with its own files, fd 0 and fd 1 are
pointed away from the wire while serving (stdin at the null device, stdout at stderr), so a stray print
or a child process cannot corrupt a message; the wire is used through private duplicates.

A line longer than `max_line` (shopdesk's request size limit, as over HTTP) is not read into memory: it is
skipped, and answered with an error carrying its id when its start shows it. A line the SDK's parser refuses
is answered too (the SDK would drop it, leaving the client waiting): see unreadable_lines.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import sys
from collections.abc import Iterator

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCError, JSONRPCNotification, JSONRPCResponse, jsonrpc_message_adapter
from pydantic import ValidationError

from ..surface.mcp_server import ShopServer
from .unreadable_lines import HEAD_BYTES, internal_error_answer, too_long_answer, unreadable_answer, unusable_id_answer

log = logging.getLogger("shopdesk")


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


class _Wire:
    """The pipes' two ends: whole lines in (at most `max_line` bytes held), whole lines out."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_line: int) -> None:
        self._reader = reader
        self._writer = writer
        self.max_line = max_line

    async def line(self) -> bytes | _TooLong | None:
        """The next line; `_TooLong` (with the line's start) for one over the limit; None at the end of input."""
        try:
            line = await self._reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            line = exc.partial  # the last line, without its newline; nothing at the end of input
        except asyncio.LimitOverrunError as exc:
            head = await self._reader.readexactly(min(exc.consumed, HEAD_BYTES))  # known to precede the end
            await self._skip_line()
            return _TooLong(head)
        return line or None

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

    async def send(self, line: bytes) -> None:
        """Write one whole line (one write call, so lines from the reader and the writer never interleave);
        waits only when the pipe is full."""
        self._writer.write(line)
        await self._writer.drain()


class _TooLong:
    def __init__(self, head: bytes) -> None:
        self.head = head


async def _read(wire: _Wire, incoming: MemoryObjectSendStream[SessionMessage | Exception]) -> None:
    """Lines to messages for the server, parsed by the SDK's own parser; a line it cannot read is answered
    here (the SDK would drop it unanswered, see unreadable_lines.py)."""
    async with incoming:
        while (line := await wire.line()) is not None:
            if isinstance(line, _TooLong):
                await wire.send(too_long_answer(line.head, wire.max_line))
                continue
            text = line.decode("utf-8", errors="replace")
            try:
                message = jsonrpc_message_adapter.validate_json(text, by_name=False)
            except ValidationError as exc:
                answer = unreadable_answer(text, exc)
                if answer is not None:
                    await wire.send(answer)
                continue
            if isinstance(message, JSONRPCNotification) and (answer := unusable_id_answer(text)) is not None:
                await wire.send(answer)
                continue
            await incoming.send(SessionMessage(message))


async def _write(wire: _Wire, outgoing: MemoryObjectReceiveStream[SessionMessage]) -> None:
    """The server's messages, one line each, as the SDK's stdio transport writes them."""
    async with outgoing:
        async for session_message in outgoing:
            message = session_message.message
            try:
                line = message.model_dump_json(by_alias=True, exclude_unset=True).encode("utf-8") + b"\n"
            except ValueError:  # pydantic's serialisation error: text UTF-8 cannot carry (a lone surrogate)
                log.exception("could not encode a %s", type(message).__name__)
                if not isinstance(message, JSONRPCResponse | JSONRPCError):
                    continue
                line = internal_error_answer(message.id)
            await wire.send(line)


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
        wire = _Wire(reader, asyncio.StreamWriter(transport, protocol, None, loop), max_line)
        incoming_sender, incoming = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        outgoing, outgoing_receiver = anyio.create_memory_object_stream[SessionMessage](0)
        lowlevel = server._lowlevel_server
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_read, wire, incoming_sender)
                tasks.start_soon(_write, wire, outgoing_receiver)
                await lowlevel.run(incoming, outgoing, lowlevel.create_initialization_options())
        finally:
            transport.close()
