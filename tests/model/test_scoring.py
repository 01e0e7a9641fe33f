"""Tests for e2docs.scoring: exact marks, the half-point ceiling, ticks, commission mark, completeness."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2docs.formats.gridfile import load_grid
from e2docs.model import french, scoring
from e2docs.model.french import dot_decimal
from e2docs.model.scoring import (
    COMPLETE_TEXT,
    ceil_to_step,
    commission_mark_ok,
    criterion_points,
    evaluate,
    final_formula,
    is_blank,
    is_tick,
    points_formula,
    proposed_formula,
    single_level,
    status_text,
)

GRID = load_grid()
IDS = [c.id for c in GRID.criteria]

# The official rule, written out independently of the grid loader.
POINTS = {
    "C1.1": Fraction("3"),
    "C2.1": Fraction("2"),
    "C2.2": Fraction("2"),
    "C3.1": Fraction("2.5"),
    "C3.2": Fraction("2.5"),
    "C4.1": Fraction("2"),
    "C4.2": Fraction("2"),
    "C4.3": Fraction("2"),
    "C4.4": Fraction("2"),
}
SHARE = {1: Fraction("0.25"), 2: Fraction("0.5"), 3: Fraction("0.75"), 4: Fraction("1")}


def cells(levels: dict[str, int | None]) -> dict[str, list[object]]:
    """Level cells with one X at each criterion's level (None: row left empty)."""
    return {cid: ["X" if lvl == i else None for i in range(1, 5)] for cid, lvl in levels.items()}


def all_at(level: int, **changes: int | None) -> dict[str, int | None]:
    levels = {cid: level for cid in IDS}
    levels.update({k.replace("_", "."): v for k, v in changes.items()})
    return levels


def raw_sum(levels: dict[str, int]) -> Fraction:
    return sum((POINTS[cid] * SHARE[lvl] for cid, lvl in levels.items()), Fraction(0))


def proposed(levels: dict[str, int | None]) -> Fraction | None:
    return evaluate(GRID, cells(levels), observations="Bien").proposed_mark


# ------------------------------------------------------------------ the half-point ceiling


def test_all_novice_gives_exactly_5():
    levels = all_at(1)
    assert raw_sum(levels) == 5
    assert proposed(levels) == 5


def test_all_expert_gives_20():
    assert proposed(all_at(4)) == 20


@pytest.mark.parametrize(
    "changes, raw, mark",
    [
        # all Novice (5) and one or two criteria moved up
        ({"C2_1": 2}, "5.5", "5.5"),  # exact half point stays
        ({"C1_1": 3}, "6.5", "6.5"),  # exact half point stays
        ({"C1_1": 2}, "5.75", "6"),  # x.75 → next whole
        ({"C3_1": 3}, "6.25", "6.5"),  # x.25 → x.5
        ({"C3_1": 2}, "5.625", "6"),  # x.625
        ({"C3_1": 4}, "6.875", "7"),  # x.875
        ({"C3_1": 2, "C1_1": 3}, "7.125", "7.5"),  # x.125 → x.5
        ({"C3_1": 2, "C1_1": 2}, "6.375", "6.5"),  # x.375
        ({"C3_1": 2, "C3_2": 2}, "6.25", "6.5"),
        ({"C3_1": 3, "C3_2": 3}, "7.5", "7.5"),
        ({"C2_1": 3}, "6", "6"),  # whole mark stays
    ],
)
def test_sum_is_rounded_up_to_the_half_point(changes, raw, mark):
    levels = all_at(1, **changes)
    assert raw_sum(levels) == Fraction(raw)
    assert proposed(levels) == Fraction(mark)


def test_all_averti_gives_15_exactly():
    assert raw_sum(all_at(3)) == 15
    assert proposed(all_at(3)) == 15


def test_expert_but_one_novice_on_a_2_5_criterion():
    levels = all_at(4, C3_1=1)  # 20 - 2.5 + 0.625 = 18.125
    assert raw_sum(levels) == Fraction("18.125")
    assert proposed(levels) == Fraction("18.5")


