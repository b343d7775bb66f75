"""A lookup's result as the pipeline uses it: template variables, the reason kefu holds an order reply for a
person, and the line on the triage card.

- `template_variables`: `order` (number, status, carrier, tracking_number, tracking_url, shipped_at, delivered_at,
  items; dates written the customer's way) and the flat `order_id`, `carrier`, `tracking_number`, `tracking_url`
  that older templates use.
- `hold_reason`: why an order-status reply must not go out by itself: the order was not found, its status is one
  kefu should not explain alone (cancelled, failed delivery, unknown), or it has been in transit for more than
  `stuck_in_transit_days`. A failed lookup holds nothing: the reply goes out without order details.
- `card_text`: "Shipped 2026-11-03 with YunExpress YT… (link) · 2 items", "Order #1042 not found",
  "Order lookup failed: timeout".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.order_context.model import CLEAR_STATUSES, LookupResult

MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
STATUS_WORDS = {
    "processing": "processing (not shipped yet)",
    "shipped": "shipped",
    "out_for_delivery": "out for delivery",
    "delivered": "delivered",
    "delivery_failed": "delivery failed",
    "cancelled": "cancelled",
    "unknown": "status unknown",
}


def format_date(moment: datetime | None, language: str | None) -> str | None:
    """A date as the customer's language writes it: 3 Nov 2026, 03.11.2026, 03/11/2026, 2026年11月3日."""
    if moment is None:
        return None
    base = (language or "en").split("-")[0].lower()
    if base in ("zh", "ja"):
        return f"{moment.year}年{moment.month}月{moment.day}日"
    if base == "ko":
        return f"{moment.year}년 {moment.month}월 {moment.day}일"
    if base in ("de", "ru", "pl", "tr", "cs"):
        return moment.strftime("%d.%m.%Y")
    if base in ("fr", "es", "it", "pt", "nl"):
        return moment.strftime("%d/%m/%Y")
    if base == "en":
        return f"{moment.day} {MONTHS_EN[moment.month - 1]} {moment.year}"
    return moment.date().isoformat()


def template_variables(result: LookupResult | None, language: str | None) -> dict[str, Any]:
    """The variables a found order gives reply templates (nothing for any other outcome)."""
    if result is None or result.state != "found" or result.order is None:
        return {}
    order = result.order
    shipment = order.latest_shipment
    carrier = shipment.carrier if shipment else None
    number = shipment.tracking_number if shipment else None
    url = shipment.tracking_url if shipment else None
    view = {
        "number": order.number, "status": order.status, "carrier": carrier, "tracking_number": number,
        "tracking_url": url, "shipped_at": format_date(shipment.shipped_at if shipment else None, language),
        "delivered_at": format_date(shipment.delivered_at if shipment else None, language),
        "items": [str(item) for item in order.items],
    }
    flat = {"order_id": order.number, "carrier": carrier, "tracking_number": number, "tracking_url": url}
    return {"order": view, **{k: v for k, v in flat.items() if v}}


def days_in_transit(result: LookupResult, now: datetime) -> int | None:
    order = result.order
    if order is None or order.status not in ("shipped", "out_for_delivery") or order.shipped_at is None:
        return None
    return (now - order.shipped_at).days


def hold_reason(result: LookupResult | None, now: datetime, stuck_after_days: int) -> str | None:
    """Why an order-status reply needs a person, or None when kefu may answer (or knows nothing either way)."""
    if result is None:
        return None
    if result.state == "not_found":
        return f"order {result.query} not found"
    if result.state != "found" or result.order is None:
        return None
    order = result.order
    if order.status not in CLEAR_STATUSES:
        return f"order {order.number} is {STATUS_WORDS[order.status]}"
    days = days_in_transit(result, now)
    if days is not None and days > stuck_after_days:
        return f"order {order.number} in transit for {days} days (more than {stuck_after_days})"
    return None


def card_text(result: LookupResult | None, now: datetime) -> str | None:
    """The order's line on the triage card; None when nothing was looked up."""
    if result is None or result.state == "skipped":
        return None
    if result.state == "not_found":
        return f"Order {result.query} not found"
    if result.state == "failed":
        return f"Order lookup failed: {result.reason or 'unknown error'}"
    order = result.order
    assert order is not None
    parts = [f"{order.number}: {STATUS_WORDS[order.status]}"]
    shipment = order.latest_shipment
    if shipment is not None and shipment.shipped_at is not None:
        parts[0] += f" {shipment.shipped_at.date().isoformat()}"
        days = days_in_transit(result, now)
        if days is not None:
            parts[0] += f" ({days} days in transit)"
    if shipment is not None and (shipment.carrier or shipment.tracking_number):
        parts.append(" ".join(p for p in (shipment.carrier, shipment.tracking_number) if p))
    if shipment is not None and shipment.tracking_url:
        parts.append(shipment.tracking_url)
    if order.items:
        parts.append(", ".join(str(item) for item in order.items[:5]) + (" …" if len(order.items) > 5 else ""))
    return " · ".join(parts)
