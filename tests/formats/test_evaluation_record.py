"""The evaluation ``collect`` keeps for ``report`` (formats/evaluation_record.py): it gives back the
same evaluation, for real returns and for every kind of value a cell may hold, and nothing when it
was changed, moved to another file or candidate, or written by another reader."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2docs.formats.evaluation_record import Unencodable, decode, encode, opened, reader_key, seal
from e2docs.formats.gridfile import load_grid
from e2docs.formats.xlsx.evaluation import evaluation_of
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.model.evaluation import Commission, Evaluation
from e2docs.reports.samples import sample_evaluation

GRID = load_grid()
SAMPLES = Path(__file__).parents[2] / "samples" / "retours"
TYPED_BY_LIBREOFFICE = Path(__file__).parents[1] / "data" / "cases" / "retours-0.1"
SECRET = b"s" * 32
SHA = "ab" * 32


def same(a: Evaluation, b: Evaluation) -> None:
    """Equal as values, the marks and what is missing included (the outcome is not compared by ``==``)."""
    assert a == b
    assert a.outcome == b.outcome
    assert a.indicators == b.indicators
    assert a.prospecting.keys() == b.prospecting.keys()
    for x, y in zip(
        (a.commission_mark, *a.prospecting.values()), (b.commission_mark, *b.prospecting.values()), strict=True
    ):
        assert type(x) is type(y)


def returns() -> list[Path]:
    found = sorted(SAMPLES.glob("*.xlsx")) + sorted(TYPED_BY_LIBREOFFICE.glob("*.xlsx"))
    assert len(found) >= 17
    return found


@pytest.mark.parametrize("path", returns(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_real_return_comes_back_the_same(path):
    (reading,) = read_workbook(path, {GRID.content_hash: GRID}, check_cache=False)
    evaluation = evaluation_of(reading)
    same(decode(encode(evaluation), GRID), evaluation)


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.fractions(),
)


@settings(max_examples=200, deadline=None)
@given(
    mark=values,
    date=st.one_of(st.none(), st.dates(), st.text()),
    observations=st.text(),
    prospecting=st.dictionaries(st.sampled_from(["objectif", "cible", "budget", "debut", "x"]), values),
    levels=st.lists(
        st.one_of(st.none(), st.sampled_from([lvl.value for lvl in GRID.scale])), max_size=len(GRID.criteria)
    ),
    name=st.text(min_size=1),
)
def test_any_value_a_cell_may_hold_comes_back_of_the_same_type(mark, date, observations, prospecting, levels, name):
    base = sample_evaluation()
    criteria = [c.id for c in GRID.criteria]
    evaluation = dataclasses.replace(
        base,
        candidate=dataclasses.replace(base.candidate, last_name=name),
        levels=dict(zip(criteria[: len(levels)], levels, strict=True)),
        commission=Commission("Mme A", "PLP", name, "Gérant", date),
        commission_mark=mark,
        observations=observations,
        prospecting=prospecting,
    )
    same(decode(encode(evaluation), GRID), evaluation)


def test_a_value_the_record_cannot_hold_is_said_so():
    with pytest.raises(Unencodable):
        encode(dataclasses.replace(sample_evaluation(), commission_mark=[1, 2]))
    with pytest.raises(Unencodable):
        encode(dataclasses.replace(sample_evaluation(), commission_mark=float("nan")))


def test_marks_are_computed_again_not_kept():
    evaluation = sample_evaluation()
    record = encode(evaluation)
    assert b"proposed" not in zlib.decompress(record) and b"final" not in zlib.decompress(record)
    assert decode(record, GRID).outcome.final_mark == evaluation.outcome.final_mark is not None


def sealed(evaluation: Evaluation) -> tuple[bytes, bytes, str]:
    key = reader_key(GRID)
    record = encode(evaluation)
    return record, seal(SECRET, SHA, evaluation.candidate.number, key, record), key


def test_a_sealed_record_opens_for_its_file_candidate_and_reader_only():
    evaluation = sample_evaluation()
    number = evaluation.candidate.number
    record, mac, key = sealed(evaluation)
    same(opened(SECRET, SHA, number, key, record, mac, GRID), evaluation)
    assert opened(b"t" * 32, SHA, number, key, record, mac, GRID) is None  # another campaign's secret
    assert opened(SECRET, "cd" * 32, number, key, record, mac, GRID) is None  # another file
    assert opened(SECRET, SHA, number + "1", key, record, mac, GRID) is None  # another candidate
    assert opened(SECRET, SHA, number, key + "x", record, mac, GRID) is None  # another reader or grid
    other = encode(dataclasses.replace(evaluation, observations="changé dans le registre"))
    assert opened(SECRET, SHA, number, key, other, mac, GRID) is None  # a record changed, seal kept


def test_a_record_sealed_but_not_one_encode_wrote_opens_to_nothing():
    number = sample_evaluation().candidate.number
    key = reader_key(GRID)
    for record in (b"not zlib", zlib.compress(b"[1, 2]"), zlib.compress(b'{"candidate": 3}')):
        assert opened(SECRET, SHA, number, key, record, seal(SECRET, SHA, number, key, record), GRID) is None


def test_the_reader_key_follows_the_grid():
    assert reader_key(GRID) == reader_key(load_grid())
    assert reader_key(dataclasses.replace(GRID, title=GRID.title + " (modifiée)")) != reader_key(GRID)


def test_dates_of_the_record_keep_their_kind():
    evaluation = dataclasses.replace(
        sample_evaluation(),
        commission=Commission(date=dt.date(2027, 5, 3)),
        commission_mark=Fraction(27, 2),
        prospecting={"debut": dt.datetime(2027, 1, 4, 8, 30), "budget": 12.5},
    )
    back = decode(encode(evaluation), GRID)
    assert back.commission.date == dt.date(2027, 5, 3) and type(back.commission.date) is dt.date
    assert back.prospecting["debut"] == dt.datetime(2027, 1, 4, 8, 30) and back.commission_mark == Fraction(27, 2)
