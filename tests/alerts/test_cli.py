"""`kefu alerts evaluate`: rules from kefu.toml, evaluated as of --at, printed; --dry-run posts nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.cli import main
from tests.alerts.conftest import T0, add_tickets, alert_items, alerts

CONFIG = """
[[alerts.rules]]
name = "first_response_slow"
metric = "first_response_time_mean"
window = "6h"
group_by = ["channel"]
warning = "> 2h"
critical = "> 4h"
for = "0m"
"""


@pytest.fixture
def config(tmp_path: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "kefu.toml"
    path.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("KEFU_DATABASE_URL", migrated_url)
    return path


def test_evaluate_prints_each_rule_and_posts_unless_dry_run(engine: Engine, config: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    created = T0 - timedelta(hours=5)
    add_tickets(engine, [created] * 2, channel="webchat", first_response_at=created + timedelta(hours=3))
    add_tickets(engine, [created], channel="webhook", first_response_at=created + timedelta(minutes=5))
    at = (T0 + timedelta(hours=3)).isoformat()
    add_tickets(engine, [T0 + timedelta(hours=2, minutes=30)] * 2, channel="webchat",
                first_response_at=T0 + timedelta(hours=2, minutes=55))

    assert main(["--config", str(config), "alerts", "evaluate", "--at", "2026-11-20T10:00:00", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "first_response_slow[channel=webchat] (first_response_time_mean): firing warning value 3h 00m" in out
    assert "critical > 4h 00m, warning > 2h 00m" in out and "would post first" in out
    assert "first_response_slow[channel=webhook] (first_response_time_mean): ok" in out
    assert alert_items(engine) == [] and alerts(engine) == []

    assert main(["--config", str(config), "alerts", "evaluate", "--at", "2026-11-20T10:00:00Z"]) == 0
    assert "1 notification(s) queued" in capsys.readouterr().out
    assert len(alert_items(engine)) == 1
    assert main(["--config", str(config), "alerts", "evaluate", "--at", at]) == 0  # cleared by then
    assert "posted resolved" in capsys.readouterr().out


def test_a_bad_time_or_rule_is_one_clear_line(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "alerts", "evaluate", "--at", "yesterday"]) == 2
    assert "--at 'yesterday' is not an ISO-8601 time" in capsys.readouterr().err
    config.write_text(CONFIG.replace('"> 2h"', '"more than 2h"'), encoding="utf-8")
    assert main(["--config", str(config), "alerts", "evaluate"]) == 2
    err = capsys.readouterr().err
    assert "rule 'first_response_slow', key 'warning'" in err and "Traceback" not in err


WEEKLY = """
[[alerts.rules]]
name = "complaints"
metric = "volume"
window = "24h"
min_count = 0
baseline = { days = 90 }

[[alerts.rules]]
name = "complaint_share"
metric = "complaint_rate"
window = "24h"
baseline = { days = 90 }
"""


def test_evaluate_says_which_seasonality_and_how_many_samples_a_baseline_used(
        engine: Engine, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text(WEEKLY, encoding="utf-8")
    add_tickets(engine, [T0 - timedelta(days=120)], kind="faq")  # kefu's history begins before the 90 days
    for week in range(6):  # this Friday and the 5 before it, one complaint each
        add_tickets(engine, [T0 - timedelta(weeks=week, hours=1)], kind="complaint")
    assert main(["--config", str(config), "alerts", "evaluate", "--at", T0.isoformat(), "--dry-run"]) == 0
    out = capsys.readouterr().out
    # A count: a week without tickets is a zero, so all 12 Fridays of 90 days are samples (σ at least 1).
    assert "complaints (volume): ok value 1; critical > 2.4, warning > 1.4, baseline 0.4 ± 0.5 over 12 weekly " \
           "samples" in out
    # A rate needs tickets: 5 Fridays had some, 7 are needed before the rule judges.
    assert "complaint_share (complaint_rate): ok value 100.0%; baseline 100.0% ± 0.0% over 5 weekly samples; " \
           "too little history (5 of 7 weekly samples)" in out
