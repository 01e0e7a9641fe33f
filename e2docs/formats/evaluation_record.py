"""An evaluation as ``collect`` read it, kept in the ledger so that ``report`` need not read the
workbook again.

``report`` used to read every archived return a second time (about 14 ms of its 33 ms per candidate)
to get the same :class:`~e2docs.model.evaluation.Evaluation` ``collect`` had just read. ``collect`` now
keeps, beside each accepted return, the evaluation's *inputs* as compact JSON (:func:`encode`): the
candidate, the school data, the level ticked per criterion, the commission, the observations and the
prospecting sheet. ``report`` rebuilds the evaluation from them (:func:`decode`); its marks are not
stored but computed again by the scoring rule (:class:`~e2docs.model.evaluation.Evaluation` does it on
construction), so they can never disagree with the rule of the running version.

A record is used only when everything it depends on is unchanged, else the workbook is read again as
before: the archived file's bytes (its SHA-256), the candidate, the grid (its content hash), the reader
(:data:`FORMAT` and e2docs' version, in :func:`reader_key`), and a seal (HMAC-SHA256 with the campaign's
signing secret, :func:`seal`) over all of them, so that editing the ledger is no easier a way to change
a document than editing a signed workbook.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import zlib
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from e2docs import __version__
from e2docs.model.candidate import Candidate, Context
from e2docs.model.evaluation import Commission, Evaluation
from e2docs.model.grid import Grid

FORMAT = 1
"""The record's format, and the reader's: raise it whenever the reader or
:func:`~e2docs.formats.xlsx.evaluation.evaluation_of` would give another evaluation for the same
file, so that records kept by the previous code are not used."""


class Unencodable(ValueError):
    """A value of the evaluation that the record cannot hold exactly (the workbook is then read again)."""


def reader_key(grid: Grid) -> str:
    """What a record depends on besides the file: :data:`FORMAT`, e2docs' version and ``grid``'s content."""
    return f"{FORMAT}/{__version__}/{grid.content_hash}"


def _value(value: object) -> Any:
    """``value`` as JSON: ``None``, booleans, integers, floats and texts as they are; a date, a
    date-time, a time or a fraction as a one-key object naming its type."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise Unencodable(f"non-finite number {value!r}")
        return value
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"time": value.isoformat()}
    if isinstance(value, Fraction):
        return {"fraction": [value.numerator, value.denominator]}
    raise Unencodable(f"value of type {type(value).__name__}")


def _from_value(data: Any) -> object:
    if isinstance(data, dict):
        ((kind, text),) = data.items()
        if kind == "datetime":
            return dt.datetime.fromisoformat(text)
        if kind == "date":
            return dt.date.fromisoformat(text)
        if kind == "time":
            return dt.time.fromisoformat(text)
        if kind == "fraction":
            return Fraction(int(text[0]), int(text[1]))
        raise ValueError(f"unknown value kind {kind!r}")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    raise ValueError(f"unexpected value {data!r}")


def _texts(mapping: Mapping[str, object]) -> dict[str, Any]:
    return {str(k): _value(v) for k, v in mapping.items()}


def encode(evaluation: Evaluation) -> bytes:
    """The inputs of ``evaluation`` (not its grid, not its outcome) as compressed JSON (zlib).

    Raises :class:`Unencodable` when a value is of a type the record does not hold (the callers then
    keep no record)."""
    c, ctx, com = evaluation.candidate, evaluation.context, evaluation.commission
    data = {
        "candidate": [c.number, c.last_name, c.first_name, c.division, _value(c.birth_date), c.ine, c.specialty],
        "context": [ctx.session, ctx.school, ctx.academie],
        "levels": dict(evaluation.levels),
        "commission": [com.prof_name, com.prof_function, com.pro_name, com.pro_function, _value(com.date)],
        "commission_mark": _value(evaluation.commission_mark),
        "observed": sorted(evaluation.observed),
        "observations": evaluation.observations,
        "prospecting": _texts(evaluation.prospecting),
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return zlib.compress(text.encode("utf-8"), 6)


def decode(record: bytes, grid: Grid) -> Evaluation:
    """The evaluation :func:`encode` gave ``record`` for, scored again with ``grid``.

    Raises :class:`ValueError` (or a subclass: ``zlib.error`` is turned into it) for a record that is not
    one :func:`encode` wrote, or whose levels are not on ``grid``."""
    try:
        data = json.loads(zlib.decompress(record).decode("utf-8"))
    except (zlib.error, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable record: {exc}") from None
    number, last, first, division, birth, ine, specialty = data["candidate"]
    prof_name, prof_function, pro_name, pro_function, date = data["commission"]
    birth_date = _from_value(birth)
    commission_date = _from_value(date)
    if birth_date is not None and not isinstance(birth_date, dt.date):
        raise ValueError("birth date")
    if commission_date is not None and not isinstance(commission_date, (dt.date, str)):
        raise ValueError("commission date")
    return Evaluation(
        candidate=Candidate(number, last, first, division, birth_date, ine, specialty),
        context=Context(*data["context"]),
        grid=grid,
        levels={str(k): v for k, v in data["levels"].items()},
        commission=Commission(prof_name, prof_function, pro_name, pro_function, commission_date),
        commission_mark=_from_value(data["commission_mark"]),
        observed=frozenset(data["observed"]),
        observations=data["observations"],
        prospecting={k: _from_value(v) for k, v in data["prospecting"].items()},
    )


def seal(secret: bytes, sha256: str, number: str, key: str, record: bytes) -> bytes:
    """The HMAC-SHA256 (32 bytes) binding ``record`` to the file (``sha256``, hexadecimal), the candidate
    ``number`` and the :func:`reader_key`, under the campaign's signing ``secret``."""
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    for part in (sha256.encode(), number.encode("utf-8"), key.encode("utf-8"), record):
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    return mac.digest()


def opened(
    secret: bytes, sha256: str, number: str, key: str, record: bytes, mac: bytes, grid: Grid
) -> Evaluation | None:
    """The evaluation of ``record`` when ``mac`` is its :func:`seal`; ``None`` when it is not (a record
    changed since, or written under another secret) or the record cannot be decoded."""
    if not hmac.compare_digest(seal(secret, sha256, number, key, record), bytes(mac)):
        return None
    try:
        evaluation = decode(record, grid)
    except (ValueError, KeyError, TypeError, ArithmeticError):
        return None
    return evaluation if evaluation.candidate.number == number else None
