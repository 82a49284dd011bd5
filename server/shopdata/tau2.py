"""Import and export of the τ²-bench retail database format (db.json: products, users, orders).

Import then export gives back the same JSON values. Money is converted to
integer cents on the way in and back to two-decimal floats on the way out.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..domain.models import CreditCard, GiftCard, Order, Paypal, Product, User
from ..domain.money import to_cents, to_dollars
from ..settings import PROJECT_ROOT
from ..storage.database import ShopDatabase
from ..storage.repositories import bulk
from ..storage.sqlite import utc_now


def _bundled_db() -> Path:
    """The τ² retail shop shipped with shopdesk (MIT, see the README beside it).

    A checkout keeps it in data/tau2-retail/; a wheel or a Claude Desktop bundle installs that folder as
    server/bundled_data/tau2-retail/ (see pyproject.toml).
    """
    name = Path("tau2-retail") / "db.json.gz"
    installed = Path(__file__).resolve().parent.parent / "bundled_data" / name
    return installed if installed.is_file() else PROJECT_ROOT / "data" / name


BUNDLED_DB = _bundled_db()


class Tau2File(BaseModel):
    products: dict[str, Product]
    users: dict[str, User]
    orders: dict[str, Order]


class InvalidTau2File(ValueError):
    """The file is not a τ² retail database."""


def read_text(path: Path = BUNDLED_DB) -> str:
    """The text of a τ² db.json, plain or gzipped (by its content, not its name)."""
    if path == BUNDLED_DB and not path.exists():
        raise FileNotFoundError(
            f"the bundled τ² database ({path}) is missing from this copy of shopdesk; "
            "pass the path of a τ² retail db.json"
        )
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InvalidTau2File(f"{path} is a damaged gzip file ({exc})") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidTau2File(f"{path} is not UTF-8 text, so not a τ² retail database") from exc


def parse(text: str) -> Tau2File:
    try:
        return Tau2File.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        count = exc.error_count()
        more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
        raise InvalidTau2File(f"not a τ² retail database: {where}: {first['msg']}{more}") from exc


def _method_row(key: int, customer: int, m: CreditCard | Paypal | GiftCard) -> tuple[object, ...]:
    brand = m.brand if isinstance(m, CreditCard) else None
    last_four = m.last_four if isinstance(m, CreditCard) else None
    balance = to_cents(m.balance) if isinstance(m, GiftCard) else None
    return (key, m.id, customer, m.source, brand, last_four, balance)


def _json(value: list[str] | None) -> str | None:
    return None if value is None else json.dumps(value)


def to_rows(data: Tau2File) -> bulk.ShopRows:
    rows = bulk.ShopRows()
    now = utc_now()
    for p_key, product in enumerate(data.products.values(), start=1):
        rows.products.append((p_key, product.product_id, product.name))
        for variant in product.variants.values():
            rows.variants.append(
                (
                    len(rows.variants) + 1,
                    variant.item_id,
                    p_key,
                    json.dumps(variant.options),
                    int(variant.available),
                    to_cents(variant.price),
                )
            )
    customer_of: dict[str, int] = {}
    for c_key, user in enumerate(data.users.values(), start=1):
        customer_of[user.user_id] = c_key
        a = user.address
        rows.customers.append(
            (
                c_key,
                user.user_id,
                user.name.first_name,
                user.name.last_name,
                user.email,
                user.phone,
                a.address1,
                a.address2,
                a.city,
                a.state,
                a.country,
                a.zip,
                now,
            )
        )
        for method in user.payment_methods.values():
            rows.payment_methods.append(_method_row(len(rows.payment_methods) + 1, c_key, method))
    # Orders go in customer by customer, each in the order of the customer's list, so that a
    # customer's orders by id are that list; orders no list names follow.
    listed = [order_id for user in data.users.values() for order_id in user.orders if order_id in data.orders]
    in_order = listed + [order_id for order_id in data.orders if order_id not in set(listed)]
    for o_key, order_id in enumerate(in_order, start=1):
        o = data.orders[order_id]
        if o.user_id not in customer_of:
            raise InvalidTau2File(f"order {order_id} belongs to {o.user_id}, who is not among the users")
        a = o.address
        diff = None if o.exchange_price_difference is None else to_cents(o.exchange_price_difference)
        rows.orders.append(
            bulk.OrderRow(
                id=o_key,
                order_id=o.order_id,
                customer_id=customer_of[o.user_id],
                status=o.status,
                address1=a.address1,
                address2=a.address2,
                city=a.city,
                state=a.state,
                country=a.country,
                zip=a.zip,
                placed_at=o.placed_at,
                updated_at=now,
                cancel_reason=o.cancel_reason,
                exchange_items=_json(o.exchange_items),
                exchange_new_items=_json(o.exchange_new_items),
                exchange_payment_method_id=o.exchange_payment_method_id,
                exchange_price_difference_cents=diff,
                return_items=_json(o.return_items),
                return_payment_method_id=o.return_payment_method_id,
            )
        )
        for position, item in enumerate(o.items):
            rows.order_items.append(
                (
                    o_key,
                    position,
                    item.product_id,
                    item.item_id,
                    item.name,
                    json.dumps(item.options),
                    to_cents(item.price),
                )
            )
        for position, f in enumerate(o.fulfillments):
            rows.fulfillments.append((o_key, position, json.dumps(f.tracking_id), json.dumps(f.item_ids)))
        for position, entry in enumerate(o.payment_history):
            rows.payments.append(
                (o_key, position, entry.transaction_type, to_cents(entry.amount), entry.payment_method_id, None)
            )
    return rows


async def import_into(db: ShopDatabase, text: str) -> dict[str, int]:
    """Load a τ² db.json into an empty database; returns the row counts."""
    data = parse(text)
    if not await db.is_empty():
        raise InvalidTau2File(f"{db.location} already holds a shop; import into a new database")
    async with db.transaction() as conn:
        await bulk.insert(conn, to_rows(data))
        return await bulk.counts(conn)


_OPTIONAL_ORDER_FIELDS = (
    "cancel_reason",
    "exchange_items",
    "exchange_new_items",
    "exchange_payment_method_id",
    "exchange_price_difference",
    "return_items",
    "return_payment_method_id",
)


async def export(db: ShopDatabase) -> dict[str, Any]:
    """The whole shop in the τ² format (fields τ² does not have, like phone and placed_at, are left out)."""
    conn = db.read
    products: dict[int, dict[str, Any]] = {}
    async for r in bulk.dump(conn, "products"):
        products[r["id"]] = {"name": r["name"], "product_id": r["product_id"], "variants": {}}
    async for r in bulk.dump(conn, "variants"):
        products[r["product_id"]]["variants"][r["item_id"]] = {
            "item_id": r["item_id"],
            "options": json.loads(r["options"]),
            "available": bool(r["available"]),
            "price": to_dollars(r["price_cents"]),
        }
    users: dict[int, dict[str, Any]] = {}
    async for r in bulk.dump(conn, "customers"):
        users[r["id"]] = {
            "user_id": r["user_id"],
            "name": {"first_name": r["first_name"], "last_name": r["last_name"]},
            "address": _address(r),
            "email": r["email"],
            "payment_methods": {},
            "orders": [],
        }
    async for r in bulk.dump(conn, "payment_methods"):
        method: dict[str, Any] = {"source": r["source"], "id": r["method_id"]}
        if r["source"] == "credit_card":
            method |= {"brand": r["brand"], "last_four": r["last_four"]}
        elif r["source"] == "gift_card":
            method["balance"] = to_dollars(r["balance_cents"])
        users[r["customer_id"]]["payment_methods"][r["method_id"]] = method
    orders: dict[int, dict[str, Any]] = {}
    async for r in bulk.dump(conn, "orders"):
        user = users[r["customer_id"]]
        user["orders"].append(r["order_id"])
        order: dict[str, Any] = {
            "order_id": r["order_id"],
            "user_id": user["user_id"],
            "address": _address(r),
            "items": [],
            "status": r["status"],
            "fulfillments": [],
            "payment_history": [],
        }
        optional = {
            "cancel_reason": r["cancel_reason"],
            "exchange_items": _load(r["exchange_items"]),
            "exchange_new_items": _load(r["exchange_new_items"]),
            "exchange_payment_method_id": r["exchange_payment_method_id"],
            "exchange_price_difference": None
            if r["exchange_price_difference_cents"] is None
            else to_dollars(r["exchange_price_difference_cents"]),
            "return_items": _load(r["return_items"]),
            "return_payment_method_id": r["return_payment_method_id"],
        }
        order |= {k: optional[k] for k in _OPTIONAL_ORDER_FIELDS if optional[k] is not None}
        orders[r["id"]] = order
    async for r in bulk.dump(conn, "order_items"):
        orders[r["order_id"]]["items"].append(
            {
                "name": r["name"],
                "product_id": r["product_id"],
                "item_id": r["item_id"],
                "price": to_dollars(r["price_cents"]),
                "options": json.loads(r["options"]),
            }
        )
    async for r in bulk.dump(conn, "fulfillments"):
        orders[r["order_id"]]["fulfillments"].append(
            {"tracking_id": json.loads(r["tracking_ids"]), "item_ids": json.loads(r["item_ids"])}
        )
    async for r in bulk.dump(conn, "payments"):
        orders[r["order_id"]]["payment_history"].append(
            {
                "transaction_type": r["transaction_type"],
                "amount": to_dollars(r["amount_cents"]),
                "payment_method_id": r["payment_method_id"],
            }
        )
    return {
        "products": {p["product_id"]: p for p in products.values()},
        "users": {u["user_id"]: u for u in users.values()},
        "orders": {o["order_id"]: o for o in orders.values()},
    }


def _address(r: Any) -> dict[str, str]:
    return {k: r[k] for k in ("address1", "address2", "city", "country", "state", "zip")}


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)
