"""French formatting of numbers, marks, money, rates and dates: the one place e2docs spells them.

Numbers are rounded half up (as people and spreadsheets do, not banker's
rounding), use a comma as decimal mark and a no-break space (U+00A0) to group
thousands and before "%" and "€", so a value never wraps inside a table cell.
Marks keep up to six decimals and are never grouped; :func:`dot_decimal` is the
same spelling with a dot, for spreadsheet formulas.

A "number" here is an ``int``, ``float``, :class:`~fractions.Fraction` or
:class:`~decimal.Decimal`, but not a ``bool`` nor a float NaN or infinity; a float
counts as the decimal it prints as (``0.1`` is one tenth). Anything else is shown
as its text (:func:`text`), ``None`` as ``""``. Only a Decimal NaN or infinity
raises (``ValueError``).
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
    """User text as it may go into a document: ``None`` → ``""``, a date → :func:`date`,
    a whole float → no ".0", line ends as "\\n", characters Word cannot store
    removed, surrounding blanks trimmed."""
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        return date(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n")
    return _XML_INVALID.sub("", s).strip()


def _as_fraction(value: object) -> Fraction | None:
    """The exact value of a number; ``None`` for anything else (see the module docstring)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction, Decimal)):
        return None
    if isinstance(value, float):  # the decimal the user typed, not the binary approximation
        return Fraction(repr(value)) if value == value and abs(value) != float("inf") else None
    return Fraction(value)


def number(value: object, decimals: int = 0, sign: bool = False) -> str:
    """12345.678 → "12 345,68" with ``decimals=2`` (places after the comma, rounded half up);
    ``sign=True`` puts "+" before a positive result. Not a number → its :func:`text`."""
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
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = NBSP.join(groups) + ("," + frac if frac else "")
    if negative and q != 0:
        return "-" + out
    return ("+" + out) if sign and q > 0 else out


def round_half_up(f: Fraction) -> int:
    """The nearest integer, halves away from zero: 2.5 → 3, -2.5 → -3."""
    n = abs(f)
    r = int(n + Fraction(1, 2))
    return -r if f < 0 else r


def mark(value: object) -> str:
    """A mark or a number of points as teachers write it: 12.5 → "12,5", 14 → "14",
    1.875 → "1,875", 1/3 → "0,333333" (at most six decimals, no grouping); ``None`` → "",
    not a number → its :func:`text`. The workbooks' labels ("2,5 pts") use it."""
    f = _as_fraction(value)
    if f is None:
        return text(value)
    return dot_decimal(f).replace(".", ",")


def dot_decimal(value: Fraction) -> str:
    """The spelling of :func:`mark` with a dot, as spreadsheet formulas and files want it:
    1.875 → "1.875", 14 → "14", 1/3 → "0.333333" (no exponent, no grouping)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.6f}".rstrip("0").rstrip(".")


def percent(value: object) -> str:
    """A rate given as a share: 0.45 → "45,0 %" (one decimal); not a number (``None`` too) → ""."""
    f = _as_fraction(value)
    return "" if f is None else number(f * 100, 1) + NBSP + "%"


def amount(value: object, sign: bool = False) -> str:
    """An amount in euros: 1250 → "1 250,00 €" (two decimals); ``sign=True`` puts "+" before
    a positive amount. Not a number → its :func:`text` (``None`` → "")."""
    f = _as_fraction(value)
    return text(value) if f is None else number(f, 2, sign) + NBSP + "€"


def date(value: object) -> str:
    """A date (or the date of a datetime) as "12/03/2027"; anything else → its :func:`text`."""
    if isinstance(value, (dt.datetime, dt.date)):
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    return text(value)


def data_size(count: int) -> str:
    """A size in bytes for a message (plain space): ``12_900_000`` → ``"12,3 Mo"``, ``480_000`` → ``"469 Ko"``
    (1 Ko = 1024 octets; halves rounded up)."""
    if count >= 2**20:
        return number(Fraction(count, 2**20), 1).removesuffix(",0").replace(NBSP, " ") + " Mo"
    return f"{max(1, round_half_up(Fraction(count, 1024)))} Ko"


def academie_label(name: str) -> str:
    """ "Versailles" → "Académie de Versailles", "Amiens" → "Académie d'Amiens"; a name that
    already starts with "Académie" is kept, "" stays ""."""
    name = text(name)
    if not name:
        return ""
    if name.lower().startswith("académie"):
        return name
    elide = name[0].lower() in "aeiouyhàâéèêîôœ"
    return f"Académie d'{name}" if elide else f"Académie de {name}"
