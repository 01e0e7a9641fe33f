"""The class record's charts as PNG images (matplotlib), put into Word documents by docxtpl.

A template shows a chart with ``{{ graphiques.repartition }}`` alone in its paragraph. The
template data holds :class:`Chart` values (plain data: what to draw); :func:`bind_charts`
turns them into docxtpl images for one template, drawn only if the template shows them:
matplotlib is imported on the first drawing, never for a template without charts.

Drawing is deterministic: the Agg renderer without pyplot (no GUI backend, no global state), the
DejaVu Sans font shipped inside matplotlib (the same on every system), no date or version in the
PNG. Readable in black and white: grey levels and hatches, a value label on every non-empty bar.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from e2docs.model.distribution import Distribution
from e2docs.reports import limits

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MARKS, LEVELS = "repartition", "niveaux"
DPI = 200
FONT = "DejaVu Sans"  # shipped inside matplotlib: the same glyphs everywhere
# One style per level of the scale (level 1 first): fill, hatch, colour of the value labels.
LEVEL_STYLES = (
    ("#FFFFFF", "...", "#000000"),
    ("#C8C8C8", "///", "#000000"),
    ("#7A7A7A", "", "#FFFFFF"),
    ("#262626", "", "#FFFFFF"),
)
BAR_GREY = "#A6A6A6"


@dataclass(frozen=True)
class Chart:
    """One chart of the class record: ``kind`` is :data:`MARKS` (final marks per 2-point band)
    or :data:`LEVELS` (levels reached per criterion, stacked); ``width_mm`` its width on the
    page (the height follows from the drawing's proportions); ``max_mark`` the grid's maximum."""

    kind: str
    data: Distribution
    max_mark: int
    width_mm: float = 165.0

    @functools.cached_property
    def png(self) -> bytes:
        """The chart as PNG bytes, drawn on first use (not counted in the template's time:
        :func:`~e2docs.reports.limits.untimed`)."""
        with limits.untimed():
            return draw(self)


class ChartImage(InlineImage):
    """A docxtpl image whose PNG is drawn only when the template shows it."""

    def __init__(self, tpl: DocxTemplate, chart: Chart) -> None:
        super().__init__(tpl, None, width=Mm(chart.width_mm))
        self.chart = chart

    def _insert_image(self) -> str:
        self.image_descriptor = io.BytesIO(self.chart.png)
        return str(super()._insert_image())


def bind_charts(context: Any, tpl: DocxTemplate) -> Any:
    """``context`` with every :class:`Chart` in it (in nested dicts and lists too) replaced by a
    :class:`ChartImage` of ``tpl``; other values are kept as they are (dicts and lists are copied)."""
    if isinstance(context, Chart):
        return ChartImage(tpl, context)
    if isinstance(context, dict):
        return {k: bind_charts(v, tpl) for k, v in context.items()}
    if isinstance(context, list):
        return [bind_charts(v, tpl) for v in context]
    return context


# ------------------------------------------------------------------ drawing


@contextmanager
def _quiet_matplotlib() -> Iterator[None]:
    """Import matplotlib without its log lines (« building the font cache », a cache folder it
    cannot write to…): nothing below the command line prints."""
    logger = logging.getLogger("matplotlib")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _figure(width_mm: float, height_mm: float) -> Figure:
    with _quiet_matplotlib():
        from matplotlib.figure import Figure

    return Figure(figsize=(width_mm / 25.4, height_mm / 25.4), dpi=DPI, layout="constrained")


def draw(chart: Chart) -> bytes:
    """The PNG image of ``chart`` (:data:`DPI` dots per inch, white background)."""
    with _quiet_matplotlib():
        import matplotlib

    with matplotlib.rc_context(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [FONT],
            "font.size": 9,
            "axes.edgecolor": "#000000",
            "axes.linewidth": 0.8,
            "hatch.linewidth": 0.7,
            "hatch.color": "#000000",
        }
    ):
        if chart.kind == MARKS:
            fig = _figure(chart.width_mm, 62)
            _marks(fig.add_subplot(), chart)
        elif chart.kind == LEVELS:
            fig = _figure(chart.width_mm, 14 + 7.5 * max(1, len(chart.data.criteria)))
            _levels(fig.add_subplot(), chart)
        else:
            raise ValueError(f"unknown chart kind {chart.kind!r}")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def _no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=10, style="italic")


def _marks(ax: Axes, chart: Chart) -> None:
    from matplotlib.ticker import MaxNLocator

    bands = chart.data.bands
    x = range(len(bands))
    counts = [b.count for b in bands]
    bars = ax.bar(x, counts, width=0.8, color=BAR_GREY, edgecolor="#000000", linewidth=0.8)
    ax.bar_label(bars, labels=[str(n) if n else "" for n in counts], padding=2, fontsize=9, fontweight="bold")
    ax.set_xticks(list(x), [b.label for b in bands])
    ax.set_xlabel(f"Note finale (sur {chart.max_mark}), par tranche de 2 points")
    ax.set_ylabel("Nombre de candidats")
    top = max(counts, default=0)
    ax.set_ylim(0, max(1, top) * 1.18)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color="#BFBFBF", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    if not chart.data.marks:
        _no_data(ax, "Aucune note finale pour l'instant")


def _levels(ax: Axes, chart: Chart) -> None:
    from matplotlib.ticker import MaxNLocator

    rows = chart.data.criteria
    y = list(range(len(rows)))
    left = [0] * len(rows)
    for i, step in enumerate(chart.data.scale):
        fill, hatch, ink = LEVEL_STYLES[min(i, len(LEVEL_STYLES) - 1)]
        counts = [r.counts[i] for r in rows]
        bars = ax.barh(
            y,
            counts,
            left=left,
            height=0.7,
            color=fill,
            hatch=hatch,
            edgecolor="#000000",
            linewidth=0.8,
            label=f"{step.value} {step.label}",
        )
        ax.bar_label(
            bars,
            labels=[str(n) if n else "" for n in counts],
            label_type="center",
            fontsize=8.5,
            fontweight="bold",
            color=ink,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": fill, "edgecolor": "none"} if hatch else None,
        )
        left = [a + n for a, n in zip(left, counts, strict=True)]
    ax.set_yticks(y, [r.criterion.id for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("Nombre de candidats")
    ax.set_xlim(0, max(1, max(left, default=0)))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", color="#BFBFBF", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=max(1, len(chart.data.scale)),
        frameon=False,
        fontsize=8.5,
        handlelength=2.4,
        handleheight=1.2,
    )
    if not any(r.total for r in rows):
        _no_data(ax, "Aucun niveau renseigné pour l'instant")
