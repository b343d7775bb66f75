"""`make loadtest`: a bounded load run of real `kefu serve` processes against 127.0.0.1 only.

Setups: one replica on SQLite, one and two replicas on PostgreSQL (a throwaway database on the local server; skipped
when none answers). Profiles per setup:

- *steady*: an open-loop stream of inbound messages at a fixed rate through the HTTP API (POST /api/v1/messages),
- *burst*: a block of messages sent by many concurrent clients as fast as kefu acknowledges them (its sustained
  throughput),

both with Slack slash commands posted to /slack/events meanwhile (Slack wants an ack within 3 s). Messages are
varied multilingual questions (auto-replied: the reply reaches a local customer endpoint) and complaints (a triage
card reaches a fake Slack Web API). Reported per run: ack latency p50/p99, inbound→reply and inbound→card latency,
throughput, errors, lost and duplicated messages (from the database and the receivers), resident memory per replica.

    python -m bench.loadtest [--out bench/loadtest.json] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, select
from sqlmodel import Session

from bench.metrics import postgres_database
from models.db import create_db_engine
from models.migrate import upgrade
from models.tables import Message, OutboxItem

ROOT = Path(__file__).resolve().parent.parent
API_TOKEN = "loadtest-token-0123456789"
API_SECRET = "loadtest-secret-9876543210"
DELIVERY_TIMEOUT = 120.0

QUESTIONS = [
    "How long does shipping to {place} take? I ordered the {item} yesterday",
    "¿Cuánto tarda el envío a {place}? Pedí {item} ayer",
    "Wie lange dauert der Versand nach {place}? Ich habe {item} gestern bestellt",
    "Combien de temps prend la livraison vers {place} pour {item} ?",
    "Quanto tempo leva o envio para {place}? Comprei {item}",
    "Quanto tempo ci vuole per la spedizione a {place}? Ho ordinato {item}",
    "What is your return policy for the {item}?",
    "Do I have to pay customs duties in {place} for the {item}?",
    "{place}までの配送にはどのくらいかかりますか？{item}を注文しました",
    "寄到{place}要多久？我昨天买了{item}",
]
COMPLAINTS = [
    "The {item} arrived broken and I want my money back, this is the second time!",
    "Das {item} ist beschädigt angekommen, ich will mein Geld zurück",
    "Le {item} n'est jamais arrivé à {place}, c'est inadmissible",
    "El {item} llegó roto, quiero un reembolso ya",
    "I received the wrong {item}, not what I ordered at all",
]
PLACES = ["Berlin", "Madrid", "Lyon", "Porto", "Milano", "Osaka", "Toronto", "Austin", "Leeds", "Shenzhen"]
ITEMS = ["blender", "phone case", "lamp", "backpack", "kettle", "headphones", "tent", "watch strap", "drone", "mug"]


@dataclass
class Profile:
    name: str
    messages: int
    rate: float | None = None  # messages/s (open loop); None: as fast as `concurrency` clients get acks
    concurrency: int = 32
    slack_commands_per_s: float = 5.0


@dataclass
class Sent:
    n: int
    conversation: str
    complaint: bool
    sent_at: float
    acked_at: float | None = None
    status: int | None = None
    ticket_id: int | None = None
    action: str | None = None


@dataclass
class RunResult:
    setup: str
    profile: str
    replicas: int
    figures: dict[str, float | int | None] = field(default_factory=dict)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def message_text(rng: random.Random, complaint: bool) -> str:
    pattern = rng.choice(COMPLAINTS if complaint else QUESTIONS)
    return pattern.format(place=rng.choice(PLACES), item=rng.choice(ITEMS))


# ---- receivers ---------------------------------------------------------------------------------------------------


class CustomerEndpoint:
    """The customer side of the HTTP API channel: records each reply's arrival time and Idempotency-Key."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # conversation id → first reply's arrival
        self.keys: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/callback", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/callback"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.keys[request.headers.get("Idempotency-Key", "")] += 1
        self.arrivals.setdefault(str(body.get("conversation_id")), time.time())
        return web.json_response({"id": uuid.uuid4().hex})


# ---- replicas ----------------------------------------------------------------------------------------------------


