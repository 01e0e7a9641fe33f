"""Returns made by real LibreOffice, collected into a campaign.

A teacher opens the campaign's workbook in LibreOffice, types levels and
observations (the dispatcher: the same path as a user's typing, which honours
sheet protection), and saves, as .xlsx or as .ods. ``collect`` must accept both
(the .ods through LibreOffice's conversion) with the marks the scoring rule
gives, and must still name the cell of a formula edited afterwards.

Numbers are typed without decimals and dates in ISO form so the entries mean the
same in any LibreOffice locale.
"""

from __future__ import annotations

import hashlib

import openpyxl
import pytest

from e2docs.formats.intake import libreoffice_available
from e2docs.formats.xlsx import names
from e2docs.model.scoring import evaluate
from tests.app.test_collect import Setup, new_campaign, number
from tests.helpers import GRID

pytestmark = pytest.mark.libreoffice

A, B = number(0), number(1)
PLANS = {
    A: {
        "levels": {"C1.1": 4, "C2.1": 3, "C2.2": 3, "C3.1": 2, "C3.2": 4, "C4.1": 3, "C4.2": 3, "C4.3": 1, "C4.4": 3},
        "commission": None,
        "observations": "Prospection menée avec méthode & rigueur.",
        "prospecting": {
            "prosp_debut": "2027-03-01",
            "prosp_fin": "2027-03-14",
            "prosp_obj_contacts": "80",
            "prosp_res_contacts": "60",
            "prosp_organisation": "Dupont & Fils <SARL>",
        },
    },
    B: {
        "levels": {"C1.1": 2, "C2.1": 2, "C2.2": 1, "C3.1": 3, "C3.2": 2, "C4.1": 2, "C4.2": 4, "C4.3": 2, "C4.4": 2},
        "commission": 14,
        "observations": "Des progrès à confirmer.",
        "prospecting": {"prosp_debut": "2027-02-01", "prosp_fin": "2027-02-03", "prosp_moy_budget": "300"},
    },
}


def _expected(plan):
    cells = {
        cid: ["X" if plan["levels"].get(cid) == lvl else None for lvl in range(1, 5)]
        for cid in (c.id for c in GRID.criteria)
    }
    return evaluate(GRID, cells, plan["commission"], plan["observations"])


def _steps(setup: Setup, num: str, plan: dict, out_xlsx, out_ods) -> list[dict]:
    named = setup.named(num)
    grid = [[named[names.level(cid, lvl)].ref, "X"] for cid, lvl in plan["levels"].items()]
    grid.append([named["observations"].ref, plan["observations"]])
    if plan["commission"] is not None:
        grid.append([named["note_commission"].ref, str(plan["commission"])])
    prosp = [[named[key].ref, text] for key, text in plan["prospecting"].items()]
    return [
        {"op": "open", "path": str(setup.sent(num))},
        {"op": "type_many", "sheet": "Grille E2", "entries": grid},
        {"op": "type_many", "sheet": "Opération de prospection", "entries": prosp},
        {"op": "recalc"},
        {"op": "read", "sheet": "Grille E2", "cells": [named["note_finale"].ref, named["etat_grille"].ref]},
        {"op": "save", "path": str(out_xlsx)},
        {"op": "save", "path": str(out_ods)},
        {"op": "close"},
    ]


@pytest.fixture(scope="module")
def typed(lo, tmp_path_factory):
    """A campaign and, for A and B, the returns LibreOffice saved as .xlsx and .ods."""
    if not libreoffice_available():
        pytest.skip("LibreOffice is needed to convert .ods returns")
    base = tmp_path_factory.mktemp("retours-libreoffice")
    setup = Setup(new_campaign(base, 3), base / "arrivees")
    saved, steps = {}, []
    for num, plan in PLANS.items():
        saved[num] = (setup.inbox / f"{num}.xlsx", setup.inbox / f"{num}.ods")
        steps += _steps(setup, num, plan, *saved[num])
    results = lo.run(steps, timeout=300)
    for k, num in enumerate(PLANS):
        typed_grid, typed_prosp = results[8 * k + 1], results[8 * k + 2]
        assert all(e["changed"] for e in typed_grid["entries"] + typed_prosp["entries"]), (typed_grid, typed_prosp)
        shown = results[8 * k + 4]["cells"]
        named = setup.named(num)
        assert shown[named["note_finale"].ref]["value"] == pytest.approx(float(_expected(PLANS[num]).final_mark))
        assert shown[named["etat_grille"].ref]["string"] == "Grille complète"
    return setup, saved


def _check_accepted(setup: Setup, num: str) -> None:
    expected = _expected(PLANS[num])
    status = setup.status()[num]
    assert status["state"] == "complete"
    assert status["proposed_mark"] == float(expected.proposed_mark)
    assert status["final_mark"] == float(expected.final_mark)
    row = setup.returns(num)[-1]
    assert row.levels == expected.levels and row.missing == []


def test_libreoffice_xlsx_and_ods_returns_are_accepted_with_the_rule_marks(typed):
    setup, saved = typed
    a_xlsx, a_ods = saved[A]
    b_xlsx, b_ods = saved[B]

    first = setup.collect(a_xlsx, b_ods)

    assert first.exit_code == 0, first.output
    assert "Bilan : 2 complet(s), 0 incomplet(s), 0 rejeté(s)" in first.output
    _check_accepted(setup, A)
    _check_accepted(setup, B)
    (a_row,) = setup.returns(A)
    assert a_row.warnings == []  # LibreOffice's cached results are e2docs' results
    (b_row,) = setup.returns(B)
    assert b_row.stored_path.endswith(".ods")  # the original .ods is archived, not the conversion
    assert b_row.warnings == [] and not b_row.modified  # protection, names and formulas survive the round trip
    stored = setup.root / b_row.stored_path
    assert stored.read_bytes() == b_ods.read_bytes()
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == b_row.sha256

    second = setup.collect(a_ods, b_xlsx)  # the other format of each: a later return, same marks

    assert second.exit_code == 0, second.output
    _check_accepted(setup, A)
    _check_accepted(setup, B)
    assert [r.original_name for r in setup.returns(A)] == [a_xlsx.name, a_ods.name]
    assert [r.original_name for r in setup.returns(B)] == [b_ods.name, b_xlsx.name]
    history = setup.run("status", "--history").output
    assert f"{a_xlsx.name} (complet)" in history and f"{a_ods.name} (complet)" in history


def test_formula_edited_in_a_libreoffice_return_is_reported_with_its_cell(typed):
    setup, saved = typed
    named = setup.named(A)
    points = named["points_C1_1"]
    wb = openpyxl.load_workbook(saved[A][0])
    wb[points.sheet][points.ref] = "=3"
    edited = setup.inbox / "A-modifie.xlsx"
    wb.save(edited)

    result = setup.collect(edited)

    assert result.exit_code == 1
    assert (
        "modifié hors des cellules de saisie — feuille « Grille E2 », "
        f"cellule {points.ref} : formule modifiée "
        "(attendu : =IF(AND(COUNTIF("
    ) in result.output
    assert "trouvé : =3)" in result.output
    row = setup.returns(A)[-1]
    assert row.state == "rejected" and row.modified
    assert sum("formule modifiée" in r for r in row.reasons) == 1, row.reasons
