"""Workbooks patched from a template are the workbooks XlsxWriter renders whole, part for part."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from e2docs.formats.xlsx import template
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.formats.xlsx.template import Stamper
from e2docs.formats.xlsx.writer import MAX_FOOTER, Options, footer, render_candidate
from e2docs.formats.zipwrite import Prefix, deflated, zip_bytes
from e2docs.model.candidate import Candidate
from tests.helpers import CANDIDATE, CTX, GRID
from tests.ooxml import findings

OPTIONS = Options(generated_at="2027-01-15T09:30:00+00:00", campaign_id="c-1", secret=b"secret")


def _parts(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def assert_same_workbook(stamper: Stamper, cand: Candidate) -> bytes:
    """The stamper's workbook for ``cand`` holds the parts of the whole rendering, byte for byte, in
    the same order, with the same signed metadata; returns its bytes."""
    whole, meta = render_candidate(GRID, cand, CTX, stamper.options)
    patched, patched_meta = stamper.render(cand)
    assert patched_meta == meta
    expected, got = _parts(whole), _parts(patched)
    assert [n for n, _ in got] == [n for n, _ in expected]
    differing = [n for (n, a), (_, b) in zip(expected, got, strict=True) if a != b]
    assert differing == [], f"{cand!r}: {differing}"
    return patched


def cand(**changes: object) -> Candidate:
    return dataclasses.replace(CANDIDATE, **changes)  # type: ignore[arg-type]


TRICKY = [
    CANDIDATE,
    cand(last_name="DUPONT", number="2709411048"),
    cand(last_name="N'GUESSAN-D'ALMEIDA", first_name="Zoé-Anaïs Élodie"),
    cand(last_name='O"BRIEN & <FILS>', first_name="Ana & Bo"),
    cand(last_name="=SUM(A1:A2)", first_name="+33", division="-1"),
    cand(last_name="ÇA 😀 👩‍👩‍👧", first_name="עברית العربية"),
    cand(last_name="A\x01B\x1fC", first_name="_x0041_ _x00"),
    cand(last_name="&[Picture] &P", first_name="&&"),
    cand(last_name="X" * 90, first_name="Y" * 60),  # taller identity rows: another template
    cand(last_name="L" * 300),  # footer over Excel's 255 characters: the name is shortened in the footer
    cand(first_name=" espaces "),  # full_name strips them: rendered whole
    cand(first_name="Session"),  # equal to a label: stored once in the shared strings
    cand(first_name="D'ALMEIDA"),  # equal to the last name
    cand(division="", birth_date=None),
    cand(first_name="", ine="1234567890A", specialty="31214"),
    cand(last_name="", number=""),
    cand(last_name="<r><t>riche</t></r>"),
]


def test_tricky_names_give_the_whole_rendering():
    stamper = Stamper(GRID, CTX, OPTIONS)
    for c in TRICKY:
        assert_same_workbook(stamper, c)
    # rendered whole: « &[Picture] » (XlsxWriter rewrites it), the spaces at its ends
    assert stamper.rendered_whole == 2


def test_a_name_too_long_for_excel_footer_is_shortened_not_dropped():
    long = cand(last_name="L" * 300)
    text = footer(long, "Grille E2")
    assert len(text.encode("utf-16-le")) <= 2 * MAX_FOOTER
    assert "LLLL…" in text and f"N° {long.number}" in text and "page &P / &N" in text
    assert footer(cand(), "Grille E2") == footer(cand(), "Grille E2").replace("…", "")  # a usual name is whole


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_class_shares_one_template(version):
    stamper = Stamper(GRID, CTX, dataclasses.replace(OPTIONS, layout_version=version))
    for i in range(12):
        assert_same_workbook(stamper, cand(number=str(2709411000 + i), birth_date=dt.date(2009, 1 + i, 1 + 2 * i)))
    assert len(stamper._templates) == 1
    assert stamper.rendered_whole == 0


names = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    last=names,
    first=names,
    number=st.from_regex(r"[0-9A-Z]{0,12}", fullmatch=True),
    division=names,
    birth=st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2015, 12, 31)),
)
def test_any_candidate_gives_the_whole_rendering(last, first, number, division, birth):
    assert_same_workbook(Stamper(GRID, CTX, OPTIONS), Candidate(number, last, first, division, birth, "", "31214"))


def test_a_patched_workbook_reads_back_as_its_candidate_and_is_valid(tmp_path):
    stamper = Stamper(GRID, CTX, OPTIONS)
    who = cand(last_name='O"BRIEN & <FILS> 😀', first_name="Zoé")
    path = tmp_path / "grille.xlsx"
    path.write_bytes(stamper.render(who)[0])
    (reading,) = read_workbook(path, secret=OPTIONS.secret)
    assert reading.ok and reading.signature_ok
    assert reading.candidate == who
    ws = openpyxl.load_workbook(path)["Grille E2"]
    assert who.full_name.replace("&", "&&") in ws.oddFooter.left.text  # && prints one &
    assert findings(path) == []


def test_a_template_failing_its_check_renders_every_workbook_whole(monkeypatch):
    monkeypatch.setattr(template, "footer", lambda c, title: "autre chose")  # not what XlsxWriter wrote
    stamper = Stamper(GRID, CTX, OPTIONS)
    for c in TRICKY[:3]:
        assert stamper.render(c) == render_candidate(GRID, c, CTX, stamper.options)
    assert stamper.rendered_whole == 3


def test_zip_members_deflated_once_or_spliced():
    members = [
        deflated("[Content_Types].xml", b"<Types/>"),
        Prefix("xl/a.xml", b"<a>" * 5000).member(b"fin</a>"),
        deflated("docs/é.xml", b""),
    ]
    data = zip_bytes(members)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == ["[Content_Types].xml", "xl/a.xml", "docs/é.xml"]
        assert zf.read("xl/a.xml") == b"<a>" * 5000 + b"fin</a>"
        assert zf.getinfo("docs/é.xml").flag_bits & 0x800
        assert zf.getinfo("xl/a.xml").date_time == (1980, 1, 1, 0, 0, 0)
