"""Layout versions: workbooks already sent (layout 1) read as before, new ones (layout 2) are
readable on paper and say how to fill them in.

The reader rebuilds the layout a workbook names in its signed metadata; version 1 must come back
cell for cell (its fingerprint is pinned here, as e2docs 0.1 computed it).
"""

from __future__ import annotations

import openpyxl
import pytest
from xlsxwriter.utility import xl_cell_to_rowcol

from e2docs.formats.xlsx import integrity, names
from e2docs.formats.xlsx.layout import LAYOUT_VERSION, TEXT_LIMITS, CellKind, CellRole, build_layout
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.formats.xlsx.styles import CONDITIONAL, INPUT_BG
from e2docs.formats.xlsx.writer import Options, write_class_workbook
from e2docs.model.candidate import Candidate
from tests.helpers import CANDIDATE, CTX, GRID, make_workbook

# The fingerprints e2docs 0.1 signed for tests.helpers' candidate (single workbook, class workbook).
V1_FINGERPRINT = "4fc4acdd1e0392f7c552b8047b7f6673e1f4f968b8f459bc99414217e75dd971"
V1_CLASS_FINGERPRINT = "18249018c90a75d5d69fdac5284f59971b3469ce5f44eef31d3c502ade6979e9"


def test_version_1_is_rebuilt_cell_for_cell():
    assert integrity.fingerprint(build_layout(GRID, CANDIDATE, CTX, version="1")) == V1_FINGERPRINT
    local = build_layout(
        GRID, CANDIDATE, CTX, grid_title="X – Grille", prospect_title="X – Prosp.", local_names=True, version="1"
    )
    assert integrity.fingerprint(local) == V1_CLASS_FINGERPRINT


def test_new_workbooks_are_version_2_with_the_same_names():
    v1, v2 = (build_layout(GRID, CANDIDATE, CTX, version=v) for v in ("1", "2"))
    assert LAYOUT_VERSION == "2" and v2.version == "2"
    assert integrity.fingerprint(v2) != V1_FINGERPRINT
    assert set(v1.named) == set(v2.named)
    assert [(c.name, c.kind) for c in v1.inputs] == [(c.name, c.kind) for c in v2.inputs]
    with pytest.raises(ValueError):
        build_layout(GRID, CANDIDATE, CTX, version="9")


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_workbook_of_either_version_reads_clean(tmp_path, version):
    path = make_workbook(tmp_path, options=Options(layout_version=version))
    (reading,) = read_workbook(path)
    assert reading.meta["layout_version"] == version
    assert reading.ok and reading.modified == [] and reading.errors == [] and reading.warnings == []
    # a teacher's entries are found where that version put them
    named = reading.layout.named
    wb = openpyxl.load_workbook(path)
    for cr in GRID.criteria:
        cell = named[names.level(cr.id, 3)]
        wb[cell.sheet][cell.ref] = "X"
    obs = named[names.OBSERVATIONS]
    wb[obs.sheet][obs.ref] = "Bon travail."
    wb.save(path)
    (filled,) = read_workbook(path, check_cache=False)
    assert filled.ok and filled.outcome.complete and filled.outcome.proposed_mark == 15


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_class_workbook_of_either_version_reads_clean(tmp_path, version):
    other = Candidate("2709411050", "DUBOIS", "Marie-Ève", "TMCV2")
    written = write_class_workbook(
        tmp_path / "classe.xlsx", GRID, [CANDIDATE, other], CTX, Options(layout_version=version)
    )
    readings = read_workbook(written.path)
    assert [r.meta["layout_version"] for r in readings] == [version, version]
    assert all(r.ok and not r.warnings for r in readings)


def _merged_rows(sheet):
    for c in sheet.cells:
        if c.merge:
            first, last = (xl_cell_to_rowcol(ref)[0] for ref in c.merge.split(":"))
            yield first, last


def test_pages_never_end_inside_a_criterion_or_a_merged_cell():
    layout = build_layout(GRID, CANDIDATE, CTX)
    grid_sheet, prospect = layout.sheets
    for sheet in layout.sheets:
        assert not sheet.fit_width and sheet.breaks
        for brk in sheet.breaks:
            assert all(not first < brk <= last for first, last in _merged_rows(sheet)), (sheet.title, brk)
    # the grid's pages end between méta-compétences: each break is the first row of one
    starts = {xl_cell_to_rowcol(c.ref)[0] for c in grid_sheet.cells if c.style == "meta"}
    assert set(grid_sheet.breaks) <= starts
    # a criterion's rows are never split (its merged level cells span them)
    assert len(grid_sheet.breaks) == 2 and len(prospect.breaks) == 2


