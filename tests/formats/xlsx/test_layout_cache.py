"""The layout built once per class (``layout.layout_for``) is, for every candidate, the layout
``build_layout`` builds for that candidate: same cells, heights, page breaks, fingerprint."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from e2docs.formats.xlsx import integrity, layout
from e2docs.formats.xlsx.layout import build_layout, candidate_texts, identity_heights, layout_for
from e2docs.model.candidate import Candidate, Context
from tests.helpers import CANDIDATE, CTX, GRID

SHAPES = [  # (version, grid title, prospecting title, local names)
    ("1", layout.GRID_SHEET, layout.PROSPECT_SHEET, False),
    ("2", layout.GRID_SHEET, layout.PROSPECT_SHEET, False),
    ("1", "X – Grille", "X – Prosp.", True),
    ("2", "DUPONT Léa – Grille", "DUPONT Léa – Prosp.", True),
]


def assert_same(derived: layout.CandidateLayout, built: layout.CandidateLayout) -> None:
    assert derived == built
    for d, b in zip(derived.sheets, built.sheets, strict=True):
        assert d.cells == b.cells
        assert d.heights == b.heights
        assert d.breaks == b.breaks
        assert d.widths == b.widths
        assert d.slots == b.slots
    assert derived.candidate == built.candidate
    assert integrity.fingerprint_text(derived) == integrity.fingerprint_text(built)


def both(cand: Candidate, ctx: Context, shape: tuple[str, str, str, bool]) -> None:
    version, grid_title, prospect_title, local = shape
    kw = {"grid_title": grid_title, "prospect_title": prospect_title, "local_names": local, "version": version}
    assert_same(layout_for(GRID, cand, ctx, **kw), build_layout(GRID, cand, ctx, **kw))


# Names with spaces (they wrap) and long ones (they make the candidate block's rows taller).
words = st.text(st.characters(exclude_categories=("Cs",)), max_size=14)
texts = st.lists(words, max_size=12).map(" ".join) | st.text(st.characters(exclude_categories=("Cs",)), max_size=90)
candidates = st.builds(
    Candidate,
    number=st.from_regex(r"[0-9A-Z]{0,14}", fullmatch=True),
    last_name=texts,
    first_name=texts,
    division=texts,
    birth_date=st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)),
    ine=st.text(max_size=11),
    specialty=st.text(max_size=5),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=candidates, second=candidates, shape=st.sampled_from(SHAPES))
def test_any_candidate_after_any_other_gets_the_built_layout(first, second, shape):
    both(first, CTX, shape)  # builds (or reuses) the layout of first's shape
    both(second, CTX, shape)  # derived from it when the shapes agree
    both(first, CTX, shape)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_class_of_candidates_with_empty_fields_and_long_names(shape):
    roster = [
        CANDIDATE,
        Candidate("", "", ""),
        Candidate("2709411001", "MARTIN", "Léa", "TMCV B", dt.date(2009, 2, 28)),
        Candidate("2709411002", "DE LA FONTAINE-" * 5, "Marie-Christine Anne " * 4, "TMCV B" * 9, None),
        Candidate("2709411003", "Ng", "", "", dt.date(2008, 12, 31), "123", "31214"),
        Candidate("2709411004", "Ng", "", "", dt.date(2008, 12, 31), "123", "31214"),  # the same shape again
    ]
    for cand in roster:
        for ctx in (CTX, Context(), Context("2027", "Lycée " + "Jean " * 30, "Créteil")):
            both(cand, ctx, shape)


def test_a_layout_is_built_once_per_shape_and_each_copy_is_the_callers(monkeypatch):
    layout._BUILT.clear()
    built = []
    real = layout.build_layout
    monkeypatch.setattr(layout, "build_layout", lambda *a, **k: built.append(a[1]) or real(*a, **k))
    roster = [Candidate(f"27094110{i:02d}", "MARTIN", f"Élève {i}", "TMCV B") for i in range(20)]
    assert len({identity_heights(GRID, c) for c in roster}) == 1
    layouts = [layout_for(GRID, c, CTX) for c in roster]
    assert built == roster[:1]
    assert [lay.candidate for lay in layouts] == roster
    layouts[0].sheets[0].heights[0] = 99.0  # a caller changing its copy changes no other
    layouts[0].sheets[1].cells.clear()
    assert layout_for(GRID, roster[1], CTX) == build_layout(GRID, roster[1], CTX)
    assert layouts[1] == build_layout(GRID, roster[1], CTX)


def test_the_cache_is_bounded():
    layout._BUILT.clear()
    for i in range(layout.LAYOUT_CACHE_SIZE + 5):
        layout_for(GRID, CANDIDATE, Context(f"20{i:02d}", "Lycée", "Créteil"))
    assert len(layout._BUILT) == layout.LAYOUT_CACHE_SIZE


def test_an_unknown_version_is_refused_as_by_the_builder():
    with pytest.raises(ValueError):
        layout_for(GRID, CANDIDATE, CTX, version="9")


def test_the_candidate_texts_are_where_the_builder_put_them():
    built = build_layout(GRID, CANDIDATE, CTX)
    texts = candidate_texts(CANDIDATE)
    placed = {key: s.cells[i].value for s in built.sheets for i, key in s.slots.items()}
    assert placed == texts
    assert texts[layout.SUBTITLE] == f"{CANDIDATE.full_name} — N° candidat {CANDIDATE.number}"


def _fingerprint_text_before(lay: layout.CandidateLayout) -> str:
    """``integrity.fingerprint_text`` before it remembered each cell's JSON (issue 12)."""
    items: list[list[object]] = []
    for c in lay.cells:
        if c.role is layout.CellRole.INPUT:
            items.append([c.sheet, c.ref, layout.CellRole.INPUT, c.name, c.merge, c.kind])
        else:
            items.append([c.sheet, c.ref, c.role, c.name, c.merge, integrity._canon(c.value), c.formula])
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("room", [integrity.FRAGMENTS, 50])
@pytest.mark.parametrize("shape", SHAPES)
def test_the_fingerprint_of_each_layout_of_a_class_is_the_one_computed_whole(shape, room, monkeypatch):
    monkeypatch.setattr(integrity, "FRAGMENTS", room)  # 50: the remembered cells forgotten again and again
    version, grid_title, prospect_title, local = shape
    kw = {"grid_title": grid_title, "prospect_title": prospect_title, "local_names": local, "version": version}
    roster = [CANDIDATE, Candidate("", "", ""), Candidate("1", 'O"BRIEN & <FILS> 😀', "Zoé\nAnne", "T\\B")]
    for cand in roster * 2:
        for lay in (layout_for(GRID, cand, CTX, **kw), build_layout(GRID, cand, CTX, **kw)):
            assert integrity.fingerprint_text(lay) == _fingerprint_text_before(lay)
    assert len(integrity._FRAGMENTS) <= room
