"""Generated workbooks in ONLYOFFICE's real spreadsheet engine (Document Builder, tests/engines.py).

ONLYOFFICE opens the file without recalculating (so it must display the cached
values XlsxWriter wrote), types into the input cells through its API (which, like
a user, cannot change a locked cell of a protected sheet), recalculates with the
workbook's own formulas and saves as .xlsx. e2docs then reads that file: the
marks and completeness are the scoring rule's for what was typed, the values
ONLYOFFICE computed are e2docs' own, and nothing is reported modified.

What ONLYOFFICE changes in the files it saves, none of which e2docs reports:
sheet protection is kept (same password hash, every ``sheetProtection`` option
spelt out), the structure lock and the hidden metadata sheet too; the 68 data
validations and the conditional formats are moved into ``x14`` extensions
(openpyxl warns that it ignores them, hence the filter below: e2docs does not
read them). An unlicensed Document Builder tries to stamp a watermark on
saving; the protected sheets refuse it ("Cannot modify protected sheet" on its
output), so nothing is added -- checked below.
"""

from __future__ import annotations

import random
import re
import zipfile
from pathlib import Path

import pytest

from e2docs.formats.xlsx import names
from e2docs.formats.xlsx.layout import CandidateLayout, CellRole
from e2docs.formats.xlsx.reader import Reading, read_workbook
from e2docs.formats.xlsx.results import compute_outputs
from e2docs.formats.xlsx.writer import RECAP_SHEET, write_class_workbook
from e2docs.model.candidate import Candidate
from tests.engines import Filling, OnlyOffice, cached_mismatches, random_filling, same_shown
from tests.helpers import CANDIDATE, CTX, GRID, layout_of, make_workbook

pytestmark = [
    pytest.mark.onlyoffice,
    pytest.mark.filterwarnings("ignore:(Data Validation|Conditional Formatting) extension is not supported"),
]

GRID_SHEET = "Grille E2"
CLASS = [
    CANDIDATE,
    Candidate("2709411050", "DUBOIS", "Marie-Ève", "TMCV2"),
    Candidate("2709411051", "N'GUYEN", "Anh", "TMCV1"),
]


def _by_sheet(refs: list[tuple[str, str]]) -> list[dict[str, object]]:
    """Read steps, one per sheet, for (sheet, ref) pairs."""
    sheets: dict[str, list[str]] = {}
    for sheet, ref in refs:
        sheets.setdefault(sheet, []).append(ref)
    return [{"op": "read", "sheet": s, "cells": cells} for s, cells in sheets.items()]


def _read_steps(layout: CandidateLayout, identity: bool = False) -> list[dict[str, object]]:
    """Read steps for a candidate's formula cells (and identity cells)."""
    cells = [c for c in layout.cells if c.role is CellRole.OUTPUT or (identity and c.role is CellRole.IDENTITY)]
    return _by_sheet([(c.sheet, c.ref) for c in cells])


class Script:
    """Steps for one ONLYOFFICE run, added in groups whose positions are kept."""

    def __init__(self) -> None:
        self.steps: list[dict[str, object]] = []

    def add(self, *steps: dict[str, object]) -> range:
        """Append ``steps``; their positions (to find their results)."""
        start = len(self.steps)
        self.steps += steps
        return range(start, len(self.steps))

    def shown(self, results: list[dict], where: range) -> dict[tuple[str, str], dict[str, object]]:
        """(sheet, ref) → what ONLYOFFICE read ({"value", "text"}) in the read steps at ``where``."""
        return {
            (self.steps[i]["sheet"], ref): cell
            for i in where
            if self.steps[i]["op"] == "read"
            for ref, cell in results[i]["cells"].items()
        }


def _mismatches(layout: CandidateLayout, shown: dict, expected: dict[str, object]) -> list[str]:
    """Formula cells where ONLYOFFICE's value is not e2docs' ``expected`` (by defined name)."""
    return [
        f"{c.key} {c.sheet}!{c.ref}: ONLYOFFICE {shown[(c.sheet, c.ref)]} / e2docs {expected[c.key]!r}"
        for c in layout.outputs
        if not same_shown(shown[(c.sheet, c.ref)]["value"], expected[c.key])
    ]


# ------------------------------------------------------------ before any recalculation


