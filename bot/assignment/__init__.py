"""Assignment: agents' shifts (`shifts`) and who gets a ticket that needs a human (`routing`), for the pipeline,
the `/assign`, `/queue` and `/shift` commands and the off-shift reassignment job (scheduler/assignment.py)."""

from bot.assignment.routing import (
    Candidate,
    Pick,
    TicketAssigner,
    best_for,
    load_candidates,
    pick_assignee,
    queue_notice,
    record_assignment,
)
from bot.assignment.shifts import ShiftCalendar, ShiftError, ShiftStatus, parse_shift, shift_status

__all__ = [
    "Candidate",
    "Pick",
    "ShiftCalendar",
    "ShiftError",
    "ShiftStatus",
    "TicketAssigner",
    "best_for",
    "load_candidates",
    "parse_shift",
    "pick_assignee",
    "queue_notice",
    "record_assignment",
    "shift_status",
]
