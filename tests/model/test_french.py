"""Tests for e2docs.model.french: the one French spelling of marks and numbers."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from e2docs.model import french


def _former_format_mark(mark: Fraction | None) -> str:
    """scoring.format_mark as it was before french.mark replaced it (workbook labels "2,5 pts")."""
    if mark is None:
        return ""
    if mark.denominator == 1:
        return str(mark.numerator)
    return f"{float(mark):.6f}".rstrip("0").rstrip(".").replace(".", ",")


@pytest.mark.parametrize(
    "value, text",
    [
        (Fraction("1.875"), "1,875"),
        (Fraction("12.5"), "12,5"),
        (Fraction(20), "20"),
        (Fraction("0.25"), "0,25"),
        (Fraction(1, 3), "0,333333"),
        (Fraction(2, 3), "0,666667"),
        (Fraction(0), "0"),
        (Fraction("-2.5"), "-2,5"),
        (Fraction(123456789, 1000), "123456,789"),  # marks are never grouped
        (14, "14"),
        (12.5, "12,5"),
        (None, ""),
        ("abs", "abs"),
    ],
)
def test_mark(value: object, text: str) -> None:
    assert french.mark(value) == text


@given(st.fractions(min_value=-1000, max_value=1000, max_denominator=10**7))
def test_mark_spells_fractions_as_scoring_format_mark_did(value: Fraction) -> None:
    assert french.mark(value) == _former_format_mark(value)


@given(st.fractions(min_value=0, max_value=100, max_denominator=10**6))
def test_dot_decimal_is_the_mark_with_a_dot(value: Fraction) -> None:
    text = french.dot_decimal(value)
    assert text == french.mark(value).replace(",", ".")
    assert "e" not in text.lower() and "," not in text


@pytest.mark.parametrize(
    "value, text",
    [(Fraction("1.875"), "1.875"), (Fraction(14), "14"), (Fraction(1, 2), "0.5"), (Fraction(1, 3), "0.333333")],
)
def test_dot_decimal(value: Fraction, text: str) -> None:
    assert french.dot_decimal(value) == text


@pytest.mark.parametrize(
    "value, decimals, sign, text",
    [
        (12345.678, 2, False, "12\u00a0345,68"),
        (2.5, 0, False, "3"),
        (-2.5, 0, False, "-3"),
        (0.125, 2, False, "0,13"),
        (1234567, 0, True, "+1\u00a0234\u00a0567"),
        (-0.001, 2, False, "0,00"),
        (None, 0, False, ""),
    ],
)
def test_number(value: object, decimals: int, sign: bool, text: str) -> None:
    assert french.number(value, decimals, sign) == text


def test_percent_amount_date() -> None:
    assert french.percent(0.45) == "45,0\u00a0%"
    assert french.percent(None) == ""
    assert french.amount(1250) == "1\u00a0250,00\u00a0€"
    assert french.amount(-3, sign=True) == "-3,00\u00a0€"
    assert french.date(dt.date(2027, 3, 12)) == "12/03/2027"
    assert french.date(dt.datetime(2027, 3, 12, 8, 30)) == "12/03/2027"


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "1 Ko"), (480_000, "469 Ko"), (2560, "3 Ko"), (2**20, "1 Mo"), (12_900_000, "12,3 Mo"), (25 * 2**20, "25 Mo")],
)
def test_data_size_for_messages(count, text):
    assert french.data_size(count) == text
