"""Returns converted once (issue 12, item 6): an .ods, .xls or Strict return's .xlsx copy is kept beside it.

``collect`` converts the return and keeps the copy in ``retours/<sha256>-converti.xlsx``; ``report``
and a later ``collect`` read that copy instead of starting LibreOffice again. A copy that is missing or
damaged is simply made again, atomically, never leaving a half-written file.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from e2docs.formats import libreoffice
from e2docs.formats.intake import ConversionError, kept_conversion, kept_copy
from tests.app.test_collect import Setup, new_campaign, number
from tests.helpers import make_workbook, to_strict

A = number(0)


def test_the_kept_copy_is_named_after_the_original_and_only_it():
    stored = Path("retours") / ("ab" * 32 + ".ods")
    assert kept_copy(stored) == Path("retours") / ("ab" * 32 + "-converti.xlsx")
    assert not kept_copy(stored).match(f"{'ab' * 32}.*")  # `<sha>.*` still finds the original alone


def test_converted_once_remade_when_missing_or_damaged(tmp_path):
    ordinary = make_workbook(tmp_path, name="ordinaire.xlsx")
    calls: list[Path] = []

    def convert(folder: Path) -> Path:  # what to_xlsx / strict_to_xlsx do: a new file in ``folder``
        calls.append(folder)
        out = folder / "source.xlsx"
        shutil.copyfile(ordinary, out)
        return out

    archive = tmp_path / "retours"
    archive.mkdir()
    target = kept_copy(archive / ("0" * 64 + ".ods"))
    assert kept_conversion(target, convert) == target and len(calls) == 1
    assert target.read_bytes() == ordinary.read_bytes()
    assert kept_conversion(target, convert) == target and len(calls) == 1  # kept: not converted again

    damaged = {
        "truncated": ordinary.read_bytes()[:-400],
        "empty": b"",
        "not a zip": b"PK\x03\x04 nothing more",
        "strict": to_strict(ordinary, tmp_path / "strict.xlsx").read_bytes(),
    }
    for n, (why, data) in enumerate(damaged.items(), start=2):
        target.write_bytes(data)
        assert kept_conversion(target, convert) == target and len(calls) == n, why
        assert target.read_bytes() == ordinary.read_bytes(), why
    target.unlink()
    assert kept_conversion(target, convert) == target and target.is_file()

    def fails(folder: Path) -> Path:
        raise ConversionError("conversion en .xlsx impossible.", "retour.ods")

    other = kept_copy(archive / ("1" * 64 + ".ods"))
    with pytest.raises(ConversionError):
        kept_conversion(other, fails)
    assert sorted(p.name for p in archive.iterdir()) == [target.name]  # nothing half-written left


@pytest.fixture
def counted(monkeypatch) -> list[list[str]]:
    """Every LibreOffice conversion run in this process (the real one, counted)."""
    runs: list[list[str]] = []
    real = libreoffice.convert

    def spy(sources, to, outdir, timeout, **kw):
        runs.append([Path(s).name for s in sources])
        return real(sources, to, outdir, timeout, **kw)

    monkeypatch.setattr(libreoffice, "convert", spy)
    return runs


@pytest.mark.libreoffice
def test_ods_and_strict_returns_are_converted_once_for_collect_and_report(tmp_path, counted):
    from tests.lo.availability import require_lo

    require_lo()
    s = Setup(new_campaign(tmp_path, 2), tmp_path / "arrivees")
    B = number(1)
    strict = to_strict(s.make(A, "A.xlsx"), s.inbox / "A-strict.xlsx")
    (s.inbox / "A.xlsx").unlink()
    made = libreoffice.convert([s.make(B, "B.xlsx", folder=tmp_path / "tableur")], "ods", s.inbox, 120)
    assert made.returncode == 0
    ods = s.inbox / "B.ods"
    assert ods.is_file()
    counted.clear()

    result = s.collect(s.inbox)
    assert result.exit_code == 0, result.output
    assert len(counted) == 2  # each return converted once
    for original in (strict, ods):
        sha = hashlib.sha256(original.read_bytes()).hexdigest()
        stored = next((s.root / "retours").glob(f"{sha}.*"))
        assert stored.read_bytes() == original.read_bytes()  # the original, unchanged
        assert kept_copy(stored).is_file()  # and its conversion beside it
    assert {r.state for r in s.returns()} == {"complete"}

    done = s.run("report")
    assert done.exit_code == 0, done.output
    assert len(counted) == 2  # report read the kept copies: no LibreOffice run
    assert len(list((s.root / "rapports").glob("*_fiche-evaluation.docx"))) == 2

    again = s.collect(s.inbox)
    assert again.exit_code == 0 and "2 déjà importé(s)" in again.output
    assert len(counted) == 2

    sha = hashlib.sha256(ods.read_bytes()).hexdigest()
    kept = kept_copy(next((s.root / "retours").glob(f"{sha}.*")))
    kept.write_bytes(kept.read_bytes()[:1000])  # damaged (a disk fault, a copy cut short)
    done = s.run("report")
    assert done.exit_code == 0, done.output
    assert len(counted) == 2  # report takes what collect read (kept in the ledger): the copy is not read
    with contextlib.closing(sqlite3.connect(s.root / "registre.sqlite")) as db, db:
        db.execute("DELETE FROM evaluations")  # as a campaign collected by an earlier version
    done = s.run("report")
    assert done.exit_code == 0, done.output
    assert len(counted) == 3  # the damaged copy remade, once
    assert not [p for p in (s.root / "retours").iterdir() if p.name.startswith(".")]
