"""The shop the tools work on: settings plus the open database, for the server's lifetime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .settings import Settings, default_db_path
from .storage.database import ShopDatabase
from .storage.new_file import build_new
from .storage.sqlite import Database, DatabaseUnavailable

log = logging.getLogger("shopdesk")


class Shop:
    """Opens the database when the first MCP connection starts and closes it after the last ends.

    On a first start with no database file, it creates one filled with demo data.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._db: ShopDatabase | None = None
        self._users = 0
        self._lock = asyncio.Lock()

    @property
    def db(self) -> ShopDatabase:
        if self._db is None:
            raise RuntimeError("the shop's database is not open (tools run only inside the server's lifespan)")
        return self._db

    async def open(self) -> None:
        async with self._lock:
            self._users += 1
            if self._db is None:
                self._db = await open_or_create(self.settings)

    async def close(self) -> None:
        async with self._lock:
            self._users -= 1
            if self._users == 0 and self._db is not None:
                await self._db.close()
                self._db = None

    @asynccontextmanager
    async def lifespan(self, _server: Any) -> AsyncIterator[Shop]:
        await self.open()
        try:
            yield self
        finally:
            await self.close()


async def open_or_create(settings: Settings) -> ShopDatabase:
    """Open the shop's database; where no file exists yet, first build one filled with a demo shop.

    Demo data goes only into a new file (or an empty PostgreSQL database): an existing one is opened as
    it is (or refused, if it is not shopdesk's). The default location's folder is made if needed; a
    folder given with --db or SHOPDESK_DB must exist.
    """
    if settings.db_url is not None:
        return await _open_postgres(settings, settings.db_url)
    path = settings.db_path
    if settings.read_only:
        return await Database.open(path, create=False, read_only=True)
    if path == default_db_path():
        path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        from .shopdata.generator import generate_into  # the generator is only needed on a first start

        try:
            async with build_new(path) as db:
                await generate_into(
                    db, customers=settings.seed_customers, orders=settings.seed_orders, seed=settings.seed
                )
            log.info("created a demo shop in %s", path)
        except DatabaseUnavailable:
            if not path.exists():
                raise
            # another shopdesk started at the same moment and built it first: use theirs
    return await Database.open(path, create=False, synchronous=settings.synchronous)


async def _open_postgres(settings: Settings, url: str) -> ShopDatabase:
    """A PostgreSQL shop; an empty database gets the demo shop, filled by whichever replica starts first."""
    from .storage.postgres import PostgresDatabase

    db = await PostgresDatabase.open(url, read_only=settings.read_only)
    if settings.read_only:
        return db
    try:
        async with db.setting_up():  # replicas starting together: one fills it, the others wait and find it full
            if await db.is_empty():
                from .shopdata.generator import generate_into

                await generate_into(
                    db, customers=settings.seed_customers, orders=settings.seed_orders, seed=settings.seed
                )
                log.info("created a demo shop in %s", settings.db_location)
    except BaseException:
        await db.close()
        raise
    return db
