"""stdio on the loop's own pipes (transport/stdio_pipes.py): what a client launching shopdesk gets."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from http_support import copy_shop
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR
from shop_support import connected, server_env

pytestmark = pytest.mark.slow  # starts shopdesk over stdio as a process

# A shopdesk server with one more tool, which writes to stdout every way a careless tool or library might.
_STRAY_SERVER = """
import functools, os, subprocess, sys
from pathlib import Path

import anyio

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.transport.stdio_pipes import run_stdio, served_without_threads

server = build_server(Settings(db_path=Path(sys.argv[1])))
PIPES = served_without_threads()  # asked before serving: while serving, fds 0 and 1 point elsewhere


@server.tool()
async def stray() -> str:
    print("stray print")
    sys.stdout.flush()
    os.write(1, b"stray write\\n")
    subprocess.run([sys.executable, "-c", "print('stray child')"], check=True)
    return "served without threads" if PIPES else "served by the SDK's files"


anyio.run(functools.partial(run_stdio, server, max_line=64 * 1024))
"""


# A shopdesk server with a tool whose answer UTF-8 cannot carry.
_UNENCODABLE_SERVER = """
import functools, sys
from pathlib import Path

import anyio

from shopdesk.app import build_server
from shopdesk.settings import Settings
from shopdesk.transport.stdio_pipes import run_stdio

server = build_server(Settings(db_path=Path(sys.argv[1])))


@server.tool()
async def lone_surrogate() -> str:
    return "\\ud800"


anyio.run(functools.partial(run_stdio, server, max_line=64 * 1024))
"""


async def test_an_answer_utf8_cannot_carry_becomes_an_error_answer_and_the_server_goes_on(
    tmp_path: Path, tau2_template: Path
) -> None:
    db = copy_shop(tau2_template, tmp_path)
    script = tmp_path / "unencodable_server.py"
    script.write_text(_UNENCODABLE_SERVER)
    params = StdioServerParameters(
        command=sys.executable, args=[str(script), str(db)], env=server_env(), cwd=str(tmp_path)
    )
    with (tmp_path / "stderr.txt").open("w") as errlog:
        async with connected(stdio_client(params, errlog=errlog)) as client:
            with pytest.raises(MCPError) as failed:
                await client.call_tool("lone_surrogate", {}, read_timeout_seconds=30)
            assert failed.value.error.code == INTERNAL_ERROR
            assert not (await client.call_tool("list_all_product_types", {})).is_error


async def test_stray_output_on_stdout_goes_to_stderr_and_every_answer_arrives(
    tmp_path: Path, tau2_template: Path
) -> None:
    db = copy_shop(tau2_template, tmp_path)
    script = tmp_path / "stray_server.py"
    script.write_text(_STRAY_SERVER)
    errors = tmp_path / "stderr.txt"
    params = StdioServerParameters(
        command=sys.executable, args=[str(script), str(db)], env=server_env(), cwd=str(tmp_path)
    )
    with errors.open("w") as errlog:
        async with connected(stdio_client(params, errlog=errlog)) as client:
            for _ in range(3):
                answer = await client.call_tool("stray", {})
                assert not answer.is_error
                assert answer.content[0].text == "served without threads"  # type: ignore[union-attr]
            page = await client.call_tool("search_orders", {"limit": 3})
            assert len(page.structured_content["orders"]) == 3  # type: ignore[index]
    logged = errors.read_text()
    for stray in ("stray print", "stray write", "stray child"):
        assert logged.count(stray) == 3


async def _exchange(db: Path, lines: list[bytes], answers: set[int | None]) -> dict[int | None, dict[str, Any]]:
    """Send `lines` to `shopdesk serve` over pipes (in one write), and read until the given ids are answered
    (None: an answer with id null)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shopdesk", "serve", "--db", str(db),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        env=server_env(), limit=1 << 20,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"".join(lines))
    got: dict[int | None, dict[str, Any]] = {}
    try:
        while not answers <= set(got):
            line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
            assert line, f"the server stopped; answered {sorted(got, key=str)}"
            message = json.loads(line)
            if isinstance(message.get("id"), int) or message.get("id", "") is None:
                got[message["id"]] = message
    finally:
        process.stdin.close()
        await process.wait()
    return got


def _message(id_: int, method: str, params: dict[str, Any]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params}).encode() + b"\n"


_HELLO = [
    _message(
        1,
        "initialize",
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    ),
    b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n',
]


async def test_a_line_over_the_size_limit_is_refused_by_its_id_and_the_next_one_answered(
    tmp_path: Path, tau2_template: Path
) -> None:
    db = copy_shop(tau2_template, tmp_path)
    oversized = _message(2, "tools/call", {"name": "search_customers", "arguments": {"name": "x" * 400_000}})
    after = _message(3, "tools/call", {"name": "list_all_product_types", "arguments": {}})
    answers = await _exchange(db, [*_HELLO, oversized, after], {1, 2, 3})
    assert answers[2]["error"]["code"] == INVALID_REQUEST  # never read whole, so never answered as a call
    assert "longer than the 262,144 bytes" in answers[2]["error"]["message"]
    assert answers[3]["result"]["structuredContent"]["product_types"]
    # A line just under the limit is read and answered (here: refused for its argument, as a call).
    near = _message(2, "tools/call", {"name": "search_customers", "arguments": {"name": "x" * 200_000}})
    answers = await _exchange(db, [*_HELLO, near], {1, 2})
    assert answers[2]["result"]["isError"]


