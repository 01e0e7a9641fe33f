"""The class record's charts: PNG images drawn with matplotlib, only when a template shows them."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from docx import Document
from lxml import etree

from e2docs.model.candidate import Candidate
from e2docs.reports import FIELDS_DOC, check_template, class_context, class_rows, render_class_record
from e2docs.reports.charts import LEVELS, MARKS, Chart, draw
from e2docs.reports.render import render_to
from e2docs.reports.samples import sample_class_info, sample_class_rows, sample_evaluation
from tests.helpers import ALL_LEVEL_3, PROJECT
from tests.lo.lo import require_tools

NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
EMU_PER_MM = 36000


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _images(docx: Path) -> list[tuple[str, bytes, int]]:
    """(media part name, its bytes, drawn width in mm) of each picture the body shows, in order."""
    with zipfile.ZipFile(docx) as z:
        body = etree.fromstring(z.read("word/document.xml"))
        rels = {r.get("Id"): r.get("Target") for r in etree.fromstring(z.read("word/_rels/document.xml.rels")).iter()}
        out = []
        for drawing in body.iterfind(".//w:drawing", NS):
            (blip,) = drawing.iterfind(".//a:blip", NS)
            target = "word/" + rels[blip.get(f"{{{NS['r']}}}embed")]
            (extent,) = drawing.iterfind(".//wp:extent", NS)
            out.append((target, z.read(target), round(int(extent.get("cx")) / EMU_PER_MM)))
        return out


def _old_style_template(path: Path) -> Path:
    """A class record template as schools may have edited it before charts were images:
    the text bars and the shade legend, no image field."""
    doc = Document()
    doc.add_paragraph("{% for b in repartition %}{{ b.tranche }} {{ b.barre }} ; {% endfor %}")
    doc.add_paragraph("{% for c in criteres %}{{ c.id }} {{ c.barre }} ; {% endfor %}")
    doc.add_paragraph("{% for n in niveaux %}{{ n.motif }} {{ n.libelle }} {% endfor %}")
    doc.save(path)
    return path


def test_class_record_shows_two_chart_images_referenced_from_the_body(tmp_path):
    out = render_class_record(sample_class_rows(), sample_class_info(), tmp_path / "recap.docx")
    images = _images(out)
    assert len(images) == 2
    with zipfile.ZipFile(out) as z:
        media = sorted(n for n in z.namelist() if n.startswith("word/media/"))
    assert sorted(name for name, _, _ in images) == media  # each image shown, none left over
    assert all(re.fullmatch(r"word/media/image\d+\.png", n) for n in media)
    for _name, data, width_mm in images:
        w, h = _png_size(data)
        assert 1000 <= w <= 2000 and 300 <= h <= 1200  # printed sharp (about 200 dpi), not huge
        assert 10_000 < len(data) < 400_000
        assert 150 <= width_mm <= 180  # within the 18 cm between margins
    marks_png, levels_png = images[0][1], images[1][1]
    assert _png_size(levels_png)[1] > _png_size(marks_png)[1]  # nine criteria need more height


def test_charts_show_the_same_counts_as_the_tables():
    c = class_context(sample_class_rows(), sample_class_info())
    charts = c["graphiques"]
    assert isinstance(charts["repartition"], Chart) and isinstance(charts["niveaux"], Chart)
    dist = charts["repartition"].data
    assert dist is charts["niveaux"].data
    assert [b.count for b in dist.bands] == [b["effectif"] for b in c["repartition"]]
    assert [list(x.counts) for x in dist.criteria] == [x["comptes"] for x in c["criteres"]]


def test_drawing_is_deterministic_and_survives_an_empty_class():
    rows = class_rows([], missing=[Candidate("01", "ABSENT", "Léo", "T1")])
    empty = class_context(rows)["graphiques"]
    for kind in (MARKS, LEVELS):
        chart = Chart(kind, empty["repartition"].data, 20)
        first = draw(chart)
        assert first == draw(chart)  # no date, no version: the same bytes each time
        assert _png_size(first)[0] > 1000
    full = class_context(sample_class_rows(), sample_class_info())["graphiques"]["repartition"]
    assert draw(full) != draw(Chart(MARKS, empty["repartition"].data, 20))


def test_old_templates_with_text_bars_still_render_without_images(tmp_path):
    template = _old_style_template(tmp_path / "ancien-recapitulatif-classe.docx")
    assert check_template(template, "classe") == []
    out = render_to(template, class_context(sample_class_rows(), sample_class_info()), tmp_path / "out.docx")
    text = "\n".join(p.text for p in Document(out).paragraphs)
    assert "14–16 " + "█" * 30 in text and "░ 1 Novice" not in text and "░ Novice" in text
    assert _images(out) == []


def test_matplotlib_is_imported_only_when_a_chart_is_drawn(tmp_path):
    """Rendering a candidate's documents, or a class template without chart fields, never loads
    matplotlib (a second or more at start-up); the bundled class record does, and prints nothing
    even when matplotlib first builds its font cache (a new, empty configuration folder here)."""
    template = _old_style_template(tmp_path / "ancien.docx")
    code = f"""