def test_marks_are_exact_fractions():
    out = evaluate(GRID, cells(all_at(1, C3_1=3)), observations="Bien")
    assert out.points["C3.1"] == Fraction(15, 8)  # 2.5 × 0.75
    assert isinstance(out.proposed_mark, Fraction)
    assert sum(out.points.values(), Fraction(0)) == Fraction("6.25")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=9, max_size=9))
def test_proposed_mark_is_the_half_point_ceiling_of_the_exact_sum(levels_list):
    levels = dict(zip(IDS, levels_list, strict=False))
    raw = raw_sum(levels)
    mark = proposed(levels)
    assert mark == Fraction(math.ceil(2 * raw), 2)
    assert (2 * mark).denominator == 1
    assert raw <= mark < raw + Fraction(1, 2)
    assert 5 <= mark <= 20


@given(
    st.fractions(min_value=0, max_value=1000),
    st.sampled_from([Fraction(1, 2), Fraction(1), Fraction(1, 4), Fraction(1, 10)]),
)
def test_ceil_to_step_property(value, step):
    up = ceil_to_step(value, step)
    assert (up / step).denominator == 1
    assert value <= up < value + step


def test_criterion_points():
    c31 = GRID.criteria[3]
    assert [criterion_points(c31, GRID, lvl) for lvl in (1, 2, 3, 4)] == [
        Fraction("0.625"),
        Fraction("1.25"),
        Fraction("1.875"),
        Fraction("2.5"),
    ]
    assert criterion_points(c31, GRID, None) is None


# ------------------------------------------------------------------ ticks and levels


def test_missing_level_gives_no_proposed_mark():
    out = evaluate(GRID, cells(all_at(3, C4_2=None)), observations="Bien")
    assert out.levels["C4.2"] is None
    assert out.points["C4.2"] is None
    assert out.proposed_mark is None
    assert out.final_mark is None
    assert not out.complete


def test_criterion_absent_from_cells_counts_as_missing():
    level_cells = cells(all_at(2))
    del level_cells["C1.1"]
    out = evaluate(GRID, level_cells, observations="Bien")
    assert out.levels["C1.1"] is None
    assert out.proposed_mark is None


@pytest.mark.parametrize(
    "row, level",
    [
        (["X", None, None, None], 1),
        ([None, None, "X", None], 3),
        ([None, None, None, "x"], 4),  # lowercase counts
        (["", "X", "", ""], 2),  # empty strings are empty cells
        (["X", "X", None, None], None),  # two ticks: no level
        (["X", None, None, "x"], None),
        ([None, None, None, None], None),
        ([], None),
        ([" X", None, None, None], None),  # a space makes it another text
        (["X ", None, None, None], None),
        ([1, None, None, None], None),  # a number is not a tick
        ([True, None, None, None], None),
        (["✓", None, None, None], None),
        (["XX", None, None, None], None),
        (["X", " ", None, None], None),  # something else typed beside the X
        (["X", 0, None, None], None),
        (["X", "oui", None, None], None),
    ],
)
def test_single_level(row, level):
    assert single_level(row) == level


def test_is_tick_and_is_blank():
    assert is_tick("X") and is_tick("x")
    assert not any(is_tick(v) for v in (" X", "X ", 1, True, None, "", "XX", "×"))
    assert is_blank(None) and is_blank("")
    assert not any(is_blank(v) for v in (" ", 0, False, "X"))


def test_two_ticks_on_a_criterion_block_the_mark():
    level_cells = cells(all_at(4))
    level_cells["C2.1"] = ["X", None, None, "X"]
    out = evaluate(GRID, level_cells, observations="Bien")
    assert out.levels["C2.1"] is None
    assert out.proposed_mark is None
    assert out.missing == ["C2.1", "note_finale"]


# ------------------------------------------------------------------ commission mark and final mark


@pytest.mark.parametrize("value", [0, 20, 12.5, 12, 0.5, 19.5, Fraction(25, 2), 0.0, 20.0])
def test_valid_commission_marks(value):
    assert commission_mark_ok(value, GRID)


