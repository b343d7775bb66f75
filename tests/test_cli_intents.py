"""`kefu classify`, `kefu intents eval`, `kefu intents export` driven through the CLI entry point."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from intents.catalogue import IntentCatalogue, load_catalogue
from tests.intents.conftest import SHOP_CATALOGUE_YAML


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (no kefu.toml), no KEFU_* variables, and the shop catalogue as shop.yaml."""
    import os

    for name in list(os.environ):
        if name.startswith("KEFU_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEFU_DATABASE_URL", f"sqlite:///{tmp_path / 'kefu.db'}")
    (tmp_path / "shop.yaml").write_text(SHOP_CATALOGUE_YAML, encoding="utf-8")
    return tmp_path


def _run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[
    int, str, str
]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_classify_keeps_input_order_and_reports_bad_lines(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        {"id": 7, "text": "The item arrived broken."},
        "this is not json",
        {"id": "b", "text": "明天上海会下雪吗"},
        {"id": "no-text"},
        {"id": None, "text": "¿Dónde está mi pedido?"},
        {"id": [1], "text": 42},
        {"id": "last", "text": "Vielen Dank"},
    ]
    stdin = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n"
    code, out, err = _run(["classify", "--intents", "shop.yaml"], stdin, monkeypatch, capsys)

    assert code == 1
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["id"] for row in rows] == [7, "b", None, "last"]
    assert [row["intent"] for row in rows] == ["damaged_item", "unknown", "order_status", "thanks"]
    assert rows[0] | {"confidence": 0} == {"id": 7, "intent": "damaged_item", "kind": "complaint", "severity": 2,
                                           "confidence": 0, "language": "en"}
    assert rows[1]["kind"] == "other" and rows[1]["language"] == "zh"
    assert [row["language"] for row in rows[2:]] == ["es", "de"]
    assert all(0 <= row["confidence"] <= 1 for row in rows)
    assert "line 2: not valid JSON" in err
    assert "line 4: missing key 'text'" in err
    assert "line 6: key 'text' must be a string" in err
    assert "line 1:" not in err and "line 3:" not in err


def test_classify_all_good_exits_zero_and_batches(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("bot.cli.intents.BATCH_SIZE", 3)  # several batches: order must still hold
    texts = ["hi!", "Thanks for your help", "The item arrived broken.", "hello", "Vielen Dank", "Hallo", "谢谢"]
    stdin = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts))
    code, out, err = _run(["classify", "--intents", "shop.yaml"], stdin, monkeypatch, capsys)
    assert code == 0 and err == ""
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["id"] for row in rows] == list(range(7))
    assert [row["intent"] for row in rows] == [
        "greeting", "thanks", "damaged_item", "greeting", "thanks", "greeting", "thanks"
    ]


def test_classify_uses_the_shipped_catalogue_by_default(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = json.dumps({"id": 1, "text": "I was charged twice for the same order"}) + "\n"
    code, out, _ = _run(["classify"], stdin, monkeypatch, capsys)
    assert code == 0
    row = json.loads(out)
    assert row["intent"] == "double_charged" and row["kind"] == "complaint" and row["severity"] == 1


def test_classify_with_a_broken_catalogue_names_it(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "bad.yaml").write_text("intents:\n  greeting:\n    kind: chit-chat\n    examples: [hi]\n")
    code, out, err = _run(["classify", "--intents", "bad.yaml"], "", monkeypatch, capsys)
    assert code == 2 and out == ""
    assert "bad.yaml" in err and "greeting" in err and "kind" in err


def _write_data(path: Path, rows: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_eval_prints_metrics_and_writes_errors(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_data(workdir / "data.jsonl", [
        {"text": "Can I return these shoes?", "intent": "return_policy"},
        {"text": "¿Cuánto tarda en llegar a México?", "intent": "shipping_time", "lang": "es"},
        {"text": "tell me about the history of Rome", "intent": "unknown"},
        {"text": "hi!", "intent": "thanks", "lang": "en"},
    ])
    code, out, _ = _run(["intents", "eval", "--intents", "shop.yaml", "--data", "data.jsonl", "--json",
                         "--errors", "errs.jsonl"], "", monkeypatch, capsys)
    assert code == 0
    report = json.loads(out)
    assert report["total"] == 4 and report["accuracy"] == 0.75 and report["oos_recall"] == 1.0
    assert {row["name"] for row in report["languages"]} == {"en", "es"}
    errors = [json.loads(line) for line in (workdir / "errs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(e["gold"], e["predicted"]) for e in errors] == [("thanks", "greeting")]

    code, out, _ = _run(["intents", "eval", "--intents", "shop.yaml", "--data", "data.jsonl"], "",
                        monkeypatch, capsys)
    assert code == 0 and "accuracy            75.0%" in out and "per intent" in out
    assert (workdir / "eval-errors.jsonl").exists()


def test_eval_data_errors_name_the_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "data.jsonl").write_text('{"text": "hi", "intent": "greeting"}\n{"text": "yo"}\n')
    code, out, err = _run(["intents", "eval", "--intents", "shop.yaml", "--data", "data.jsonl"], "",
                          monkeypatch, capsys)
    assert code == 2 and "data.jsonl:2: missing key 'intent'" in err
    _write_data(workdir / "data.jsonl", [{"text": "hi", "intent": "chit_chat"}])
    code, _, err = _run(["intents", "eval", "--intents", "shop.yaml", "--data", "data.jsonl"], "",
                        monkeypatch, capsys)
    assert code == 2 and "chit_chat" in err
    code, _, err = _run(["intents", "eval", "--intents", "shop.yaml"], "", monkeypatch, capsys)
    assert code == 2 and "--data" in err


def test_eval_cross_validates_the_catalogue(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["intents", "eval", "--intents", "shop.yaml", "--cv", "3", "--json"], "",
                        monkeypatch, capsys)
    assert code == 0
    report = json.loads(out)
    assert report["total"] == 49 and report["out_of_scope"] == 0 and report["in_scope_accuracy"] > 0.6


def test_export_merges_learnt_examples(
    workdir: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from models import IntentExample, create_db_engine, session_scope

    monkeypatch.setenv("KEFU_DATABASE_URL", migrated_url)
    engine = create_db_engine(migrated_url)
    with session_scope(engine) as session:
        session.add(IntentExample(intent="damaged_item", text="Die Ware kam kaputt an"))
        session.add(IntentExample(intent="thanks", text="Merci beaucoup"))
        session.add(IntentExample(intent="thanks", text="Hi there"))  # an agent moved it from greeting
        session.add(IntentExample(intent="retired_intent", text="something old"))
    engine.dispose()

    code, _, err = _run(["intents", "export", "--intents", "shop.yaml", "--out", "merged.yaml"], "",
                        monkeypatch, capsys)
    assert code == 0
    assert "retired_intent" in err
    merged = load_catalogue(workdir / "merged.yaml")
    shop = IntentCatalogue.from_yaml(SHOP_CATALOGUE_YAML)
    assert merged.names() == shop.names()
    assert merged["damaged_item"].examples == shop["damaged_item"].examples + ("Die Ware kam kaputt an",)
    assert merged["thanks"].examples[-2:] == ("Merci beaucoup", "Hi there")
    assert "Hi there" not in merged["greeting"].examples
    assert merged["item_not_received"] == shop["item_not_received"]


def test_export_without_database_tables_is_the_catalogue(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["intents", "export", "--intents", "shop.yaml"], "", monkeypatch, capsys)
    assert code == 0
    assert IntentCatalogue.from_yaml(out) == IntentCatalogue.from_yaml(SHOP_CATALOGUE_YAML)