def _validations(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    return {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}


def test_help_texts_say_both_programs_and_text_inputs_their_limit(tmp_path):
    path = make_workbook(tmp_path)
    layout = build_layout(GRID, CANDIDATE, CTX)
    messages = []
    for sheet in layout.sheets:
        rules = _validations(path, sheet.title)
        for cell in sheet.cells:
            if cell.role is not CellRole.INPUT:
                continue
            rule = rules[cell.ref]
            messages.append(rule.prompt or "")
            if cell.kind in (CellKind.TEXT, CellKind.LONGTEXT):
                assert cell.limit in TEXT_LIMITS.values()
                assert int(rule.formula1) == cell.limit
                shown = f"{cell.limit:,}".replace(",", "\u00a0")
                assert f"{shown} caractères au plus" in rule.prompt
                assert f"{shown} caractères au plus" in rule.error
            if cell.kind is CellKind.LONGTEXT:
                assert "Alt+Entrée dans Excel, Ctrl+Entrée dans LibreOffice" in rule.prompt
    assert all(len(m) <= 255 for m in messages)  # Excel's limit for an input message
    for message in messages:  # a shortcut is never given for one program only
        assert ("Alt+Entrée" in message) == ("Ctrl+Entrée dans LibreOffice" in message)
    causes = layout.named[names.prospecting("causes_ecarts")]
    assert causes.limit == 1500


def _fill_of(ws, ref):
    return ws[ref].fill.fgColor.rgb[-6:].upper()


def test_the_instruction_block_says_what_to_type_and_shows_the_real_colours(tmp_path):
    path = make_workbook(tmp_path)
    layout = build_layout(GRID, CANDIDATE, CTX)
    grid_sheet = layout.sheets[0]
    wb = openpyxl.load_workbook(path)
    ws = wb[grid_sheet.title]
    texts = " ".join(str(c.value) for c in grid_sheet.cells if c.role is CellRole.LABEL)
    assert "Comment remplir cette grille" in texts
    assert "tapez X dans une seule colonne de niveau" in texts
    assert "renvoyez ce fichier .xlsx (pas un PDF ni une photo)" in texts
    # the instructions come before the candidate block, on the first screen
    first_input = min(xl_cell_to_rowcol(c.ref)[0] for c in layout.inputs if c.sheet == grid_sheet.title)
    swatches = {c.style: c for c in grid_sheet.cells if c.style.startswith("swatch_")}
    assert all(xl_cell_to_rowcol(c.ref)[0] < first_input for c in swatches.values())
    # each colour named is the one the workbook really shows
    level = layout.named[names.level(GRID.criteria[0].id, 1)]
    assert _fill_of(ws, swatches["swatch_input"].ref) == _fill_of(ws, level.ref) == INPUT_BG[1:].upper()
    assert swatches["swatch_input"].value.startswith("Vert")
    dxf_fills = {
        rule.dxf.fill.bgColor.rgb[-6:].upper()
        for rng in ws.conditional_formatting
        for rule in rng.rules
        if level.ref in str(rng.sqref)
    }
    assert dxf_fills == {CONDITIONAL["missing"]["bg_color"][1:], CONDITIONAL["conflict"]["bg_color"][1:]}
    assert _fill_of(ws, swatches["swatch_missing"].ref) == CONDITIONAL["missing"]["bg_color"][1:]
    assert swatches["swatch_missing"].value.startswith("Orange")
    assert _fill_of(ws, swatches["swatch_conflict"].ref) == CONDITIONAL["conflict"]["bg_color"][1:]
    assert swatches["swatch_conflict"].value.startswith("Rouge")
    # the prospecting sheet names the same colour
    prospect_texts = " ".join(str(c.value) for c in layout.sheets[1].cells if c.role is CellRole.LABEL)
    assert "seules les cellules vertes sont modifiables" in prospect_texts
    assert "cellules claires" not in texts + prospect_texts
