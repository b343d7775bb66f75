"""kefu's persistent data: sqlmodel tables, the engine and sessions, and the alembic migrations.

Imports nothing else of kefu. Timestamps are stored as UTC and always come back timezone-aware (UTC).
"""

from models.db import create_db_engine, session_scope, utcnow
from models.tables import (
    Agent,
    Alert,
    AuditEvent,
    CsatResponse,
    Customer,
    FaqArticle,
    Feedback,
    IntentExample,
    Message,
    OutboxItem,
    ReplyPair,
    Silence,
    Suggestion,
    Ticket,
)

__all__ = [
    "Agent",
    "Alert",
    "AuditEvent",
    "CsatResponse",
    "Customer",
    "FaqArticle",
    "Feedback",
    "IntentExample",
    "Message",
    "OutboxItem",
    "ReplyPair",
    "Silence",
    "Suggestion",
    "Ticket",
    "create_db_engine",
    "session_scope",
    "utcnow",
]
