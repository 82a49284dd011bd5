"""Migrations: the schema's named steps (schema.py) as steps a SQLite connection runs, and the splitter
both backends use to cut a script into statements.

Each backend applies the steps and records them in `schema_migrations`: SQLite in sqlite.py, PostgreSQL
(the same scripts, their types mapped) in postgres.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable

import aiosqlite

from .schema import MIGRATION_SCRIPTS

# Migrations are small named steps applied in order and recorded in `schema_migrations`;
# a step is never edited once released, only added. Each step and its record commit
# together or not at all: its statements run one by one inside one transaction (SQLite's
# DDL is transactional; `executescript` is not used because it commits on its own).
Migration = Callable[[aiosqlite.Connection], Awaitable[None]]


def statements(script: str) -> list[str]:
    """Split a SQL script into whole statements (a `;` inside a string or trigger does not split)."""
    found: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:60]}")
    return found


def script_step(script: str) -> Migration:
    async def run(conn: aiosqlite.Connection) -> None:
        for statement in statements(script):
            await conn.execute(statement)

    return run


MIGRATIONS: list[tuple[str, Migration]] = [(name, script_step(script)) for name, script in MIGRATION_SCRIPTS]
_FIRST_MIGRATION = MIGRATIONS[0][0]
