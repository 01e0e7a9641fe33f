"""French formatting of numbers, money, rates and dates for documents.

Numbers are rounded half up (as people and spreadsheets do, not banker's
rounding), use a comma as decimal mark and a no-break space (U+00A0) to group
thousands and before "%" and "€", so a value never wraps inside a table cell.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

NBSP = "\u00a0"

# Characters XML 1.0 forbids (a Word document containing one does not open).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def text(value: object) -> str:
    """User text as it may go into a document: never None, line ends as "\\n",
    characters Word cannot store removed, surrounding blanks trimmed."""
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        return date(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("_x000D_", "").replace("\x0b", "\n")
    return _XML_INVALID.sub("", s).strip()


def _as_fraction(value: object) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction, Decimal)):
        return None
    if isinstance(value, float):  # the decimal the user typed, not the binary approximation
        return Fraction(repr(value)) if value == value and abs(value) != float("inf") else None
    return Fraction(value)


def number(value: object, decimals: int = 0, sign: bool = False) -> str:
    """12345.678 → "12 345,68" (``decimals=2``); not a number → its text as typed."""
    f = _as_fraction(value)
    if f is None:
        return text(value)
    q = (
        (Decimal(f.numerator) / Decimal(f.denominator)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        if decimals
        else Decimal(round_half_up(f))
    )
    negative = q < 0
    whole, _, frac = f"{abs(q):f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = NBSP.join(groups) + ("," + frac if frac else "")
    if negative and q != 0:
        return "-" + out
    return ("+" + out) if sign and q > 0 else out


def round_half_up(f: Fraction) -> int:
    """The nearest integer, halves away from zero."""
    n = abs(f)
    r = int(n + Fraction(1, 2))
    return -r if f < 0 else r


def mark(value: object) -> str:
    """A mark as teachers write it: 12.5 → "12,5", 14 → "14", 1.875 → "1,875"; None → ""."""
    f = _as_fraction(value)
    if f is None:
        return text(value)
    if f.denominator == 1:
        return str(f.numerator)
    return f"{float(f):.6f}".rstrip("0").rstrip(".").replace(".", ",")


def percent(value: object) -> str:
    """0.45 → "45,0 %"; None → ""."""
    f = _as_fraction(value)
    return "" if f is None else number(f * 100, 1) + NBSP + "%"


def amount(value: object, sign: bool = False) -> str:
    """1250 → "1 250,00 €"; not a number → its text as typed."""
    f = _as_fraction(value)
    return text(value) if f is None else number(f, 2, sign) + NBSP + "€"


def date(value: object) -> str:
    """A date as "12/03/2027"; anything else → its text."""
    if isinstance(value, (dt.datetime, dt.date)):
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    return text(value)


def academie_label(name: str) -> str:
    """ "Versailles" → "Académie de Versailles", "Amiens" → "Académie d'Amiens"."""
    name = text(name)
    if not name:
        return ""
    if name.lower().startswith("académie"):
        return name
    elide = name[0].lower() in "aeiouyhàâéèêîôœ"
    return f"Académie d'{name}" if elide else f"Académie de {name}"