class Replica:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        with socket_port() as port:
            self.port = port
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port)],
                                        env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.peak_rss_mb = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the replica has used so far."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def wait_ready(self, http: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"kefu serve exited with {self.process.returncode}:\n{tail}")
            try:
                async with http.get(self.url + "/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
        raise RuntimeError("kefu serve did not become ready in 300 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@contextmanager
def socket_port() -> Iterator[int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


# ---- one run -----------------------------------------------------------------------------------------------------


async def run_profile(setup: str, database_url: str, replicas_wanted: int, profile: Profile, work: Path,
                      seed: int) -> RunResult:
    from tests.fakes.slack import FakeSlack
    from tests.fakes.slack_driver import SlackDriver

    rng = random.Random(seed)
    customer = CustomerEndpoint()
    await customer.start()
    with FakeSlack() as slack:
        env = {key: value for key, value in os.environ.items() if not key.startswith("KEFU_")}
        var_dir = work / f"var-{setup}-{profile.name}"
        var_dir.mkdir(parents=True, exist_ok=True)
        cache = work / "cache"
        cache.mkdir(exist_ok=True)
        if not (var_dir / "cache").exists():
            (var_dir / "cache").symlink_to(cache, target_is_directory=True)
        env.update({
            "KEFU_DATABASE_URL": database_url, "KEFU_VAR_DIR": str(var_dir), "KEFU_API_TOKEN": API_TOKEN,
            "KEFU_API_SECRET": API_SECRET, "KEFU_WEBHOOK_CALLBACK_URL": customer.url, "KEFU_LOG_LEVEL": "WARNING",
            "KEFU_SLACK_BOT_TOKEN": slack.bot_token, "KEFU_SLACK_SIGNING_SECRET": slack.signing_secret,
            "KEFU_SLACK_API_URL": slack.api_url, "KEFU_SLACK_CHANNEL": "C0TRIAGE",
        })
        replicas = [Replica(env, work / f"serve-{setup}-{profile.name}-{n}.log") for n in range(replicas_wanted)]
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60),
                                             connector=aiohttp.TCPConnector(limit=256)) as http:
                await asyncio.gather(*(replica.wait_ready(http) for replica in replicas))
                result = await _drive(setup, database_url, replicas, profile, http, slack, SlackDriver, customer, rng)
        finally:
            for replica in replicas:
                replica.stop()
            await customer.stop()
    return result


async def _drive(setup: str, database_url: str, replicas: list[Replica], profile: Profile,
                 http: aiohttp.ClientSession, slack: Any, driver_class: Any, customer: CustomerEndpoint,
                 rng: random.Random) -> RunResult:
    sent: list[Sent] = []
    errors: Counter[str] = Counter()
    slack_acks: list[float] = []
    stop_sampling = asyncio.Event()

    async def sample_memory() -> None:
        while not stop_sampling.is_set():
            for replica in replicas:
                replica.peak_rss_mb = max(replica.peak_rss_mb, replica.rss_mb())
            await asyncio.sleep(0.25)

    async def send(n: int) -> None:
        complaint = rng.random() < 0.3
        record = Sent(n, f"load-{profile.name}-{n}", complaint, time.time())
        sent.append(record)
        body = {"channel_message_id": record.conversation, "conversation_id": record.conversation,
                "customer": {"id": f"load-customer-{n % 500}"}, "text": message_text(rng, complaint)}
        replica = replicas[n % len(replicas)]
        try:
            async with http.post(replica.url + "/api/v1/messages", json=body,
                                 headers={"Authorization": f"Bearer {API_TOKEN}"}) as response:
                record.status = response.status
                answer = await response.json()
                record.acked_at = time.time()
                if response.status < 300:
                    record.ticket_id, record.action = answer["ticket_id"], answer["action"]
                else:
                    errors[f"HTTP {response.status}"] += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            errors[type(exc).__name__] += 1

    async def slack_commands(done: asyncio.Event) -> None:
        drivers = [driver_class(slack, events_url=replica.url + "/slack/events") for replica in replicas]
        n = 0
        while not done.is_set():
            started = time.perf_counter()
            try:
                delivery = await drivers[n % len(drivers)].command("/kefu", "help")
                if delivery.status == 200:
                    slack_acks.append(time.perf_counter() - started)
                else:
                    errors[f"slack HTTP {delivery.status}"] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors[f"slack {type(exc).__name__}"] += 1
            n += 1
            await asyncio.sleep(1 / profile.slack_commands_per_s)

    sampler = asyncio.create_task(sample_memory())
    sending_done = asyncio.Event()
    commands = asyncio.create_task(slack_commands(sending_done))
    started = time.time()
    cpu_before = sum(replica.cpu_seconds() for replica in replicas)
    if profile.rate is not None:
        tasks = []
        for n in range(profile.messages):
            delay = started + n / profile.rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(n)))
        await asyncio.gather(*tasks)
    else:
        queue = iter(range(profile.messages))

        async def client() -> None:
            for n in queue:
                await send(n)

        await asyncio.gather(*(client() for _ in range(profile.concurrency)))
    sending_done.set()
    acked = [s for s in sent if s.status is not None and s.status < 300]
    last_ack = max((s.acked_at or started) for s in sent)
    throughput = len(acked) / max(1e-9, last_ack - started)
    await commands

    # Wait for what the acknowledged messages owe: a reply for each auto-reply, a Slack card for each suggestion.
    wanted_replies = {s.conversation for s in acked if s.action == "auto_replied"}
    wanted_cards = {s.ticket_id for s in acked if s.action not in ("auto_replied", "duplicate")}
    card_arrivals: dict[int, float] = {}
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while time.monotonic() < deadline:
        card_arrivals = _card_arrivals(slack)
        if wanted_replies <= set(customer.arrivals) and wanted_cards <= set(card_arrivals):
            break
        await asyncio.sleep(0.25)
    cpu_used = sum(replica.cpu_seconds() for replica in replicas) - cpu_before
    busy_seconds = max(1e-9, time.time() - started)
    stop_sampling.set()
    await sampler

    ack_latencies = [s.acked_at - s.sent_at for s in acked if s.acked_at is not None]
    reply_latencies = [customer.arrivals[s.conversation] - s.sent_at for s in acked
                       if s.conversation in customer.arrivals]
    card_latencies = [card_arrivals[s.ticket_id] - s.sent_at for s in acked
                      if s.ticket_id in card_arrivals and s.action not in ("auto_replied", "duplicate")]
    lost, duplicated = _database_check(database_url, [s.conversation for s in acked])
    undelivered = len(wanted_replies - set(customer.arrivals)) + len(wanted_cards - set(card_arrivals))
    repeated = sum(count - 1 for count in customer.keys.values() if count > 1)
    figures: dict[str, float | int | None] = {
        "messages": profile.messages, "accepted": len(acked), "errors": sum(errors.values()),
        "offered_rate_msgs_per_s": profile.rate, "throughput_msgs_per_s": round(throughput, 1),
        "ack_p50_ms": _ms(_percentile(ack_latencies, 0.5)), "ack_p99_ms": _ms(_percentile(ack_latencies, 0.99)),
        "inbound_to_reply_p50_ms": _ms(_percentile(reply_latencies, 0.5)),
        "inbound_to_reply_p99_ms": _ms(_percentile(reply_latencies, 0.99)),
        "inbound_to_card_p50_ms": _ms(_percentile(card_latencies, 0.5)),
        "inbound_to_card_p99_ms": _ms(_percentile(card_latencies, 0.99)),
        "slack_acks": len(slack_acks), "slack_ack_p50_ms": _ms(_percentile(slack_acks, 0.5)),
        "slack_ack_p99_ms": _ms(_percentile(slack_acks, 0.99)),
        "replies": len(wanted_replies), "cards": len(wanted_cards),
        "lost_messages": lost + undelivered, "duplicated_messages": duplicated + repeated,
        "rss_mb": round(max(r.peak_rss_mb for r in replicas), 1),
        # What one message costs kefu, all its work included (ingest, replies and cards sent, Slack commands), and
        # how many cores the replicas kept busy: a replica is one process, its Python on one core at a time.
        "cpu_ms_per_msg": round(1000 * cpu_used / max(1, len(acked)), 2),
        "kefu_cores_busy": round(cpu_used / busy_seconds, 2),
    }
    if errors:
        print(f"  errors: {dict(errors)}", file=sys.stderr)
    return RunResult(setup, profile.name, len(replicas), figures)


