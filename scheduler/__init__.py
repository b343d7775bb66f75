"""Scheduled jobs: SLA watch, alert rules, digests, CSAT surveys."""
