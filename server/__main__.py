"""The shopdesk command line: serve, init, import-tau2, export-tau2, backup, token, audit, version.

On stdio only MCP protocol goes to stdout; every log line goes to stderr. Every failure to
start is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from . import __version__, cli_audit, cli_tokens
from .backup import PG_DUMP_HINT, backup
from .database import ShopDatabase, open_database
from .db import DatabaseUnavailable, build_new
from .oauth import cli as oauth_cli
from .observability import configure_logging, configure_tracing
from .progress import Progress
from .settings import ENVIRONMENT, Settings, SettingsError, default_db_path, is_database_url, parse_port
from .toolsets import TOOLSETS

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


def _port(text: str) -> int:
    try:
        return parse_port(text)
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _whole_number(text: str, *, least: int) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text[:20]!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"expected a number of {least} or more, not {value}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of requests a second, not {text[:20]!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected 0 (no limit) or more, not {text[:20]!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text[:20]!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text[:20]!r}")
    return value


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _database(text: str) -> Path | str:
    """--db: a SQLite file's path, or a PostgreSQL URL."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a database file or a postgresql:// URL, not an empty value")
    return text if is_database_url(text) else Path(text)


def _customers(text: str) -> int:
    return _whole_number(text, least=1)


def _orders(text: str) -> int:
    return _whole_number(text, least=0)


def _paragraph(text: str) -> str:
    return textwrap.fill(text, width=min(shutil.get_terminal_size().columns, 100) - 2)


