"""The server as clients really reach it: a subprocess over stdio (as Claude Desktop launches it), and HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from http_support import copy_shop, running
from mcp.client.stdio import StdioServerParameters
from shop_support import connected, server_env


@pytest.mark.slow
async def test_stdio_subprocess_creates_demo_shop_and_answers(tmp_path: Path) -> None:
    db_path = tmp_path / "new-shop.sqlite3"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "shopdesk", "serve", "--db", str(db_path)],
        env=server_env(),
        cwd=str(tmp_path),
    )
    async with connected(params) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert "cancel_pending_order" in tools
        page = (await client.call_tool("search_orders", {"limit": 2})).structured_content
        assert len(page["orders"]) == 2  # type: ignore[index]
        order_id = page["orders"][0]["order_id"]  # type: ignore[index]
        order = await client.call_tool("get_order_details", {"order_id": order_id})
        assert not order.is_error and order.structured_content["order_id"] == order_id  # type: ignore[index]
        refused = await client.call_tool("cancel_pending_order", {"order_id": "#W1", "reason": "no longer needed"})
        assert refused.is_error
    assert db_path.exists()


@pytest.mark.slow
async def test_streamable_http_on_loopback(http_server: str) -> None:
    async with connected(http_server) as client:
        result = await client.call_tool("list_all_product_types", {})
        assert not result.is_error and len(result.structured_content["product_types"]) > 5  # type: ignore[index]
        bad = await client.call_tool("get_order_details", {"order_id": "nope"})
        assert bad.is_error and "`order_id`" in bad.content[0].text  # type: ignore[union-attr]


@pytest.mark.slow
def test_http_binds_loopback_only_and_refuses_foreign_hosts(http_server: str) -> None:
    port = int(http_server.split(":")[2].split("/")[0])
    # Bound to 127.0.0.1 itself, not to every address: another loopback address gets no answer
    # (a server on 0.0.0.0 would accept this connection).
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", port), timeout=2).close()
    # DNS-rebinding protection: a request naming another host is turned away.
    response = httpx2.post(
        http_server,
        headers={
            "Host": "evil.example",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        },
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
    )
    assert response.status_code in (400, 403, 421)


@pytest.mark.slow
def test_stdio_stdout_carries_only_protocol_messages(tmp_path: Path) -> None:
    initialize = (
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
        '"capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}\n'
    )
    run = subprocess.run(
        [sys.executable, "-m", "shopdesk", "serve", "--db", str(tmp_path / "raw.sqlite3")],
        input=initialize,
        capture_output=True,
        text=True,
        env=server_env(),
        cwd=tmp_path,
        timeout=60,
    )
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert lines, run.stderr
    import json

    messages = [json.loads(line) for line in lines]
    assert all(m.get("jsonrpc") == "2.0" for m in messages)
    assert messages[0]["id"] == 1 and messages[0]["result"]["serverInfo"]["name"] == "shopdesk"
    assert "created a demo shop" in run.stderr  # logs go to stderr


@pytest.mark.slow
def test_a_dropped_http_stream_resumes_from_its_last_event(tmp_path: Path, tau2_template: Path) -> None:
    """The answer to a call survives a dropped SSE stream: reconnecting with Last-Event-ID replays it."""
    db = copy_shop(tau2_template, tmp_path)
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    hello = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    with running(db) as server, httpx2.Client(timeout=10) as http:
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello}
        opened = http.post(server.url, headers=headers, json=initialize)
        headers |= {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        http.post(server.url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_all_product_types"}}
        answer = http.post(server.url, headers=headers, json=call).text.replace("\r\n", "\n")
        events = [block for block in answer.split("\n\n") if block.strip()]
        priming, response = events[0], events[-1]
        assert "retry: 1000" in priming and '"id":2' in response
        first_id = priming.split("id: ")[1].split("\n")[0]
        replayed = []
        with http.stream("GET", server.url, headers={**headers, "last-event-id": first_id}) as stream:
            for line in stream.iter_lines():
                replayed.append(line)
                if line.startswith("data:"):
                    break
    assert "\n".join(replayed) == response.strip()


def test_the_http_socket_sends_small_answers_at_once() -> None:
    """TCP_NODELAY on the listening socket, inherited by each connection: an SSE answer does not wait for the
    client's delayed ACK (it cost about 40 ms a call)."""
    from shopdesk.transport.serve import listening_socket

    with listening_socket("127.0.0.1", 0) as listener:
        with socket.create_connection(listener.getsockname()):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