@pytest.mark.parametrize(
    "value", [21, -1, 12.3, "douze", True, False, 20.5, -0.5, 12.25, "12", "12,5", None, "", Fraction(1, 3)]
)
def test_invalid_commission_marks(value):
    assert not commission_mark_ok(value, GRID)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), float("-inf")])
def test_non_finite_commission_mark_is_invalid_not_a_crash(value):
    # openpyxl reads a cell <v>1E999</v> as float('inf'): a hostile or corrupted return
    # must give "note de la commission invalide", not a traceback.
    assert not commission_mark_ok(value, GRID)
    out = evaluate(GRID, cells(all_at(3)), commission=value, observations="Bien")
    assert out.final_mark is None
    assert out.status_text == "note de la commission invalide"


def test_final_mark_is_the_commission_mark_when_valid():
    out = evaluate(GRID, cells(all_at(3)), commission=12.5, observations="Bien")
    assert out.proposed_mark == 15
    assert out.final_mark == Fraction(25, 2)
    assert out.complete
    assert out.status_text == COMPLETE_TEXT


def test_commission_zero_is_a_mark_not_a_blank():
    out = evaluate(GRID, cells(all_at(3)), commission=0, observations="Bien")
    assert out.final_mark == 0
    assert out.complete


def test_final_mark_is_the_proposed_mark_when_commission_blank():
    for blank in (None, ""):
        out = evaluate(GRID, cells(all_at(3, C3_1=2)), commission=blank, observations="Bien")
        assert out.proposed_mark == Fraction("14.5")  # 15 - 0.625 = 14.375 → 14.5
        assert out.final_mark == out.proposed_mark
        assert out.complete


@pytest.mark.parametrize("value", [21, -1, 12.3, "douze", True, " "])
def test_invalid_commission_mark_gives_no_final_mark(value):
    out = evaluate(GRID, cells(all_at(3)), commission=value, observations="Bien")
    assert out.proposed_mark == 15
    assert out.final_mark is None
    assert not out.complete
    assert out.missing == ["note_finale"]
    assert out.status_text == "note de la commission invalide"


def test_commission_mark_stands_even_if_levels_are_missing():
    out = evaluate(GRID, cells(all_at(3, C1_1=None)), commission=14, observations="Bien")
    assert out.proposed_mark is None
    assert out.final_mark == 14
    assert not out.complete
    assert out.missing == ["C1.1"]


# ------------------------------------------------------------------ completeness and status line


def test_complete_grid():
    out = evaluate(GRID, cells(all_at(2)), observations="Prospection bien menée.")
    assert out.complete
    assert out.missing == []
    assert out.status_text == "Grille complète"


@pytest.mark.parametrize("observations", [None, "", " ", "     "])
def test_observations_blank_or_only_spaces(observations):
    out = evaluate(GRID, cells(all_at(2)), observations=observations)
    assert not out.complete
    assert out.missing == ["observations"]
    assert out.status_text == "observations à rédiger"


def test_two_criteria_missing_and_no_observations():
    out = evaluate(GRID, cells(all_at(2, C2_2=None, C4_4=None)), observations="   ")
    assert out.missing == ["C2.2", "C4.4", "note_finale", "observations"]
    assert out.status_text == "2 critère(s) à renseigner, observations à rédiger"


def test_every_problem_in_the_status_line():
    out = evaluate(GRID, cells(all_at(2, C1_1=None, C3_2=None)), commission="douze", observations="")
    assert out.status_text == ("2 critère(s) à renseigner, note de la commission invalide, observations à rédiger")


def test_nothing_filled():
    out = evaluate(GRID, {})
    assert out.missing == IDS + ["note_finale", "observations"]
    assert out.status_text == "9 critère(s) à renseigner, observations à rédiger"


@pytest.mark.parametrize(
    "args, text",
    [
        ((0, False, False, True), "Grille complète"),
        ((2, False, False, False), "2 critère(s) à renseigner"),
        ((2, False, True, False), "2 critère(s) à renseigner, observations à rédiger"),
        ((0, True, False, False), "note de la commission invalide"),
        ((0, False, True, False), "observations à rédiger"),
        ((1, True, True, False), "1 critère(s) à renseigner, note de la commission invalide, observations à rédiger"),
    ],
)
def test_status_text(args, text):
    assert status_text(*args) == text


