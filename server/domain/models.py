"""Pydantic models shared by repositories and tools; they are also the tools' output schemas.

Field names follow the τ²-bench retail format, so an agent trained on that
benchmark reads the same shapes. Money is stored in cents but shown here in
dollars (two decimals), as that format has it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from .statuses import (
    AuditOutcome,
    CancelReason,
    MessageAuthor,
    OrderStatus,
    TicketPriority,
    TicketStatus,
    TransactionType,
)


class Address(BaseModel):
    address1: str
    address2: str  # may be empty
    city: str
    country: str
    state: str
    zip: str


class CustomerName(BaseModel):
    first_name: str
    last_name: str


class CreditCard(BaseModel):
    source: Literal["credit_card"] = "credit_card"
    id: str = Field(description="Payment method id, e.g. 'credit_card_1234567'.")
    brand: str = Field(description="Card brand, e.g. 'visa'. Only brand and last four digits are stored.")
    last_four: str


class Paypal(BaseModel):
    source: Literal["paypal"] = "paypal"
    id: str


class GiftCard(BaseModel):
    source: Literal["gift_card"] = "gift_card"
    id: str
    balance: float = Field(description="Remaining balance in dollars.")


PaymentMethod = Annotated[CreditCard | Paypal | GiftCard, Field(discriminator="source")]


class User(BaseModel):
    """A customer's profile, payment methods and order ids."""

    user_id: str
    name: CustomerName
    address: Address = Field(description="Default shipping address.")
    email: str
    phone: str | None = None
    payment_methods: dict[str, PaymentMethod] = Field(description="Payment methods by id.")
    orders: list[str] = Field(description="Ids of this customer's orders, oldest first.")


class Variant(BaseModel):
    """One purchasable item of a product: its options, price and availability."""

    item_id: str
    options: dict[str, str]
    available: bool
    price: float


class Product(BaseModel):
    """A product type and all its variant items."""

    name: str
    product_id: str
    variants: dict[str, Variant] = Field(description="Variant items by item id.")


class ItemDetails(Variant):
    """A variant item, with the product it belongs to."""

    product_id: str
    product_name: str


class OrderItem(BaseModel):
    name: str
    product_id: str
    item_id: str
    price: float = Field(description="Price paid for this item, in dollars.")
    options: dict[str, str]


class Fulfillment(BaseModel):
    tracking_id: list[str]
    item_ids: list[str]


class PaymentEntry(BaseModel):
    transaction_type: TransactionType
    amount: float
    payment_method_id: str


class Order(BaseModel):
    """An order with its items, shipping address, status, shipments and money movements."""

    order_id: str
    user_id: str
    address: Address
    items: list[OrderItem]
    status: OrderStatus
    fulfillments: list[Fulfillment]
    payment_history: list[PaymentEntry]
    placed_at: str | None = Field(default=None, description="When the order was placed (ISO 8601).")
    cancel_reason: CancelReason | None = None
    exchange_items: list[str] | None = None
    exchange_new_items: list[str] | None = None
    exchange_payment_method_id: str | None = None
    exchange_price_difference: float | None = None
    return_items: list[str] | None = None
    return_payment_method_id: str | None = None


class UserIdResult(BaseModel):
    user_id: str


class ProductTypes(BaseModel):
    product_types: dict[str, str] = Field(description="Product name -> product id, sorted by name.")


class Calculation(BaseModel):
    expression: str
    result: float = Field(description="The value, rounded to two decimals.")


class OrderSummary(BaseModel):
    order_id: str
    user_id: str
    customer_name: str
    status: OrderStatus
    placed_at: str | None
    item_count: int
    total: float = Field(description="Sum of the item prices, in dollars.")
    item_names: list[str]


class OrderPage(BaseModel):
    orders: list[OrderSummary]
    next_cursor: str | None = Field(description="For `cursor`, to get the next page; null on the last.")


class CustomerSummary(BaseModel):
    user_id: str
    name: str
    email: str
    phone: str | None
    city: str
    state: str
    zip: str
    order_count: int


class CustomerPage(BaseModel):
    customers: list[CustomerSummary]
    next_cursor: str | None = Field(description="For `cursor`, to get the next page; null on the last.")


class TicketMessage(BaseModel):
    author: MessageAuthor
    body: str
    created_at: str


class Escalation(BaseModel):
    escalated_at: str
    reason: str
    summary: str


class TicketSummary(BaseModel):
    ticket_id: str
    user_id: str | None
    order_id: str | None
    subject: str
    status: TicketStatus
    priority: TicketPriority
    created_at: str
    updated_at: str


class Ticket(TicketSummary):
    """A support ticket with its whole message thread."""

    escalation: Escalation | None
    messages: list[TicketMessage]


class TicketPage(BaseModel):
    tickets: list[TicketSummary]
    next_cursor: str | None = Field(description="For `cursor`, to get the next page; null on the last.")


class Transfer(BaseModel):
    result: str = Field(description="'Transfer successful' once a human agent has the case.")
    ticket_id: str = Field(description="The escalated ticket the human agent picks up.")


class AuditEvent(BaseModel):
    """One call to a tool that writes: what became of it, who made it, about whom."""

    at: str
    tool: str
    target: str = Field(description="The id of the record concerned (order, ticket, customer).")
    subject: str = Field(description="Who called: a token's subject, or 'local'.")
    customer: str | None
    outcome: AuditOutcome = Field(description="done, unchanged, refused, declined or replayed.")
    reason: str | None = Field(description="Why it was refused or declined.")
    arguments: dict[str, Any] = Field(description="The arguments, personal values masked.")
    details: dict[str, Any] = Field(description="What the write changed.")


class AuditPage(BaseModel):
    events: list[AuditEvent]
    next_cursor: str | None = Field(description="For `cursor`, to get the next page; null on the last.")
