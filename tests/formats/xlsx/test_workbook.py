"""Generated workbooks, read back: structure, protection, names, validation, results, tampering."""

from __future__ import annotations

import datetime as dt
import zipfile
from fractions import Fraction

import openpyxl
import pytest

from e2docs.formats.xlsx import integrity
from e2docs.formats.xlsx.layout import GRID_SHEET, META_SHEET, PROSPECT_SHEET
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.formats.xlsx.results import level_cells
from e2docs.formats.xlsx.writer import Options, password_hash, write_class_workbook
from e2docs.model.candidate import Candidate
from e2docs.model.errors import WorkbookError
from e2docs.model.scoring import evaluate
from tests.helpers import ALL_LEVEL_3, CANDIDATE, CTX, GRID, fill, layout_of, level_values, make_workbook


def test_fresh_workbook_reads_back_clean(tmp_path):
    path = make_workbook(tmp_path)
    (reading,) = read_workbook(path)
    assert reading.ok and not reading.warnings
    assert reading.candidate.number == "2709411047"
    assert reading.candidate.last_name == "D'ALMEIDA"
    assert reading.outcome.proposed_mark is None
    assert reading.outcome.status_text == "9 critère(s) à renseigner, observations à rédiger"


def test_sheets_protection_and_hidden_metadata(tmp_path):
    wb = openpyxl.load_workbook(make_workbook(tmp_path))
    assert wb.sheetnames == [GRID_SHEET, PROSPECT_SHEET, META_SHEET]
    assert all(wb[s].protection.sheet for s in wb.sheetnames)
    assert wb[META_SHEET].sheet_state == "hidden"
    assert wb.security.lockStructure
    assert wb.security.workbookPassword == password_hash("e2docs")
    assert wb[GRID_SHEET].protection.password == password_hash("e2docs")


def test_only_input_cells_are_unlocked(tmp_path):
    wb = openpyxl.load_workbook(make_workbook(tmp_path))
    layout = layout_of()
    for cell in layout.cells:
        locked = wb[cell.sheet][cell.ref].protection.locked
        assert locked == (cell.role != "input"), (cell.name, cell.ref)


def test_every_input_and_result_cell_has_its_defined_name(tmp_path):
    wb = openpyxl.load_workbook(make_workbook(tmp_path))
    layout = layout_of()
    for cell in layout.inputs + layout.outputs:
        (dest,) = list(wb.defined_names[cell.name].destinations)
        assert dest == (cell.sheet, "$" + "$".join(_split(cell.ref))), cell.name
    assert "niveau_C1_1_1" in wb.defined_names and "note_proposee" in wb.defined_names


def _split(ref: str) -> tuple[str, str]:
    col = "".join(ch for ch in ref if ch.isalpha())
    return col, ref[len(col) :]


def test_roster_text_stays_text(tmp_path):
    evil = Candidate("123", '=HYPERLINK("http://example.com","clic")', "https://example.com", "T1")
    path = make_workbook(tmp_path, evil)
    ws = openpyxl.load_workbook(path)[GRID_SHEET]
    named = layout_of(evil).named
    cell = ws[named["candidat_nom"].ref]
    assert cell.data_type == "s" and cell.value == evil.last_name
    assert ws[named["candidat_prenom"].ref].hyperlink is None
    (reading,) = read_workbook(path)
    assert reading.ok and reading.candidate.last_name == evil.last_name


def test_data_validation_on_inputs(tmp_path):
    ws = openpyxl.load_workbook(make_workbook(tmp_path))[GRID_SHEET]
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    named = layout_of().named
    level = rules[named["niveau_C2_1_3"].ref]
    assert level.type == "list" and level.formula1 == '"X"' and level.error == "Seule possibilité : X"
    mark = rules[named["note_commission"].ref]
    assert mark.type == "custom" and "MOD(" in mark.formula1


def test_fresh_cached_values_are_the_computed_ones(tmp_path):
    path = make_workbook(tmp_path)
    wb = openpyxl.load_workbook(path, data_only=True)
    named = layout_of().named
    status = named["etat_grille"]
    assert wb[status.sheet][status.ref].value == "9 critère(s) à renseigner, observations à rédiger"
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "</f><v>0</v>" not in sheet  # XlsxWriter's default cached 0 never left behind


def test_filled_by_openpyxl_gives_the_rule_marks(tmp_path):
    values = level_values(ALL_LEVEL_3) | {"observations": "Bon travail & belle prospection <SARL>."}
    path = fill(make_workbook(tmp_path), values)
    (reading,) = read_workbook(path)
    assert reading.ok, reading.errors + reading.modified
    # 0.75 × 20 = 15
    assert reading.outcome.proposed_mark == Fraction(15)
    assert reading.outcome.final_mark == Fraction(15)
    assert reading.outcome.complete and reading.outcome.status_text == "Grille complète"