# ------------------------------------------------------------------ French display of marks


@pytest.mark.parametrize(
    "value, text",
    [
        (Fraction("12.5"), "12,5"),
        (Fraction(14), "14"),
        (14, "14"),
        (None, ""),
        (Fraction(0), "0"),
        (Fraction(20), "20"),
        (Fraction("1.875"), "1,875"),
        (Fraction("0.625"), "0,625"),
    ],
)
def test_french_mark(value, text):
    assert french.mark(value) == text


# ------------------------------------------------------------------ workbook formulas (text only)


def test_points_formula_constants_for_c3_1():
    c31 = GRID.criteria[3]
    refs = ["D20", "E20", "F20", "G20"]
    formula = points_formula(GRID, c31, refs, "D20:G20")
    assert formula.startswith('=IF(AND(COUNTIF(D20:G20,"X")=1,COUNTA(D20:G20)=1),')
    assert '0.625*COUNTIF(D20,"X")' in formula
    assert '1.25*COUNTIF(E20,"X")' in formula
    assert '1.875*COUNTIF(F20,"X")' in formula  # level 3 of 2.5 points
    assert '2.5*COUNTIF(G20,"X")' in formula
    assert formula.endswith(',"")')


def test_points_formula_constants_for_c1_1():
    formula = points_formula(GRID, GRID.criteria[0], ["D1", "E1", "F1", "G1"], "D1:G1")
    for share, ref in (("0.75", "D1"), ("1.5", "E1"), ("2.25", "F1"), ("3", "G1")):
        assert f'{share}*COUNTIF({ref},"X")' in formula


def test_every_formula_constant_is_the_exact_share():
    for crit in GRID.criteria:
        for lvl in GRID.scale:
            exact = crit.points * lvl.fraction
            text = dot_decimal(exact)
            assert "e" not in text.lower() and "," not in text
            assert Fraction(text) == exact


def test_proposed_formula_rounds_up_to_the_half_point():
    refs = [f"H{r}" for r in range(10, 19)]
    formula = proposed_formula(GRID, refs)
    joined = ",".join(refs)
    assert f"CEILING(ROUND(SUM({joined}),6),0.5)" in formula
    assert formula.startswith(f"=IF(COUNT({joined})=9,")
    assert formula.endswith(',"")')


def test_final_formula_checks_the_commission_mark():
    formula = final_formula(GRID, "C30", "C29")
    assert formula.startswith("=IF(ISBLANK(C30),C29,")
    assert "AND(C30>=0,C30<=20,MOD(C30,0.5)=0)" in formula


@pytest.mark.parametrize(
    ("step", "words"),
    [
        (Fraction(1, 2), "demi-point"),
        (Fraction(1), "point"),
        (Fraction(1, 4), "quart de point"),
        (Fraction(3, 10), "pas de 0,3 point"),
    ],
)
def test_rounding_step_in_words(step, words):
    assert scoring.step_name(step) == words


def test_labels_and_messages_follow_the_grid_rounding_step(tmp_path):
    """A grid rounded to the whole point says "point" where the E2 grid says "demi-point"."""
    from e2docs.formats.gridfile import default_grid_path, load_grid
    from e2docs.formats.xlsx.layout import build_layout
    from e2docs.formats.xlsx.reader import check_input
    from e2docs.model.candidate import Candidate, Context

    text = default_grid_path().read_text(encoding="utf-8").replace('rounding_step = "0.5"', 'rounding_step = "1"')
    (tmp_path / "g.toml").write_text(text, encoding="utf-8")
    grid = load_grid(tmp_path / "g.toml")
    layout = build_layout(grid, Candidate("1", "A", "B"), Context())
    labels = " ".join(str(c.value) for c in layout.cells if c.role == "label")
    assert "arrondie au point supérieur" in labels and "par point ;" in labels and "demi-point" not in labels
    _, problem = check_input(layout.named["note_commission"], 12.5, grid)
    assert problem is not None and "par point attendue" in problem
