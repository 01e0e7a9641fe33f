"""The fast reader (issue 12, item 2): the same readings as openpyxl's, for every workbook we have.

Each workbook is read twice through :func:`read_workbook`: by :mod:`e2docs.formats.xlsx.fastread`, and
with that reader switched off (openpyxl's read-only mode, the fallback); the two readings must agree
field by field. The files: every .xlsx of ``tests/data`` and ``samples`` (returns re-saved by
LibreOffice, WPS, Excel), and returns made here the ways suites write them (dates, booleans, errors,
inline strings, shared formulas, rows out of order, the 1904 calendar, a class workbook). What the
fast reader cannot place (Strict, array formulas, a DOCTYPE…) goes to openpyxl, which decides.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pytest

from e2docs.formats.xlsx import fastread, package
from e2docs.formats.xlsx.layout import META_SHEET
from e2docs.formats.xlsx.package import read_package, read_package_openpyxl
from e2docs.formats.xlsx.reader import Reading, read_workbook
from e2docs.formats.xlsx.writer import write_class_workbook
from e2docs.model.candidate import Candidate
from e2docs.model.errors import WorkbookError
from tests.helpers import (
    ALL_LEVEL_3,
    CANDIDATE,
    CTX,
    DATA,
    GRID,
    PROJECT,
    fill,
    layout_of,
    level_values,
    make_workbook,
    rewrite_parts,
    to_strict,
)

CASES = DATA / "cases"
SECRET = bytes.fromhex((CASES / "campagne-0.1" / ".secret").read_text(encoding="ascii").strip())
FIELD_FILES = sorted([*DATA.rglob("*.xlsx"), *(PROJECT / "samples").rglob("*.xlsx")])
COMPLETE = level_values(ALL_LEVEL_3) | {"observations": "Prospection menée avec méthode.", "note_commission": 14}


def campaign_grids():
    from e2docs.app.campaign import open_campaign

    grid = open_campaign(CASES / "campagne-0.1").grid()
    return {grid.content_hash: grid}


@contextmanager
def openpyxl_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Inside the block, the fast reader places nothing: every file goes to openpyxl."""

    def refuse(path: Path, cached: bool = True) -> package.Package:
        raise fastread.Unplaceable("switched off by the test")

    with monkeypatch.context() as m:
        m.setattr(fastread, "read_fast", refuse)
        yield


