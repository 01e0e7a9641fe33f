"""Prove the LibreOffice harness (tests/lo/driver.py + lo.py) on small generated files."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from .lo import LibreOfficeError, pids_using

pytestmark = pytest.mark.libreoffice

SHEET = "Grille E2"


def no_process_left(profile) -> bool:
    found = subprocess.run(["pgrep", "-f", str(profile)], capture_output=True, text=True)
    left = found.returncode != 1 or pids_using(profile)
    shutil.rmtree(profile, ignore_errors=True)
    return not left


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    """Protected sheet: A1 unlocked (=1), B1 locked "fixe", C1 =A1*2 with a WRONG cached 99,
    D1 unlocked with a list validation "X" (error_type stop)."""
    path = tmp_path / "harness.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    unlocked = wb.add_format({"locked": False})
    ws.write("A1", 1, unlocked)
    ws.write("B1", "fixe")
    ws.write_formula("C1", "=A1*2", None, 99)
    ws.write_blank("D1", None, unlocked)
    ws.data_validation(
        "D1",
        {
            "validate": "list",
            "source": ["X"],
            "error_type": "stop",
            "error_title": "Saisie",
            "error_message": "X uniquement",
        },
    )
    ws.protect()
    wb.close()
    return path


def test_open_read_type_recalc_save(lo, workbook, tmp_path):
    out_xlsx = tmp_path / "out.xlsx"
    out_ods = tmp_path / "out.ods"
    res = lo.run(
        [
            {"op": "open", "path": str(workbook), "hidden": True},
            {"op": "read", "sheet": SHEET, "cells": ["A1", "B1", "C1", "D1"]},
            {"op": "sheet_protected", "sheet": SHEET},
            {"op": "autocalc", "enabled": False},  # keep C1's cached value while typing
            {"op": "type", "sheet": SHEET, "cell": "A1", "text": "5"},
            {"op": "type", "sheet": SHEET, "cell": "B1", "text": "zzz"},
            {"op": "read", "sheet": SHEET, "cells": ["A1", "B1", "C1"]},
            {"op": "recalc"},
            {"op": "read", "sheet": SHEET, "cells": ["C1"]},
            {"op": "save", "path": str(out_xlsx), "filter": "Calc MS Excel 2007 XML"},
            {"op": "save", "path": str(out_ods), "filter": "calc8"},
            {"op": "close"},
        ]
    )
    opened, before, protected, _, typed_a1, typed_b1, after, _, recalculated, saved, _, _ = res
    assert opened["kind"] == "calc"

    # (1) cached values are shown on load, nothing is recalculated
    c1 = before["cells"]["C1"]
    assert (c1["type"], c1["formula"], c1["value"], c1["formula_result_type"]) == ("FORMULA", "=A1*2", 99.0, "VALUE")
    assert (before["cells"]["A1"]["value"], before["cells"]["A1"]["locked"]) == (1.0, False)
    assert (before["cells"]["B1"]["string"], before["cells"]["B1"]["locked"]) == ("fixe", True)
    assert before["cells"]["D1"]["type"] == "EMPTY"
    assert protected["protected"] is True

    # (2) typing honours the protection
    assert typed_a1["changed"] and typed_a1["matches"] and typed_a1["refused"] is None
    assert typed_a1["after"]["value"] == 5.0
    assert not typed_b1["changed"] and not typed_b1["matches"]
    assert typed_b1["refused"] == "protected"
    assert after["cells"]["B1"]["string"] == "fixe"
    assert after["cells"]["C1"]["value"] == 99.0  # not recalculated yet

    # (3) recalculation
    assert recalculated["cells"]["C1"]["value"] == 10.0

    # (4) xlsx written by LibreOffice, read back with openpyxl
    assert saved["filter"] == "Calc MS Excel 2007 XML"
    ws = openpyxl.load_workbook(out_xlsx)[SHEET]
    assert ws["A1"].value == 5
    assert ws["B1"].value == "fixe"
    assert ws["C1"].value == "=A1*2"
    assert ws.protection.sheet
    cached = openpyxl.load_workbook(out_xlsx, data_only=True)[SHEET]
    assert cached["C1"].value == 10

    # (5) .ods
    with zipfile.ZipFile(out_ods) as z:
        assert z.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    res = lo.run(
        [
            {"op": "open", "path": str(out_ods)},
            {"op": "read", "sheet": SHEET, "cells": ["A1", "B1", "C1"]},
            {"op": "sheet_protected", "sheet": SHEET},
        ]
    )
    cells = res[1]["cells"]
    assert (cells["A1"]["value"], cells["B1"]["string"], cells["C1"]["value"]) == (5.0, "fixe", 10.0)
    assert res[2]["protected"] is True


def test_typing_recalculates_dependents_when_autocalc_is_on(lo, workbook):
    res = lo.run(
        [
            {"op": "open", "path": str(workbook)},
            {"op": "type_many", "sheet": SHEET, "entries": [["A1", "7"], ["B1", "zzz"], ["C1", "0"]]},
            {"op": "read", "sheet": SHEET, "cells": ["C1"]},
            {"op": "clear", "sheet": SHEET, "cell": "A1"},
            {"op": "clear", "sheet": SHEET, "cell": "B1"},
            {"op": "read", "sheet": SHEET, "cells": ["A1", "B1", "C1"]},
        ]
    )
    a1, b1, c1 = res[1]["entries"]
    assert a1["changed"] and not b1["changed"] and not c1["changed"]
    assert res[2]["cells"]["C1"]["value"] == 14.0
    assert res[3]["cleared"] and res[4]["refused"] == "protected" and not res[4]["cleared"]
    cells = res[5]["cells"]
    assert cells["A1"]["type"] == "EMPTY" and cells["B1"]["string"] == "fixe"
    assert cells["C1"]["value"] == 0.0


def test_libreoffice_itself_refuses_a_locked_cell(lo, workbook):
    """force=True skips the driver's protection pre-check: LibreOffice refuses the input and
    opens its (asynchronous, non-blocking) "Protected cells can not be modified." box."""
    res = lo.run(
        [
            {"op": "open", "path": str(workbook)},
            {"op": "type", "sheet": SHEET, "cell": "B1", "text": "zzz", "force": True},
            {"op": "read", "sheet": SHEET, "cells": ["B1"]},
        ]
    )
    typed = res[1]
    assert not typed["changed"] and typed["refused"] == "protected"
    assert typed["dialog"] and "protected" in typed["dialog"]["text"].lower()
    assert res[2]["cells"]["B1"]["string"] == "fixe"


def test_data_validation_dispatch_vs_keyboard(lo, workbook):
    """.uno:EnterString bypasses data validation (reported through "valid");
    real key events go through Calc's input handler, which rejects the value."""
    res = lo.run(
        [
            {"op": "open", "path": str(workbook), "hidden": False},
            {"op": "type", "sheet": SHEET, "cell": "D1", "text": "Y"},
            {"op": "invalid_cells", "sheet": SHEET},
            {"op": "clear", "sheet": SHEET, "cell": "D1"},
            {
                "op": "type_many",
                "sheet": SHEET,
                "via": "keyboard",
                "entries": [["D1", "Y"], ["D1", "X"], ["A1", "3"], ["B1", "zzz"]],
            },
            {"op": "invalid_cells", "sheet": SHEET},
            {"op": "read", "sheet": SHEET, "cells": ["A1", "C1"]},
        ]
    )
    dispatched = res[1]
    assert dispatched["changed"] and dispatched["matches"] and dispatched["valid"] is False
    assert dispatched["dialog"] is None
    assert res[2]["invalid"] == ["D1"]
    bad, good, number, locked = res[4]["entries"]
    assert not bad["changed"] and bad["refused"] == "rejected" and bad["after"]["type"] == "EMPTY"
    assert bad["dialog"] is None  # the validation error box is auto-cancelled in headless mode
    assert good["changed"] and good["valid"] is True
    assert number["after"]["value"] == 3.0
    assert locked["refused"] == "protected"
    assert res[5]["invalid"] == []
    assert res[6]["cells"]["C1"]["value"] == 6.0


