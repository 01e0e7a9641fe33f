"""``synthese.xlsx`` laid out so that nothing is hidden or cut: charts beside no data, print setup,
headers wrapped, counts as whole numbers, charts in French and readable in black and white."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path, PurePosixPath

import openpyxl
import pytest
from lxml import etree

from e2docs.formats.gridfile import load_grid
from e2docs.model.distribution import distribution
from e2docs.reports import convert_to_pdf
from tests.app.test_collect import COMPLETE, INCOMPLETE, Setup, new_campaign, number
from tests.helpers import level_values
from tests.lo.lo import pdf_pages, require_tools

NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
LOW = {f"C{m}": 1 for m in ("1.1", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "4.3", "4.4")}


@pytest.fixture(scope="module")
def synthese(tmp_path_factory) -> tuple[Setup, Path]:
    """Seven candidates: final marks 15, 12.5, 12.5, 5 (every level 1), 15 (incomplete: no
    observations), two who sent nothing."""
    base = tmp_path_factory.mktemp("synthese-graphiques")
    setup = Setup(new_campaign(base, 7), base / "arrivees")
    a, b, c, d, e = (number(i) for i in range(5))
    paths = [
        setup.make(a, "a.xlsx"),
        *(setup.make(n, f"{n}.xlsx", COMPLETE | {"note_commission": 12.5}) for n in (b, c)),
        setup.make(d, "d.xlsx", level_values(LOW) | {"observations": COMPLETE["observations"]}),
        setup.make(e, "e.xlsx", INCOMPLETE),
    ]
    assert setup.collect(*paths).exit_code == 0
    out = setup.root / "synthese.xlsx"
    result = setup.run("export", "-o", str(out))
    assert result.exit_code == 0, result.output
    return setup, out


def _xml(z: zipfile.ZipFile, name: str) -> etree._Element:
    return etree.fromstring(z.read(name))


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship id → target part name, for ``part``."""
    p = PurePosixPath(part)
    rels = p.parent / "_rels" / (p.name + ".rels")
    if str(rels) not in z.namelist():
        return {}
    out = {}
    for r in _xml(z, str(rels)).iter(REL):
        target = PurePosixPath(p.parent, r.get("Target"))
        parts: list[str] = []
        for piece in target.parts:
            if piece == "..":
                parts.pop()
            else:
                parts.append(piece)
        out[r.get("Id")] = "/".join(parts)
    return out