def test_commission_mark_overrides_and_half_point_ceiling(tmp_path):
    levels = dict(ALL_LEVEL_3, **{"C3.1": 2})  # 15 - 2.5*0.25 = 14.375 → 14.5
    values = level_values(levels) | {"observations": "RAS", "note_commission": 16.5}
    (reading,) = read_workbook(fill(make_workbook(tmp_path), values))
    assert reading.outcome.proposed_mark == Fraction(29, 2)
    assert reading.outcome.final_mark == Fraction(33, 2)
    assert reading.outputs["note_proposee"] == 14.5


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("niveau_C1_1_2", "Très bien", "seule possibilité X"),
        ("note_commission", 21, "note de 0 à 20 par demi-point"),
        ("note_commission", 12.3, "note de 0 à 20 par demi-point"),
        ("prosp_obj_contacts", "beaucoup", "nombre entier positif ou nul"),
        ("prosp_moy_budget", -5, "montant positif ou nul"),
        ("prosp_debut", "hier", "date attendue"),
    ],
)
def test_invalid_inputs_are_listed_with_sheet_and_cell(tmp_path, name, value, expected):
    path = fill(make_workbook(tmp_path), {name: value})
    (reading,) = read_workbook(path)
    cell = layout_of().named[name]
    assert not reading.ok
    (issue,) = reading.errors
    assert (issue.sheet, issue.cell) == (cell.sheet, cell.ref)
    assert expected in issue.message


def test_two_levels_on_one_criterion_and_dates_out_of_order(tmp_path):
    values = {
        "niveau_C2_1_1": "X",
        "niveau_C2_1_4": "x",
        "prosp_debut": dt.datetime(2027, 3, 10),
        "prosp_fin": dt.datetime(2027, 3, 1),
    }
    (reading,) = read_workbook(fill(make_workbook(tmp_path), values))
    messages = [e.message for e in reading.errors]
    assert any("C2.1 : plusieurs niveaux cochés (1, 4)" in m for m in messages)
    assert any("date de fin (01/03/2027) antérieure à la date de début (10/03/2027)" in m for m in messages)
    assert reading.outcome.levels["C2.1"] is None
    assert reading.outputs["prosp_duree"] == ""


def test_prospecting_indicators(tmp_path):
    values = {
        "prosp_debut": dt.datetime(2027, 3, 1),
        "prosp_fin": dt.datetime(2027, 3, 14),
        "prosp_obj_contacts": 80,
        "prosp_res_contacts": 60,
        "prosp_res_ventes": 6,
        "prosp_moy_budget": 300,
    }
    (reading,) = read_workbook(fill(make_workbook(tmp_path), values))
    assert reading.ok
    out = reading.outputs
    assert out["prosp_duree"] == 14
    assert out["prosp_ecart_contacts"] == -20
    assert out["prosp_taux_contacts"] == 0.75
    assert out["prosp_taux_conversion"] == 0.1
    assert out["prosp_cout_contact"] == 5


def _edit(path, sheet, ref, value):
    wb = openpyxl.load_workbook(path)
    wb[sheet][ref] = value
    wb.save(path)


def test_formula_edit_is_reported_with_the_cell(tmp_path):
    path = make_workbook(tmp_path)
    cell = layout_of().named["points_C1_1"]
    _edit(path, cell.sheet, cell.ref, "=3")
    (reading,) = read_workbook(path)
    assert not reading.ok
    assert [(i.sheet, i.cell) for i in reading.modified] == [(cell.sheet, cell.ref)]
    assert "formule modifiée" in reading.modified[0].message


def test_identity_retyped_is_reported(tmp_path):
    path = make_workbook(tmp_path)
    cell = layout_of().named["candidat_nom"]
    _edit(path, cell.sheet, cell.ref, "MARTIN")
    (reading,) = read_workbook(path)
    (issue,) = reading.modified
    assert issue.cell == cell.ref and "identité du candidat modifiée" in issue.message and "MARTIN" in issue.message