def test_keyboard_needs_a_visible_document(lo, workbook):
    out = lo.run_raw(
        [
            {"op": "open", "path": str(workbook)},
            {"op": "type", "sheet": SHEET, "cell": "A1", "text": "2", "via": "keyboard"},
        ]
    )
    assert not out["ok"] and out["step"] == 1 and "hidden" in out["error"]


@pytest.fixture
def docx_file(tmp_path: Path) -> Path:
    import docx

    doc = docx.Document()
    doc.add_heading("Harnais LibreOffice", 0)
    for i in range(3):
        doc.add_paragraph(f"Page {i + 1}")
        doc.add_page_break()
    doc.add_paragraph("Dernière page")
    path = tmp_path / "doc.docx"
    doc.save(path)
    return path


def test_docx_pdf_and_page_count(lo, docx_file, tmp_path):
    pdf = lo.convert(docx_file, "pdf", tmp_path / "converted")
    assert pdf == tmp_path / "converted" / "doc.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")

    exported = tmp_path / "exported.pdf"
    res = lo.run(
        [
            {"op": "open", "path": str(docx_file)},
            {"op": "page_count"},
            {"op": "pdf", "path": str(exported)},
            {"op": "save", "path": str(tmp_path / "copy.docx")},
        ]
    )
    assert res[0]["kind"] == "writer"
    assert res[1]["pages"] == 4
    assert res[2]["filter"] == "writer_pdf_Export" and exported.read_bytes().startswith(b"%PDF")
    assert res[3]["filter"] == "MS Word 2007 XML"


def test_xlsx_to_pdf(lo, workbook, tmp_path):
    pdf = lo.convert(workbook, "pdf", tmp_path)
    assert pdf.name == "harness.pdf" and pdf.read_bytes().startswith(b"%PDF")


def test_no_soffice_left_and_errors_are_reported(lo, workbook, tmp_path):
    out = lo.run_raw([{"op": "open", "path": str(workbook)}], keep_profile=True)
    assert out["ok"] and lo.last_leftovers == []
    assert no_process_left(out["profile"])

    missing = tmp_path / "missing.xlsx"
    with pytest.raises(LibreOfficeError, match="file not found") as err:
        lo.run([{"op": "open", "path": str(workbook)}, {"op": "open", "path": str(missing)}], keep_profile=True)
    assert err.value.output["step"] == 1 and len(err.value.output["results"]) == 1
    assert lo.last_leftovers == [] and no_process_left(err.value.output["profile"])

    out = lo.run_raw([{"op": "nope"}])
    assert not out["ok"] and "unknown op" in out["error"]
    assert lo.last_leftovers == []
