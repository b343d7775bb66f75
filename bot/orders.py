"""Daily order counts (date × marketplace × country × orders): validating a report, upserting it, and the orders
that a metric window covers, so that answers can give rates per 1,000 orders.

A window is covered when every calendar date it touches (in the team's timezone) has at least one order row for
the slice asked about (all marketplaces and countries, or one marketplace, or one country); otherwise there is no
per-order rate, rather than one computed over a partial count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models.db import utcnow
from models.tables import DailyOrders

MAX_ITEMS = 10_000
_MARKETPLACE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


class OrdersError(ValueError):
    """A bad order report; `field` names the bad item and field, e.g. "orders[3].country"."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DailyOrderCount:
    date: date
    marketplace: str  # lower case, e.g. "amazon"
    country: str  # ISO 3166-1 alpha-2, upper case, e.g. "DE"
    orders: int


def parse_daily_orders(data: Any) -> list[DailyOrderCount]:
    """The counts of a `{"orders": [{"date", "marketplace", "country", "orders"}, …]}` body; OrdersError naming
    the item index and field of the first problem. A later item for the same (date, marketplace, country) wins."""
    if not isinstance(data, dict):
        raise OrdersError(f"the body must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - {"orders"})
    if unknown:
        raise OrdersError(f"unknown field {unknown[0]!r}: the body holds only \"orders\"", unknown[0])
    items = data.get("orders")
    if not isinstance(items, list):
        raise OrdersError("\"orders\" must be a list of {date, marketplace, country, orders}", "orders")
    if not items:
        raise OrdersError("\"orders\" is empty: send at least one item", "orders")
    if len(items) > MAX_ITEMS:
        raise OrdersError(f"\"orders\" has {len(items)} items; send at most {MAX_ITEMS} per request", "orders")
    counts: dict[tuple[date, str, str], DailyOrderCount] = {}
    for index, item in enumerate(items):
        count = _item(index, item)
        counts[(count.date, count.marketplace, count.country)] = count
    return list(counts.values())


def _item(index: int, item: Any) -> DailyOrderCount:
    where = f"orders[{index}]"
    if not isinstance(item, dict):
        raise OrdersError(f"{where} must be an object, got {type(item).__name__}", where)
    unknown = sorted(set(item) - {"date", "marketplace", "country", "orders"})
    if unknown:
        raise OrdersError(f"{where}.{unknown[0]} is not a known field (date, marketplace, country, orders)",
                          f"{where}.{unknown[0]}")
    for key in ("date", "marketplace", "country", "orders"):
        if item.get(key) is None:
            raise OrdersError(f"{where}.{key} is missing", f"{where}.{key}")
    raw_date = item["date"]
    try:
        if not isinstance(raw_date, str):
            raise ValueError
        day = date.fromisoformat(raw_date)
    except ValueError:
        raise OrdersError(f"{where}.date must be an ISO date like 2026-11-20, got {raw_date!r}",
                          f"{where}.date") from None
    marketplace = item["marketplace"]
    if not isinstance(marketplace, str) or not _MARKETPLACE_RE.match(marketplace.strip().lower()):
        raise OrdersError(f"{where}.marketplace must be a name like \"amazon\" (letters, digits, _ . -; at most 64),"
                          f" got {marketplace!r}", f"{where}.marketplace")
    country = item["country"]
    if not isinstance(country, str) or not _COUNTRY_RE.match(country.strip().upper()):
        raise OrdersError(f"{where}.country must be a two-letter country code like \"DE\", got {country!r}",
                          f"{where}.country")
    orders = item["orders"]
    if isinstance(orders, bool) or not isinstance(orders, int) or orders < 0:
        raise OrdersError(f"{where}.orders must be a whole number >= 0, got {orders!r}", f"{where}.orders")
    return DailyOrderCount(day, marketplace.strip().lower(), country.strip().upper(), orders)


def upsert_daily_orders(engine: Engine, counts: Sequence[DailyOrderCount]) -> int:
    """Insert or replace each count (unique on date, marketplace, country); returns how many were written."""
    with Session(engine) as session, session.begin():
        for count in counts:
            row = session.scalars(
                select(DailyOrders)
                .where(DailyOrders.date == count.date)  # type: ignore[arg-type]
                .where(DailyOrders.marketplace == count.marketplace)  # type: ignore[arg-type]
                .where(DailyOrders.country == count.country)  # type: ignore[arg-type]
                .with_for_update()
            ).first()
            if row is None:
                session.add(DailyOrders(date=count.date, marketplace=count.marketplace, country=count.country,
                                        orders=count.orders))
            else:
                row.orders = count.orders
                row.updated_at = utcnow()
    return len(counts)


def window_dates(start: datetime, end: datetime, tz: tzinfo) -> list[date]:
    """The calendar dates (in `tz`) that [start, end) touches."""
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def orders_in_window(
    source: Engine | Session,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    *,
    marketplace: str | None = None,
    country: str | None = None,
) -> int | None:
    """Orders on the dates [start, end) touches, or None when some date has no order row for the slice."""
    dates = window_dates(start, end, tz)
    query = select(DailyOrders.date, func.sum(DailyOrders.orders)).where(
        DailyOrders.date >= dates[0], DailyOrders.date <= dates[-1]  # type: ignore[arg-type]
    )
    if marketplace is not None:
        query = query.where(DailyOrders.marketplace == marketplace.lower())  # type: ignore[arg-type]
    if country is not None:
        query = query.where(DailyOrders.country == country.upper())  # type: ignore[arg-type]
    query = query.group_by(DailyOrders.date)  # type: ignore[arg-type]
    if isinstance(source, Session):
        rows = source.execute(query).all()
    else:
        with source.connect() as connection:
            rows = connection.execute(query).all()
    per_date = {row[0]: int(row[1] or 0) for row in rows}
    if any(day not in per_date for day in dates):
        return None
    return sum(per_date.values())


def orders_by(source: Engine, start: datetime, end: datetime, tz: tzinfo, dimension: str,
              groups: Iterable[str]) -> dict[str, int]:
    """Orders per marketplace or per country (dimension "marketplace" or "region") for the covered groups."""
    result: dict[str, int] = {}
    for group in groups:
        kwargs = {"marketplace": group} if dimension == "marketplace" else {"country": group}
        total = orders_in_window(source, start, end, tz, **kwargs)
        if total is not None:
            result[group] = total
    return result
