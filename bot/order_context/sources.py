"""The interface every order source implements, and the query kefu asks it.

A source answers one `OrderQuery` (an order number, or a customer's email / id for their latest order) with an
`OrderInfo`, None (no such order), or raises `OrderSourceError` (it could not answer). Sources are asynchronous
(aiohttp) and run on the order lookup's own event loop (bot/order_context/lookup.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.order_context.model import OrderInfo


@dataclass(frozen=True)
class OrderQuery:
    order_number: str | None = None
    email: str | None = None
    customer_id: str | None = None

    def describe(self) -> str | None:
        """What the query looks up, for the card: "#1042", or the email."""
        return self.order_number or self.email or self.customer_id

    @property
    def empty(self) -> bool:
        return not (self.order_number or self.email or self.customer_id)


class OrderSource(Protocol):
    name: str

    def can_answer(self, query: OrderQuery) -> bool:
        """Whether the query gives this source something to look up (Shopify needs a number or an email)."""
        ...

    async def find(self, query: OrderQuery) -> OrderInfo | None:
        """The order the query names (an order number), else the customer's latest; None when there is none."""
        ...

    async def close(self) -> None: ...
