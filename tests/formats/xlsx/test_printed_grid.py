"""The grid on paper and long texts, through real LibreOffice: body text printed at 8 points or
more, the pages the layout plans, and long texts shown whole on screen and in print.

Font sizes are read from LibreOffice's PDF with poppler (``pdftohtml -xml``: the size of the font of
every piece of text, whatever its direction, in a unit of its own); the test prints a reference line
of 8-point Arial at 100 % the same way and compares with it.
"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict

import pytest
import xlsxwriter

from e2docs.formats.xlsx import names
from e2docs.formats.xlsx.layout import TEXT_LIMITS, build_layout
from e2docs.formats.xlsx.reader import read_workbook
from tests.helpers import CANDIDATE, CTX, GRID, make_workbook
from tests.lo.lo import pdf_pages, require_tools

pytestmark = pytest.mark.libreoffice

_FONT = re.compile(r'<fontspec id="(\d+)" size="(\d+)"')
_TEXT = re.compile(r'<text [^>]*font="(\d+)"[^>]*>(.*?)</text>')


def _font_sizes(pdf) -> dict[int, list[tuple[int, str]]]:
    """Page number (from 1) → (font size of each piece of text, in pdftohtml's unit; its text)."""
    out = subprocess.run(
        ["pdftohtml", "-xml", "-i", "-stdout", "-zoom", "10", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    sizes = {font: int(size) for font, size in _FONT.findall(out)}
    pages: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for number, page in enumerate(out.split("<page ")[1:], 1):
        for font, text in _TEXT.findall(page):
            if re.sub(r"<[^>]+>", "", text).strip():
                pages[number].append((sizes[font], re.sub(r"<[^>]+>", "", text)))
    return pages


def _reference_size(lo, tmp_path) -> int:
    """The size pdftohtml gives 8-point Arial printed at 100 % by this LibreOffice."""
    path = tmp_path / "reference.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.write_string(0, 0, "Référence", wb.add_format({"font_name": "Arial", "font_size": 8}))
    ws.set_print_scale(100)
    wb.close()
    ((size, text),) = _font_sizes(lo.convert(path, "pdf", tmp_path / "reference"))[1]
    assert text == "Référence"
    return size


def test_the_printed_grid_has_body_text_of_8_points_on_the_pages_planned(lo, tmp_path):
    require_tools("pdftohtml", "pdfinfo")
    path = make_workbook(tmp_path)
    pdf = lo.convert(path, "pdf", tmp_path / "pdf")
    layout = build_layout(GRID, CANDIDATE, CTX)
    planned = [len(sheet.breaks) + 1 for sheet in layout.sheets]
    assert planned == [3, 3]
    assert pdf_pages(pdf) == sum(planned)
    eight = _reference_size(lo, tmp_path)
    pages = _font_sizes(pdf)
    footers = {"grid": 0, "prospect": 0}
    for number in range(1, sum(planned) + 1):
        texts = pages[number]
        sheet = "grid" if number <= planned[0] else "prospect"
        footers[sheet] += any("ALMEIDA Inès — N° 2709411047" in t for _, t in texts)
        smallest = min(size for size, _ in texts)
        assert smallest >= eight, (number, smallest / eight * 8, [t for size, t in texts if size == smallest][:5])
    assert footers == {"grid": planned[0], "prospect": planned[1]}  # the footer names the candidate on every page
    # the table's head row is repeated on the grid's later pages
    for number in (2, 3):
        assert any("Compétences détaillées" in t for _, t in pages[number])


def test_long_texts_typed_in_libreoffice_are_shown_whole_in_print(lo, tmp_path):
    require_tools("pdftotext")
    path = make_workbook(tmp_path)
    (blank,) = read_workbook(path)
    named = blank.layout.named
    texts = {}
    for key, limit in ((names.prospecting("causes_ecarts"), 1500), (names.OBSERVATIONS, TEXT_LIMITS["observations"])):
        words, k = [], 0
        while len(" ".join(words)) < limit:
            k += 1
            words.append(f"{key[:5]}{k:03d} écart constaté")
        texts[key] = " ".join(words)[:limit].rstrip()
        assert named[key].limit == limit
    out = tmp_path / "rempli.xlsx"
    pdf = tmp_path / "rempli.pdf"
    lo.run(
        [
            {"op": "open", "path": str(path)},
            *[
                {"op": "type", "sheet": named[key].sheet, "cell": named[key].ref, "text": text}
                for key, text in texts.items()
            ],
            {"op": "save", "path": str(out)},
            {"op": "pdf", "path": str(pdf)},
            {"op": "close"},
        ]
    )
    (reading,) = read_workbook(out)
    printed = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", printed)
    for key, text in texts.items():
        assert reading.values[key] == text
        # LibreOffice leaves out of the PDF the lines a cell cuts: every word must be there, in order
        assert re.sub(r"\s+", "", text) in flat, key
