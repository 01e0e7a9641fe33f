"""Generated workbooks in real LibreOffice: cached values on open, typing, protection, recalculation.

LibreOffice is the spreadsheet client here: it opens the file without
recalculating (so it must show correct cached values), a user's typing goes
through the dispatcher (which honours sheet protection), it recalculates with
the workbook's own formulas and saves as .xlsx. e2docs then reads that file and
must find the marks LibreOffice computed.
"""

from __future__ import annotations

import random

import pytest

from e2docs.formats.xlsx import names
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.model.scoring import evaluate
from tests.helpers import GRID, layout_of, make_workbook

pytestmark = pytest.mark.libreoffice

OUTPUTS = [names.PROPOSED_MARK, names.FINAL_MARK, names.STATUS] + [names.points(c.id) for c in GRID.criteria]


def _cells(layout, names):
    return [layout.named[n].ref for n in names]


def test_untouched_workbook_shows_correct_values_before_any_recalculation(lo, tmp_path):
    path = make_workbook(tmp_path)
    layout = layout_of()
    named = layout.named
    refs = _cells(layout, OUTPUTS) + [named["candidat_nom"].ref, named["candidat_numero"].ref]
    (opened, read, protected) = lo.run(
        [
            {"op": "open", "path": str(path)},
            {"op": "read", "sheet": "Grille E2", "cells": refs},
            {"op": "sheet_protected", "sheet": "Grille E2"},
        ]
    )
    cells = read["cells"]
    assert cells[named["etat_grille"].ref]["string"] == "9 critère(s) à renseigner, observations à rédiger"
    assert cells[named["note_proposee"].ref]["string"] == ""
    assert cells[named["note_finale"].ref]["string"] == ""
    assert cells[named["points_C1_1"].ref]["string"] == ""
    assert cells[named["candidat_nom"].ref]["string"] == "D'ALMEIDA"
    assert cells[named["candidat_numero"].ref]["string"] == "2709411047"
    assert protected["protected"] is True


def _random_filling(rng: random.Random, layout) -> tuple[list[list[str]], dict[str, int | None]]:
    """Entries to type (cell, text) on the grid sheet and the levels they mean."""
    named = layout.named
    entries, levels = [], {}
    for cr in GRID.criteria:
        choice = rng.choice([None, 1, 2, 3, 4, 4, 3, "two"])
        if choice == "two":
            a, b = rng.sample(range(1, 5), 2)
            for lvl in (a, b):
                entries.append([named[names.level(cr.id, lvl)].ref, "X"])
            levels[cr.id] = None
        elif choice:
            entries.append([named[names.level(cr.id, choice)].ref, rng.choice(["X", "x"])])
            levels[cr.id] = choice
        else:
            levels[cr.id] = None
    if rng.random() < 0.6:
        entries.append([named["observations"].ref, "Prospection menée avec méthode & rigueur."])
    if rng.random() < 0.3:
        entries.append([named["note_commission"].ref, rng.choice(["12,5", "14", "9,5"])])
    return entries, levels


@pytest.mark.parametrize("seed", [1, 2])
def test_marks_computed_by_libreoffice_equal_e2docs_marks(lo, tmp_path, seed):
    """Several random fillings typed in LibreOffice, recalculated, saved; e2docs agrees on every one."""
    rng = random.Random(seed)
    path = make_workbook(tmp_path)
    layout = layout_of()
    named = layout.named
    locked = named["candidat_nom"].ref
    steps, plans = [], []
    for k in range(6):
        entries, levels = _random_filling(rng, layout)
        out = tmp_path / f"rempli-{k}.xlsx"
        plans.append((out, entries, levels))
        steps += [
            {"op": "open", "path": str(path)},
            {"op": "type_many", "sheet": "Grille E2", "entries": entries},
            {"op": "recalc"},
            {"op": "read", "sheet": "Grille E2", "cells": _cells(layout, OUTPUTS)},
            {"op": "save", "path": str(out)},
            {"op": "close"},
        ]
    # one last document: a forced attempt to type over the candidate's name (a locked cell)
    steps += [
        {"op": "open", "path": str(path)},
        {"op": "type", "sheet": "Grille E2", "cell": locked, "text": "MARTIN", "force": True},
        {"op": "read", "sheet": "Grille E2", "cells": [locked]},
        {"op": "close"},
    ]
    results = lo.run(steps, timeout=400)

    for k, (out, _entries, levels) in enumerate(plans):
        typed, read = results[6 * k + 1], results[6 * k + 3]
        assert all(e["changed"] or e["before"] == e["after"] for e in typed["entries"]), typed
        lo_cells = read["cells"]
        (reading,) = read_workbook(out)
        assert not reading.modified, reading.modified
        assert not reading.warnings, reading.warnings  # LibreOffice's cached results == e2docs' results
        expected = evaluate(
            GRID, {cid: [("X" if lvl == k else None) for k in range(1, 5)] for cid, lvl in levels.items()}
        )
        assert reading.outcome.proposed_mark == expected.proposed_mark
        proposed = lo_cells[named["note_proposee"].ref]
        if expected.proposed_mark is None:
            assert proposed["string"] == ""
        else:
            assert proposed["value"] == pytest.approx(float(expected.proposed_mark))
        final = lo_cells[named["note_finale"].ref]
        if reading.outcome.final_mark is None:
            assert final["string"] == ""
        else:
            assert final["value"] == pytest.approx(float(reading.outcome.final_mark))
        assert lo_cells[named["etat_grille"].ref]["string"] == reading.outcome.status_text

    forced, after = results[-3], results[-2]
    assert forced["changed"] is False
    assert after["cells"][locked]["string"] == "D'ALMEIDA"


