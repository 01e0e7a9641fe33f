"""Generated workbooks through Gnumeric: ``ssconvert --recalc`` .xlsx → .xlsx (tests/engines.py).

A workbook filled with openpyxl (which stores no formula results) is opened by
Gnumeric, recalculated with the workbook's own formulas and saved again as
.xlsx; e2docs reads back the rule's marks and completeness, and the results
Gnumeric stored are e2docs' own.

Gnumeric (1.12.55) does not keep what protects the file: the sheets stay
protected but lose their password, the workbook loses its structure lock
(``workbookProtection``: "Unexpected element" on its output) and the hidden
metadata sheet "e2docs" becomes visible; the custom document properties are
emptied. e2docs still reads every mark right, accepts the return (the signature
guards the content) and says in a French warning what was lost (issue 9).
"""

from __future__ import annotations

import random
import re
import zipfile
from pathlib import Path

import pytest

from e2docs.formats.xlsx.layout import META_SHEET
from e2docs.formats.xlsx.package import read_package
from e2docs.formats.xlsx.reader import IssueKind, read_workbook
from tests.engines import cached_mismatches, random_filling
from tests.helpers import ALL_LEVEL_3, GRID, fill, level_values, make_workbook

pytestmark = [
    pytest.mark.gnumeric,
    # Gnumeric writes styles.xml without cellStyles (no named style such as "Normal"): openpyxl warns on each
    # load. e2docs silences it (tests/formats/xlsx/test_office_suites.py checks that none reaches stderr); the
    # openpyxl loads of tests/engines.py (cached_mismatches) do not.
    pytest.mark.filterwarnings("ignore:Workbook contains no default style"),
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_fillings_recalculated_by_gnumeric_agree_with_the_rule(gnumeric, tmp_path, seed):
    """Ten random fillings per seed (30 in all), each in a fresh workbook filled with openpyxl,
    recalculated and saved by Gnumeric: e2docs reads the rule's result, Gnumeric stored e2docs'
    values, no cell outside the inputs changed, inputs rejected exactly when invalid."""
    rng = random.Random(seed)
    blank = make_workbook(tmp_path)
    for k in range(10):
        filling = random_filling(rng, GRID)
        filled = fill(blank, filling.typed(), out=tmp_path / f"rempli-{k}.xlsx")
        saved = tmp_path / f"gnumeric-{k}.xlsx"
        gnumeric(filled, saved)
        (reading,) = read_workbook(saved)
        filling.assert_read_as_the_rule(reading, GRID)
        assert not cached_mismatches(saved, reading)
        # the one warning: what Gnumeric's save lost (no cached value differs from e2docs' results)
        assert [w.kind for w in reading.warnings] == [IssueKind.PROTECTION], reading.warnings
        assert not [i for i in reading.modified if i.cell], reading.modified
        assert bool(reading.errors) is not filling.valid, (reading.errors, filling)


def _complete_return(gnumeric, tmp_path: Path) -> tuple[Path, Path]:
    """A complete grid filled with openpyxl, and Gnumeric's re-saved copy."""
    values = level_values(ALL_LEVEL_3) | {"observations": "Prospection menée avec méthode.", "note_commission": 14}
    filled = fill(make_workbook(tmp_path), values, out=tmp_path / "rempli.xlsx")
    saved = tmp_path / "gnumeric.xlsx"
    gnumeric(filled, saved)
    return filled, saved


def _protection(path: Path) -> tuple[list[str], str | None]:
    """The ``sheetProtection`` elements of every sheet and the ``workbookProtection`` element, as written."""
    with zipfile.ZipFile(path) as zf:
        sheets = [
            found.group(0)
            for name in sorted(zf.namelist())
            if name.startswith("xl/worksheets/sheet")
            for found in [re.search(r"<sheetProtection\b[^>]*>", zf.read(name).decode())]
            if found
        ]
        book = re.search(r"<workbookProtection\b[^>]*>", zf.read("xl/workbook.xml").decode())
    return sheets, book.group(0) if book else None


def test_gnumeric_drops_passwords_structure_lock_and_hidden_state(gnumeric, tmp_path):
    """What the round trip loses (the facts the warning below is about); every mark is still read right."""
    filled, saved = _complete_return(gnumeric, tmp_path)
    before, after = _protection(filled), _protection(saved)
    assert len(before[0]) == len(after[0]) == 3
    assert all("password=" in p for p in before[0]) and before[1] and "lockStructure" in before[1]
    assert not [p for p in after[0] if "password" in p.lower()]  # still protected, by no password
    assert all('sheet="1"' in p for p in after[0])
    assert after[1] is None  # no structure lock: sheets can be added, renamed, unhidden
    assert read_package(filled).sheets[META_SHEET].state == "hidden"
    assert read_package(saved).sheets[META_SHEET].state == "visible"
    (reading,) = read_workbook(saved)
    assert reading.outcome.proposed_mark == 15 and reading.outcome.final_mark == 14 and reading.outcome.complete


def test_e2docs_does_not_silently_validate_a_workbook_stripped_of_its_protection(gnumeric, tmp_path):
    _filled, saved = _complete_return(gnumeric, tmp_path)
    (reading,) = read_workbook(saved)
    assert not reading.ok or reading.warnings
    # accepted, with one French warning naming each thing lost and why the return still holds
    assert reading.ok and reading.outcome.final_mark == 14
    (warning,) = reading.warnings
    assert warning.kind is IssueKind.PROTECTION and warning.sheet is None and warning.cell is None
    for lost in (
        "mot de passe de protection des feuilles",
        "verrouillage de la structure",
        f"masquage de la feuille « {META_SHEET} »",
    ):
        assert lost in warning.message, warning.message
    assert "vérifié cellule par cellule" in warning.message and "signature d'e2docs est intacte" in warning.message
