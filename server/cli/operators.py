"""`shopdesk operator add | list | remove | link`, and the OAuth grants `shopdesk token list | revoke` show and end."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..oauth import operators
from ..oauth.links import LINK_PATH, LINK_SECONDS, new_link
from ..oauth.operators import OperatorError
from ..oauth.provider import GRANT_PREFIX
from ..settings import Settings
from ..storage.database import ShopDatabase, open_database
from ..storage.repositories import oauth as store
from ..storage.repositories import oauth_clients as client_store
from ..storage.repositories import oauth_links as link_store
from ..storage.sqlite import DatabaseUnavailable

T = TypeVar("T")


def add_commands(commands: Any, common: argparse.ArgumentParser, epilog: str) -> None:
    operator = commands.add_parser(
        "operator",
        help="add, list and remove the people who may approve apps on the OAuth consent page",
        description="Operators sign in on the consent page of `serve --oauth-server` and decide what an app may "
        "do. Passwords are stored as argon2 hashes in the shop's database.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = operator.add_subparsers(
        dest="operator_command", metavar="ACTION", required=True, parser_class=type(operator)
    )
    add = actions.add_parser("add", parents=[common], help="add an operator (asks for the password twice)")
    add.add_argument("email")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    actions.add_parser("list", parents=[common], help="list the operators")
    remove = actions.add_parser("remove", parents=[common], help="remove an operator")
    remove.add_argument("email")
    link = actions.add_parser(
        "link", parents=[common], help=f"print a one-time sign-in link (good for {LINK_SECONDS // 60} minutes)"
    )
    link.add_argument("email")
    link.add_argument(
        "--public-url",
        default=argparse.SUPPRESS,
        help="the URL clients use to reach /mcp, as `serve --public-url` (env SHOPDESK_PUBLIC_URL)",
    )


def run(args: argparse.Namespace, settings: Settings) -> None:
    if args.operator_command == "add":
        password = _read_password(args.password_stdin)
        email = _with_db(settings, lambda db: operators.add(db, args.email, password))
        print(f"added operator {email}")
    elif args.operator_command == "list":
        found = _with_db(settings, lambda db: store.operators(db.read))
        print("\n".join(f"{email}  added {at}" for email, at in found) if found else "no operators")
    elif args.operator_command == "remove":
        email, revoked = _with_db(settings, lambda db: operators.remove(db, args.email))
        grants = f" and revoked the {revoked} OAuth grant{'s' if revoked != 1 else ''} they gave" if revoked else ""
        print(f"removed operator {email}{grants}")
    elif args.operator_command == "link":
        email, token = _with_db(settings, lambda db: new_link(db, args.email))
        public = urlsplit(settings.mcp_url())
        print(f"{public.scheme}://{public.netloc}{LINK_PATH}?token={token}")
        print(f"a sign-in link for {email}: it works once, within {LINK_SECONDS // 60} minutes", file=sys.stderr)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise OperatorError("the two passwords differ; nothing was changed")
    operators.check_password(password)
    return password


def _with_db(settings: Settings, work: Callable[[ShopDatabase], Awaitable[T]], *, read_only: bool = False) -> T:
    async def go() -> T:
        db = await open_database(settings.db_path, settings.db_url, create=False, read_only=read_only)
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(go())


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


async def _grant_lines(db: ShopDatabase) -> list[str]:
    lines = []
    for grant in await store.grants(db.read):
        metadata = await client_store.client_metadata(db.read, grant.client_id) or {}
        name = str(metadata.get("client_name") or "unnamed app")[:60]
        state = f"revoked {_when(grant.revoked_at)}" if grant.revoked_at is not None else "active"
        customer = f", customer {grant.customer}" if grant.customer else ""
        expiry = await link_store.last_refresh_expiry(db.read, grant.id) if grant.revoked_at is None else None
        ends = f", refresh until {_when(expiry)}" if expiry else ""
        lines.append(
            f"{grant.id}  {state}  OAuth app {name!r} ({grant.client_id}) approved by {grant.operator} "
            f"{_when(grant.created_at)}: {' '.join(grant.scopes)}{customer}{ends}"
        )
    return lines


def grant_lines(settings: Settings) -> list[str]:
    """The OAuth grants, one line each, for `token list`; none when the shop has no database yet."""
    try:
        return _with_db(settings, _grant_lines, read_only=True)
    except DatabaseUnavailable:
        return []


def is_grant_id(text: str) -> bool:
    return text.startswith(GRANT_PREFIX)


def revoke_grant(settings: Settings, grant_id: str) -> str:
    async def revoke(db: ShopDatabase) -> bool:
        async with db.transaction() as conn:
            return await store.revoke_grant(conn, grant_id)

    if not _with_db(settings, revoke):
        raise OperatorError(f"no active OAuth grant {grant_id[:40]!r}; `shopdesk token list` shows them")
    return f"revoked OAuth grant {grant_id}: its access and refresh tokens stop working at once"
