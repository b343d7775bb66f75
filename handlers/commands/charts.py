"""Chart PNGs for command answers: a trend line of one metric over a window, or bars for a breakdown.

matplotlib with the Agg backend (no display). 1200×675 px (16:9, 100 dpi) with large fonts, readable as a chat
thumbnail. Text is set in Noto Sans CJK SC, shipped by the `mplfonts` package (a PyPI dependency, so a fresh
machine has it without system fonts), so Chinese, Japanese and Korean labels render. Files are written under
`charts_dir` with unique names and the path is returned.
"""

from __future__ import annotations

import importlib.util
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

WIDTH_PX, HEIGHT_PX, DPI = 1200, 675, 100
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
_font_lock = threading.Lock()
_font_family: str | None = None


def cjk_font_path() -> Path | None:
    """The shipped CJK font file (package `mplfonts`, located without importing it), or None when missing."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a declared dependency
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / CJK_FONT_FILE
    return path if path.exists() else None


def font_family() -> str:
    """The font family charts use: the CJK font registered with matplotlib once per process, else DejaVu Sans."""
    global _font_family
    with _font_lock:
        if _font_family is None:
            path = cjk_font_path()
            if path is not None:
                font_manager.fontManager.addfont(str(path))
                _font_family = font_manager.FontProperties(fname=str(path)).get_name()
            else:  # pragma: no cover
                _font_family = "DejaVu Sans"
        return _font_family


def _figure(title: str) -> tuple[Figure, object]:
    family = font_family()
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    axes = figure.add_subplot()
    figure.suptitle(title, fontsize=22, fontfamily=family)
    axes.tick_params(labelsize=15)
    axes.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _save(figure: Figure, charts_dir: Path) -> Path:
    charts_dir = charts_dir.resolve()
    charts_dir.mkdir(parents=True, exist_ok=True)
    path = charts_dir / f"chart-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex}.png"
    figure.savefig(path, dpi=DPI, format="png")
    return path


def _style_labels(axes: object, family: str) -> None:
    for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):  # type: ignore[attr-defined]
        label.set_fontfamily(family)


def trend_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    y_label: str,
    charts_dir: Path,
    *,
    integer: bool = False,
) -> Path:
    """A line over time buckets (`labels` like "11-20" or "14:00"); gaps where a value is None."""
    figure, axes = _figure(title)
    family = font_family()
    xs = list(range(len(labels)))
    ys = [float("nan") if v is None else v for v in values]
    axes.plot(xs, ys, marker="o", linewidth=3, markersize=7, color="#1f6feb")  # type: ignore[attr-defined]
    step = max(1, len(labels) // 10)
    axes.set_xticks(xs[::step], [labels[i] for i in xs[::step]])  # type: ignore[attr-defined]
    axes.set_ylabel(y_label, fontsize=17, fontfamily=family)  # type: ignore[attr-defined]
    axes.set_ylim(bottom=0)  # type: ignore[attr-defined]
    if integer:
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # type: ignore[attr-defined]
    _style_labels(axes, family)
    figure.tight_layout()
    return _save(figure, charts_dir)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    y_label: str,
    charts_dir: Path,
    *,
    limit: int = 12,
) -> Path:
    """Bars per group (the first `limit` groups, in the order given); a group without a value shows no bar."""
    figure, axes = _figure(title)
    family = font_family()
    shown_labels = list(labels[:limit])
    shown = [0.0 if v is None else v for v in values[:limit]]
    xs = list(range(len(shown_labels)))
    bars = axes.bar(xs, shown, color="#1f6feb")  # type: ignore[attr-defined]
    axes.bar_label(bars, labels=[_short(v) for v in values[:limit]], fontsize=14,  # type: ignore[attr-defined]
                   fontfamily=family, padding=3)
    axes.set_xticks(xs, shown_labels, rotation=30 if len(xs) > 6 else 0,  # type: ignore[attr-defined]
                    ha="right" if len(xs) > 6 else "center")
    axes.set_ylabel(y_label, fontsize=17, fontfamily=family)  # type: ignore[attr-defined]
    _style_labels(axes, family)
    figure.tight_layout()
    return _save(figure, charts_dir)


def _short(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"
