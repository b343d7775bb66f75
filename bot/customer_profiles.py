"""Customer profiles: what kefu knows about a customer beyond their messages, and their value tier.

Order sources tell kefu a customer's orders count, lifetime value and last order (`apply_stats`); the value tier
follows from `[customers]` thresholds: `high` (high value: at least `high_value_orders` orders or a lifetime value
of `high_value_lifetime_value`), `new` (at most `new_max_orders` orders), `regular` otherwise. A high-value
customer's tickets are one severity step more urgent (`raised_severity`) and their cards say so. Agents add tags
and notes (`/customer ID tag vip`, `/customer ID note "..."`); every change is an AuditEvent. A refused tag or
note is a `ProfileError` (a ValueError) carrying its `Wording` for answers in other languages.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlmodel import Session

from bot.messages import CardField
from bot.wording import WordedError, Wording
from models.db import utcnow
from models.tables import AuditEvent, Customer, CustomerNote

if TYPE_CHECKING:
    from bot.order_context.model import CustomerStats
    from bot.settings import CustomerSettings

TIER_LABELS = {"high": "high value", "regular": "regular", "new": "new"}
MAX_TAGS = 30
MAX_TAG_CHARS = 40
MAX_NOTE_CHARS = 1000


class ProfileError(WordedError):
    """A tag or note that cannot be kept: str() says why in English, `wording` the same for other languages
    (catalogue keys "customer.error.…")."""


def value_tier(orders_count: int | None, lifetime_value: Decimal | None, settings: CustomerSettings) -> str | None:
    """high | regular | new from the customer's history; None when nothing is known."""
    if orders_count is None and lifetime_value is None:
        return None
    if (orders_count or 0) >= settings.high_value_orders or (lifetime_value or 0) >= settings.high_value_lifetime_value:
        return "high"
    if orders_count is not None and orders_count <= settings.new_max_orders:
        return "new"
    return "regular"


def raised_severity(severity: int, tier: str | None) -> int:
    """A high-value customer's ticket is one step more urgent (severity 1 stays 1)."""
    return max(1, severity - 1) if tier == "high" else severity


def known_tier(customer: Customer, stats: CustomerStats | None, settings: CustomerSettings) -> str | None:
    """The customer's tier: from what an order source just said, else as their profile last recorded it."""
    if stats is not None:
        tier = value_tier(stats.orders_count, stats.lifetime_value, settings)
        if tier is not None:
            return tier
    return customer.tier


def profile_fields(session: Session, customer: Customer, intent_severity: int | None,
                   severity: int) -> tuple[CardField, ...]:
    """The triage card's lines about the customer: value tier (and the priority it raised), tags, latest notes."""
    fields: list[CardField] = []
    summary = tier_summary(customer)
    if summary is not None:
        if customer.tier == "high" and intent_severity is not None and severity < intent_severity:
            summary += f" — priority raised from severity {intent_severity} to {severity}"
        fields.append(CardField("Customer value", summary))
    if customer.tags:
        fields.append(CardField("Tags", ", ".join(customer.tags)))
    if customer.id is not None:
        notes = recent_notes(session, customer.id)
        if notes:
            fields.append(CardField("Notes", "\n".join(
                f"{note.text} ({note.author}, {note.created_at.date().isoformat()})" for note in notes)))
    return tuple(fields)


def apply_stats(customer: Customer, stats: CustomerStats, settings: CustomerSettings) -> None:
    """Record what an order source says about the customer and recompute their tier (unknown values are kept)."""
    if stats.orders_count is not None:
        customer.orders_count = stats.orders_count
    if stats.lifetime_value is not None:
        customer.lifetime_value_cents = int((stats.lifetime_value * 100).to_integral_value(ROUND_HALF_UP))
        customer.currency = (stats.currency or customer.currency or "")[:3].upper() or None
    if stats.last_order_at is not None:
        customer.last_order_at = stats.last_order_at
    if stats.email and not customer.email:
        customer.email = stats.email.strip()[:255]
    customer.tier = value_tier(customer.orders_count, lifetime_value(customer), settings) or customer.tier
    customer.profile_updated_at = utcnow()


def lifetime_value(customer: Customer) -> Decimal | None:
    if customer.lifetime_value_cents is None:
        return None
    return Decimal(customer.lifetime_value_cents) / 100