_TICKET = re.compile(r"Ticket #(\d+)")


def _card_arrivals(slack: Any) -> dict[int, float]:
    arrivals: dict[int, float] = {}
    for call in slack.calls("chat.postMessage"):
        if not call.ok:
            continue
        match = _TICKET.search(json.dumps(call.body, ensure_ascii=False))
        if match:
            arrivals.setdefault(int(match.group(1)), call.at)
    return arrivals


def _database_check(database_url: str, accepted: list[str]) -> tuple[int, int]:
    """(accepted messages missing from the database, messages stored more than once or replies queued twice)."""
    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            stored = dict(session.execute(
                select(Message.channel_message_id, func.count()).where(Message.direction == "in")
                .group_by(Message.channel_message_id)).all())
            unsent = session.scalar(select(func.count()).select_from(OutboxItem)
                                    .where(OutboxItem.status != "sent")) or 0
    finally:
        engine.dispose()
    lost = sum(1 for conversation in accepted if conversation not in stored)
    duplicated = sum(count - 1 for count in stored.values() if count > 1)
    if unsent:
        print(f"  {unsent} outbox item(s) not sent at the end of the run", file=sys.stderr)
    return lost, duplicated


# ---- the whole run -----------------------------------------------------------------------------------------------


def profiles(quick: bool) -> list[Profile]:
    if quick:
        return [Profile("steady", 200, rate=50.0), Profile("burst", 300, concurrency=32)]
    return [Profile("steady", 3000, rate=200.0), Profile("burst", 3000, concurrency=64)]


