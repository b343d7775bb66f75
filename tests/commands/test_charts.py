"""Chart PNGs: they open as PNG at 1200×675, and CJK text is set in a font that has the glyphs."""

from __future__ import annotations

from pathlib import Path

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from PIL import Image
from sqlalchemy.engine import Engine

from handlers.commands import charts
from handlers.commands.executor import CommandExecutor
from tests.commands.conftest import MANAGER, Seeded

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _is_png_of_size(path: Path) -> tuple[int, int]:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        return image.size


def test_metrics_chart_is_a_png_at_thumbnail_size(executor: CommandExecutor, seeded: Seeded, tmp_path: Path) -> None:
    answer = executor.execute("/metrics 7d chart", MANAGER, platform="slack", channel_id="C1")
    assert answer.ok and answer.chart is not None
    assert answer.chart.parent == (tmp_path / "charts").resolve()
    assert _is_png_of_size(answer.chart) == (1200, 675)
    grouped = executor.execute("/metrics 30d by intent chart", MANAGER, platform="slack", channel_id="C1")
    assert grouped.chart is not None and grouped.chart != answer.chart
    assert _is_png_of_size(grouped.chart) == (1200, 675)


def test_no_chart_unless_asked(executor: CommandExecutor, seeded: Seeded) -> None:
    assert executor.execute("/metrics 7d", MANAGER, platform="slack", channel_id="C1").chart is None


def test_cjk_font_has_the_glyphs_of_chinese_labels() -> None:
    path = charts.cjk_font_path()
    assert path is not None, "mplfonts should ship Noto Sans CJK SC"
    font = FT2Font(str(path))
    for char in "退款率客服指标淘宝":
        assert font.get_char_index(ord(char)) != 0, char
    family = charts.font_family()
    assert "CJK" in family
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert Path(found).name == charts.CJK_FONT_FILE


def test_cjk_chart_title_and_labels_render(tmp_path: Path) -> None:
    path = charts.bar_chart("退款率 · 近7天 (by marketplace)", ["淘宝", "京东", "amazon"], [12.0, 7.5, None],
                            "退款率 (%)", tmp_path)
    assert _is_png_of_size(path) == (1200, 675)


def test_trend_chart_over_hours(engine: Engine, executor: CommandExecutor, seeded: Seeded) -> None:
    answer = executor.execute("/metrics frt 24h chart", MANAGER, platform="slack", channel_id="C1")
    assert answer.ok and answer.chart is not None
    assert _is_png_of_size(answer.chart) == (1200, 675)
