"""What an order source tells kefu: an order (status, shipments, items), the customer's purchase history, and the
outcome of one lookup (found, not found, failed). Every source maps its own payload onto these types.

Order statuses are kefu's own small vocabulary, so templates and the reply policy read the same words whatever the
source: `processing` (paid, not shipped yet), `shipped` (on its way), `out_for_delivery`, `delivered`,
`delivery_failed` (a failed attempt or a return to sender), `cancelled`, and `unknown` (anything else).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

OrderStatus = Literal["processing", "shipped", "out_for_delivery", "delivered", "delivery_failed", "cancelled",
                      "unknown"]
ORDER_STATUSES: tuple[OrderStatus, ...] = ("processing", "shipped", "out_for_delivery", "delivered",
                                           "delivery_failed", "cancelled", "unknown")
# Statuses kefu can tell a customer about on its own; the others need a person (see OrderContext.hold_reason).
CLEAR_STATUSES: frozenset[str] = frozenset({"processing", "shipped", "out_for_delivery", "delivered"})


@dataclass(frozen=True)
class OrderItem:
    title: str
    quantity: int = 1
    sku: str | None = None

    def __str__(self) -> str:  # how templates print an item: "2 × Blue hoodie"
        return f"{self.quantity} × {self.title}" if self.quantity != 1 else self.title


@dataclass(frozen=True)
class Shipment:
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class CustomerStats:
    """The customer's history as the source knows it; None where the source does not say."""

    orders_count: int | None = None
    lifetime_value: Decimal | None = None
    currency: str | None = None
    last_order_at: datetime | None = None
    email: str | None = None


@dataclass(frozen=True)
class OrderInfo:
    number: str  # as the customer knows it: "#1042", "112-1234567-1234567"
    status: OrderStatus
    shipments: tuple[Shipment, ...] = ()
    items: tuple[OrderItem, ...] = ()
    created_at: datetime | None = None
    customer: CustomerStats | None = None
    source: str = ""

    @property
    def latest_shipment(self) -> Shipment | None:
        """The shipment customers ask about: the last one with a tracking number, else the last one."""
        tracked = [s for s in self.shipments if s.tracking_number]
        return (tracked or list(self.shipments) or [None])[-1]

    @property
    def shipped_at(self) -> datetime | None:
        shipment = self.latest_shipment
        return shipment.shipped_at if shipment is not None else None


LookupState = Literal["found", "not_found", "failed", "skipped"]


@dataclass(frozen=True)
class LookupResult:
    """One lookup's outcome. `failed` carries a short reason for the card ("timeout", "HTTP 500", "bad signature");
    `skipped` means there was nothing to look up (no source, or no order number and no email)."""

    state: LookupState
    query: str | None = None  # the order number or email looked up
    order: OrderInfo | None = None
    reason: str | None = None
    customer: CustomerStats | None = field(default=None)

    @classmethod
    def skipped(cls) -> LookupResult:
        return cls("skipped")

    @property
    def stats(self) -> CustomerStats | None:
        """The customer's history: from the lookup itself, or from the order's customer."""
        if self.customer is not None:
            return self.customer
        return self.order.customer if self.order is not None else None


class OrderSourceError(Exception):
    """A source could not answer (network, HTTP status, bad payload, bad signature); str() is a short reason."""
