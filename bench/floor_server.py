"""The floor for bench/mcp_bench.py: a bare MCP SDK server with one no-op tool and nothing else.

    .venv/bin/python bench/floor_server.py                    # stdio
    .venv/bin/python bench/floor_server.py --port 8123        # Streamable HTTP at http://127.0.0.1:8123/mcp

What a call to it costs is what any server built on the SDK pays for the protocol and the transport, so
shopdesk's tools are measured as a ratio to it. Over HTTP it runs under uvicorn as `shopdesk serve` does
(same log level), but with the SDK's default Streamable HTTP options.
"""

from __future__ import annotations

import argparse

import anyio
import uvicorn
from mcp.server import MCPServer

server = MCPServer("floor")


@server.tool()
def noop(order_id: str) -> str:
    """Does nothing: returns its argument."""
    return order_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=None, help="serve Streamable HTTP on this port (else stdio)")
    args = parser.parse_args()
    if args.port is None:
        anyio.run(server.run_stdio_async)
        return
    app = server.streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning", log_config=None)
    anyio.run(uvicorn.Server(config).serve)


if __name__ == "__main__":
    main()
