"""`shopdesk token create | list | revoke`: the bearer tokens of the HTTP transport."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from ..access.tokens import MAX_EXPIRY_DAYS, SCOPES, AuthFile, TokenError, describe, parse_expiry_days, parse_scopes
from ..settings import Settings, default_auth_file
from ..storage.database import open_database
from ..storage.repositories import ownership


def add_commands(commands: Any, common: argparse.ArgumentParser, epilog: str) -> None:
    auth_help = "the auth file (env SHOPDESK_AUTH_FILE; default beside the database, e.g. data/shopdesk.auth.json)"
    token = commands.add_parser(
        "token",
        help="create, list and revoke bearer tokens for serving over HTTP",
        description="Bearer tokens for `serve --transport http`. Only their hashes are stored; a revoked or "
        "expired token stops working at once.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = token.add_subparsers(dest="token_command", metavar="ACTION", required=True, parser_class=type(token))
    create = actions.add_parser("create", parents=[common], help="make a new token and print it once")
    create.add_argument("--subject", required=True, help="who or what will use it, e.g. 'support-bot' or an email")
    create.add_argument("--scopes", required=True, type=_scopes, help=f"comma-separated, from: {', '.join(SCOPES)}")
    create.add_argument("--customer", help="bind the token to this customer's user id: it sees only their records")
    create.add_argument(
        "--expires",
        type=_days,
        metavar="DAYS",
        help=f"whole days until it stops working, 1 to {MAX_EXPIRY_DAYS} (default never)",
    )
    create.add_argument("--auth-file", type=_path, help=auth_help)
    listing = actions.add_parser("list", parents=[common], help="list the tokens (never the tokens themselves)")
    listing.add_argument("--auth-file", type=_path, help=auth_help)
    revoke = actions.add_parser("revoke", parents=[common], help="revoke a token by its id, at once")
    revoke.add_argument("id", help="the token's id, as `token list` shows it")
    revoke.add_argument("--auth-file", type=_path, help=auth_help)


def _scopes(text: str) -> list[str]:
    try:
        return parse_scopes(text)
    except TokenError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _days(text: str) -> int:
    try:
        return parse_expiry_days(text)
    except TokenError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _path(text: str) -> Any:
    from pathlib import Path

    return Path(text)


def run(args: argparse.Namespace, settings: Settings) -> None:
    from . import operators as oauth_cli  # the grants of `serve --oauth-server`, kept in the shop's database

    if args.token_command == "revoke" and oauth_cli.is_grant_id(args.id):
        print(oauth_cli.revoke_grant(settings, args.id))
        return
    grants = oauth_cli.grant_lines(settings) if args.token_command == "list" else []
    if args.token_command == "list" and args.auth_file is None and settings.auth_file is None and settings.db_url:
        print("\n".join(grants) if grants else "no OAuth grants, and no --auth-file given")
        return
    path = args.auth_file or settings.auth_file
    if path is None and settings.db_url is not None:
        raise TokenError("a PostgreSQL shop has no folder to keep tokens beside; give --auth-file")
    path = path or default_auth_file(settings.db_path)
    auth = AuthFile(path)
    if args.token_command == "create":
        if args.customer is not None:
            asyncio.run(_check_customer(settings, args.customer))
        record, token = auth.create(args.subject, args.scopes, args.customer, args.expires)
        print(token)
        print(f"created token {record.id} for {record.subject} in {path}; it is shown only this once", flush=True)
    elif args.token_command == "list":
        now = time.time()
        records = auth.records()
        print("\n".join(describe(r, now) for r in records) if records else f"no tokens in {path}")
        if grants:
            print("\n".join(grants))
    elif args.token_command == "revoke":
        record = auth.revoke(args.id)
        print(f"revoked token {record.id} of {record.subject}")


async def _check_customer(settings: Settings, user_id: str) -> None:
    db = await open_database(settings.db_path, settings.db_url, create=False, read_only=True)
    try:
        if await ownership.owner(db.read, "customer", user_id) is None:
            raise TokenError(f"{user_id[:80]!r} is not a customer in {settings.db_location}")
    finally:
        await db.close()
