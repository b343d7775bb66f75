"""Order context: the order and tracking behind a customer's message, from the seller's order sources.

`OrderLookup` (lookup.py) asks the configured sources — Shopify's GraphQL Admin API (shopify.py) and the seller's
own signed lookup hook (hook.py), both behind the `OrderSource` interface (sources.py) — with a short timeout and
a brief cache; numbers.py finds order numbers in messages, carriers.py builds tracking links, and context.py turns
a lookup's result into template variables, the reason a reply is held for a person, and the card's order line.
Nothing here imports a platform SDK; with no source configured, nothing is looked up.
"""

from bot.order_context.lookup import OrderLookup
from bot.order_context.model import CustomerStats, LookupResult, OrderInfo, OrderItem, OrderSourceError, Shipment
from bot.order_context.sources import OrderQuery, OrderSource

__all__ = [
    "CustomerStats",
    "LookupResult",
    "OrderInfo",
    "OrderItem",
    "OrderLookup",
    "OrderQuery",
    "OrderSource",
    "OrderSourceError",
    "Shipment",
]
