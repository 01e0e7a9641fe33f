"""The counts behind the charts, in one place: final marks per 2-point band, levels reached per criterion.

The school summary (``synthese.xlsx``, native spreadsheet charts) and the class record (Word, chart
images) both draw :class:`Distribution`, so that both always show the same figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from e2docs.model.grid import Criterion, Grid, Level

BAND_WIDTH = 2  # points of the mark per band


@dataclass(frozen=True)
class Band:
    """Marks from ``low`` (included) to ``high`` (excluded, except for the last band, which
    includes the grid's maximum mark); ``count`` is how many final marks fall in it."""

    low: int
    high: int
    count: int

    @property
    def label(self) -> str:
        """« 10–12 » (en dash, no spaces)."""
        return f"{self.low}–{self.high}"


@dataclass(frozen=True)
class CriterionLevels:
    """How many candidates reached each level of the scale for one criterion: ``counts[0]`` is
    level 1 (the scale's first step); candidates with no level or several levels are not counted."""

    criterion: Criterion
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        """Candidates with exactly one level for this criterion."""
        return sum(self.counts)


@dataclass(frozen=True)
class Distribution:
    """What the charts show for a group of candidates (those with an accepted return).

    ``bands`` cover 0 to the grid's maximum mark in steps of :data:`BAND_WIDTH`; ``criteria``
    follow the grid's order; ``scale`` is the grid's scale (level 1 first); ``marks`` is how
    many final marks were counted.
    """

    bands: tuple[Band, ...]
    criteria: tuple[CriterionLevels, ...]
    scale: tuple[Level, ...]
    marks: int


def distribution(
    grid: Grid,
    marks: Iterable[Fraction | float | int],
    levels: Iterable[Mapping[str, int | None]],
) -> Distribution:
    """Count ``marks`` (final marks, on the grid's scale, never negative) per band and ``levels``
    (one mapping per candidate: criterion id → level number, ``None`` when none or several) per
    criterion and level. A mark above the maximum counts in the last band. Each iterable is read
    once, item by item."""
    top = int(grid.max_mark)
    edges = list(range(0, top, BAND_WIDTH)) or [0]
    counts = [0] * len(edges)
    n = 0
    for m in marks:
        counts[min(int(m // BAND_WIDTH), len(edges) - 1)] += 1
        n += 1
    bands = tuple(Band(a, min(a + BAND_WIDTH, top), c) for a, c in zip(edges, counts, strict=True))
    steps = {step.value: i for i, step in enumerate(grid.scale)}
    reached = {cr.id: [0] * len(steps) for cr in grid.criteria}  # one pass: ``levels`` may be read from disk
    for lv in levels:
        for cid, per_step in reached.items():
            value = lv.get(cid)  # None: no level, or several
            if value is not None and value in steps:
                per_step[steps[value]] += 1
    criteria = tuple(CriterionLevels(cr, tuple(reached[cr.id])) for cr in grid.criteria)
    return Distribution(bands, criteria, grid.scale, n)
