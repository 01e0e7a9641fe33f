"""Tests for e2docs.naming: candidates' file names, safe on Windows, macOS and Linux."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2docs.formats.naming import candidate_stem, safe_part
from e2docs.model.candidate import Candidate

FORBIDDEN = set('/\\:*?"<>|') | {chr(c) for c in range(32)} | {"\x7f"}
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def stem(last: str, first: str = "Inès", number: str = "2709411047") -> str:
    return candidate_stem(Candidate(number, last, first), "31214")


def assert_safe(part: str) -> None:
    assert part
    assert not set(part) & FORBIDDEN
    assert part == part.strip(". ")
    assert part.upper() not in RESERVED


def test_usual_name():
    assert stem("DUPONT", "Inès") == "DUPONT_Inès_31214_2709411047"


def test_stem_has_four_parts_separated_by_underscores():
    assert stem("D'ALMEIDA", "Inès").split("_") == ["D'ALMEIDA", "Inès", "31214", "2709411047"]


def test_compound_names_spaces_become_hyphens():
    assert stem("LE  GALL", "Marie Claire") == "LE-GALL_Marie-Claire_31214_2709411047"


def test_underscores_in_names_become_hyphens():
    s = stem("DE_LA_TOUR", "Jean_Paul")
    assert s == "DE-LA-TOUR_Jean-Paul_31214_2709411047"
    assert s.split("_")[:2] == ["DE-LA-TOUR", "Jean-Paul"]


@pytest.mark.parametrize("char", list('/\\:*?"<>|') + ["\x00", "\x01", "\x1f", "\x7f"])
def test_forbidden_characters_are_removed(char):
    assert safe_part(f"DU{char}PONT") == "DUPONT"
    assert stem(f"DU{char}PONT") == "DUPONT_Inès_31214_2709411047"


def test_path_traversal_is_harmless():
    s = stem("../../etc/passwd", "..\\..\\Windows")
    assert "/" not in s and "\\" not in s
    assert not s.startswith(".")
    assert s.split("_")[0] == "etcpasswd"


@pytest.mark.parametrize("name", ["CON", "con", "NUL", "COM1", "com1", "LPT9", "AUX", "PRN", "CON.", " NUL "])
def test_reserved_windows_names_are_made_safe(name):
    part = safe_part(name)
    assert part.upper() not in RESERVED
    assert part.upper().rstrip("-") == name.strip(" .").upper()
    assert_safe(part)


def test_reserved_name_as_candidate_name():
    s = stem("CON", "NUL", "COM1")
    parts = s.split("_")
    assert len(parts) == 4
    assert all(p.upper() not in RESERVED for p in parts)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("...DUPONT...", "DUPONT"),
        (".DUPONT", "DUPONT"),
        ("DUPONT.", "DUPONT"),
        (" . DUPONT . ", "DUPONT"),
        ("-DUPONT-", "DUPONT"),
    ],
)
def test_leading_and_trailing_dots_removed(name, expected):
    assert safe_part(name) == expected


def test_very_long_names_are_truncated():
    long_name = "MARTIN-" * 40
    part = safe_part(long_name)
    assert len(part) <= 60
    assert part.startswith("MARTIN-MARTIN")
    assert not part.endswith("-")
    s = stem(long_name, "Émilie-" * 40)
    assert len(s) <= 60 + 1 + 60 + 1 + 10 + 1 + 20
    assert len(s.encode("utf-8")) < 255  # one path component on every file system


def test_truncation_does_not_leave_a_trailing_dot():
    part = safe_part("A" * 59 + ".BCD")
    assert part == "A" * 59


def test_accents_kept_in_nfc():
    nfd = unicodedata.normalize("NFD", "LEFÈVRE")
    first = unicodedata.normalize("NFD", "Anaïs-Hélène")
    assert nfd != "LEFÈVRE"
    s = stem(nfd, first)
    assert s == "LEFÈVRE_Anaïs-Hélène_31214_2709411047"
    assert unicodedata.is_normalized("NFC", s)


def test_nfc_input_unchanged():
    assert safe_part("Çélia Œdipe") == "Çélia-Œdipe"


def test_nfc_after_removing_forbidden_characters():
    # "e" + "/" + combining acute: NFC cannot compose across "/", removing it leaves "e\u0301".
    part = safe_part("Jose/\u0301")
    assert unicodedata.is_normalized("NFC", part)
    assert part == "José"


@pytest.mark.parametrize("name", ['/\\:*?"<>|', "   ", "...", "___", "\x00\x01", "", "-.-"])
def test_only_forbidden_characters_falls_back(name):
    assert stem(name, name) == "SANS-NOM_SANS-PRENOM_31214_2709411047"


def test_formula_like_name_gives_harmless_file_name(tmp_path):
    s = stem('=HYPERLINK("x")', "Inès")
    assert '"' not in s
    last = s.split("_")[0]
    assert last == "=HYPERLINK(x)"
    assert_safe(last)
    path = tmp_path / f"{s}.xlsx"
    path.write_bytes(b"")
    assert path.exists() and path.parent == tmp_path


def test_empty_number_is_left_out():
    assert stem("DUPONT", "Inès", "") == "DUPONT_Inès_31214"


def test_number_keeps_leading_zeros():
    assert stem("DUPONT", "Inès", "0012345").endswith("_0012345")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.text(max_size=120), st.text(alphabet="0123456789", max_size=12))
def test_any_name_gives_a_safe_four_part_stem(last, first, number):
    s = candidate_stem(Candidate(number, last, first), "31214")
    parts = s.split("_")
    assert len(parts) == (4 if number else 3)
    assert parts[2] == "31214"
    for part in parts:
        assert_safe(part)
        assert len(part) <= 60
    if number:
        assert parts[3] == number
