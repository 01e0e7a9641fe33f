"""Formula cells carry a cached result of the right type, read straight from the sheet XML.

An empty result is text (``t="str"``, empty ``<v/>``), a number is an untyped ``<v>``
holding the number: readers that do not recalculate (SheetJS, previews, openpyxl's
``data_only``) show the cached value, and SheetJS drops a formula whose ``<v>`` is an
empty number.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from lxml import etree

from e2docs.formats.xlsx import writer
from e2docs.formats.xlsx.results import compute_outputs
from e2docs.formats.xlsx.writer import write_class_workbook
from e2docs.model.candidate import Candidate
from tests.helpers import ALL_LEVEL_3, CANDIDATE, CTX, GRID, layout_of, level_values, make_workbook

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

Formulas = dict[tuple[str, str], tuple[str | None, str | None]]


def formula_cells(path: Path) -> Formulas:
    """(sheet title, cell reference) → (its ``t`` attribute, its ``<v>`` text, "" when empty,
    None when there is no ``<v>``) for every cell holding an ``<f>``."""
    out: Formulas = {}
    with zipfile.ZipFile(path) as zf:
        book = etree.fromstring(zf.read("xl/workbook.xml"))
        rels = etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{PKG_REL}Relationship")}
        for sheet in book.iter(f"{MAIN}sheet"):
            target = targets[sheet.get(f"{REL}id")]
            part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            for c in etree.fromstring(zf.read(part)).iter(f"{MAIN}c"):
                if c.find(f"{MAIN}f") is None:
                    continue
                v = c.find(f"{MAIN}v")
                out[(sheet.get("name"), c.get("r"))] = (c.get("t"), None if v is None else v.text or "")
    return out


def assert_typed_like(cells: Formulas, expected: dict[tuple[str, str], object]) -> None:
    """Each cell's cached value is the expected one, text as ``t="str"``, numbers untyped."""
    for where, value in expected.items():
        t, v = cells[where]
        assert v is not None, f"{where}: no cached value"
        if isinstance(value, str):
            assert (t, v) == ("str", value), where
        else:
            assert isinstance(value, (int, float)), where
            assert t is None and abs(float(v) - value) < 1e-9, (where, t, v, value)


def _expected(layout, values: dict[str, object]) -> dict[tuple[str, str], object]:
    outputs = compute_outputs(layout, values)
    return {(c.sheet, c.ref): outputs[c.key] for c in layout.outputs}


def test_fresh_workbook_stores_empty_results_as_text(tmp_path):
    cells = formula_cells(make_workbook(tmp_path))
    expected = _expected(layout_of(), {})
    assert set(cells) == set(expected) and len(cells) == 23  # every formula cell is an output, and none is missed
    assert sum(v == "" for v in expected.values()) == 22  # all but the status text are empty when nothing is typed
    assert_typed_like(cells, expected)


def test_number_results_are_stored_as_numbers(tmp_path, monkeypatch):
    """The writer stores whatever the rule computes: with inputs, numbers as numbers."""
    filled = level_values(ALL_LEVEL_3) | {
        "observations": "Bon travail.",
        "prosp_obj_contacts": 100,
        "prosp_res_contacts": 80,
        "prosp_moy_budget": 1250,
    }
    monkeypatch.setattr(writer, "compute_outputs", lambda layout, values: compute_outputs(layout, filled))
    cells = formula_cells(make_workbook(tmp_path))
    expected = _expected(layout_of(), filled)
    kinds = {type(v) for v in expected.values()}
    assert str in kinds and (int in kinds or float in kinds), kinds  # both kinds are exercised
    assert any(v == "" for v in expected.values())  # and empty indicators beside numbers
    assert_typed_like(cells, expected)


def test_class_workbook_formulas_have_typed_cached_values(tmp_path):
    cands = [CANDIDATE, Candidate("2709411050", "DUBOIS", "Marie-Ève", "TMCV2")]
    path = tmp_path / "classe.xlsx"
    write_class_workbook(path, GRID, cands, CTX)
    cells = formula_cells(path)
    assert len(cells) == 2 * 23 + 2 * 3  # each candidate's outputs, and three marks per candidate on the recap
    for where, (t, v) in cells.items():
        assert v is not None, where
        if t is None:  # an untyped cached value must be a number, never empty
            float(v)
        else:
            assert t == "str", where


def test_summary_statistics_without_any_mark_cache_typed_values(tmp_path):
    """``synthese.xlsx`` of a campaign with no return yet: averages of nothing are empty text, not empty numbers."""
    from e2docs.app.campaign import create_campaign
    from e2docs.app.export import export
    from e2docs.app.status import campaign_statuses
    from tests.helpers import PROJECT

    campaign, _ = create_campaign(tmp_path / "campagne", PROJECT / "samples" / "classe-demo.csv")
    out = export(campaign_statuses(campaign), campaign.grid(), tmp_path / "synthese.xlsx", "Synthèse")
    cells = formula_cells(out)
    assert cells, "the summary has statistics formulas"
    for where, (t, v) in cells.items():
        assert v is not None, where
        if t is None:
            float(v)
        else:
            assert t == "str", where