def _sheets(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → worksheet part."""
    book = _xml(z, "xl/workbook.xml")
    rels = _rels(z, "xl/workbook.xml")
    return {s.get("name"): rels[s.get(f"{{{NS['r']}}}id")] for s in book.iterfind(".//main:sheet", NS)}


def _anchors(z: zipfile.ZipFile, sheet_part: str) -> list[tuple[int, int, int, int]]:
    """(first col, first row, last col, last row), 0-based, of each chart anchored on the sheet."""
    out = []
    for drawing_id in [d.get(f"{{{NS['r']}}}id") for d in _xml(z, sheet_part).iterfind(".//main:drawing", NS)]:
        drawing = _xml(z, _rels(z, sheet_part)[drawing_id])
        assert drawing.findall("xdr:oneCellAnchor", NS) == drawing.findall("xdr:absoluteAnchor", NS) == []
        for anchor in drawing.iterfind("xdr:twoCellAnchor", NS):
            assert anchor.find(".//c:chart", NS) is not None
            fr, to = anchor.find("xdr:from", NS), anchor.find("xdr:to", NS)
            out.append(
                (
                    int(fr.findtext("xdr:col", namespaces=NS)),
                    int(fr.findtext("xdr:row", namespaces=NS)),
                    int(to.findtext("xdr:col", namespaces=NS)),
                    int(to.findtext("xdr:row", namespaces=NS)),
                )
            )
    return out


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def test_charts_cover_neither_each_other_nor_any_cell_with_data(synthese):
    _, out = synthese
    wb = openpyxl.load_workbook(out)
    with zipfile.ZipFile(out) as z:
        sheets = _sheets(z)
        assert list(sheets) == ["Synthèse", "Graphiques"]
        anchors = {name: _anchors(z, part) for name, part in sheets.items()}
    assert anchors["Synthèse"] == []  # the table is left whole
    charts = anchors["Graphiques"]
    assert len(charts) == 2 and not _overlap(*charts)
    ws = wb["Graphiques"]
    filled = [(c.column - 1, c.row - 1) for row in ws.iter_rows() for c in row if c.value is not None]
    assert len(filled) > 2 * 11
    for box in charts:
        covered = [cell for cell in filled if _overlap(box, (*cell, *cell))]
        assert covered == [], box
    # each chart sits right below its own table: marks under columns A–B, levels under the criteria
    marks_box, levels_box = sorted(charts)
    assert marks_box[0] == 0 and ws.cell(1, 1).value == "Tranche de notes"
    assert ws.cell(1, levels_box[0] + 1).value == "Critère"


def test_print_setup_keeps_everything_whole_on_a4(synthese):
    _, out = synthese
    with zipfile.ZipFile(out) as z:
        sheets = _sheets(z)
        table, charts = _xml(z, sheets["Synthèse"]), _xml(z, sheets["Graphiques"])
        book = _xml(z, "xl/workbook.xml")
    for ws in (table, charts):
        setup = ws.find("main:pageSetup", NS)
        assert setup.get("paperSize") == "9" and setup.get("orientation") == "landscape"
        assert ws.find("main:sheetPr/main:pageSetUpPr", NS).get("fitToPage") == "1"
    assert table.find("main:pageSetup", NS).get("fitToHeight") == "0"  # one page wide, as long as needed
    assert charts.find("main:pageSetup", NS).get("fitToHeight") is None  # 1 (the default): one page
    assert charts.find("main:pageSetup", NS).get("fitToWidth") is None
    assert charts.find("main:rowBreaks", NS) is None  # nothing cuts a chart
    names = [(d.get("name"), d.text) for d in book.iterfind(".//main:definedName", NS)]
    assert ("_xlnm.Print_Titles", "Synthèse!$3:$3") in names
    # the charts sheet's print area holds both charts whole
    area = next(t for n, t in names if n == "_xlnm.Print_Area" and t.startswith("Graphiques"))
    m = re.fullmatch(r"Graphiques!\$A\$1:\$([A-Z]+)\$(\d+)", area)
    assert m is not None
    last_col = openpyxl.utils.column_index_from_string(m.group(1)) - 1
    with zipfile.ZipFile(out) as z:
        boxes = _anchors(z, _sheets(z)["Graphiques"])
    assert all(box[2] <= last_col and box[3] < int(m.group(2)) for box in boxes)


def test_headers_wrap_and_columns_fit_their_content(synthese):
    _, out = synthese
    ws = openpyxl.load_workbook(out, data_only=True)["Synthèse"]  # cached values, as shown
    head = list(ws[3])
    assert all(c.alignment.wrap_text for c in head)
    for c in head:
        letter = c.column_letter
        width = ws.column_dimensions[letter].width
        longest_word = max(len(w) for w in c.value.split())
        values = [str(ws.cell(r, c.column).value or "") for r in range(4, ws.max_row + 1)]
        assert width >= longest_word + 1, c.value
        assert width >= max(len(v) for v in values) + 1, c.value
    lines = max(-(-len(c.value) // int(ws.column_dimensions[c.column_letter].width - 1)) for c in head)
    assert ws.row_dimensions[3].height >= 15 * min(lines, 2)


def test_counts_are_whole_numbers(synthese):
    _, out = synthese
    wb = openpyxl.load_workbook(out)
    ws = wb["Synthèse"]
    stats = {ws.cell(r, 5).value: ws.cell(r, 6) for r in range(4, ws.max_row + 1) if ws.cell(r, 5).value}
    assert stats["Nombre de notes"].number_format == "0"
    assert stats["Moyenne"].number_format == "0.00"  # 13.13 shows as 13,13, not 13,1
    assert stats["Minimum"].number_format == "0.0"
    levels = [ws.cell(r, k) for r in range(4, 11) for k in range(8, 17)]
    assert {c.number_format for c in levels} == {"0"}
    charts = wb["Graphiques"]
    counts = [c for row in charts.iter_rows() for c in row if isinstance(c.value, (int, float))]
    assert counts and {c.number_format for c in counts} == {"0"}


def test_counts_are_the_model_s(synthese):
    """The charts' tables come from e2docs.model.distribution, the owner of these counts (the
    class record's images draw the same)."""
    setup, out = synthese
    grid = load_grid()
    finals = [c["final_mark"] for c in setup.status().values() if c["final_mark"] is not None]
    assert sorted(finals) == [5, 12.5, 12.5, 15, 15]  # the incomplete grid has a final mark too
    levels = [{c.id: 3 for c in grid.criteria}] * 3 + [{c.id: 1 for c in grid.criteria}]
    incomplete = {c.id: 3 for c in grid.criteria}
    expected = distribution(grid, finals, [*levels, incomplete])
    assert [b.count for b in expected.bands] == [0, 0, 1, 0, 0, 0, 2, 2, 0, 0]
    ws = openpyxl.load_workbook(out)["Graphiques"]
    assert [ws.cell(r, 2).value for r in range(2, 12)] == [b.count for b in expected.bands]
    assert [ws.cell(r, 1).value for r in (2, 11)] == ["0 à 2", "18 à 20"]
    col = next(c.column for c in ws[1] if c.value == "Critère")
    table = [[ws.cell(r, col + k).value for k in range(1, 5)] for r in range(2, 11)]
    assert table == [list(x.counts) for x in expected.criteria]
    assert table[0] == [1, 0, 4, 0]


def test_charts_are_in_french_and_readable_in_black_and_white(synthese):
    _, out = synthese
    with zipfile.ZipFile(out) as z:
        charts = [_xml(z, n) for n in sorted(z.namelist()) if n.startswith("xl/charts/chart")]
    assert len(charts) == 2
    texts = [" ".join(t.text for t in c.iter(f"{{{NS['a']}}}t")) for c in charts]
    assert "Répartition des notes finales" in texts[0] and "Note finale (sur 20)" in texts[0]
    assert "Niveaux atteints par critère" in texts[1] and "Nombre de candidats" in texts[1]
    for chart in charts:
        colours = {c.get("val").upper() for c in chart.iter(f"{{{NS['a']}}}srgbClr")}
        assert colours and all(c[0:2] == c[2:4] == c[4:6] for c in colours), colours  # greys only
        for series in chart.iterfind(".//c:ser", NS):
            assert series.find("c:dLbls/c:showVal", NS).get("val") == "1"  # value labels on the bars
    levels = charts[1]
    fills = []
    for series in levels.iterfind(".//c:ser", NS):
        pattern = series.find("c:spPr/a:pattFill", NS)
        solid = series.find("c:spPr/a:solidFill/a:srgbClr", NS)
        fills.append(pattern.get("prst") if pattern is not None else solid.get("val"))
    assert len(fills) == len(set(fills)) == 4  # one look per level, without colour


@pytest.mark.libreoffice
def test_libreoffice_prints_table_and_charts_whole(synthese, tmp_path):
    """Printed (PDF through LibreOffice): the table on one landscape page, both charts with their
    tables on the next one; nothing spills onto further pages."""
    require_tools("soffice", "pdfinfo", "pdftotext")
    _, out = synthese
    (pdf,) = convert_to_pdf([out], tmp_path)
    assert pdf_pages(pdf) == 2
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "2", str(pdf)], capture_output=True, text=True).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    assert [(round(float(w)), round(float(h))) for w, h in sizes] == [(842, 595)] * 2  # A4 landscape
    page2 = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(pdf), "-"], capture_output=True, text=True).stdout
    for text in ("Répartition des notes finales", "Niveaux atteints par critère", "Tranche de notes", "C4.4"):
        assert text in page2
    page1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Nombre de notes" in page1 and "Niveau" in page1 and "C4.4" in page1
