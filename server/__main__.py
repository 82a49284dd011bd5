"""The shopdesk command line: serve, init, import-tau2, export-tau2, version.

On stdio only MCP protocol goes to stdout; every log line goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

from . import __version__
from .db import Database, DatabaseUnavailable
from .settings import Settings


def _parser() -> argparse.ArgumentParser:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="shopdesk", description="A shop's customer-service tools over MCP.")
    db_help = f"database file (env SHOPDESK_DB; default {defaults.db_path})"
    parser.add_argument("--db", type=Path, default=defaults.db_path, help=db_help)
    # --db is accepted before or after the command: `shopdesk --db x serve` and `shopdesk serve --db x`.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=db_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[common], help="run the MCP server (the default command)")
    serve.add_argument(
        "--transport",
        choices=["stdio", "http"],
        default="stdio",
        help="stdio for Claude Desktop and IDEs (default), or Streamable HTTP",
    )
    serve.add_argument("--host", default=defaults.host, help="HTTP host to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=defaults.port, help="HTTP port (default 8000)")

    init = commands.add_parser("init", parents=[common], help="create a database filled with generated demo data")
    init.add_argument("--customers", type=int, default=defaults.seed_customers)
    init.add_argument("--orders", type=int, default=defaults.seed_orders)
    init.add_argument("--seed", type=int, default=defaults.seed, help="same seed, same shop")

    imp = commands.add_parser("import-tau2", parents=[common], help="create a database from a τ²-bench retail db.json")
    imp.add_argument("file", type=Path)
    exp = commands.add_parser("export-tau2", parents=[common], help="write the database as a τ²-bench retail db.json")
    exp.add_argument("file", type=Path, help="output file, or - for stdout")

    commands.add_parser("version", help="print the version")
    return parser


async def _init(db_path: Path, customers: int, orders: int, seed: int) -> dict[str, int]:
    from .seed import generate_into

    _refuse_existing(db_path)
    db = await Database.open(db_path)
    try:
        return await generate_into(db, customers=customers, orders=orders, seed=seed)
    finally:
        await db.close()


async def _import(db_path: Path, source: Path) -> dict[str, int]:
    from .tau2 import import_into

    text = source.read_text(encoding="utf-8")
    _refuse_existing(db_path)
    db = await Database.open(db_path)
    imported = False
    try:
        counts = await import_into(db, text)
        imported = True
        return counts
    finally:
        await db.close()
        if not imported:  # a failed import leaves no half-made database behind
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)


async def _export(db_path: Path) -> str:
    from .tau2 import export

    db = await Database.open(db_path, create=False)
    try:
        return json.dumps(await export(db), indent=2)
    finally:
        await db.close()


def _refuse_existing(db_path: Path) -> None:
    if db_path.exists():
        raise DatabaseUnavailable(f"{db_path} already exists; choose another --db path or move it away first")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = replace(Settings(), db_path=args.db)
    logging.basicConfig(
        stream=sys.stderr, level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    command = args.command or "serve"
    try:
        if command == "version":
            print(f"shopdesk {__version__}")
        elif command == "serve":
            from .serve import serve

            serve(
                settings,
                transport="http" if getattr(args, "transport", "stdio") == "http" else "stdio",
                host=getattr(args, "host", settings.host),
                port=getattr(args, "port", settings.port),
            )
        elif command == "init":
            counts = asyncio.run(_init(args.db, args.customers, args.orders, args.seed))
            print(f"created {args.db}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        elif command == "import-tau2":
            counts = asyncio.run(_import(args.db, args.file))
            print(f"imported {args.file} into {args.db}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        elif command == "export-tau2":
            text = asyncio.run(_export(args.db))
            if str(args.file) == "-":
                sys.stdout.write(text + "\n")
            else:
                args.file.write_text(text + "\n", encoding="utf-8")
                print(f"exported {args.db} to {args.file}")
    except (DatabaseUnavailable, OSError, ValueError) as exc:
        print(f"shopdesk: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