async def run_all(quick: bool, work: Path) -> list[RunResult]:
    results: list[RunResult] = []
    for profile in profiles(quick):
        sqlite_url = f"sqlite:///{work / f'loadtest-{profile.name}.db'}"
        upgrade(sqlite_url)
        print(f"sqlite × 1 replica, {profile.name}", file=sys.stderr)
        results.append(await run_profile("sqlite", sqlite_url, 1, profile, work, seed=1))
        for replicas in (1, 2):
            with postgres_database() as url:
                if url is None:
                    break
                upgrade(url)
                print(f"postgresql × {replicas} replica(s), {profile.name}", file=sys.stderr)
                results.append(await run_profile("postgresql", url, replicas, profile, work, seed=1))
    return results


def summary(results: list[RunResult]) -> dict[str, Any]:
    """The headline figures the benchmark report carries (bench/results.json)."""
    def pick(setup: str, profile: str, replicas: int) -> dict[str, Any]:
        for result in results:
            if (result.setup, result.profile, result.replicas) == (setup, profile, replicas):
                return result.figures
        return {}

    sqlite_burst, pg1_burst, pg2_burst = pick("sqlite", "burst", 1), pick("postgresql", "burst", 1), \
        pick("postgresql", "burst", 2)
    speedup = None
    if pg1_burst.get("throughput_msgs_per_s") and pg2_burst.get("throughput_msgs_per_s"):
        speedup = round(pg2_burst["throughput_msgs_per_s"] / pg1_burst["throughput_msgs_per_s"], 2)
    every = [r.figures for r in results]
    return {
        "api_sustained_msgs_per_s": sqlite_burst.get("throughput_msgs_per_s"),
        "api_sustained_msgs_per_s_postgresql_2_replicas": pg2_burst.get("throughput_msgs_per_s"),
        "slack_ack_p99_ms": max((f["slack_ack_p99_ms"] or 0 for f in every), default=None),
        "inbound_to_card_p99_ms": pick("sqlite", "steady", 1).get("inbound_to_card_p99_ms"),
        "rss_mb": max((f["rss_mb"] or 0 for f in every), default=None),
        "two_replica_speedup": speedup,
        "cpu_ms_per_msg": sqlite_burst.get("cpu_ms_per_msg"),
        "cpu_ms_per_msg_postgresql": pg1_burst.get("cpu_ms_per_msg"),
        "lost_messages": sum(int(f["lost_messages"] or 0) for f in every),
        "duplicated_messages": sum(int(f["duplicated_messages"] or 0) for f in every),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "loadtest.json")
    parser.add_argument("--quick", action="store_true", help="a short run (smaller profiles) to check the setup")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kefu-loadtest-") as tmp:
        work = Path(tmp)
        results = asyncio.run(run_all(args.quick, work))
    document = {"runs": [{"setup": r.setup, "profile": r.profile, "replicas": r.replicas, **r.figures}
                         for r in results], "summary": summary(results), "quick": args.quick,
                "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    for run in document["runs"]:
        print(json.dumps(run))
    print(json.dumps(document["summary"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
