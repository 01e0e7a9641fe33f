"""The counts behind every chart: marks per 2-point band, levels per criterion."""

from __future__ import annotations

from fractions import Fraction

from e2docs.formats.gridfile import load_grid
from e2docs.model.distribution import distribution

GRID = load_grid()


def test_bands_cover_0_to_20_and_the_last_one_includes_20():
    d = distribution(GRID, [0, 1.5, 2, Fraction(39, 2), 20, 10, 11.5, 12], [])
    assert [b.label for b in d.bands] == [f"{a}–{a + 2}" for a in range(0, 20, 2)]
    assert {b.label: b.count for b in d.bands if b.count} == {"0–2": 2, "2–4": 1, "10–12": 2, "12–14": 1, "18–20": 2}
    assert d.marks == 8 and sum(b.count for b in d.bands) == 8


def test_levels_count_one_level_per_candidate_and_skip_none_or_unknown():
    first = GRID.criteria[0].id
    d = distribution(GRID, [], [{first: 1}, {first: 4}, {first: 4}, {first: None}, {}])
    assert d.criteria[0].counts == (1, 0, 0, 2) and d.criteria[0].total == 3
    assert all(x.total == 0 for x in d.criteria[1:])
    assert [x.criterion.id for x in d.criteria] == [c.id for c in GRID.criteria]
    assert d.scale == GRID.scale and d.marks == 0
    assert all(b.count == 0 for b in d.bands)