def _with_cached(source: Path, target: Path, member: str, ref: str, cached: str) -> Path:
    """A copy of ``source`` whose formula cell ``ref`` (in part ``member``) has the cached number ``cached``."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == member:
                text, n = re.subn(  # a number: an untyped <v> (an empty result is cached as t="str")
                    rf'<c r="{ref}"([^>]*)>(\s*<f>.*?</f>\s*)<v>[^<]*</v>',
                    lambda m: (
                        '<c r="'
                        + ref
                        + '"'
                        + m.group(1).replace(' t="str"', "")
                        + ">"
                        + m.group(2)
                        + "<v>"
                        + cached
                        + "</v>"
                    ),
                    data.decode(),
                    count=1,
                )
                assert n == 1, f"{ref} has no cached result in {member}"
                data = text.encode()
            zout.writestr(item, data)
    return target


def test_untouched_workbooks_show_e2docs_values_before_any_recalculation(onlyoffice: OnlyOffice, tmp_path):
    """Single and class workbooks: every formula cell displays e2docs' result for empty inputs,
    the identity cells the candidate; a doctored cached result shows that ONLYOFFICE displays
    the stored values (it did not recalculate on open)."""
    single = make_workbook(tmp_path)
    classbook = tmp_path / "classe.xlsx"
    write_class_workbook(classbook, GRID, CLASS, CTX)
    assert layout_of().named[names.PROPOSED_MARK].ref == "I52"
    doctored = _with_cached(single, tmp_path / "doctored.xlsx", "xl/worksheets/sheet1.xml", "I52", "7")
    recap = [(RECAP_SHEET, f"{col}{5 + k}") for k in range(len(CLASS)) for col in "EFG"]

    script = Script()
    script.add({"op": "open", "path": str(single)})
    single_reads = script.add(*_read_steps(layout_of(), identity=True))
    script.add({"op": "close"}, {"op": "open", "path": str(classbook)})
    layouts = [r.layout for r in read_workbook(classbook)]
    class_reads = script.add(*[s for lay in layouts for s in _read_steps(lay, identity=True)], *_by_sheet(recap))
    script.add({"op": "close"}, {"op": "open", "path": str(doctored)})
    doctored_read = script.add({"op": "read", "sheet": GRID_SHEET, "cells": ["I52", "I54"]})
    script.add({"op": "close"})
    results = onlyoffice.run(script.steps)

    shown = [(layout_of(), script.shown(results, single_reads))]
    shown += [(lay, script.shown(results, class_reads)) for lay in layouts]
    for layout, cells in shown:
        assert not _mismatches(layout, cells, compute_outputs(layout, {}))
        status = layout.named[names.STATUS]
        assert cells[(status.sheet, status.ref)]["text"] == "9 critère(s) à renseigner, observations à rédiger"
        for c in layout.cells:
            if c.role is CellRole.IDENTITY and isinstance(c.value, str):
                assert cells[(c.sheet, c.ref)]["value"] == c.value, (c.name, cells[(c.sheet, c.ref)])
    recap_cells = script.shown(results, class_reads)
    for k in range(len(CLASS)):
        assert [recap_cells[(RECAP_SHEET, f"{col}{5 + k}")]["value"] for col in "EFG"] == [
            "",
            "",
            "9 critère(s) à renseigner, observations à rédiger",
        ]
    doctored_cells = script.shown(results, doctored_read)
    # the stored 7, not the "" a recalculation gives; the final mark, not doctored, still shows its stored ""
    assert doctored_cells[(GRID_SHEET, "I52")]["value"] == 7
    assert doctored_cells[(GRID_SHEET, "I54")]["value"] == ""


# ------------------------------------------------------------ typing, recalculating, saving


def _typing(layout: CandidateLayout, filling: Filling) -> list[dict[str, object]]:
    """Type ``filling`` over whatever the grid holds: every cell it covers, "" empties one."""
    named = layout.named
    entries = [[named[k].ref, "" if v is None else v] for k, v in filling.values.items()]
    return [{"op": "type", "sheet": layout.sheets[0].title, "entries": entries}]


def _check_reading(reading: Reading, filling: Filling, shown: dict) -> None:
    """e2docs' reading of ONLYOFFICE's file: the rule's marks and completeness, ONLYOFFICE's
    values, nothing modified, inputs rejected exactly when the filling is invalid."""
    filling.assert_read_as_the_rule(reading, GRID)
    assert not reading.modified, reading.modified
    assert not reading.warnings, reading.warnings  # ONLYOFFICE's cached results == e2docs' results
    assert bool(reading.errors) is not filling.valid, (reading.errors, filling)
    assert not _mismatches(reading.layout, shown, reading.outputs)
    assert not cached_mismatches(reading.path, reading)  # the results ONLYOFFICE stored in the file


def _saved_parts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_fillings_typed_in_onlyoffice_agree_with_the_rule(onlyoffice: OnlyOffice, tmp_path, seed):
    """Ten random fillings per seed (30 in all) typed one over the other in a single-candidate
    workbook, as a teacher correcting a grid would; after each: recalculate, read, save."""
    rng = random.Random(seed)
    path = make_workbook(tmp_path)
    layout = layout_of()
    fillings = [random_filling(rng, GRID) for _ in range(10)]
    script = Script()
    script.add({"op": "open", "path": str(path)})
    typing, reads = [], []
    for k, filling in enumerate(fillings):
        typing.append(script.add(*_typing(layout, filling)))
        script.add({"op": "recalc"})
        reads.append(script.add(*_read_steps(layout)))
        script.add({"op": "save", "path": str(tmp_path / f"rempli-{k}.xlsx")})
    script.add({"op": "close"})
    results = onlyoffice.run(script.steps)

    for k, filling in enumerate(fillings):
        typed = [e for i in typing[k] for e in results[i]["entries"]]
        assert all(e["accepted"] for e in typed), typed  # every input cell is unlocked
        saved = tmp_path / f"rempli-{k}.xlsx"
        (reading,) = read_workbook(saved)
        _check_reading(reading, filling, script.shown(results, reads[k]))
        assert not [p for p in _saved_parts(saved) if p.startswith("xl/drawings/")]  # no watermark got in


def test_class_workbook_filled_in_onlyoffice(onlyoffice: OnlyOffice, tmp_path):
    """A class workbook: each candidate's grid gets its own random filling, twice; the recap
    sheet follows; e2docs reads every candidate as the rule says. A locked cell refuses typing."""
    rng = random.Random(7)
    path = tmp_path / "classe.xlsx"
    write_class_workbook(path, GRID, CLASS, CTX)
    layouts = [r.layout for r in read_workbook(path)]
    rounds = [[random_filling(rng, GRID) for _ in layouts] for _ in range(2)]
    recap = [(RECAP_SHEET, f"{col}{5 + k}") for k in range(len(layouts)) for col in "EFG"]
    locked = layouts[1].named["candidat_nom"]
    script = Script()
    script.add({"op": "open", "path": str(path)})
    typing, reads = [], []
    for r, fillings in enumerate(rounds):
        typing.append(script.add(*[s for lay, f in zip(layouts, fillings, strict=True) for s in _typing(lay, f)]))
        script.add({"op": "recalc"})
        reads.append(script.add(*[s for lay in layouts for s in _read_steps(lay)], *_by_sheet(recap)))
        script.add({"op": "save", "path": str(tmp_path / f"classe-{r}.xlsx")})
    forced = script.add({"op": "type", "sheet": locked.sheet, "entries": [[locked.ref, "MARTIN"]]})
    after = script.add({"op": "read", "sheet": locked.sheet, "cells": [locked.ref]})
    script.add({"op": "close"})
    results = onlyoffice.run(script.steps)

    for r, fillings in enumerate(rounds):
        assert all(e["accepted"] for i in typing[r] for e in results[i]["entries"])
        shown = script.shown(results, reads[r])
        readings = read_workbook(tmp_path / f"classe-{r}.xlsx")
        assert [x.candidate.number for x in readings] == [c.number for c in CLASS]
        for k, (reading, filling) in enumerate(zip(readings, fillings, strict=True)):
            _check_reading(reading, filling, shown)
            row = [shown[(RECAP_SHEET, f"{col}{5 + k}")]["value"] for col in "EFG"]
            wanted = [reading.outputs[n] for n in (names.PROPOSED_MARK, names.FINAL_MARK, names.STATUS)]
            assert all(same_shown(a, b) for a, b in zip(row, wanted, strict=True)), (row, wanted)
    assert results[forced[0]]["entries"][0]["accepted"] is False
    assert results[after[0]]["cells"][locked.ref]["value"] == "DUBOIS"
