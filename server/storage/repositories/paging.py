"""Filtered, keyset-paged queries shared by the search repositories."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .rows import Connection, Row


def where(conditions: Sequence[tuple[str, object | None]]) -> tuple[str, list[object]]:
    """A WHERE clause of the conditions whose value is given, e.g. [("o.status = ?", "pending"), ("c.zip = ?", None)].

    The SQL of each condition is a constant of the caller's; only the values are parameters. A tuple
    value fills several placeholders of one condition.
    """
    given = [(sql, value) for sql, value in conditions if value is not None]
    params: list[object] = []
    for _, value in given:
        params += value if isinstance(value, tuple) else [value]
    return ("WHERE " + " AND ".join(sql for sql, _ in given) if given else ""), params


# Where a page ends: the sort key of its last row, e.g. (id,) or (placed date, id).
PageKey = tuple[str | int, ...]


async def page(
    conn: Connection,
    sql: str,
    params: Sequence[object],
    limit: int,
    key: Callable[[Row], PageKey] = lambda row: (int(row["id"]),),
) -> tuple[list[Row], PageKey | None]:
    """Run `sql` (whose last placeholder is its `LIMIT ?`) for one row more than `limit`; return the page
    and, if more rows follow, the sort key of the page's last row to continue after."""
    rows = list(await conn.execute_fetchall(sql, (*params, limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, key(rows[-1])
