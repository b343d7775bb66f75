"""`kefu demo [--seed N] [--force]`: fill a new database with a realistic support team's traffic (bot/demo.py), so
that the console, `/metrics`, `/sla` and the alert rules have something to show."""

from __future__ import annotations

import argparse
import sys

from bot.settings import load_settings

DESCRIPTION = """\
Seed nine weeks of multilingual customer-service traffic up to now: customers of amazon, ebay and a shopify store
in fourteen countries writing in nine languages over the shipped intents, seven agents (mei is the manager)
answering them, automatic replies, SLA breaches, CSAT scores, resolved and open tickets, daily order counts, and
in the last 60 hours a refund spike on one product (SKU KF-EB-X2-BLK on amazon) that the shipped refund_spike
rule catches. A few customers write right now, through the live pipeline: their triage cards wait in the team
channel. Nothing is sent to anyone.

The same --seed gives the same data (relative to now). Running it again adds nothing: the demo is there already.
A database holding tickets that are not demo data is refused, unless --force.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="seed demo traffic: nine weeks of tickets, agents, orders, a refund spike",
                          description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default: %(default)s)")
    demo.add_argument("--force", action="store_true",
                      help="add the demo to a database that holds other tickets")
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from bot.app import load_templates
    from bot.demo import SPIKE_SKU, DemoRefused, seed_demo
    from models.migrate import open_database

    settings = load_settings(args.config)
    engine = open_database(settings.database_url)
    try:
        summary = seed_demo(engine, settings, load_templates(settings), seed=args.seed, force=args.force)
    except DemoRefused as exc:
        print(f"kefu demo: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if summary.already:
        seed = f" (seed {summary.seed})" if summary.seed is not None else ""
        print(f"The demo data is there already{seed}: {summary.tickets:,} tickets; nothing added.")
        if summary.seed is not None and summary.seed != args.seed:
            print(f"(--seed {args.seed} applies to a new database only.)")
    else:
        print(f"Demo seeded (seed {summary.seed}): {summary.tickets:,} tickets and {summary.messages:,} messages "
              f"over nine weeks, {summary.open_tickets} open ({summary.overdue} overdue), "
              f"{summary.agents_created} agents, {summary.order_rows:,} daily order counts, and a refund spike: "
              f"{summary.spike_tickets} tickets about SKU {SPIKE_SKU} in the last 60 hours.")
    if summary.live_messages:
        print(f"{summary.live_messages} customers are writing now: {summary.live_cards} triage cards wait for "
              "`kefu serve`.")
    print("Next: kefu agents passwd mei   (a console password for the demo's manager), then kefu serve and\n"
          "open /console; try /metrics 7d by region, /sla and /alerts (the alert rules run every 5 minutes;\n"
          "kefu alerts evaluate runs them now).")
    return 0
