"""The command line's shape: every command and flag of `shopdesk`, their help, and the environment
variables table that --help prints. A usage mistake is one line and exit code 2, like any start-up failure.
"""

from __future__ import annotations

import argparse
import shutil
import textwrap
from pathlib import Path
from typing import NoReturn

from .. import __version__
from ..settings import ENVIRONMENT, Settings
from ..tools.toolsets import TOOLSETS
from . import audit as cli_audit
from . import flag_types
from . import operators as cli_operators
from . import tokens as cli_tokens

_WIDEST = max(map(len, ENVIRONMENT))
_EPILOG = (
    "environment variables (a flag wins over its variable):\n"
    + "\n".join(f"  {name:<{_WIDEST}}  {meaning}" for name, meaning in ENVIRONMENT.items())
    + "\n\nRun `shopdesk COMMAND --help` for a command's own options."
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line, like every other start-up failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _paragraph(text: str) -> str:
    return textwrap.fill(text, width=min(shutil.get_terminal_size().columns, 100) - 2)


def build_parser(defaults: Settings) -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter  # keeps the epilog's table; descriptions are filled here
    parser = _Parser(
        prog="shopdesk",
        description="A shop's customer-service tools (customers, orders, products, tickets) over MCP.",
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"shopdesk {__version__}")
    db_help = f"the database file, or a postgresql:// URL (default {defaults.db_location})"
    parser.add_argument("--db", type=flag_types.database, default=defaults.db_url or defaults.db_path, help=db_help)
    # --db is accepted before or after the command: `shopdesk --db x serve` and `shopdesk serve --db x`.
    common = _Parser(add_help=False)
    common.add_argument("--db", type=flag_types.database, default=argparse.SUPPRESS, help=db_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="run the MCP server (the default command)",
        description=_paragraph(
            "Run the MCP server. Over stdio (what Claude Desktop and IDEs launch) it waits quietly for a "
            "client on stdin; stop it with Ctrl-C, or by closing its input (Ctrl-D). A database file that does not "
            "exist yet is created with a demo shop."
        ),
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    serve.add_argument(
        "--transport",
        choices=["stdio", "http"],
        default="stdio",
        help="stdio for Claude Desktop and IDEs (default), or Streamable HTTP at http://HOST:PORT/mcp",
    )
    serve.add_argument("--host", default=defaults.host, help=f"HTTP address to bind (default {defaults.host})")
    serve.add_argument(
        "--port", type=flag_types.port, default=defaults.port, help=f"HTTP port (default {defaults.port})"
    )
    serve.add_argument(
        "--read-only",
        action="store_true",
        default=defaults.read_only,
        help="offer only read tools, on a read-only database connection",
    )
    serve.add_argument("--customer", default=defaults.customer, help="serve only this customer's records (a user id)")
    serve.add_argument(
        "--auth-file",
        type=Path,
        default=defaults.auth_file,
        help="bearer tokens for HTTP (default: the .auth.json beside the database, if there is one)",
    )
    serve.add_argument(
        "--no-auth-i-know",
        action="store_true",
        help="serve HTTP on a non-loopback address with no tokens: anyone who reaches it has full access",
    )
    serve.add_argument("--public-url", default=defaults.public_url, help="the URL clients use to reach /mcp")
    serve.add_argument(
        "--oauth-server",
        action="store_true",
        default=defaults.oauth_server,
        help="be an OAuth authorization server for MCP clients: operators (`shopdesk operator add`) approve apps "
        "on a consent page",
    )
    serve.add_argument(
        "--oauth-issuer",
        default=defaults.oauth_issuer,
        metavar="URL",
        help="accept access tokens from this identity provider (its issuer URL, exactly), beside the auth file",
    )
    serve.add_argument(
        "--oauth-scope-map",
        default=defaults.oauth_scope_map,
        metavar="A=B,...",
        help="the provider's scope names as shopdesk's, e.g. api://shop/Orders.Read=orders:read",
    )
    serve.add_argument(
        "--oauth-customer-claim",
        default=defaults.oauth_customer_claim,
        metavar="NAME",
        help="bind a session to the customer named in this claim of its token",
    )
    serve.add_argument(
        "--oauth-introspection-url",
        default=defaults.oauth_introspection_url,
        metavar="URL",
        help="check opaque tokens here (RFC 7662), as SHOPDESK_OAUTH_CLIENT_ID and SHOPDESK_OAUTH_CLIENT_SECRET",
    )
    serve.add_argument(
        "--allowed-hosts",
        type=flag_types.names,
        default=defaults.allowed_hosts,
        help="more Host headers to accept, comma-separated host:port",
    )
    serve.add_argument(
        "--allowed-origins", type=flag_types.names, default=defaults.allowed_origins, help="more Origins to accept"
    )
    serve.add_argument(
        "--stateless",
        action="store_true",
        default=defaults.stateless,
        help="HTTP without sessions: each request stands alone, so replicas behind a load balancer can "
        "share clients (use with a postgresql:// --db)",
    )
    serve.add_argument(
        "--session-idle-timeout",
        type=float,
        default=defaults.session_idle_timeout,
        metavar="SECONDS",
        help=f"close an HTTP session idle this long (default {defaults.session_idle_timeout:g})",
    )
    serve.add_argument(
        "--max-sessions",
        type=int,
        default=defaults.max_sessions,
        help=f"the most HTTP sessions open at once (default {defaults.max_sessions})",
    )
    serve.add_argument(
        "--max-sessions-per-token",
        type=lambda text: flag_types.whole_number(text, least=1),
        default=defaults.max_sessions_per_token,
        metavar="N",
        help=f"the most HTTP sessions one token may hold open (default {defaults.max_sessions_per_token})",
    )
    serve.add_argument(
        "--rate-limit",
        type=flag_types.rate,
        default=defaults.rate_limit,
        metavar="PER_SECOND",
        help=f"HTTP requests a second one token may make on average, 0 for no limit "
        f"(default {defaults.rate_limit:g}; never applied without tokens)",
    )
    serve.add_argument(
        "--rate-burst",
        type=lambda text: flag_types.whole_number(text, least=1),
        default=defaults.rate_burst,
        metavar="N",
        help=f"HTTP requests one token may make at once before --rate-limit applies (default {defaults.rate_burst})",
    )
    serve.add_argument(
        "--read-timeout",
        type=flag_types.seconds,
        default=defaults.read_timeout,
        metavar="SECONDS",
        help=f"drop a connection that has not sent its whole request in this time (default {defaults.read_timeout:g})",
    )
    serve.add_argument(
        "--metrics-token",
        default=defaults.metrics_token,
        help="require this bearer token for /metrics (better set SHOPDESK_METRICS_TOKEN: flags show in `ps`)",
    )
    serve.add_argument(
        "--metrics-port",
        type=flag_types.port,
        default=defaults.metrics_port,
        help="serve /metrics on this port instead of --port",
    )
    serve.add_argument(
        "--metrics-host",
        default=defaults.metrics_host,
        help=f"the address --metrics-port binds (default {defaults.metrics_host})",
    )
    serve.add_argument(
        "--confirm",
        choices=["auto", "always", "off"],
        default=defaults.confirm,
        help="how the person confirms destructive writes: auto (elicitation where the client can, else go ahead; "
        "default), always (elicitation, else a two-step token), off",
    )
    serve.add_argument(
        "--log-format", choices=["text", "json"], default=defaults.log_format, help="text, or one JSON object a line"
    )
    serve.add_argument(
        "--toolsets",
        type=flag_types.names,
        default=defaults.toolsets,
        help=f"offer only these toolsets, comma-separated: {', '.join(TOOLSETS)} or all (default all)",
    )
    serve.add_argument(
        "--tools",
        type=flag_types.names,
        default=defaults.tools,
        help="offer these tools as well, comma-separated names",
    )
    commands.add_parser(
        "tools",
        help="list the toolsets and their tools",
        description="List the toolsets and the tools in each, for --toolsets and --tools.",
    )

    init = commands.add_parser(
        "init",
        parents=[common],
        help="create a database filled with a generated demo shop",
        description=_paragraph(
            "Create a new database filled with a generated shop; the same seed gives the same shop. "
            "Refuses a --db that already exists; on failure nothing is left behind."
        ),
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    init.add_argument(
        "--customers", type=flag_types.customers, default=defaults.seed_customers, help="how many customers"
    )
    init.add_argument("--orders", type=flag_types.orders, default=defaults.seed_orders, help="how many orders")
    init.add_argument("--seed", type=int, default=defaults.seed, help="random seed: same seed, same shop")

    imp = commands.add_parser(
        "import-tau2",
        parents=[common],
        help="create a database from a τ²-bench retail db.json (by default the bundled one)",
        description=_paragraph(
            "Create a new database from a τ²-bench retail db.json (plain or gzipped). With no file, "
            "imports the copy that ships in data/tau2-retail/. Refuses a --db that already exists."
        ),
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    imp.add_argument("file", type=Path, nargs="?", default=None, help="the db.json to import (default: bundled)")
    exp = commands.add_parser(
        "export-tau2",
        parents=[common],
        help="write the database as a τ²-bench retail db.json",
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    exp.add_argument("file", type=Path, help="output file, or - for stdout")

    backup = commands.add_parser(
        "backup",
        parents=[common],
        help="copy the SQLite shop to a new file, also while it serves",
        description=_paragraph(
            "Copy the SQLite shop to DEST as of one moment, also while a server writes to it (SQLite's online "
            "backup). Refuses a DEST that exists; DEST appears only when the copy is complete and checked. "
            "Restore: stop the server, copy the backup over the shop file, delete the shop's -wal and -shm, "
            "start it; or serve the backup itself with --db. A PostgreSQL shop is backed up with pg_dump."
        ),
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    backup.add_argument("dest", type=Path, metavar="DEST", help="the new backup file (must not exist yet)")
    cli_tokens.add_commands(commands, common, _EPILOG)
    cli_operators.add_commands(commands, common, _EPILOG)
    cli_audit.add_command(commands, common, _EPILOG)
    commands.add_parser("version", help="print the version")
    return parser