@contextmanager
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Inside the block, falling back to openpyxl fails the test: the fast reader placed the file."""

    def fail(path: Path, cached: bool = True) -> package.Package:
        raise AssertionError(f"{path.name}: the fast reader fell back to openpyxl")

    with monkeypatch.context() as m:
        m.setattr("e2docs.formats.xlsx.reader.read_package_openpyxl", fail)
        m.setattr(package, "read_package_openpyxl", fail)
        yield


def both(monkeypatch, path: Path, fast_expected: bool = True, **kwargs) -> tuple[list[Reading], list[Reading]]:
    """``path`` read by the fast reader (which must place it when ``fast_expected``) and by openpyxl."""
    if fast_expected:
        with no_fallback(monkeypatch):
            fast = read_workbook(path, **kwargs)
    else:
        fast = read_workbook(path, **kwargs)
    with openpyxl_only(monkeypatch):
        slow = read_workbook(path, **kwargs)
    return fast, slow


def assert_same(fast: list[Reading], slow: list[Reading]) -> None:
    """Field by field: issues, values, outputs, warnings, identity, outcome, everything a Reading holds."""
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        for f in dataclasses.fields(Reading):
            assert getattr(a, f.name) == getattr(b, f.name), f.name
        assert a.candidate == b.candidate and a.ok == b.ok and a.blank == b.blank


def assert_same_package(path: Path, monkeypatch) -> None:
    with no_fallback(monkeypatch):
        fast = read_package(path)
    slow = read_package_openpyxl(path)
    assert isinstance(fast.sheets, dict)
    assert list(fast.sheets) == list(slow.sheets)
    for title in slow.sheets:
        assert fast.sheets[title] == slow.sheets[title], title
    assert (fast.names, fast.local_names) == (slow.names, slow.local_names)
    assert (fast.created, fast.modified, fast.structure_locked) == (slow.created, slow.modified, slow.structure_locked)


# ------------------------------------------------------------------ every workbook of the tests


def test_the_field_files_are_all_there():
    assert len(FIELD_FILES) >= 30  # 9 samples, 12 sent and 8 returned by the 0.1 campaign, 2 field cases


@pytest.mark.parametrize("path", FIELD_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_workbook_of_the_tests_reads_the_same_both_ways(path, monkeypatch):
    in_campaign = CASES in path.parents
    kwargs = {"grids": campaign_grids(), "secret": SECRET} if in_campaign else {}
    fast, slow = both(monkeypatch, path, **kwargs)
    assert_same(fast, slow)
    assert_same_package(path, monkeypatch)


def test_field_returns_keep_their_verdict():
    """What the shared cases must give, now read by the fast reader."""
    (wps,) = (CASES / "01-wps-dimension-a1").glob("*.xlsx")
    (reading,) = read_workbook(wps, campaign_grids(), secret=SECRET)
    assert reading.ok and reading.outcome.proposed_mark == 15
    (escaped,) = (CASES / "10-excel-escaped-control-char").glob("*.xlsx")
    (reading,) = read_workbook(escaped, campaign_grids(), secret=SECRET)
    assert reading.ok and "\n" in str(reading.values["observations"])


# ------------------------------------------------------------------ returns made the ways suites write them


@pytest.fixture(scope="module")
def returned(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("retour")
    return fill(make_workbook(tmp), COMPLETE, out=tmp / "rempli.xlsx")


def test_generated_blank_and_typed_values(tmp_path, monkeypatch):
    """Fresh from XlsxWriter (shared strings, cached results), and typed with every kind of value,
    valid and not: dates, a datetime, booleans, numbers as text, a formula typed in an input."""
    blank = make_workbook(tmp_path, name="vierge.xlsx")
    assert_same(*both(monkeypatch, blank))
    values = COMPLETE | {
        "prosp_debut": dt.datetime(2027, 1, 4),
        "prosp_fin": dt.date(2026, 12, 1),
        "commission_date": "le 3 mars",
        "prosp_res_contacts": "douze",
        "prosp_organisation": True,
        "note_commission": 13.5,
        "observations": "=1+1",
        "comp_1_1": "x",
    }
    values = {k: v for k, v in values.items() if k in layout_of().named}
    typed = fill(make_workbook(tmp_path, name="saisi.xlsx"), values, out=tmp_path / "saisi-rempli.xlsx")
    fast, slow = both(monkeypatch, typed)
    assert_same(fast, slow)
    assert fast[0].errors  # the invalid ones are said
    assert_same_package(typed, monkeypatch)


def test_class_workbook(tmp_path, monkeypatch):
    cands = [CANDIDATE, Candidate("2709411050", "DUBOIS", "Marie-Ève", "TMCV2")]
    path = tmp_path / "classe.xlsx"
    write_class_workbook(path, GRID, cands, CTX)
    fast, slow = both(monkeypatch, path)
    assert len(fast) == 2
    assert_same(fast, slow)


def _edit_sheets(src: Path, dst: Path, change) -> Path:
    def edit(name: str, data: bytes) -> bytes:
        return change(data) if name.startswith("xl/worksheets/sheet") else data

    return rewrite_parts(src, dst, edit)


_EXTRA = (
    b'<row r="900"><c r="A900" t="inlineStr"><is><r><rPr><b/></rPr><t>gras</t></r>'
    b'<r><t xml:space="preserve"> et _x000B_ fin</t></r></is></c>'
    b'<c r="B900" t="e"><v>#N/A</v></c><c r="C900" t="b"><v>1</v></c>'
    b'<c r="D900" t="d"><v>2027-03-04T00:00:00</v></c><c r="E900" t="str"><v>texte</v></c>'
    b'<c r="F900"><v>1.5E2</v></c><c r="G900" t="inlineStr"/><c r="H900" s="0"><v>7</v></c></row>'
    b'<row r="899"><c r="A899"><v>1</v></c></row>'  # before the last row given: openpyxl skips it
    b'<row r="901"><c r="C901"><v>3</v></c><c r="A901"><v>1</v></c></row>'  # C901 past the last cell
    b'<row><c><v>5</v></c><c t="str"><v>x</v></c></row>'  # no references at all
    b"</sheetData>"
)


def test_inline_strings_errors_booleans_and_iso_dates(returned, tmp_path, monkeypatch):
    """Cells as other writers store them: inline strings (with runs and an escape), an error, a boolean,
    an ISO date, a number in exponent form; and openpyxl's quirks (rows out of order, cells past the
    row's last one, rows and cells without references)."""
    path = _edit_sheets(returned, tmp_path / "inline.xlsx", lambda d: d.replace(b"</sheetData>", _EXTRA, 1))
    assert_same(*both(monkeypatch, path))
    assert_same_package(path, monkeypatch)
    values = read_package(path).sheets[read_package(path).sheetnames[0]].values
    assert values["A900"] == "gras et \n fin" and values["C900"] is True and "A899" not in values


