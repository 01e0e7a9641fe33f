"""What the fast reader does once instead of for every return (issue 12): the parts every return of a
campaign shares are parsed once per distinct content, a Strict workbook is told from the one reading,
cell references are placed from a table; each gives what the reader gave before."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2docs.formats.xlsx import fastread, package, reader
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.model.candidate import Candidate
from tests.helpers import ALL_LEVEL_3, CANDIDATE, fill, level_values, make_workbook, rewrite_parts, to_strict

COMPLETE = level_values(ALL_LEVEL_3) | {"observations": "Prospection menée avec méthode.", "note_commission": 14}


@pytest.fixture
def parses(monkeypatch):
    """How many times each shared part was parsed, from an empty cache."""
    for cache in fastread._PARSED.values():
        cache.clear()
    counts = {"styles": 0, "types": 0, "rels": 0}
    for kind, name in (("styles", "_parse_styles"), ("types", "_parse_content_types"), ("rels", "_relationships")):
        real = getattr(fastread, name)

        def counted(data, real=real, kind=kind):
            counts[kind] += 1
            return real(data)

        monkeypatch.setattr(fastread, name, counted)
    return counts


def test_the_parts_a_class_shares_are_parsed_once(tmp_path, parses):
    roster = [CANDIDATE, Candidate("2709411048", "MARTIN", "Léa", "TMCV2")]
    paths = [make_workbook(tmp_path, c, name=f"{c.number}.xlsx") for c in roster]
    for _ in range(3):
        readings = [read_workbook(p)[0] for p in paths]
        assert [r.candidate for r in readings] == roster
        assert all(r.ok for r in readings)
    assert parses == {"styles": 1, "types": 1, "rels": 1}


def test_a_styles_part_one_byte_apart_is_read_for_itself(tmp_path, parses):
    """Locking the input cells' format in styles.xml: that return is told, the other one is not,
    whichever is read first."""
    original = fill(make_workbook(tmp_path), COMPLETE, out=tmp_path / "rempli.xlsx")

    def lock_inputs(name: str, data: bytes) -> bytes:
        return re.sub(rb'locked="(0|false)"', b'locked="1"', data) if name == "xl/styles.xml" else data

    locked = rewrite_parts(original, tmp_path / "verrouille.xlsx", lock_inputs)
    for path, ok in ((original, True), (locked, False), (original, True), (locked, False)):
        (reading,) = read_workbook(path)
        assert reading.ok is ok, path.name
        if not ok:
            assert {i.message for i in reading.modified} == {
                "cellule de saisie verrouillée : la mise en forme a été modifiée."
            }
    assert parses["styles"] == 2


def test_a_strict_workbook_is_told_without_opening_the_file_again(tmp_path, monkeypatch):
    """The fast reader sees the Strict namespace as it parses the workbook part: ``is_strict_ooxml``
    (which opens the zip again) is only asked when the fast reader stopped before that."""
    returned = fill(make_workbook(tmp_path), COMPLETE, out=tmp_path / "rempli.xlsx")
    strict = to_strict(returned, tmp_path / "strict.xlsx")
    with pytest.raises(fastread.StrictWorkbook):
        fastread.read_fast(strict)
    asked: list[str] = []
    real = reader.is_strict_ooxml
    monkeypatch.setattr(reader, "is_strict_ooxml", lambda zf: asked.append(zf.filename) or real(zf))
    monkeypatch.setattr(reader, "strict_to_xlsx", lambda path, work: returned)  # LibreOffice's part, tested elsewhere
    (plain,) = read_workbook(returned)
    (converted,) = read_workbook(strict)
    assert asked == []
    assert converted.path == strict and converted.values == plain.values and converted.ok

    def no_content_types(name: str, data: bytes) -> bytes:  # the fast reader stops before the workbook part
        return data.replace(b"/xl/workbook.xml", b"/xl/classeur.xml") if name == "[Content_Types].xml" else data

    odd = rewrite_parts(strict, tmp_path / "strict-types.xlsx", no_content_types)
    (again,) = read_workbook(odd)
    assert asked == [str(odd)]
    assert again.values == plain.values


_TAG = st.sampled_from(
    [b"<", b">", b"x:", b"ab", b" ", b"sheetProtection", b'sheet="1"', b"</", b"/>", b"_", b"\xc3\xa9", b"1"]
)


@given(st.lists(_TAG, max_size=14).map(b"".join))
def test_the_protection_tag_is_the_first_match(data):
    m = package._PROTECTION.search(data)
    assert package._protection_tag(data) == (m[0].decode("utf-8", "replace") if m else "")


@pytest.mark.parametrize(
    ("ref", "column"), [("A1", 1), ("Z9", 26), ("AA10", 27), ("XFD1048576", 16384), ("ZZZ1", 18278)]
)
def test_a_reference_gives_its_column_and_is_remembered(ref, column):
    fastread._REF_COLUMNS.pop(ref, None)
    assert fastread._ref_column(ref) == column
    assert fastread._REF_COLUMNS[ref] == column


@pytest.mark.parametrize("ref", ["b7", "A07", "$B$7", "A0", "AAAA1", "A12345678", "7B", ""])
def test_a_reference_openpyxl_must_judge_is_unplaceable_and_not_remembered(ref):
    with pytest.raises(fastread.Unplaceable):
        fastread._ref_column(ref)
    assert ref not in fastread._REF_COLUMNS


def _cell_text_before(text: str) -> str:
    """``package.cell_text`` before its shortcut for plain text (issue 12)."""
    if "_x" in text:
        text = package._unescape(text).encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = text.replace("\x0b", "\n").replace("\x0c", "\n")
    return package._OTHER_CONTROLS.sub("", text)


@given(st.text(st.sampled_from("a_x0B0D9é \t\n\r\x0b\x0c\x01\x7f\xa0\u2028\ud800😀")) | st.text())
def test_plain_text_is_kept_as_it_is_and_any_other_decoded_as_before(text):
    assert package.cell_text(text) == _cell_text_before(text)


@pytest.mark.parametrize(
    "text", ["'Grille E2'!$B$7", "Fiche!A1", "'L''été'!$C$3", " x!B2 ", "Grille!A1:B2", "", "#REF!"]
)
def test_a_defined_name_is_placed_as_before_and_remembered(text):
    m = re.fullmatch(r"'?(.*?)'?!(\$?[A-Z]+\$?\d+)", (text or "").strip())
    expected = (m[1].replace("''", "'"), m[2]) if m else None
    package._DESTINATIONS.pop(text, None)
    assert package._destination(text) == expected
    assert package._destination(text) == expected and package._DESTINATIONS[text] == expected


@pytest.mark.parametrize(
    "text", ["=SUM($A$1:A3)", "=_xlfn.CEILING.MATH(A1, 0.5)", "IF(TRUE(),1,2)", "=" + "A1+" * 400 + "1", 12, None, ""]
)
def test_a_formula_is_normalised_as_before_and_only_short_texts_are_remembered(text):
    reader._NORMALIZED.clear()
    assert reader.normalize_formula(text) == reader.normalize_formula(text) == reader._normalize_formula(text)
    remembered = isinstance(text, str) and len(text) <= reader.NORMALIZED_LENGTH
    assert (text in reader._NORMALIZED) is remembered


def test_a_part_too_big_to_keep_is_parsed_each_time(tmp_path, parses, monkeypatch):
    monkeypatch.setattr(fastread, "PARSED_BYTES", 100)  # every styles part is bigger
    path = make_workbook(tmp_path)
    for _ in range(2):
        assert read_workbook(path)[0].ok
    assert parses["styles"] == 2 and fastread._PARSED["styles"] == {}
