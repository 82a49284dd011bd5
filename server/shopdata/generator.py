"""A deterministic generator of realistic demo shops, from a few orders to millions.

The same (customers, orders, seed) always gives the same shop. Rows are made
and inserted in batches, so memory stays flat; in a large shop a child process
makes the next batch while this one writes the last (`_made_in_a_child`).
The tables it draws from (products, names, streets, cities, statuses) are in catalogue.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import multiprocessing
import pickle
import random
import signal
from collections.abc import AsyncGenerator, Callable, Iterator
from datetime import datetime, timedelta
from multiprocessing.connection import Connection

from ..storage.database import ShopDatabase
from ..storage.repositories import bulk
from .catalogue import CARD_BRANDS, CATALOGUE, CITIES, FIRST_NAMES, LAST_NAMES, STATUSES, STREETS

ANCHOR = datetime(2026, 11, 1, 12, 0, 0)
BATCH_CUSTOMERS = 50_000
BATCH_ORDERS = 20_000
# From this many orders, a shop is made in a child process while this one writes it (`_made_in_a_child`);
# below it, the child's start (~0.2 s) would cost about what it saves.
CHILD_PROCESS_FROM = 50_000


def _order_number(k: int) -> str:
    # An affine map of k over [0, 9,000,000) with a multiplier coprime to the range: unique,
    # random-looking 7-digit order numbers without keeping a set of used ones.
    return f"#W{(k * 7_654_321 + 1_234_567) % 9_000_000 + 1_000_000}"


def _catalogue_rows(rng: random.Random) -> tuple[bulk.ShopRows, list[list[tuple[int, str, str, str, int]]]]:
    """Products and variants; returns, per product, its (variant key, item id, product id, options, cents)."""
    rows = bulk.ShopRows()
    sellable: list[list[tuple[int, str, str, str, int]]] = []
    for p_key, (name, options, base) in enumerate(CATALOGUE, start=1):
        product_id = str(1_000_000_000 + p_key * 379_123_457 % 8_999_999_999)
        rows.products.append((p_key, product_id, name))
        combos = list(itertools.product(*options.values()))
        chosen = rng.sample(combos, k=min(len(combos), rng.randint(6, 14)))
        variants = []
        for combo in chosen:
            v_key = len(rows.variants) + 1
            item_id = str(1_000_000_000 + v_key * 611_953_127 % 8_999_999_999)
            opts = json.dumps(dict(zip(options, combo, strict=True)))
            cents = int(base * rng.uniform(0.85, 1.2))
            rows.variants.append((v_key, item_id, p_key, opts, int(rng.random() > 0.15), cents))
            variants.append((v_key, item_id, product_id, opts, cents))
        sellable.append(variants)
    return rows, sellable


def _customer_rows(
    rng: random.Random, start: int, count: int, rows: bulk.ShopRows, methods: dict[int, list[str]]
) -> None:
    for c_key in range(start, start + count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, state, zip_prefix = rng.choice(CITIES)
        user_id = f"{first.lower()}_{last.lower()}_{c_key + 1000}"
        email = f"{first.lower()}.{last.lower()}{c_key}@example.com"
        phone = f"+1-{rng.randint(201, 989)}-555-{c_key % 10000:04d}"
        address2 = rng.choice(["", f"Apt {rng.randint(1, 99)}", f"Suite {rng.randint(100, 999)}"])
        rows.customers.append(
            (
                c_key,
                user_id,
                first,
                last,
                email,
                phone,
                f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
                address2,
                city,
                state,
                "USA",
                f"{zip_prefix}{rng.randint(0, 99):02d}",
                (ANCHOR - timedelta(days=rng.randint(365, 1500))).isoformat(timespec="seconds"),
            )
        )
        own = []
        for index, source in enumerate(rng.sample(["credit_card", "paypal", "gift_card"], k=rng.randint(1, 3))):
            m_key = (c_key - 1) * 3 + index + 1  # at most three methods each, so keys never collide
            method_id = f"{source}_{1_000_000 + m_key}"
            if source == "credit_card":
                rows.payment_methods.append(
                    (m_key, method_id, c_key, source, rng.choice(CARD_BRANDS), f"{rng.randint(0, 9999):04d}", None)
                )
            elif source == "gift_card":
                rows.payment_methods.append((m_key, method_id, c_key, source, None, None, rng.randint(0, 300) * 100))
            else:
                rows.payment_methods.append((m_key, method_id, c_key, source, None, None, None))
            own.append(method_id)
        methods[c_key] = own


def _customer_batches(
    rng: random.Random, customers: int, methods: dict[int, list[str]], addresses: dict[int, tuple[str, ...]]
) -> Iterator[bulk.ShopRows]:
    """Customers and their payment methods; fills `methods` and `addresses` (by customer key) for the orders."""
    for start in range(1, customers + 1, BATCH_CUSTOMERS):
        batch = bulk.ShopRows()
        _customer_rows(rng, start, min(BATCH_CUSTOMERS, customers - start + 1), batch, methods)
        for row in batch.customers:
            addresses[int(row[0])] = row[6:12]  # type: ignore[call-overload, assignment]
        yield batch


def _order_batches(
    rng: random.Random,
    customers: int,
    orders: int,
    sellable: list[list[tuple[int, str, str, str, int]]],
    methods: dict[int, list[str]],
    addresses: dict[int, tuple[str, ...]],
) -> Iterator[bulk.ShopRows]:
    # The hot loop of a large shop, so a little is done once here rather than per order, always drawing
    # exactly the same random numbers (the shop for a seed must not change):
    # - cumulative weights: `choices` turns `weights` into these on every call, and documents passing
    #   `cum_weights` instead as the same selection without that work;
    # - each item id as a JSON string: json.dumps of a list of strings is "[" + ", ".join(each string's
    #   json.dumps) + "]" with the default separators, at a fraction of the cost per order.
    statuses = [s for s, _ in STATUSES]
    status_weights = list(itertools.accumulate(w for _, w in STATUSES))
    line_counts = [1, 2, 3, 4, 5]
    line_weights = list(itertools.accumulate([35, 30, 18, 10, 7]))
    names = [name for name, _, _ in CATALOGUE]
    quoted = {item_id: json.dumps(item_id) for variants in sellable for _, item_id, _, _, _ in variants}
    rows = bulk.ShopRows()
    for o_key in range(1, orders + 1):
        c_key = rng.randint(1, customers)
        status = rng.choices(statuses, cum_weights=status_weights)[0]
        age_days = rng.uniform(0, 6) if status == "pending" else rng.uniform(3, 365)
        # isoformat to the second: the same text as strftime("%Y-%m-%dT%H:%M:%S") (both drop the
        # microseconds), in half the time.
        placed = (ANCHOR - timedelta(days=age_days)).isoformat(timespec="seconds")
        lines = []
        for position in range(rng.choices(line_counts, cum_weights=line_weights)[0]):
            p_index = rng.randrange(len(sellable))
            _, item_id, product_id, opts, cents = rng.choice(sellable[p_index])
            lines.append((item_id, cents))
            rows.order_items.append((o_key, position, product_id, item_id, names[p_index], opts, cents))
        total = sum(cents for _, cents in lines)
        method = rng.choice(methods[c_key])
        rows.payments.append((o_key, 0, "payment", total, method, placed))
        extra: dict[str, str | int | None] = {}
        if status == "cancelled":
            rows.payments.append((o_key, 1, "refund", total, method, placed))
            extra = {"cancel_reason": rng.choice(["no longer needed", "ordered by mistake"])}
        elif status == "return requested":
            extra = {"return_items": json.dumps(sorted(i for i, _ in lines[:1])), "return_payment_method_id": method}
        elif status == "exchange requested":
            item_id = lines[0][0]
            extra = {
                "exchange_items": json.dumps([item_id]),
                "exchange_new_items": json.dumps([item_id]),
                "exchange_payment_method_id": method,
                "exchange_price_difference_cents": 0,
            }
        if status in ("processed", "delivered", "return requested", "exchange requested"):
            tracking_id = rng.randint(10**11, 10**12 - 1)  # 12 digits: nothing to escape
            item_ids = "[" + ", ".join(quoted[i] for i, _ in lines) + "]"
            rows.fulfillments.append((o_key, 0, f'["{tracking_id}"]', item_ids))
        address1, address2, city, state, country, zip_code = addresses[c_key]
        rows.orders.append(
            bulk.OrderRow(
                id=o_key,
                order_id=_order_number(o_key - 1),
                customer_id=c_key,
                status=status,
                address1=address1,
                address2=address2,
                city=city,
                state=state,
                country=country,
                zip=zip_code,
                placed_at=placed,
                updated_at=placed,
                **extra,  # type: ignore[arg-type]
            )
        )
        if o_key % BATCH_ORDERS == 0:
            yield rows
            rows = bulk.ShopRows()
    yield rows


async def generate_into(
    db: ShopDatabase, *, customers: int, orders: int, seed: int = 7, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Fill an empty database with a generated shop; returns the row counts.

    `progress`, if given, is told how many orders are written after each batch.
    """
    if customers < 1 or orders < 0:
        raise ValueError("a shop needs at least one customer and a non-negative number of orders")
    if orders > 9_000_000:
        raise ValueError("at most 9,000,000 orders (order numbers have 7 digits)")
    made = _made_in_a_child if orders >= CHILD_PROCESS_FROM else _made_here
    written = 0
    async with contextlib.aclosing(made(customers, orders, seed)) as batches:
        async for rows, of_orders in batches:
            async with db.transaction() as conn:
                await bulk.insert(conn, rows)
            if of_orders:
                written += len(rows.orders)
                if progress is not None:
                    progress(written)
    async with db.transaction() as conn:
        return await bulk.counts(conn)


