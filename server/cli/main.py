"""The shopdesk command line: serve, init, import-tau2, export-tau2, backup, token, operator, audit, version.

On stdio only MCP protocol goes to stdout; every log line goes to stderr. Every failure to
start is one line on stderr and exit code 2.

Here: main() (settings from the environment, then the flags), each command's dispatch, the one-line errors.
The commands and flags are declared in parser.py; init and the τ² import and export live in shop_files.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import replace

from .. import __version__
from ..ops.logs import configure_logging
from ..ops.tracing import configure_tracing
from ..settings import Settings, SettingsError
from ..storage.sqlite import DatabaseUnavailable
from ..tools.toolsets import TOOLSETS, enabled_tools
from . import audit as cli_audit
from . import operators as cli_operators
from . import tokens as cli_tokens
from .backup import PG_DUMP_HINT, backup
from .parser import build_parser
from .shop_files import export_tau2, import_tau2, init_shop


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
    "oauth_issuer",
    "oauth_scope_map",
    "oauth_customer_claim",
    "oauth_introspection_url",
)


def _run(args: argparse.Namespace, settings: Settings) -> None:
    command = args.command or "serve"
    if command == "version":
        print(f"shopdesk {__version__}")
    elif command == "serve":
        enabled_tools(settings)  # a misspelt toolset or tool stops here, before anything starts
        from ..transport.serve import serve

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
        cli_operators.run(args, settings)
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
        counts = asyncio.run(init_shop(settings, args.customers, args.orders, args.seed))
        print(f"created {settings.db_location} in {time.monotonic() - started:.1f} s: {_counts(counts)}")
    elif command == "import-tau2":
        counts = asyncio.run(import_tau2(settings, args.file))
        where = settings.db_location
        print(f"imported {args.file or 'the bundled τ² retail shop'} into {where}: {_counts(counts)}")
    elif command == "export-tau2":
        text = asyncio.run(export_tau2(settings))
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
    args = build_parser(defaults).parse_args(argv)
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
