"""The model's Evaluation: built by hand for a document, and converted from a returned workbook."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from docx import Document

from e2docs.formats.xlsx.evaluation import evaluation_of
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.model import prospecting
from e2docs.model.candidate import Candidate, Context
from e2docs.model.evaluation import Commission, Evaluation
from e2docs.reports import candidate_context, render_candidate_documents
from tests.helpers import ALL_LEVEL_3, CANDIDATE, CTX, GRID, fill, level_values, make_workbook


def _by_hand(**kw: object) -> Evaluation:
    args: dict = {
        "candidate": Candidate("0123", "LE GALL", "Maëlle", "TMCV1", dt.date(2008, 11, 2)),
        "context": Context("2028", "LP Test & Co", "Amiens"),
        "grid": GRID,
        "levels": dict(ALL_LEVEL_3, **{"C4.4": 1}),
        "commission": Commission("M. Prof", "Professeur", "Mme Pro", "Gérante", dt.date(2028, 2, 1)),
        "observed": frozenset({"1.2"}),
        "observations": "Bien.",
        "prospecting": {"organisation": "Boulangerie <Dupain>", "tech_sms": "X", "obj_ventes": 8, "res_ventes": 6},
    }
    args.update(kw)
    return Evaluation(**args)


def test_document_from_an_evaluation_built_by_hand(tmp_path):
    e = _by_hand()
    assert e.levels["C4.4"] == 1 and list(e.levels) == [c.id for c in GRID.criteria]
    assert e.outcome.complete and e.outcome.final_mark == e.outcome.proposed_mark
    c = candidate_context(e)
    assert c["academie_libelle"] == "Académie d'Amiens" and c["commission"]["date"] == "01/02/2028"
    assert [x["observee"] for x in c["metas"][0]["competences"][:2]] == [False, True]
    assert c["prospection"]["techniques"] == ["SMS"] and c["prospection"]["tableau"][2]["taux"] == "75,0\u00a0%"
    sheet, summary = render_candidate_documents(e, tmp_path, "main")
    text = "\n".join(cell.text for t in Document(sheet).tables for r in t.rows for cell in r.cells)
    assert "LE GALL" in text and "M. Prof" in text and "Bien." in text
    assert "Boulangerie <Dupain>" in "\n".join(
        cell.text for t in Document(summary).tables for r in t.rows for cell in r.cells
    )


def test_commission_mark_and_missing_levels_give_the_rule_outcome():
    e = _by_hand(levels={"C1.1": 2}, commission_mark=12.5, observations="")
    assert e.levels["C1.1"] == 2 and e.levels["C2.1"] is None
    assert e.outcome.proposed_mark is None and e.outcome.final_mark == Fraction(25, 2)
    assert e.outcome.status_text == "8 critère(s) à renseigner, observations à rédiger"
    assert candidate_context(e)["note_commission"] == "12,5"


@pytest.mark.parametrize("levels", [{"C9.9": 1}, {"C1.1": 5}, {"C1.1": 0}])
def test_unknown_criterion_or_level_is_refused(levels):
    with pytest.raises(ValueError):
        _by_hand(levels=levels)


def test_conversion_of_a_filled_workbook(tmp_path):
    values = level_values(dict(ALL_LEVEL_3, **{"C2.1": 4, "C4.4": None}))
    values.update(
        {
            "niveau_C1_1_4": "x",  # two levels ticked: no single level
            "reperage_1_1": "X",
            "reperage_3_4": "x",
            "commission_prof_nom": "Mme Lefèvre",
            "commission_prof_fonction": "Professeure",
            "commission_pro_nom": "M. Núñez",
            "commission_pro_fonction": "Directeur",
            "commission_date": dt.datetime(2027, 3, 12),
            "note_commission": 14.5,
            "observations": "Ligne 1\nLigne 2",
            "prosp_organisation": "Dupont & Fils",
            "prosp_debut": dt.datetime(2027, 1, 5),
            "prosp_obj_contacts": 100,
            "prosp_res_ca": 5250.5,
            "prosp_tech_phoning": "X",
        }
    )
    (reading,) = read_workbook(fill(make_workbook(tmp_path), values))
    e = evaluation_of(reading)
    assert e.candidate == CANDIDATE and e.context == CTX and e.grid == GRID
    assert e.levels == dict(ALL_LEVEL_3, **{"C1.1": None, "C2.1": 4, "C4.4": None})
    assert e.observed == {"1.1", "3.4"}
    assert e.commission == Commission("Mme Lefèvre", "Professeure", "M. Núñez", "Directeur", dt.date(2027, 3, 12))
    assert e.commission_mark == 14.5 and e.observations == "Ligne 1\nLigne 2"
    assert set(e.prospecting) == {f.key for f in prospecting.FIELDS}
    assert e.prospecting["organisation"] == "Dupont & Fils" and e.prospecting["debut"] == dt.date(2027, 1, 5)
    assert e.prospecting["obj_contacts"] == 100 and e.prospecting["res_ca"] == 5250.5
    assert e.prospecting["tech_phoning"] == "X" and e.prospecting["fin"] is None
    assert e.outcome == reading.outcome  # the rule gives the same result from the model as from the cells
    assert e.outcome.final_mark == Fraction(29, 2) and not e.outcome.complete


def test_conversion_of_an_empty_workbook(tmp_path):
    (reading,) = read_workbook(make_workbook(tmp_path))
    e = evaluation_of(reading)
    assert set(e.levels.values()) == {None} and e.observed == frozenset()
    assert e.commission == Commission() and e.commission_mark is None and e.observations == ""
    assert set(e.prospecting.values()) == {None}
    assert e.outcome == reading.outcome
