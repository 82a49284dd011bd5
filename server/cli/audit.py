"""`shopdesk audit`: print the audit log, oldest first, as lines or as JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ..settings import Settings
from ..storage.database import open_database
from ..storage.repositories import audit
from ..storage.repositories.paging import PageKey


def add_command(commands: Any, common: argparse.ArgumentParser, epilog: str) -> None:
    command = commands.add_parser(
        "audit",
        parents=[common],
        help="print the audit log: every write, refused write, declined confirmation and replay",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("--since", help="only events at or after this date/time, ISO 8601 UTC (e.g. 2026-11-01)")
    command.add_argument("--customer", help="only events about this customer (a user id)")
    command.add_argument("--order", help="only events about this order, e.g. '#W0000000'")
    command.add_argument("--json", action="store_true", help="one JSON object a line instead of text")


def run(args: argparse.Namespace, settings: Settings) -> None:
    asyncio.run(_print(args, settings))


async def _print(args: argparse.Namespace, settings: Settings) -> None:
    db = await open_database(settings.db_path, settings.db_url, create=False, read_only=True)
    try:
        after: PageKey | None = None
        while True:
            rows, after = await audit.search(
                db.read, since=args.since, customer=args.customer, target=args.order, after=after, limit=500
            )
            for row in rows:
                sys.stdout.write((json.dumps(row) if args.json else _line(row)) + "\n")
            if after is None:
                return
    finally:
        await db.close()


def _line(row: dict[str, Any]) -> str:
    who = f"{row['subject']}" + (f" for {row['customer']}" if row["customer"] else "")
    why = f" ({row['reason']})" if row["reason"] else ""
    return f"{row['at']}  {row['tool']:<32} {row['target']:<12} {row['outcome']:<9} {who}{why}"