def _parser(defaults: Settings) -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter  # keeps the epilog's table; descriptions are filled here
    parser = _Parser(
        prog="shopdesk",
        description="A shop's customer-service tools (customers, orders, products, tickets) over MCP.",
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"shopdesk {__version__}")
    db_help = f"the database file, or a postgresql:// URL (default {defaults.db_location})"
    parser.add_argument("--db", type=_database, default=defaults.db_url or defaults.db_path, help=db_help)
    # --db is accepted before or after the command: `shopdesk --db x serve` and `shopdesk serve --db x`.
    common = _Parser(add_help=False)
    common.add_argument("--db", type=_database, default=argparse.SUPPRESS, help=db_help)
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
    serve.add_argument("--port", type=_port, default=defaults.port, help=f"HTTP port (default {defaults.port})")
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
        "--allowed-hosts",
        type=_names,
        default=defaults.allowed_hosts,
        help="more Host headers to accept, comma-separated host:port",
    )
    serve.add_argument(
        "--allowed-origins", type=_names, default=defaults.allowed_origins, help="more Origins to accept"
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
        type=lambda text: _whole_number(text, least=1),
        default=defaults.max_sessions_per_token,
        metavar="N",
        help=f"the most HTTP sessions one token may hold open (default {defaults.max_sessions_per_token})",
    )
    serve.add_argument(
        "--rate-limit",
        type=_rate,
        default=defaults.rate_limit,
        metavar="PER_SECOND",
        help=f"HTTP requests a second one token may make on average, 0 for no limit "
        f"(default {defaults.rate_limit:g}; never applied without an auth file)",
    )
    serve.add_argument(
        "--rate-burst",
        type=lambda text: _whole_number(text, least=1),
        default=defaults.rate_burst,
        metavar="N",
        help=f"HTTP requests one token may make at once before --rate-limit applies (default {defaults.rate_burst})",
    )
    serve.add_argument(
        "--read-timeout",
        type=_seconds,
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
        type=_port,
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
        type=_names,
        default=defaults.toolsets,
        help=f"offer only these toolsets, comma-separated: {', '.join(TOOLSETS)} or all (default all)",
    )
    serve.add_argument(
        "--tools", type=_names, default=defaults.tools, help="offer these tools as well, comma-separated names"
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
    init.add_argument("--customers", type=_customers, default=defaults.seed_customers, help="how many customers")
    init.add_argument("--orders", type=_orders, default=defaults.seed_orders, help="how many orders")
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
    oauth_cli.add_commands(commands, common, _EPILOG)
    cli_audit.add_command(commands, common, _EPILOG)
    commands.add_parser("version", help="print the version")
    return parser


def _default_folder(db_path: Path) -> None:
    """The default database's folder (the user's data folder) is made on first use; a --db folder is not."""
    if db_path == default_db_path():
        db_path.parent.mkdir(parents=True, exist_ok=True)


@asynccontextmanager
async def _new_shop(settings: Settings) -> AsyncIterator[ShopDatabase]:
    """A database to fill with a new shop: a new file (moved into place only when complete), or an empty
    PostgreSQL database (a failure rolls back only the batch in progress; `init` refuses a non-empty one)."""
    if settings.db_url is None:
        _default_folder(settings.db_path)
        async with build_new(settings.db_path) as db:
            yield db
        return
    from .postgres import PostgresDatabase

    shop = await PostgresDatabase.open(settings.db_url)
    try:
        if not await shop.is_empty():
            raise DatabaseUnavailable(f"{settings.db_location} already holds a shop; choose an empty database")
        yield shop
    finally:
        await shop.close()


async def _init(settings: Settings, customers: int, orders: int, seed: int) -> dict[str, int]:
    from .seed import generate_into

    progress = Progress(orders, "orders", sys.stderr)
    async with _new_shop(settings) as db:
        counts = await generate_into(db, customers=customers, orders=orders, seed=seed, progress=progress.update)
    progress.done()
    return counts


async def _import(settings: Settings, source: Path | None) -> dict[str, int]:
    from .tau2 import BUNDLED_DB, InvalidTau2File, import_into, read_text

    source = source or BUNDLED_DB
    text = read_text(source)
    async with _new_shop(settings) as db:
        try:
            return await import_into(db, text)
        except InvalidTau2File as exc:
            raise InvalidTau2File(f"{source}: {exc}") from exc


async def _export(settings: Settings) -> str:
    from .tau2 import export

    db = await open_database(settings.db_path, settings.db_url, create=False)
    try:
        return json.dumps(await export(db), indent=2)
    finally:
        await db.close()


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{v:,} {k}" for k, v in counts.items())


_SERVE_SETTINGS = (
    "host",
    "port",
    "read_only",
    "customer",
    "auth_file",
    "oauth_server",
    "public_url",
    "allowed_hosts",
    "allowed_origins",
    "log_format",
    "session_idle_timeout",
    "max_sessions",
    "max_sessions_per_token",
    "rate_limit",
    "rate_burst",
    "read_timeout",
    "metrics_token",
    "metrics_port",
    "metrics_host",
    "stateless",
    "confirm",
    "toolsets",
    "tools",
)


def _run(args: argparse.Namespace, settings: Settings) -> None:
    command = args.command or "serve"
    if command == "version":
        print(f"shopdesk {__version__}")
    elif command == "serve":
        settings.enabled_tools()  # a misspelt toolset or tool stops here, before anything starts
        from .serve import serve

        serve(
            settings,
            transport="http" if getattr(args, "transport", "stdio") == "http" else "stdio",
            no_auth=getattr(args, "no_auth_i_know", False),
        )
    elif command == "tools":
        for toolset, names in TOOLSETS.items():
            print(f"{toolset}: {', '.join(names)}")
    elif command == "token":
        cli_tokens.run(args, settings)
    elif command == "operator":
        oauth_cli.run(args, settings)
    elif command == "audit":
        cli_audit.run(args, settings)
    elif command == "backup":
        if settings.db_url is not None:
            raise DatabaseUnavailable(PG_DUMP_HINT)
        started = time.monotonic()
        size = backup(settings.db_path, args.dest)
        print(f"backed up {settings.db_path} to {args.dest}: {size:,} bytes in {time.monotonic() - started:.1f} s")
    elif command == "init":
        started = time.monotonic()
        counts = asyncio.run(_init(settings, args.customers, args.orders, args.seed))
        print(f"created {settings.db_location} in {time.monotonic() - started:.1f} s: {_counts(counts)}")
    elif command == "import-tau2":
        counts = asyncio.run(_import(settings, args.file))
        where = settings.db_location
        print(f"imported {args.file or 'the bundled τ² retail shop'} into {where}: {_counts(counts)}")
    elif command == "export-tau2":
        text = asyncio.run(_export(settings))
        if str(args.file) == "-":
            sys.stdout.write(text + "\n")
        else:
            args.file.write_text(text + "\n", encoding="utf-8")
            print(f"exported {settings.db_location} to {args.file}")


def main(argv: list[str] | None = None) -> int:
    try:
        defaults, broken = Settings(), None
    except SettingsError as exc:
        # --help and --version still work; anything else reports the bad setting.
        # Every setting read from the environment that can be wrong, given here instead.
        defaults = Settings(
            port=8000,
            log_level="INFO",
            log_format="text",
            read_only=False,
            session_idle_timeout=600,
            max_sessions=500,
            max_sessions_per_token=50,
            rate_limit=10,
            rate_burst=50,
            read_timeout=30,
            metrics_port=None,
            synchronous="FULL",
            confirm="auto",
        )
        broken = exc
    args = _parser(defaults).parse_args(argv)
    if broken is not None and args.command != "version":
        print(f"shopdesk: error: {broken}", file=sys.stderr)
        return 2
    # The serve flags, where given, replace what the environment said.
    served = {key: getattr(args, key) for key in _SERVE_SETTINGS if hasattr(args, key)}
    if served.get("auth_file") is None:  # `token ... ` without --auth-file: SHOPDESK_AUTH_FILE still holds
        served.pop("auth_file", None)
    database = (
        {"db_url": args.db, "db_path": defaults.db_path}
        if isinstance(args.db, str)
        else {
            "db_url": None,
            "db_path": args.db,
        }
    )
    settings = replace(defaults, **database, **served)
    configure_logging(settings.log_level, settings.log_format)
    configure_tracing()
    try:
        _run(args, settings)
    except (DatabaseUnavailable, OSError, ValueError) as exc:  # TokenError and SettingsError are ValueErrors
        print(f"shopdesk: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        text = f"{exc.strerror.lower()}: {exc.filename}"  # not Python's "[Errno 2] ..."
    else:
        text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 400 else text[:399] + "…"


if __name__ == "__main__":
    sys.exit(main())
