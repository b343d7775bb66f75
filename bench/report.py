"""`make bench`'s last step: gathers the figures of every benchmark into bench/results.json and bench/REPORT.md, with
the machine and the date, so that the next release can be compared with this one.

Inputs (each written by its benchmark; a missing one leaves its figures out, and the report says so):
bench/classification.json (python -m bench.run), bench/metrics.json (python -m bench.metrics),
bench/loadtest.json (python -m bench.loadtest).

    python -m bench.report [--dir bench]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SOURCES = {"classification": "classification.json", "metrics": "metrics.json", "loadtest": "loadtest.json"}


@dataclass(frozen=True)
class Target:
    figure: str
    wanted: str
    met: Callable[[float], bool]


TARGETS = (
    Target("api_sustained_msgs_per_s", "≥ 200 messages/s through the HTTP API, one replica on SQLite",
           lambda v: v >= 200),
    Target("slack_ack_p99_ms", "< 100 ms (Slack acknowledgements, p99, under load)", lambda v: v < 100),
    Target("inbound_to_card_p99_ms", "< 1000 ms (inbound message → triage card on Slack, p99)", lambda v: v < 1000),
    Target("two_replica_speedup", "≥ 1.6× (two replicas on PostgreSQL over one)", lambda v: v >= 1.6),
    Target("rss_mb", "< 400 MB per replica with the default model", lambda v: v < 400),
    Target("lost_messages", "0 across the load runs", lambda v: v == 0),
    Target("duplicated_messages", "0 across the load runs", lambda v: v == 0),
)


def machine() -> dict[str, Any]:
    memory_gb = None
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages * page_size / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {"machine": platform.machine(), "cpu_cores": os.cpu_count(), "memory_gb": memory_gb,
            "python": platform.python_version(), "system": f"{platform.system()} {platform.release()}"}


def gather(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(headline figures, every source's whole document) from the benchmarks' JSON files in `folder`."""
    documents: dict[str, Any] = {}
    for name, file_name in SOURCES.items():
        path = folder / file_name
        if path.exists():
            documents[name] = json.loads(path.read_text(encoding="utf-8"))
    figures: dict[str, Any] = {}
    classification = documents.get("classification", {})
    for key in ("classify_msgs_per_s", "raw_encoder_msgs_per_s", "classify_one_p99_ms", "clinc150_oos_recall",
                "massive_worst_locale_gap_points"):
        if key in classification:
            figures[key] = classification[key]
    metrics = documents.get("metrics", {})
    for key, value in metrics.items():
        if key.startswith("metrics_"):
            figures[key] = value
    figures.update(documents.get("loadtest", {}).get("summary", {}))
    return figures, documents


def render(figures: dict[str, Any], documents: dict[str, Any], written: datetime, host: dict[str, Any]) -> str:
    lines = [
        "# kefu — benchmark report", "",
        f"Written by `make bench` on {written:%Y-%m-%d %H:%M} UTC. Machine: {host['machine']}, {host['cpu_cores']} "
        f"CPU cores, {host['memory_gb']} GiB, Python {host['python']}, {host['system']}. Machine-readable: "
        "`bench/results.json`.", "",
        "## Targets", "", "| figure | target | measured | |", "|---|---|---|---|",
    ]
    for target in TARGETS:
        value = figures.get(target.figure)
        verdict = "not measured" if value is None else ("**met**" if target.met(float(value)) else "**NOT met**")
        lines.append(f"| `{target.figure}` | {target.wanted} | {'–' if value is None else value} | {verdict} |")
    lines += ["", "## Every figure", "", "| figure | value |", "|---|---|"]
    lines += [f"| `{key}` | {value} |" for key, value in figures.items()]
    missing = [f"`bench/{SOURCES[name]}`" for name in SOURCES if name not in documents]
    if missing:
        lines += ["", f"Not measured in this report (file missing): {', '.join(missing)}."]
    loadtest = documents.get("loadtest")
    if loadtest:
        lines += ["", "## Load test (`make loadtest`)", "",
                  "Real `kefu serve` processes on 127.0.0.1; inbound messages through `POST /api/v1/messages`, "
                  "Slack slash commands to `/slack/events` meanwhile; replies to a local customer endpoint, cards "
                  "to a fake Slack Web API. *steady*: open loop at the offered rate; *burst*: concurrent clients "
                  "as fast as acks come back. Latencies in ms." + (" Quick run (small profiles)."
                                                                    if loadtest.get("quick") else ""), "",
                  "| setup | replicas | profile | messages | errors | msgs/s | ack p50 / p99 | "
                  "→ reply p50 / p99 | → card p50 / p99 | Slack ack p50 / p99 | lost | duplicated | RSS MB | "
                  "CPU ms/msg | cores busy |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for run in loadtest.get("runs", []):
            lines.append(
                f"| {run['setup']} | {run['replicas']} | {run['profile']}"
                f"{'' if run.get('offered_rate_msgs_per_s') is None else ' @ ' + str(run['offered_rate_msgs_per_s'])}"
                f" | {run['messages']} | {run['errors']} | {run['throughput_msgs_per_s']} | "
                f"{run['ack_p50_ms']} / {run['ack_p99_ms']} | {run['inbound_to_reply_p50_ms']} / "
                f"{run['inbound_to_reply_p99_ms']} | {run['inbound_to_card_p50_ms']} / {run['inbound_to_card_p99_ms']}"
                f" | {run['slack_ack_p50_ms']} / {run['slack_ack_p99_ms']} | {run['lost_messages']} | "
                f"{run['duplicated_messages']} | {run['rss_mb']} | {run.get('cpu_ms_per_msg', '–')} | "
                f"{run.get('kefu_cores_busy', '–')} |")
    lines += ["", "## Details", "",
              "- Classification quality and speed against the raw encoder: `bench/CLASSIFICATION.md`.",
              "- Metric query latency by history size, SQLite and PostgreSQL at ~1M messages: `bench/METRICS.md`.",
              ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    written = datetime.now(UTC)
    host = machine()
    figures, documents = gather(args.dir)
    results = {"date": written.isoformat(timespec="seconds"), "machine": host, "figures": figures,
               "sources": documents}
    (args.dir / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.dir / "REPORT.md").write_text(render(figures, documents, written, host), encoding="utf-8")
    print(f"wrote {args.dir / 'results.json'} and {args.dir / 'REPORT.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