# A batch of rows, and whether it is one of the orders' (the ones `progress` counts).
Batch = tuple[bulk.ShopRows, bool]


def _shop_batches(customers: int, orders: int, seed: int) -> Iterator[Batch]:
    """The whole shop, batch by batch: the catalogue, the customers, then the orders (which draw on both)."""
    rng = random.Random(seed)
    catalogue, sellable = _catalogue_rows(rng)
    yield catalogue, False
    methods: dict[int, list[str]] = {}
    addresses: dict[int, tuple[str, ...]] = {}
    for rows in _customer_batches(rng, customers, methods, addresses):
        yield rows, False
    for rows in _order_batches(rng, customers, orders, sellable, methods, addresses):
        yield rows, True


async def _made_here(customers: int, orders: int, seed: int) -> AsyncGenerator[Batch, None]:
    for batch in _shop_batches(customers, orders, seed):
        yield batch


async def _made_in_a_child(customers: int, orders: int, seed: int) -> AsyncGenerator[Batch, None]:
    """The same batches, made by a child process while this one writes the one before.

    Making the rows is Python (a million orders: ~25 s of CPU), writing them mostly SQLite's own work (~55 s;
    or PostgreSQL's), so with two cores the two overlap: a million orders, ~90 -> ~75 s. Not in a thread:
    SQLite lets go of Python's lock for each row it writes, and a thread busy making rows hands it back
    only every 5 ms (sys.getswitchinterval()), so the writing would crawl. The child draws the same random
    numbers in the same order from the same seed: the same shop. It runs at most a batch ahead (its send
    waits for this process to read), so memory stays flat; batches cross the pipe pickled (~4 s a million).
    """
    context = multiprocessing.get_context("spawn")  # not fork: this process has threads (aiosqlite's)
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_make_in_child, args=(sender, customers, orders, seed), name="shopdesk-seed", daemon=True
    )
    child.start()
    sender.close()  # the child's copy is the only one left: when it ends, reading ends
    finished = False
    try:
        while message := await asyncio.to_thread(_receive, receiver):
            yield pickle.loads(message)  # from our own child, through a pipe only it and we hold
        finished = True
    finally:
        if child.is_alive() and not finished:
            child.terminate()  # a write failed, or Ctrl-C: the rest of the shop is not wanted
        child.join()
        if finished:
            receiver.close()
        # else a thread may still be reading from it (until the end of the pipe): closed when collected
    if child.exitcode != 0:
        raise RuntimeError(f"the process making the shop failed (exit code {child.exitcode})")


def _receive(receiver: Connection) -> bytes:
    """The next pickled batch, or b"" at the end (also if the child stopped: its exit code tells)."""
    try:
        return receiver.recv_bytes()
    except EOFError:
        return b""


def _make_in_child(sender: Connection, customers: int, orders: int, seed: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends this process
    with sender:
        for batch in _shop_batches(customers, orders, seed):
            sender.send_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
