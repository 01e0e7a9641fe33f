"""clean_display, clean_filename_text and csv_cell: what is removed or prefixed, what is kept."""

from __future__ import annotations

import pytest

from e2docs.formats.naming import safe_part
from e2docs.model.text import BIDI, clean_display, clean_filename_text, csv_cell


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2K\x1b[1A\x1b[32maccepté\x1b[0m", "accepté"),
        ("\x1b]0;titre de fenêtre\x07BERNARD", "BERNARD"),
        ("\x1b]8;;http://x\x1b\\lien\x1b]8;;\x1b\\", "lien"),
        ("\x9b31mrouge", "rouge"),
        ("refusé\raccepté", "refuséaccepté"),
        ("a\x08b\x00c\x7fd\x85e", "abcde"),
        ("Ali\u202exslx.exe", "Alixslx.exe"),
        ("".join(BIDI) + "Léa", "Léa"),
        ("ligne 1\nligne 2\tfin", "ligne 1 ligne 2 fin"),
        ("Éloïse D'ALMEIDA – «\u00a0TMCV2\u00a0»", "Éloïse D'ALMEIDA – «\u00a0TMCV2\u00a0»"),
        ("\x1b", ""),
    ],
)
def test_clean_display(raw, shown):
    assert clean_display(raw) == shown


def test_clean_display_multiline_keeps_line_breaks_only():
    assert clean_display("a\r\nb\n\x1b[1Ac", multiline=True) == "a\nb\nc"


def test_file_name_parts_lose_escapes_and_bidi_controls():
    assert clean_filename_text("x\ty\nz\u202e") == "x y z"
    assert safe_part("Ali\u202exslx.exe") == "Alixslx.exe"
    assert safe_part("\x1b[31mDUPONT\x1b[0m") == "DUPONT"
    assert safe_part("Jean\u2066Paul\u2069") == "JeanPaul"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6", "'+33 6"),
        ("-Marie", "'-Marie"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Marie-Claire", "Marie-Claire"),
        ("D'ALMEIDA", "D'ALMEIDA"),
        ("", ""),
    ],
)
def test_csv_cell_follows_the_owasp_rule(cell, written):
    assert csv_cell(cell) == written