def test_shared_formulas_are_translated_as_openpyxl_does(returned, tmp_path, monkeypatch):
    """Excel and LibreOffice write a formula repeated down a column once, ``t="shared"``: each cell's
    formula is the first one moved to it, so the tamper check compares the same text both ways."""

    # A real shared formula group: the same formula typed in two cells of a column, then shared.
    wb = openpyxl.load_workbook(returned)
    ws = wb[META_SHEET]
    ws["Z1"], ws["Z2"], ws["Z3"] = "=SUM(A1:B1)", "=SUM(A2:B2)", "=SUM(A3:B3)"
    wb.save(tmp_path / "plain.xlsx")

    def grouped(data: bytes) -> bytes:
        data = data.replace(b"<f>SUM(A1:B1)</f>", b'<f t="shared" ref="Z1:Z3" si="0">SUM(A1:B1)</f>')
        data = data.replace(b"<f>SUM(A2:B2)</f>", b'<f t="shared" si="0"/>')
        return data.replace(b"<f>SUM(A3:B3)</f>", b'<f t="shared" si="0"></f>')

    path = _edit_sheets(tmp_path / "plain.xlsx", tmp_path / "shared.xlsx", grouped)
    fast = read_package(path)
    assert fast.sheets[META_SHEET].values["Z3"] == "=SUM(A3:B3)"
    assert_same_package(path, monkeypatch)
    assert_same(*both(monkeypatch, path))


def test_the_1904_calendar_and_date_formats(returned, tmp_path, monkeypatch):
    values = COMPLETE | {"prosp_debut": dt.date(2027, 1, 4), "prosp_fin": dt.date(2027, 2, 1)}
    typed = fill(returned, values, out=tmp_path / "dates.xlsx")

    def mac(name: str, data: bytes) -> bytes:
        if name == "xl/workbook.xml":
            return re.sub(rb"<workbookPr\b", b'<workbookPr date1904="1"', data, count=1)
        return data

    path = rewrite_parts(typed, tmp_path / "mac.xlsx", mac)
    assert b'date1904="1"' in __import__("zipfile").ZipFile(path).read("xl/workbook.xml")
    assert_same(*both(monkeypatch, path))
    assert_same_package(path, monkeypatch)


# ------------------------------------------------------------------ what goes to openpyxl


def test_strict_goes_to_openpyxl_which_sees_no_sheet(returned, tmp_path):
    strict = to_strict(returned, tmp_path / "strict.xlsx")
    with pytest.raises(fastread.Unplaceable):
        fastread.read_fast(strict)
    assert read_package(strict).sheets == {}


def test_array_formulas_go_to_openpyxl(returned, tmp_path, monkeypatch):
    def array(data: bytes) -> bytes:
        return data.replace(
            b"</sheetData>",
            b'<row r="950"><c r="A950"><f t="array" ref="A950">1+1</f><v>2</v></c></row></sheetData>',
            1,
        )

    def edit(name: str, data: bytes) -> bytes:
        return array(data) if name == "xl/worksheets/sheet1.xml" else data

    path = rewrite_parts(returned, tmp_path / "array.xlsx", edit)
    assert b'<c r="A950"' in __import__("zipfile").ZipFile(path).read("xl/worksheets/sheet1.xml")
    pkg = fastread.read_fast(path)
    try:
        with pytest.raises(fastread.Unplaceable):
            pkg.sheets.load()  # type: ignore[attr-defined]
    finally:
        pkg.sheets.close()  # type: ignore[attr-defined]
    fast, slow = both(monkeypatch, path, fast_expected=False)
    assert_same(fast, slow)


