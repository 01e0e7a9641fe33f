"""Tests for e2docs.academies: the académie of a school from its UAI code."""

from __future__ import annotations

import pytest

from e2docs.model.academies import academie_of


@pytest.mark.parametrize(
    "uai, academie",
    [
        ("0921234A", "Versailles"),
        ("0751234X", "Paris"),
        ("6200001A", "Corse"),
        ("7200001B", "Corse"),
        ("9741234B", "La Réunion"),
        ("9711234C", "Guadeloupe"),
        ("9761234D", "Mayotte"),
        ("0931234E", "Créteil"),
        ("0131234F", "Aix-Marseille"),
        ("0761234G", "Normandie"),
        ("0141234H", "Normandie"),
        ("0451234J", "Orléans-Tours"),
        ("0571234K", "Nancy-Metz"),
        ("0631234L", "Clermont-Ferrand"),
        ("0251234M", "Besançon"),
    ],
)
def test_known_uai(uai, academie):
    assert academie_of(uai) == academie


def test_surrounding_spaces_and_lowercase_letter():
    assert academie_of("  0921234a  ") == "Versailles"


@pytest.mark.parametrize(
    "uai", ["", None, "   ", "0201234A", "0001234A", "9991234Z", "9751234A", "XYZ", "92", "ABC1234D"]
)
def test_unknown_or_empty_gives_empty_text(uai):
    assert academie_of(uai) == ""


def test_every_mainland_departement_has_an_academie():
    missing = [f"{d:03d}" for d in range(1, 96) if d != 20 and academie_of(f"{d:03d}1234A") == ""]
    assert missing == []
