"""Commands that make or write a whole shop: `init` (a generated demo shop), `import-tau2` and `export-tau2`.

A new shop is built aside and appears only when complete (a new SQLite file), or goes into an empty
PostgreSQL database; the generator and the τ² format are imported only when a command needs them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ..settings import Settings, default_db_path
from ..storage.database import ShopDatabase, open_database
from ..storage.new_file import build_new
from ..storage.sqlite import DatabaseUnavailable
from .progress import Progress


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
    from ..storage.postgres import PostgresDatabase

    shop = await PostgresDatabase.open(settings.db_url)
    try:
        if not await shop.is_empty():
            raise DatabaseUnavailable(f"{settings.db_location} already holds a shop; choose an empty database")
        yield shop
    finally:
        await shop.close()


async def init_shop(settings: Settings, customers: int, orders: int, seed: int) -> dict[str, int]:
    from ..shopdata.generator import generate_into

    progress = Progress(orders, "orders", sys.stderr)
    async with _new_shop(settings) as db:
        counts = await generate_into(db, customers=customers, orders=orders, seed=seed, progress=progress.update)
    progress.done()
    return counts


async def import_tau2(settings: Settings, source: Path | None) -> dict[str, int]:
    from ..shopdata.tau2 import BUNDLED_DB, InvalidTau2File, import_into, read_text

    source = source or BUNDLED_DB
    text = read_text(source)
    async with _new_shop(settings) as db:
        try:
            return await import_into(db, text)
        except InvalidTau2File as exc:
            raise InvalidTau2File(f"{source}: {exc}") from exc


async def export_tau2(settings: Settings) -> str:
    from ..shopdata.tau2 import export

    db = await open_database(settings.db_path, settings.db_url, create=False)
    try:
        return json.dumps(await export(db), indent=2)
    finally:
        await db.close()