async def test_a_line_over_the_size_limit_with_its_id_after_the_params_is_refused_with_id_null(
    tmp_path: Path, tau2_template: Path
) -> None:
    db = copy_shop(tau2_template, tmp_path)
    params = {"name": "search_customers", "arguments": {"name": "x" * 400_000}}
    late_id = json.dumps({"jsonrpc": "2.0", "method": "tools/call", "params": params, "id": 2}).encode() + b"\n"
    after = _message(3, "tools/call", {"name": "list_all_product_types", "arguments": {}})
    answers = await _exchange(db, [*_HELLO, late_id, after], {1, None, 3})
    assert answers[None]["error"]["code"] == INVALID_REQUEST
    assert "result" in answers[3]


@pytest.mark.parametrize("unusable", ["1.5", "1e2", "true", "null", "[1]"])
async def test_a_request_whose_id_is_no_string_or_integer_is_answered_with_id_null(
    tmp_path: Path, tau2_template: Path, unusable: str
) -> None:
    """The SDK's parser takes it for a notification (and drops it): its sender would wait for good."""
    db = copy_shop(tau2_template, tmp_path)
    odd = b'{"jsonrpc": "2.0", "id": ' + unusable.encode() + b', "method": "ping"}\n'
    after = _message(3, "ping", {})
    answers = await _exchange(db, [*_HELLO, odd, after], {1, None, 3})
    assert answers[None]["error"]["code"] == INVALID_REQUEST
    assert "string or an integer" in answers[None]["error"]["message"]
    assert "result" in answers[3]


async def test_a_request_with_a_lone_surrogate_is_answered_with_a_parse_error(
    tmp_path: Path, tau2_template: Path
) -> None:
    db = copy_shop(tau2_template, tmp_path)
    lone = _message(2, "tools/call", {"name": "search_customers", "arguments": {"name": "\ud800"}})
    assert b"\\ud800" in lone  # escaped, as JSON allows and Python's json reads
    after = _message(3, "tools/call", {"name": "list_all_product_types", "arguments": {}})
    answers = await _exchange(db, [*_HELLO, lone, after], {1, 2, 3})
    assert answers[2]["error"]["code"] == PARSE_ERROR
    assert "surrogate" in answers[2]["error"]["message"]
    assert "result" in answers[3]


async def test_the_official_client_gets_an_error_for_a_1_mb_argument_not_a_timeout(
    tmp_path: Path, tau2_template: Path
) -> None:
    db = copy_shop(tau2_template, tmp_path)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "shopdesk", "serve", "--db", str(db)], env=server_env(), cwd=str(tmp_path)
    )
    with (tmp_path / "stderr.txt").open("w") as errlog:
        async with connected(stdio_client(params, errlog=errlog)) as client:
            with pytest.raises(MCPError) as refused:
                # Before, the server never answered: this waited for the client's own timeout.
                await client.call_tool("search_customers", {"name": "x" * 1_000_000}, read_timeout_seconds=30)
            assert refused.value.error.code == INVALID_REQUEST, refused.value.error
            assert not (await client.call_tool("list_all_product_types", {})).is_error


async def test_many_messages_in_one_write_are_each_answered(tmp_path: Path, tau2_template: Path) -> None:
    db = copy_shop(tau2_template, tmp_path)
    calls = [_message(n, "tools/call", {"name": "list_all_product_types", "arguments": {}}) for n in range(2, 12)]
    answers = await _exchange(db, [*_HELLO, *calls], set(range(1, 12)))
    assert all("result" in answers[n] and not answers[n]["result"]["isError"] for n in range(2, 12))


def test_stdio_is_served_without_threads_only_on_pipes(tmp_path: Path) -> None:
    probe = [sys.executable, "-c", "from shopdesk.transport.stdio_pipes import served_without_threads as s; print(s())"]
    piped = subprocess.run(probe, stdin=subprocess.PIPE, capture_output=True, env=server_env(), check=True)
    assert piped.stdout.strip() == b"True"
    a_file = tmp_path / "input.txt"
    a_file.write_text("")
    with a_file.open("rb") as stdin:
        from_file = subprocess.run(probe, stdin=stdin, capture_output=True, env=server_env(), check=True)
    assert from_file.stdout.strip() == b"False"
    out = tmp_path / "out.txt"
    with out.open("wb") as stdout:
        subprocess.run(probe, stdin=subprocess.PIPE, stdout=stdout, env=server_env(), check=True)
    assert out.read_bytes().strip() == b"False"