def test_protection_removed_is_reported(tmp_path):
    path = make_workbook(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb[GRID_SHEET].protection.sheet = False
    wb.save(path)
    (reading,) = read_workbook(path)
    assert any("protection de la feuille retirée" in i.message and i.sheet == GRID_SHEET for i in reading.modified)


def test_rows_inserted_are_reported(tmp_path):
    path = make_workbook(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb[GRID_SHEET].insert_rows(20, 2)
    wb.save(path)
    (reading,) = read_workbook(path)
    assert not reading.ok and len(reading.modified) > 5


def test_forged_metadata_breaks_the_signature(tmp_path):
    path = make_workbook(tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb[META_SHEET]
    for row in ws.iter_rows():
        if row[0].value == "candidate_number":
            row[1].value = "9999999999"
    wb.save(path)
    (reading,) = read_workbook(path)
    assert not reading.signature_ok and not reading.ok
    assert "signature invalide" in reading.modified[0].message


def test_campaign_secret_is_needed_to_verify(tmp_path):
    path = make_workbook(tmp_path, options=Options(secret=b"campaign-secret"))
    (reading,) = read_workbook(path, secret=b"campaign-secret")
    assert reading.ok
    (other,) = read_workbook(path)
    assert not other.signature_ok


def test_class_workbook_has_a_recap_and_one_pair_of_sheets_per_candidate(tmp_path):
    cands = [
        CANDIDATE,
        Candidate("2709411050", "DUBOIS", "Marie-Ève", "TMCV2"),
        Candidate("2709411051", "DUBOIS", "Marie-Ève", "TMCV2"),
    ]
    path = tmp_path / "classe.xlsx"
    write_class_workbook(path, GRID, cands, CTX)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Récapitulatif"
    assert len(wb.sheetnames) == 1 + 2 * 3 + 1
    assert len(set(s.casefold() for s in wb.sheetnames)) == len(wb.sheetnames)
    assert all(len(s) <= 31 for s in wb.sheetnames)
    recap = wb["Récapitulatif"]
    assert recap["E5"].value.startswith("='D'ALMEIDA Inès – Grille'!") or "Grille'!" in recap["E5"].value
    readings = read_workbook(path)
    assert [r.candidate.number for r in readings] == [c.number for c in cands]
    assert all(r.ok for r in readings), [r.modified for r in readings]


def test_class_workbook_fill_reads_each_candidate(tmp_path):
    cands = [CANDIDATE, Candidate("2709411050", "DUBOIS", "Marie-Ève", "TMCV2")]
    path = tmp_path / "classe.xlsx"
    write_class_workbook(path, GRID, cands, CTX)
    readings = read_workbook(path)
    wb = openpyxl.load_workbook(path)
    second = readings[1].layout.named
    for name, value in level_values({c.id: 4 for c in GRID.criteria}).items():
        wb[second[name].sheet][second[name].ref] = value
    wb.save(path)
    first, then = read_workbook(path)
    assert first.outcome.proposed_mark is None and then.outcome.proposed_mark == 20


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"Nom;Prenom\n", "n'est pas un classeur .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "mot de passe"),
        (b"PK\x03\x04garbage", "endommagé ou tronqué"),
    ],
)
def test_unusable_files_get_a_french_message(tmp_path, content, expected):
    path = tmp_path / "retour.xlsx"
    path.write_bytes(content)
    with pytest.raises(WorkbookError) as err:
        read_workbook(path)
    assert expected in str(err.value) and "retour.xlsx" in str(err.value)


def test_zip_bomb_is_refused_before_parsing(tmp_path):
    path = tmp_path / "bombe.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            chunk = b"\0" * 2**20
            for _ in range(250):
                fh.write(chunk)
    with pytest.raises(WorkbookError) as err:
        read_workbook(path)
    assert "refusé" in str(err.value)


def test_not_an_e2docs_workbook(tmp_path):
    path = tmp_path / "autre.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "bonjour"
    wb.save(path)
    with pytest.raises(WorkbookError) as err:
        read_workbook(path)
    assert "n'a pas été généré par e2docs" in str(err.value)


def test_reader_results_match_the_rule_for_random_fillings(tmp_path):
    import random

    rng = random.Random(7)
    base = make_workbook(tmp_path)
    for k in range(5):
        levels = {c.id: rng.choice([None, 1, 2, 3, 4]) for c in GRID.criteria}
        out = fill(base, level_values(levels), tmp_path / f"f{k}.xlsx")
        (reading,) = read_workbook(out)
        expected = evaluate(GRID, level_cells(reading.layout, reading.values))
        assert reading.outcome.proposed_mark == expected.proposed_mark


def test_fingerprint_changes_with_identity():
    other = Candidate("2709411047", "DALMEIDA", "Inès", "TMCV2")
    assert integrity.fingerprint(layout_of()) != integrity.fingerprint(layout_of(other))


def test_inputs_are_found_through_their_names_when_rows_were_inserted(tmp_path):
    """LibreOffice and Excel move defined names with inserted rows: the marks still come from the X's."""
    from openpyxl.workbook.defined_name import DefinedName

    values = level_values(ALL_LEVEL_3) | {"observations": "RAS"}
    path = fill(make_workbook(tmp_path), values)
    wb = openpyxl.load_workbook(path)
    ws = wb[GRID_SHEET]
    ws.insert_rows(1, 2)
    for name in list(wb.defined_names):
        dn = wb.defined_names[name]
        sheet, ref = next(iter(dn.destinations))
        col = "".join(ch for ch in ref if ch.isalpha() or ch == "$")
        row = int("".join(ch for ch in ref if ch.isdigit()))
        shift = 2 if sheet == GRID_SHEET else 0
        wb.defined_names[name] = DefinedName(name, attr_text=f"'{sheet}'!{col}{row + shift}")
    wb.save(path)
    (reading,) = read_workbook(path)
    assert reading.modified  # still reported as changed outside the inputs
    assert reading.outcome.proposed_mark == Fraction(15)