def test_a_doctype_is_refused_and_openpyxl_decides(returned, tmp_path):
    """Entity expansion ("billion laughs") in the shared strings: the fast reader refuses any DOCTYPE,
    openpyxl's defusedxml refuses the entities, the file is unreadable — quickly."""
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((98 + i,) + (97 + i,) * 10) for i in range(8)
        )
        + b"]>"
    )

    def edit(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return bomb + (data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data)
        return data

    path = rewrite_parts(returned, tmp_path / "bombe.xlsx", edit)
    pkg = fastread.read_fast(path)
    try:
        with pytest.raises(fastread.Unplaceable, match="DOCTYPE"):
            pkg.sheets.load()  # type: ignore[attr-defined]
    finally:
        pkg.sheets.close()  # type: ignore[attr-defined]
    with pytest.raises(WorkbookError, match="illisible"):
        read_workbook(path)


def test_only_the_sheets_the_checks_need_are_parsed(tmp_path, monkeypatch):
    """A class workbook's summary sheet is never parsed: nothing e2docs checks is there."""
    cands = [CANDIDATE, Candidate("2709411050", "DUBOIS", "Marie-Ève", "TMCV2")]
    path = tmp_path / "classe.xlsx"
    write_class_workbook(path, GRID, cands, CTX)
    parsed: list[str] = []
    real = fastread._read_sheet

    def spy(book, title, state, member, cached):
        parsed.append(title)
        return real(book, title, state, member, cached)

    monkeypatch.setattr(fastread, "_read_sheet", spy)
    with no_fallback(monkeypatch):
        assert len(read_workbook(path)) == 2
    assert "Récapitulatif" not in parsed and META_SHEET in parsed and len(parsed) == 1 + 2 * 2


# ------------------------------------------------------------------ openpyxl's rules, copied


def test_date_formats_are_told_as_openpyxl_tells_them():
    from openpyxl.styles.numbers import BUILTIN_FORMATS
    from openpyxl.styles.numbers import is_date_format as theirs
    from openpyxl.styles.numbers import is_timedelta_format as theirs_duration

    assert {i for i, code in BUILTIN_FORMATS.items() if theirs(code)} == fastread.BUILTIN_DATES
    assert {i for i, code in BUILTIN_FORMATS.items() if theirs_duration(code)} == fastread.BUILTIN_DURATIONS
    codes = [*BUILTIN_FORMATS.values(), None, "", "dd/mm/yyyy", "[$-40C]d mmmm yyyy", '"jour" 0', "0_d", r"0\d"]
    codes += ["[Red]0.00", "[h]:mm", "[mm]:ss", "[ss].00", "hh:mm;@", "General;[Blue]d", "# ?/?", '"m"0', "mmss.0"]
    for code in codes:
        assert fastread.is_date_format(code) == theirs(code), code
        assert fastread.is_duration_format(code) == theirs_duration(code), code


def test_serial_dates_are_converted_as_openpyxl_converts_them():
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel

    assert (fastread.WINDOWS_EPOCH, fastread.MAC_EPOCH) == (WINDOWS_EPOCH, CALENDAR_MAC_1904)
    values = [0, 0.5, 0.999999, 1, 1.25, 59, 59.9, 60, 61, 46000, 46000.0001, 2958465, 0.0000001, 12.345678]

    def outcome(convert, *args):
        try:
            return convert(*args)
        except (OverflowError, ValueError) as exc:  # out of range: the reader turns it into "#VALUE!"
            return type(exc)

    for epoch in (WINDOWS_EPOCH, CALENDAR_MAC_1904):
        for value in values:
            for duration in (False, True):
                assert outcome(fastread.from_excel, value, epoch, duration) == outcome(
                    from_excel, value, epoch, duration
                ), value


def test_escapes_and_column_letters_as_openpyxl():
    from openpyxl.utils import column_index_from_string, get_column_letter
    from openpyxl.utils.escape import unescape

    for text in ["a_x000B_b", "_x005F_x000B_", "_xD83D__xDE00_", "_x12_ _xGGGG_", "_x00e9_t_x00E9_", "sans"]:
        assert package._unescape(text) == unescape(text)
    for number in [*range(1, 1000), 16384, 18278]:
        assert package.column_letters(number) == get_column_letter(number)
        assert package.column_number(get_column_letter(number)) == column_index_from_string(get_column_letter(number))