def money(customer: Customer) -> str | None:
    """ "1,840.00 EUR" """
    value = lifetime_value(customer)
    if value is None:
        return None
    return f"{value:,.2f}" + (f" {customer.currency}" if customer.currency else "")


def tier_summary(customer: Customer) -> str | None:
    """ "high value · 12 orders · 1,840.00 EUR spent · last order 2026-11-01" for cards; None when unknown."""
    if customer.tier is None and customer.orders_count is None:
        return None
    parts = [TIER_LABELS.get(customer.tier or "", customer.tier or "tier unknown")]
    if customer.orders_count is not None:
        parts.append(f"{customer.orders_count} order{'s' if customer.orders_count != 1 else ''}")
    if (value := money(customer)) is not None:
        parts.append(f"{value} spent")
    if customer.last_order_at is not None:
        parts.append(f"last order {customer.last_order_at.date().isoformat()}")
    return " · ".join(parts)


def find_customers(session: Session, who: str) -> list[Customer]:
    """Customers a `/customer` argument names: "channel:id", an external id (on any channel) or an email."""
    who = who.strip()
    channel, sep, external = who.partition(":")
    if sep and channel and external and "@" not in channel:
        exact = session.scalars(select(Customer).where(Customer.channel == channel, Customer.external_id == external))
        found = list(exact)
        if found:
            return found
    query = select(Customer).where(or_(Customer.external_id == who, func.lower(Customer.email) == who.lower()))
    return list(session.scalars(query.order_by(Customer.id)))


def add_tag(session: Session, customer: Customer, tag: str, actor: str) -> bool:
    """Add a tag (lower-cased); False when the customer had it already. ValueError for a bad tag."""
    tag = clean_tag(tag)
    tags = list(customer.tags or [])
    if tag in tags:
        return False
    if len(tags) >= MAX_TAGS:
        raise ProfileError(f"a customer has at most {MAX_TAGS} tags; remove one first",
                           Wording("tags_full", {"limit": MAX_TAGS}))
    customer.tags = [*tags, tag]  # a new list: JSON columns notice assignment, not mutation
    session.add(customer)
    _audit(session, customer, actor, "customer.tagged", {"tag": tag})
    return True


def remove_tag(session: Session, customer: Customer, tag: str, actor: str) -> bool:
    tag = clean_tag(tag)
    tags = list(customer.tags or [])
    if tag not in tags:
        return False
    customer.tags = [t for t in tags if t != tag]
    session.add(customer)
    _audit(session, customer, actor, "customer.untagged", {"tag": tag})
    return True


def add_note(session: Session, customer: Customer, text: str, actor: str) -> CustomerNote:
    text = text.strip()
    if not text:
        raise ProfileError("a note needs text", Wording("note_empty"))
    if len(text) > MAX_NOTE_CHARS:
        raise ProfileError(f"a note is at most {MAX_NOTE_CHARS} characters (this one has {len(text)})",
                           Wording("note_too_long", {"limit": MAX_NOTE_CHARS, "length": len(text)}))
    assert customer.id is not None
    note = CustomerNote(customer_id=customer.id, author=actor[:128], text=text)
    session.add(note)
    session.flush()
    _audit(session, customer, actor, "customer.noted", {"note_id": note.id})
    return note


def recent_notes(session: Session, customer_id: int, limit: int = 3) -> list[CustomerNote]:
    query = (select(CustomerNote).where(CustomerNote.customer_id == customer_id)
             .order_by(CustomerNote.id.desc()).limit(limit))  # type: ignore[union-attr]
    return list(session.scalars(query))


def clean_tag(tag: str) -> str:
    cleaned = " ".join(tag.strip().strip("\"'“”").split()).lower()
    if not cleaned:
        raise ProfileError("a tag needs a name, such as vip", Wording("tag_empty"))
    if len(cleaned) > MAX_TAG_CHARS:
        raise ProfileError(f"a tag is at most {MAX_TAG_CHARS} characters",
                           Wording("tag_too_long", {"limit": MAX_TAG_CHARS}))
    return cleaned


def _audit(session: Session, customer: Customer, actor: str, action: str, details: dict[str, object]) -> None:
    session.add(AuditEvent(actor=actor[:128], action=action, subject_type="customer",
                           subject_id=f"{customer.channel}:{customer.external_id}"[:64], details=details))
