"""``e2docs report --pdf`` with a real LibreOffice, on the demo campaign.

One PDF per Word document (a single headless LibreOffice for the batch); page
counts checked with poppler's ``pdfinfo``, text with ``pdftotext``. Skipped
without LibreOffice, failing instead on CI (``require_lo``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from docx import Document

from e2docs.cli import main
from e2docs.formats.xlsx import names
from tests.lo.lo import pdf_pages, require_lo, require_tools

pytestmark = pytest.mark.libreoffice

LE_GOFF = "LE-GOFF_Maël_31214_2709411105"
HOARAU = "HOARAU_Noémie_31214_2709411092"


def text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def rapports(tmp_path_factory) -> tuple[Path, str]:
    """The demo campaign's rapports/ after ``report --pdf --merge``, and the command's output."""
    require_lo()
    require_tools("pdfinfo", "pdftotext")
    base = tmp_path_factory.mktemp("demo-pdf")
    runner = CliRunner()
    result = runner.invoke(main, ["demo", str(base)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    root = base / "campagne-demo"
    result = runner.invoke(main, ["-C", str(root), "report", "--pdf", "--merge"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root / "rapports", result.output


def test_one_pdf_per_word_document(rapports):
    out, output = rapports
    docx = sorted(p.stem for p in out.glob("*.docx"))
    pdfs = sorted(p.stem for p in out.glob("*.pdf"))
    assert len(docx) == 8 * 2 + 2  # 8 candidates × 2 documents, the class record, the merged sheets
    assert pdfs == docx
    assert f"{len(pdfs)} PDF écrit(s)" in output
    assert all(p.stat().st_size > 1000 for p in out.glob("*.pdf"))
    assert not [p for p in out.iterdir() if p.suffix not in (".docx", ".pdf")]


def test_page_counts(rapports):
    out, _ = rapports
    sheets = sorted(out.glob("*_fiche-evaluation.pdf"))
    summaries = sorted(out.glob("*_synthese-prospection.pdf"))
    assert len(sheets) == len(summaries) == 8
    for pdf in sheets:
        assert pdf_pages(pdf) <= 2, pdf.name
    for pdf in summaries:
        assert 1 <= pdf_pages(pdf) <= 2, pdf.name
    assert 1 <= pdf_pages(out / "recapitulatif-classe_TMCV2.pdf") <= 3
    # the merged document: each sheet starts on a new page, so it has all their pages
    assert pdf_pages(out / "fiches-evaluation_TMCV2.pdf") == sum(pdf_pages(p) for p in sheets)


def test_le_goff_sheet_pdf_shows_name_and_final_mark(rapports):
    out, _ = rapports
    content = text(out / f"{LE_GOFF}_fiche-evaluation.pdf")
    assert "LE GOFF" in content and "Maël" in content and "2709411105" in content
    assert re.search(r"NOTE FINALE\s+16 / 20", content), content[-2000:]
    assert "17,5 / 20" in content
    assert "PROVISOIRE" not in content


def test_provisional_mark_survives_in_pdf(rapports):
    out, _ = rapports
    assert "PROVISOIRE" in text(out / f"{HOARAU}_fiche-evaluation.pdf")
    assert "PROVISOIRE" in text(out / f"{HOARAU}_synthese-prospection.pdf")
    merged = text(out / "fiches-evaluation_TMCV2.pdf")
    positions = [merged.index(name) for name in ("BERNARD", "D'ALMEIDA", "HOARAU", "LE GOFF", "MARTIN")]
    assert positions == sorted(positions)


def test_return_saved_as_ods_gets_its_documents(tmp_path):
    """A teacher kept LibreOffice's own format: the archived .ods is converted again for the report."""
    require_lo()
    runner = CliRunner()
    assert runner.invoke(main, ["demo", str(tmp_path)], catch_exceptions=False).exit_code == 0
    root = tmp_path / "campagne-demo"
    sent = root / "envoi" / "PETIT_Jérôme_31214_2709411147.xlsx"  # not returned in the demo
    # one criterion ticked: an untouched workbook is blank, not a return
    wb = openpyxl.load_workbook(sent)
    for dn in wb.defined_names.values():
        if dn.name == names.level("C1.1", 3):
            sheet, ref = next(iter(dn.destinations))
            wb[sheet][ref.replace("$", "")] = "X"
    (tmp_path / "rempli").mkdir()
    typed = tmp_path / "rempli" / sent.name
    wb.save(typed)
    subprocess.run(
        [
            shutil.which("soffice"),
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "ods",
            "--outdir",
            str(tmp_path / "ods"),
            str(typed),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    ods = tmp_path / "ods" / (sent.stem + ".ods")
    collected = runner.invoke(main, ["-C", str(root), "collect", str(ods)], catch_exceptions=False)
    assert collected.exit_code == 0 and "accepté (incomplet)" in collected.output, collected.output
    result = runner.invoke(main, ["-C", str(root), "report"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "PETIT Jérôme" in result.output.split("PROVISOIRE")[1].splitlines()[0]
    sheet = root / "rapports" / f"{sent.stem}_fiche-evaluation.docx"
    body = "\n".join(p.text for p in Document(str(sheet)).paragraphs)
    assert "PROVISOIRE" in body


def test_hand_edited_documents_and_pdfs_survive_report_pdf_merge(tmp_path):
    """The secretariat corrected a sheet and the merged document in Word and annotated a PDF: a second
    ``report --pdf --merge`` keeps them and writes the new versions beside; a plain ``report`` afterwards
    removes only e2docs' own PDFs and merged document."""
    require_lo()
    require_tools("pdftotext")
    runner = CliRunner()
    assert runner.invoke(main, ["demo", str(tmp_path)], catch_exceptions=False).exit_code == 0
    root = tmp_path / "campagne-demo"
    out = root / "rapports"
    first = runner.invoke(main, ["-C", str(root), "report", "--pdf", "--merge"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    sheet, merged = out / f"{LE_GOFF}_fiche-evaluation.docx", out / "fiches-evaluation_TMCV2.docx"
    edited = {}
    for path in (sheet, merged):
        doc = Document(str(path))
        doc.add_paragraph("Corrigé à la main")
        doc.save(str(path))
        edited[path] = path.read_bytes()
    record_pdf = out / "recapitulatif-classe_TMCV2.pdf"
    with open(record_pdf, "ab") as fh:
        fh.write(b"% annotated\n")
    edited[record_pdf] = record_pdf.read_bytes()

    result = runner.invoke(main, ["-C", str(root), "report", "--pdf", "--merge"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert {p: p.read_bytes() for p in edited} == edited
    new_sheet = out / f"{LE_GOFF}_fiche-evaluation (nouvelle version).docx"
    assert "16 / 20" in text(new_sheet.with_suffix(".pdf"))
    assert (out / "fiches-evaluation_TMCV2 (nouvelle version).docx").is_file()
    assert pdf_pages(out / "fiches-evaluation_TMCV2 (nouvelle version).pdf") >= 8
    assert (out / "recapitulatif-classe_TMCV2 (nouvelle version).pdf").is_file()
    # the PDFs of the edited Word documents were e2docs' own and are out of date: removed
    assert not sheet.with_suffix(".pdf").exists() and not merged.with_suffix(".pdf").exists()
    assert "3 document(s) modifié(s) depuis qu'e2docs les a écrits" in result.output
    assert not [p for p in out.iterdir() if p.name.startswith(".")]

    plain = runner.invoke(main, ["-C", str(root), "report"], catch_exceptions=False)
    assert plain.exit_code == 0, plain.output
    assert {p: p.read_bytes() for p in edited} == edited
    assert sorted(p.name for p in out.glob("*.pdf")) == ["recapitulatif-classe_TMCV2.pdf"]  # the annotated one
    assert not (out / "fiches-evaluation_TMCV2 (nouvelle version).docx").exists()  # own, unchanged, stale
    assert "2 ancien(s) document(s) périmé(s) conservé(s)" in plain.output