import sys
from pathlib import Path
from e2docs.reports import render_candidate_documents, render_class_record
from e2docs.reports.samples import sample_class_info, sample_class_rows, sample_evaluation
out = Path({str(tmp_path)!r})
render_candidate_documents(sample_evaluation(), out, "x")
render_class_record(sample_class_rows(), sample_class_info(), out / "ancien-rendu.docx", {str(tmp_path)!r})
before = "matplotlib" in sys.modules
render_class_record(sample_class_rows(), sample_class_info(), out / "recap.docx")
print(before, "matplotlib" in sys.modules)
"""
    (tmp_path / "recapitulatif-classe.docx").write_bytes(template.read_bytes())
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path / "mpl"))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
    assert result.stderr == ""  # nothing printed (no font cache message)
    assert list((tmp_path / "mpl").glob("fontlist-*.json"))  # the cache was built during this run


def test_chart_fields_are_documented_and_text_bars_marked_as_kept():
    docs = {f.path: f for f in FIELDS_DOC if f.document == "classe"}
    assert docs["graphiques.repartition"].kind == "image" and docs["graphiques.niveaux"].kind == "image"
    for kept in ("repartition[].barre", "criteres[].barre", "niveaux[].motif"):
        assert docs[kept].description.endswith("(gardé pour les anciens modèles)"), kept


def test_check_template_knows_the_chart_fields(tmp_path):
    doc = Document()
    doc.add_paragraph("{{ graphiques.repartition }}")
    doc.add_paragraph("{{ graphiques.niveaus }}")
    doc.save(tmp_path / "recapitulatif-classe.docx")
    problems = check_template(tmp_path / "recapitulatif-classe.docx")
    assert [p.message for p in problems] == [
        "champ inconnu « graphiques.niveaus ». Vouliez-vous dire « graphiques.niveaux » ?"
    ]


def test_bundled_class_record_uses_the_images_not_the_text_bars():
    from e2docs.reports import CLASS_RECORD, template_path

    with zipfile.ZipFile(template_path(CLASS_RECORD)) as z:
        xml = z.read("word/document.xml").decode()
    assert "graphiques.repartition" in xml and "graphiques.niveaux" in xml
    assert "barre" not in xml and "motif" not in xml


def test_a_class_of_one_incomplete_grid_draws_its_levels(tmp_path):
    inc = sample_evaluation(Candidate("1", "A", "B", "T"), {"C1.1": 2} | {k: None for k in ALL_LEVEL_3 if k != "C1.1"})
    c = class_context(class_rows([inc]))
    dist = c["graphiques"]["niveaux"].data
    assert [x.total for x in dist.criteria] == [1] + [0] * 8
    assert dist.marks == 0  # no final mark without every level
    assert _png_size(draw(c["graphiques"]["niveaux"]))[0] > 1000


@pytest.mark.libreoffice
def test_libreoffice_prints_the_charts(tmp_path):
    """The class record converts to PDF and its pages carry the two chart images."""
    require_tools("soffice", "pdfimages")
    from e2docs.reports import convert_to_pdf

    out = render_class_record(sample_class_rows(), sample_class_info(), tmp_path / "recap.docx")
    (pdf,) = convert_to_pdf([out], tmp_path / "pdf")
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    images = [r for r in rows if r[2] == "image"]
    assert len(images) == 2
    assert all(int(r[3]) > 1000 for r in images)  # the full-resolution PNGs, not thumbnails
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Répartition des notes finales" in text and "Niveaux atteints par critère" in text


@pytest.mark.parametrize("path", ["compiled", "docxtpl"])
def test_drawing_the_charts_is_not_counted_in_the_template_s_time(tmp_path, monkeypatch, path):
    """Drawing a chart (and importing matplotlib, seconds on a slow machine) is e2docs's work, not the
    template's: a class record whose charts take longer than the template's bound is still written."""
    import time

    from e2docs.reports import Templates, charts, limits

    def slow(chart):
        time.sleep(0.6)
        return draw(chart)

    monkeypatch.setattr(charts, "draw", slow)
    monkeypatch.setattr(limits, "SECONDS", 0.5)  # the two charts take 1.2 s
    templates = Templates() if path == "compiled" else None
    out = render_class_record(sample_class_rows(), sample_class_info(), tmp_path / "recap.docx", None, templates)
    assert len(_images(out)) == 2
    # the bound still holds for the template's own work
    loop = tmp_path / "modeles"
    loop.mkdir()
    doc = Document()
    # a billion turns: far beyond 0.5 s on any machine (a million could take less)
    doc.add_paragraph(
        "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    )
    doc.save(loop / "recapitulatif-classe.docx")
    monkeypatch.setattr(limits, "MAX_STEPS", 10**12)
    with pytest.raises(Exception, match="dépasse 0.5 secondes"):
        render_class_record(sample_class_rows(), sample_class_info(), tmp_path / "r2.docx", loop, templates)