def test_values_typed_in_prospecting_sheet_are_read_back(lo, tmp_path):
    path = make_workbook(tmp_path)
    layout = layout_of()
    n = layout.named
    entries = [
        [n["prosp_debut"].ref, "01/03/2027"],
        [n["prosp_fin"].ref, "14/03/2027"],
        [n["prosp_obj_contacts"].ref, "80"],
        [n["prosp_res_contacts"].ref, "60"],
        [n["prosp_res_ventes"].ref, "6"],
        [n["prosp_moy_budget"].ref, "300"],
        [n["prosp_organisation"].ref, "Dupont & Fils <SARL>"],
        [n["prosp_tech_phoning"].ref, "X"],
    ]
    out = tmp_path / "prosp.xlsx"
    results = lo.run(
        [
            {"op": "open", "path": str(path)},
            {"op": "type_many", "sheet": "Opération de prospection", "entries": entries},
            {"op": "recalc"},
            {
                "op": "read",
                "sheet": "Opération de prospection",
                "cells": [n["prosp_duree"].ref, n["prosp_taux_contacts"].ref, n["prosp_cout_contact"].ref],
            },
            {"op": "save", "path": str(out)},
        ]
    )
    cells = results[3]["cells"]
    assert cells[n["prosp_duree"].ref]["value"] == 14
    assert cells[n["prosp_taux_contacts"].ref]["value"] == pytest.approx(0.75)
    # what a French teacher reads: percentages and euros, not values divided by 1,000
    assert cells[n["prosp_taux_contacts"].ref]["string"] == "75,0 %"
    assert cells[n["prosp_cout_contact"].ref]["string"].replace("\u00a0", " ") == "5,00 €"
    (reading,) = read_workbook(out)
    assert reading.ok and not reading.warnings, (reading.errors, reading.modified, reading.warnings)
    assert reading.values["prosp_organisation"] == "Dupont & Fils <SARL>"
    assert reading.outputs["prosp_duree"] == 14
    assert reading.outputs["prosp_cout_contact"] == 5


def test_number_formats_survive_a_french_save_opened_in_english(lo, tmp_path):
    """A grid filled on a French computer and opened on an English one must not show 18 000 € as
    18.00 € (LibreOffice once turned a bare space in a format into a thousands divider on save)."""
    from tests.lo.lo import LibreOffice

    path = make_workbook(tmp_path)
    n = layout_of().named
    saved = tmp_path / "fr.xlsx"
    lo.run(
        [
            {"op": "open", "path": str(path)},
            {
                "op": "type_many",
                "sheet": "Opération de prospection",
                "entries": [[n["prosp_obj_ca"].ref, "18000"], [n["prosp_res_ca"].ref, "16200"]],
            },
            {"op": "recalc"},
            {"op": "save", "path": str(saved)},
        ]
    )
    office = LibreOffice(tmp_path / "lo-en", locale="en-US")
    try:
        results = office.run(
            [
                {"op": "open", "path": str(saved)},
                {
                    "op": "read",
                    "sheet": "Opération de prospection",
                    "cells": [n["prosp_obj_ca"].ref, n["prosp_taux_ca"].ref],
                },
            ]
        )
    finally:
        office.cleanup()
    cells = results[1]["cells"]
    assert cells[n["prosp_obj_ca"].ref]["string"].replace("\u00a0", " ") == "18,000.00 €"
    assert cells[n["prosp_taux_ca"].ref]["string"] == "90.0 %"
