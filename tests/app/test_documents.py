"""``e2docs report``, ``fields`` and ``check-template`` as a user runs them, on the demo campaign.

The demo builds a campaign from the bundled samples (12 candidates: 7 complete
returns, HOARAU Noémie incomplete, NGUYEN Hélène rejected, 3 not returned).
No LibreOffice needed here (tests/reports/test_libreoffice_reports.py converts to PDF for real).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from docx.enum.section import WD_SECTION
from docx.oxml.ns import qn

from e2docs.app import written
from e2docs.cli import main
from e2docs.formats import libreoffice
from e2docs.reports import EVALUATION, template_path
from tests.helpers import fsync_threads

# (file stem, family name as printed, number) of the candidates with a complete return, in roster order
COMPLETE = [
    ("BERNARD_Lucas_31214_2709411021", "BERNARD", "2709411021"),
    ("D'ALMEIDA_Inès_31214_2709411047", "D'ALMEIDA", "2709411047"),
    ("DUBOIS_Marie-Ève_31214_2709411050", "DUBOIS", "2709411050"),
    ("FAURE_Théo_31214_2709411063", "FAURE", "2709411063"),
    ("GARCIA_Chloé_31214_2709411089", "GARCIA", "2709411089"),
    ("LE-GOFF_Maël_31214_2709411105", "LE GOFF", "2709411105"),
    ("MARTIN_Zoé_31214_2709411121", "MARTIN", "2709411121"),
]
HOARAU = "HOARAU_Noémie_31214_2709411092"
LE_GOFF = "LE-GOFF_Maël_31214_2709411105"
NOT_RETURNED = ["PETIT", "ROUSSEAU", "SAINT-MARTIN"]
KINDS = ("fiche-evaluation", "synthese-prospection")
CLASS_RECORD = "recapitulatif-classe_TMCV2.docx"
MERGED = "fiches-evaluation_TMCV2.docx"
EXPECTED = sorted(
    [f"{stem}_{kind}.docx" for stem, _, _ in COMPLETE for kind in KINDS]
    + [f"{HOARAU}_{kind}.docx" for kind in KINDS]
    + [CLASS_RECORD]
)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def demo_campaign(tmp_path_factory) -> Path:
    """The demo campaign, built once; tests work on copies (see ``campaign``)."""
    base = tmp_path_factory.mktemp("demo")
    result = run("demo", str(base))
    assert result.exit_code == 0, result.output
    return base / "campagne-demo"


@pytest.fixture
def campaign(demo_campaign, tmp_path) -> Path:
    """A private copy of the demo campaign, without the documents the demo already wrote."""
    root = tmp_path / "campagne-demo"
    shutil.copytree(demo_campaign, root)
    shutil.rmtree(root / "rapports")
    return root


def report(root: Path, *args: str):
    return run("-C", str(root), "report", *args)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def all_text(path: Path) -> str:
    """Every piece of text of a .docx: body (paragraphs and tables, in document order), headers, footers."""
    doc = Document(str(path))
    parts = ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in doc.element.body.iter(qn("w:p"))]
    for s in doc.sections:
        parts += [p.text for p in s.header.paragraphs] + [p.text for p in s.footer.paragraphs]
    return "\n".join(parts)


def table_row(path: Path, label: str) -> list[str]:
    """The cells of the first table row whose first cell starts with ``label``."""
    doc = Document(str(path))
    for table in doc.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if cells and cells[0].startswith(label):
                return cells
    raise AssertionError(f"aucune ligne « {label} » dans {path.name}")


# ------------------------------------------------------------------ report


def test_report_writes_every_document_named_like_the_workbooks(campaign):
    result = report(campaign)
    assert result.exit_code == 0, result.output
    out = campaign / "rapports"
    assert names(out) == EXPECTED  # 7 complete + 1 incomplete → 16 candidate documents, + the class record
    assert "17 document(s) Word écrit(s)" in result.output
    # named exactly like the workbooks that were sent
    sent = {p.stem for p in (campaign / "envoi").glob("*.xlsx")}
    assert {n.rsplit("_", 1)[0] for n in EXPECTED if n != CLASS_RECORD} <= sent
    # the rejected and the missing candidates get no individual document, and are said so
    assert not list(out.glob("NGUYEN*")) and not list(out.glob("PETIT*"))
    assert "Sans document individuel : NGUYEN Hélène (rejeté)" in result.output
    for name in ("PETIT Jérôme (non rendu)", "ROUSSEAU Anaïs (non rendu)", "SAINT-MARTIN Célestin (non rendu)"):
        assert name in result.output


def test_each_document_is_flushed_to_disk_once_before_it_is_put_in_place(campaign, monkeypatch):
    """Staged documents are not flushed one by one as they are written (thousands of waits) but by the
    flusher's threads, all of them before any is moved into rapports/."""
    flushed = fsync_threads(monkeypatch)
    assert report(campaign).exit_code == 0
    by_flusher = [name for name in flushed if name.startswith("e2docs-flush")]
    assert len(by_flusher) == len(EXPECTED) - 1  # every candidate document (the class record is flushed as written)


def test_evaluation_sheet_shows_the_marks_of_the_return(campaign):
    assert report(campaign).exit_code == 0
    sheet = campaign / "rapports" / f"{LE_GOFF}_fiche-evaluation.docx"
    text = all_text(sheet)
    assert "LE GOFF" in text and "Maël" in text and "2709411105" in text
    assert table_row(sheet, "Note proposée")[-1] == "17,5 / 20"
    assert table_row(sheet, "Note attribuée par la commission")[-1] == "16"
    assert table_row(sheet, "NOTE FINALE")[-1] == "16 / 20"
    assert "PROVISOIRE" not in text


def kept_records(root: Path) -> dict[str, tuple[str, bytes]]:
    """candidate number → (file sha256, record) of the evaluations ``collect`` kept in the ledger."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(root / "registre.sqlite")) as db:
        return {n: (sha, bytes(r)) for sha, n, r in db.execute("SELECT sha256, candidate, record FROM evaluations")}


def rewrite_record(root: Path, number: str, edit, *, sealed: bool) -> None:
    """Change the evaluation kept for candidate ``number`` (``edit``: Evaluation → Evaluation), its seal
    made again with the campaign's secret when ``sealed``, else left as it was."""
    import sqlite3

    from e2docs.formats import evaluation_record
    from e2docs.formats.gridfile import load_grid

    grid = load_grid(root / "grille.toml")
    key = evaluation_record.reader_key(grid)
    sha, record = kept_records(root)[number]
    changed = evaluation_record.encode(edit(evaluation_record.decode(record, grid)))
    with contextlib.closing(sqlite3.connect(root / "registre.sqlite")) as db, db:
        if sealed:
            secret = bytes.fromhex((root / ".secret").read_text().strip())
            mac = evaluation_record.seal(secret, sha, number, key, changed)
            db.execute("UPDATE evaluations SET record = ?, seal = ? WHERE candidate = ?", (changed, mac, number))
        else:
            db.execute("UPDATE evaluations SET record = ? WHERE candidate = ?", (changed, number))


def test_collect_kept_the_evaluation_of_each_accepted_return_only(campaign):
    kept = kept_records(campaign)
    assert sorted(kept) == sorted([number for _, _, number in COMPLETE] + ["2709411092"])  # + HOARAU, incomplete
    assert "2709411134" not in kept  # NGUYEN, rejected


def test_documents_from_the_kept_evaluations_are_those_of_the_returns_read_again(campaign, tmp_path):
    import sqlite3

    again = tmp_path / "relus"
    shutil.copytree(campaign, again)
    with contextlib.closing(sqlite3.connect(again / "registre.sqlite")) as db, db:
        db.execute("DELETE FROM evaluations")
    kept, read = report(campaign, "--merge"), report(again, "--merge")
    assert kept.exit_code == read.exit_code == 0, read.output
    assert kept.output.replace(str(campaign), str(again)) == read.output
    assert names(campaign / "rapports") == names(again / "rapports") == sorted(EXPECTED + [MERGED])
    for name in names(again / "rapports"):
        if name.endswith(".docx"):
            assert members(campaign / "rapports" / name) == members(again / "rapports" / name), name


def observations(root: Path) -> str:
    return all_text(root / "rapports" / f"{LE_GOFF}_fiche-evaluation.docx")


def test_report_takes_the_evaluation_collect_kept_and_scores_it_again(campaign):
    def edit(evaluation):
        levels = {cid: 1 for cid in evaluation.levels}  # every criterion at the lowest level
        return dataclasses.replace(evaluation, observations="Relu depuis le registre.", levels=levels)

    rewrite_record(campaign, "2709411105", edit, sealed=True)
    assert report(campaign).exit_code == 0
    sheet = campaign / "rapports" / f"{LE_GOFF}_fiche-evaluation.docx"
    assert "Relu depuis le registre." in all_text(sheet)
    assert table_row(sheet, "Note proposée")[-1] != "17,5 / 20"  # the marks computed now, from these levels


def test_a_kept_evaluation_changed_without_the_secret_is_not_used(campaign):
    rewrite_record(campaign, "2709411105", lambda e: dataclasses.replace(e, observations="Falsifié."), sealed=False)
    assert report(campaign).exit_code == 0
    sheet = campaign / "rapports" / f"{LE_GOFF}_fiche-evaluation.docx"
    assert "Falsifié." not in all_text(sheet)  # the return read again instead
    assert table_row(sheet, "Note proposée")[-1] == "17,5 / 20"


def test_an_archive_changed_since_collect_is_refused_and_collecting_the_file_again_mends_it(campaign, tmp_path):
    """report neither takes the evaluation kept for a changed archive nor reads the changed file (its marks
    would disagree with status and export): it says so, and collecting the received file again rewrites
    the archive."""
    assert report(campaign).exit_code == 0
    out = campaign / "rapports"
    before = {name: all_text(out / name) for name in names(out) if name.endswith(".docx")}
    stored = campaign / "retours" / f"{kept_records(campaign)['2709411105'][0]}.xlsx"
    received = tmp_path / "recu" / "LE-GOFF.xlsx"
    received.parent.mkdir()
    received.write_bytes(stored.read_bytes())
    stored.write_bytes(stored.read_bytes() + b"\0")  # other bytes: a zip with a trailing byte still reads
    refused = report(campaign)
    assert refused.exit_code == 2, refused.output
    assert stored.name in refused.output and "a changé depuis sa relève" in refused.output
    assert "e2docs collect" in refused.output and "Traceback" not in refused.output
    again = run("-C", str(campaign), "collect", str(received))
    assert again.exit_code == 0 and "déjà importé" in again.output, again.output
    assert stored.read_bytes() == received.read_bytes()  # mended
    assert report(campaign).exit_code == 0
    assert {name: all_text(out / name) for name in names(out) if name.endswith(".docx")} == before


def test_a_kept_evaluation_edited_into_text_is_left_out(campaign):
    import sqlite3

    with contextlib.closing(sqlite3.connect(campaign / "registre.sqlite")) as db, db:
        db.execute("UPDATE evaluations SET seal = 'abc' WHERE candidate = ?", ("2709411050",))
        db.execute("UPDATE evaluations SET record = 'texte' WHERE candidate = ?", ("2709411021",))
    result = report(campaign)
    assert result.exit_code == 0, result.output  # those two returns read again
    assert table_row(campaign / "rapports" / f"{LE_GOFF}_fiche-evaluation.docx", "NOTE FINALE")[-1] == "16 / 20"


def test_incomplete_candidate_documents_are_provisional_and_listed(campaign):
    result = report(campaign)
    assert result.exit_code == 0, result.output
    out = campaign / "rapports"
    for kind in KINDS:
        text = all_text(out / f"{HOARAU}_{kind}.docx")
        assert "PROVISOIRE" in text, kind
        assert "HOARAU" in text
    for stem, _, _ in COMPLETE:
        for kind in KINDS:
            assert "PROVISOIRE" not in all_text(out / f"{stem}_{kind}.docx"), (stem, kind)
    assert "Documents marqués PROVISOIRE (grille incomplète) : HOARAU Noémie" in result.output


def test_class_record_lists_everybody_with_their_status(campaign):
    assert report(campaign).exit_code == 0
    record = campaign / "rapports" / CLASS_RECORD
    doc = Document(str(record))
    rows = {}
    for table in doc.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if re.fullmatch(r"\d{10}", cells[0]):
                rows.setdefault(cells[1], []).append(cells)
    assert len(rows) == 12
    le_goff = rows["LE GOFF"][0]
    assert le_goff[4:7] == ["17,5", "16", "complète"]
    assert rows["HOARAU"][0][-1] == "incomplète"
    for name in NOT_RETURNED:
        assert all(r[-1] == "non rendue" for r in rows[name]), rows[name]
    # NGUYEN is rejected, with the reason
    assert rows["NGUYEN"][0][-1] == "rejetée"
    assert any(r[-1].startswith("rejetée : ") and "C2.2" in r[-1] for r in rows["NGUYEN"])
    text = all_text(record)
    assert "3 non rendue(s), 1 rejetée(s)" in text and "7 grille(s) complète(s), 1 incomplète(s)" in text


def test_only_complete_leaves_out_incomplete_candidates_and_lists_them(campaign):
    result = report(campaign, "--only", "complete")
    assert result.exit_code == 0, result.output
    out = campaign / "rapports"
    assert not list(out.glob("HOARAU*"))
    assert names(out) == [n for n in EXPECTED if not n.startswith("HOARAU")]
    assert "HOARAU Noémie (incomplet)" in result.output
    assert "PROVISOIRE" not in result.output
    # the class record still counts her, as incomplete
    assert "HOARAU" in all_text(out / CLASS_RECORD)


def test_only_complete_after_a_full_run_leaves_no_provisional_document(campaign):
    """The documents of a previous run must not linger for a candidate who now gets none."""
    assert report(campaign).exit_code == 0
    assert list((campaign / "rapports").glob("HOARAU*"))
    result = report(campaign, "--only", "complete")
    assert result.exit_code == 0, result.output
    assert not list((campaign / "rapports").glob("HOARAU*"))
    assert names(campaign / "rapports") == [n for n in EXPECTED if not n.startswith("HOARAU")]
    assert "2 ancien(s) document(s) périmé(s) retiré(s)" in result.output


def test_merge_puts_every_sheet_in_one_document_in_roster_order(campaign):
    result = report(campaign, "--merge", "--only", "complete")
    assert result.exit_code == 0, result.output
    merged = campaign / "rapports" / MERGED
    assert merged.is_file()
    doc = Document(str(merged))
    body = "".join(t.text or "" for t in doc.element.body.iter(qn("w:t")))
    positions = []
    for _, name, number in COMPLETE:
        assert name in body and number in body, name
        positions.append(body.index(number))
    assert positions == sorted(positions)
    assert "HOARAU" not in body
    # one section per sheet, each starting on a new page with its own page numbering
    assert len(doc.sections) == len(COMPLETE)
    for section in doc.sections:
        assert section.start_type == WD_SECTION.NEW_PAGE
        assert section._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"


def test_merge_with_incomplete_candidate_includes_her_provisional_sheet(campaign):
    assert report(campaign, "--merge").exit_code == 0
    body = all_text(campaign / "rapports" / MERGED)
    order = (
        [body.index(number) for _, _, number in COMPLETE[:5]]
        + [body.index("2709411092")]
        + [body.index(number) for _, _, number in COMPLETE[5:]]
    )
    assert order == sorted(order)
    assert "PROVISOIRE" in body


def test_templates_dir_overrides_only_the_templates_it_holds(campaign, tmp_path):
    mine = tmp_path / "modeles"
    mine.mkdir()
    doc = Document(str(template_path(EVALUATION)))
    doc.add_paragraph("Cachet de l'établissement")
    doc.save(str(mine / EVALUATION))
    result = report(campaign, "--templates", str(mine))
    assert result.exit_code == 0, result.output
    out = campaign / "rapports"
    assert names(out) == EXPECTED
    assert "Cachet de l'établissement" in all_text(out / f"{LE_GOFF}_fiche-evaluation.docx")
    assert "Cachet de l'établissement" in all_text(out / f"{HOARAU}_fiche-evaluation.docx")
    # the other documents still come from the packaged templates
    assert "Cachet" not in all_text(out / f"{LE_GOFF}_synthese-prospection.docx")
    assert "Cachet" not in all_text(out / CLASS_RECORD)
    assert "SYNTHÈSE DE L'OPÉRATION DE PROSPECTION" in all_text(out / f"{LE_GOFF}_synthese-prospection.docx")


def test_templates_dir_with_a_broken_template_says_which(campaign, tmp_path):
    mine = tmp_path / "modeles"
    mine.mkdir()
    doc = Document(str(template_path(EVALUATION)))
    doc.add_paragraph("Nom : {{ candidat.nmo }}")
    doc.save(str(mine / EVALUATION))
    result = report(campaign, "--templates", str(mine))
    assert result.exit_code == 2
    # the message names the field (« nmo ») and the template file; nothing was written
    assert "champ inconnu « nmo »" in result.output and str(mine / EVALUATION) in result.output
    assert "Traceback" not in result.output
    assert not list((campaign / "rapports").glob("*.docx"))


def test_report_twice_replaces_documents_and_leaves_no_temporary_file(campaign):
    out = campaign / "rapports"
    assert report(campaign, "--merge").exit_code == 0
    first = names(out)
    inode = (out / f"{LE_GOFF}_fiche-evaluation.docx").stat().st_ino
    result = report(campaign, "--merge")
    assert result.exit_code == 0, result.output
    assert names(out) == first == sorted(EXPECTED + [MERGED])
    assert not [n for n in names(out) if n.startswith(".") or n.endswith(".tmp")]
    # replaced by a rename, not rewritten in place
    assert (out / f"{LE_GOFF}_fiche-evaluation.docx").stat().st_ino != inode
    assert table_row(out / f"{LE_GOFF}_fiche-evaluation.docx", "NOTE FINALE")[-1] == "16 / 20"
    # nothing left behind outside rapports/ either
    assert not [p for p in campaign.rglob("*") if p.name.endswith(".tmp") or "e2docs-report" in p.name]


def test_documents_get_the_usual_file_permissions(campaign):
    assert report(campaign).exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    sheet = campaign / "rapports" / f"{LE_GOFF}_fiche-evaluation.docx"
    assert stat.S_IMODE(sheet.stat().st_mode) == 0o666 & ~umask


def test_pdf_without_libreoffice_is_a_french_error_but_word_files_are_written(campaign, monkeypatch):
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    result = report(campaign, "--pdf")
    assert result.exit_code == 2
    assert "LibreOffice est introuvable" in result.output
    assert "Installez LibreOffice" in result.output
    assert "Les 17 documents Word sont quand même écrits" in result.output
    assert "Traceback" not in result.output
    out = campaign / "rapports"
    assert names(out) == EXPECTED
    assert not list(out.glob("*.pdf"))


def test_report_outside_a_campaign_is_a_french_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("report")
    assert result.exit_code == 2
    assert "aucune campagne ici" in result.output and "e2docs -C DOSSIER" in result.output
    result = run("-C", str(tmp_path), "report")
    assert result.exit_code == 2
    assert "n'est pas une campagne e2docs" in result.output
    assert not (tmp_path / "rapports").exists()


def test_report_from_inside_the_campaign_folder(campaign, monkeypatch):
    monkeypatch.chdir(campaign / "envoi")
    result = run("report")
    assert result.exit_code == 0, result.output
    assert names(campaign / "rapports") == EXPECTED


# ------------------------------------------------------------------ fields, check-template


def test_fields_lists_template_fields_in_french():
    result = run("fields")
    assert result.exit_code == 0
    out = result.output
    assert "candidat.nom" in out and "Nom de famille" in out
    assert "Numéro de candidat" in out and "note_finale" in out
    assert "Champs « candidat »" in out and "Champs « classe »" in out
    md = run("fields", "--markdown").output
    assert "| `candidat.nom` |" in md and "| Champ | Type | Description |" in md


def test_check_template_accepts_the_packaged_template():
    result = run("check-template", str(template_path(EVALUATION)))
    assert result.exit_code == 0, result.output
    assert "modèle correct" in result.output


def test_check_template_rejects_an_unknown_field_and_suggests_the_right_one(tmp_path):
    doc = Document(str(template_path(EVALUATION)))
    doc.add_paragraph("Nom : {{ candidat.nmo }}")
    bad = tmp_path / "fiche.docx"
    doc.save(str(bad))
    result = run("check-template", str(bad))
    assert result.exit_code == 1
    assert "champ inconnu « candidat.nmo »" in result.output
    assert "Vouliez-vous dire « candidat.nom » ?" in result.output
    assert "1 erreur(s)" in result.output


def test_check_template_on_a_file_that_is_not_a_docx(tmp_path):
    junk = tmp_path / "modele.docx"
    junk.write_text("pas un document Word")
    result = run("check-template", str(junk))
    assert result.exit_code == 2  # unusable input, as everywhere in the CLI
    assert "illisible" in result.output and "Traceback" not in result.output


def test_a_later_run_without_merge_removes_the_out_of_date_merged_document(campaign):
    assert report(campaign, "--merge").exit_code == 0
    assert (campaign / "rapports" / MERGED).is_file()
    stale_pdf = campaign / "rapports" / "recapitulatif-classe_TMCV2.pdf"
    # as left by an earlier --pdf run: written by e2docs, hence in its record (a PDF it did not write stays:
    # test_a_pdf_e2docs_did_not_write_is_never_removed)
    with written.Record.load(campaign) as record:
        written.write_file(record, stale_pdf, b"%PDF-1.4 old", by="report")
    result = report(campaign)
    assert result.exit_code == 0, result.output
    assert not (campaign / "rapports" / MERGED).exists()
    assert not stale_pdf.exists()
    assert "périmé(s) retiré(s)" in result.output


# ------------------------------------------------------------------ nothing e2docs did not write is replaced

SHEET = f"{LE_GOFF}_fiche-evaluation.docx"
SHEET_NEW = f"{LE_GOFF}_fiche-evaluation (nouvelle version).docx"


def hand_edit(path: Path, text: str = "Corrigé à la main par le secrétariat") -> bytes:
    """Open a document in python-docx, add a paragraph, save it in place, as Word would; its new bytes."""
    doc = Document(str(path))
    doc.add_paragraph(text)
    doc.save(str(path))
    return path.read_bytes()


def test_a_hand_edited_document_survives_report_and_its_new_version_is_written_beside(campaign):
    out = campaign / "rapports"
    assert report(campaign).exit_code == 0
    edited = hand_edit(out / SHEET)
    result = report(campaign)
    assert result.exit_code == 0, result.output
    assert (out / SHEET).read_bytes() == edited
    assert "Corrigé à la main par le secrétariat" in all_text(out / SHEET)
    assert table_row(out / SHEET_NEW, "NOTE FINALE")[-1] == "16 / 20"
    assert "Corrigé à la main" not in all_text(out / SHEET_NEW)
    assert names(out) == sorted(EXPECTED + [SHEET_NEW])
    listed = names(out)
    assert listed.index(SHEET_NEW) + 1 == listed.index(SHEET)  # side by side in the folder
    assert "1 document(s) modifié(s) depuis qu'e2docs les a écrits, conservé(s)" in result.output
    assert f"{SHEET} → {SHEET_NEW}" in result.output
    # the next run replaces its own new version in place: no third copy
    again = report(campaign)
    assert again.exit_code == 0, again.output
    assert names(out) == sorted(EXPECTED + [SHEET_NEW])
    assert (out / SHEET).read_bytes() == edited
    # once the secretariat removes its edited copy, the document is written under its own name again
    # and the spare new version (e2docs' own, unchanged) goes
    (out / SHEET).unlink()
    result = report(campaign)
    assert result.exit_code == 0, result.output
    assert names(out) == EXPECTED
    assert "1 ancien(s) document(s) périmé(s) retiré(s)" in result.output


def test_documents_an_earlier_version_recorded_in_json_are_still_its_own(campaign):
    """A campaign whose documents an earlier development version wrote, its record kept as JSON: report replaces them in
    place as its own (but the one edited since), and the record moves into the database."""
    out = campaign / "rapports"
    assert report(campaign).exit_code == 0
    with contextlib.closing(sqlite3.connect(campaign / written.RECORD)) as db:
        files = {
            key: {"sha256": hashes.split(), "by": by, "written_at": when}
            for key, hashes, by, when in db.execute("SELECT key, sha256, by, written_at FROM files")
        }
    assert {f"rapports/{name}" for name in EXPECTED} <= files.keys()
    (campaign / written.RECORD).unlink()
    legacy = campaign / written.LEGACY_RECORD  # as earlier development versions wrote it
    legacy.write_text(json.dumps({"version": 1, "files": files}, ensure_ascii=False, indent=1) + "\n", "utf-8")
    hand_edit(out / SHEET)
    result = report(campaign)
    assert result.exit_code == 0, result.output
    assert names(out) == sorted(EXPECTED + [SHEET_NEW])  # a new version beside the edited one only
    assert not legacy.exists()
    with written.Record.load(campaign) as record:
        assert all(record.owns(out / name) for name in EXPECTED if name != SHEET)


def test_an_edited_new_version_gets_a_second_one(campaign):
    out = campaign / "rapports"
    assert report(campaign).exit_code == 0
    first = hand_edit(out / SHEET)
    assert report(campaign).exit_code == 0
    second = hand_edit(out / SHEET_NEW, "Deuxième correction")
    result = report(campaign)
    assert result.exit_code == 0, result.output
    third = f"{LE_GOFF}_fiche-evaluation (nouvelle version 2).docx"
    assert (out / SHEET).read_bytes() == first and (out / SHEET_NEW).read_bytes() == second
    assert table_row(out / third, "NOTE FINALE")[-1] == "16 / 20"
    assert f"{SHEET} → {third}" in result.output


def test_bytes_appended_to_the_class_record_keep_it_from_being_replaced(campaign):
    out = campaign / "rapports"
    assert report(campaign).exit_code == 0
    with open(out / CLASS_RECORD, "ab") as fh:
        fh.write(b"\0")
    before = (out / CLASS_RECORD).read_bytes()
    result = report(campaign)
    assert result.exit_code == 0, result.output
    assert (out / CLASS_RECORD).read_bytes() == before
    assert (out / "recapitulatif-classe_TMCV2 (nouvelle version).docx").is_file()


def test_a_file_of_the_same_name_e2docs_never_wrote_is_kept(campaign):
    # a document written by hand under e2docs' name, or left by a version of e2docs that kept no record
    out = campaign / "rapports"
    out.mkdir()
    (out / SHEET).write_bytes(b"fiche faite a la main")
    result = report(campaign)
    assert result.exit_code == 0, result.output
    assert (out / SHEET).read_bytes() == b"fiche faite a la main"
    assert table_row(out / SHEET_NEW, "NOTE FINALE")[-1] == "16 / 20"


def test_a_pdf_e2docs_did_not_write_is_never_removed(campaign):
    out = campaign / "rapports"
    assert report(campaign).exit_code == 0
    printed = out / "recapitulatif-classe_TMCV2.pdf"
    printed.write_bytes(b"%PDF-1.4 printed from Word")
    mine = out / "notes du secretariat.docx"
    mine.write_bytes(b"notes")
    result = report(campaign)
    assert result.exit_code == 0, result.output
    assert printed.read_bytes() == b"%PDF-1.4 printed from Word" and mine.read_bytes() == b"notes"
    assert "périmé" not in result.output


def test_stale_documents_are_removed_only_when_unchanged(campaign):
    out = campaign / "rapports"
    assert report(campaign, "--merge").exit_code == 0
    sheet = out / f"{HOARAU}_fiche-evaluation.docx"
    edited_sheet = hand_edit(sheet)
    edited_merged = hand_edit(out / MERGED)
    result = report(campaign, "--only", "complete")
    assert result.exit_code == 0, result.output
    assert sheet.read_bytes() == edited_sheet
    assert (out / MERGED).read_bytes() == edited_merged
    assert not (out / f"{HOARAU}_synthese-prospection.docx").exists()  # e2docs' own, unchanged: removed
    assert "1 ancien(s) document(s) périmé(s) retiré(s)" in result.output
    assert "2 ancien(s) document(s) périmé(s) conservé(s), car modifié(s)" in result.output
    assert f"  {MERGED}" in result.output and f"  {sheet.name}" in result.output


def test_a_failed_report_leaves_the_documents_of_the_previous_run(campaign, tmp_path):
    out = campaign / "rapports"
    assert report(campaign, "--merge").exit_code == 0
    before = {name: (out / name).read_bytes() for name in names(out)}
    mine = tmp_path / "modeles"
    mine.mkdir()
    doc = Document(str(template_path(EVALUATION)))
    doc.add_paragraph("Nom : {{ candidat.nmo }}")
    doc.save(str(mine / EVALUATION))
    assert report(campaign, "--templates", str(mine)).exit_code == 2
    assert {name: (out / name).read_bytes() for name in names(out)} == before


def test_report_killed_at_any_point_then_run_again_ends_as_one_run(campaign):
    out = campaign / "rapports"
    assert report(campaign, "--merge").exit_code == 0
    expected = sorted(EXPECTED + [MERGED])
    command = [sys.executable, "-m", "e2docs", "-C", str(campaign), "report", "--merge"]
    for delay in (0.6, 1.3, 2.0):  # seconds: while starting, while rendering, while moving the documents in
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.kill()  # SIGKILL: no clean-up runs
        proc.wait()
        result = report(campaign, "--merge")
        assert result.exit_code == 0, result.output
        assert names(out) == expected, delay  # no staging folder, no spare « nouvelle version »
        assert "nouvelle version" not in result.output
        assert table_row(out / SHEET, "NOTE FINALE")[-1] == "16 / 20"


def test_leftovers_of_a_killed_report_are_removed_but_not_those_of_a_running_one(campaign):
    out = campaign / "rapports"
    out.mkdir()
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = out / f".e2docs-rapport-{int(done.stdout)}-abc"
    dead.mkdir()
    (dead / SHEET).write_bytes(b"half")
    running = out / f".e2docs-rapport-{os.getppid()}-abc"  # our parent process runs
    running.mkdir()
    assert report(campaign).exit_code == 0
    assert not dead.exists() and running.is_dir()


# ------------------------------------------------------------------ report over several processes


def test_report_splits_only_large_batches_on_idle_cores(monkeypatch):
    from e2docs.app import documents
    from e2docs.formats import processes

    monkeypatch.setattr(processes, "cores", lambda: 2)
    monkeypatch.setattr(processes, "load", lambda: 0.3)
    assert documents.processes_for(12) == documents.processes_for(documents.PARALLEL_FROM - 1) == 1
    assert documents.processes_for(documents.PARALLEL_FROM) == documents.processes_for(5000) == 2
    monkeypatch.setattr(processes, "load", lambda: 1.5)  # the other core is busy
    assert documents.processes_for(5000) == 1


def two_processes(monkeypatch, chunk: int = 2, window: int = 2) -> None:
    """Force the split over a spawned process (whatever the load of the machine), in small chunks,
    few of them handed out at a time (the window is refilled as they are settled)."""
    from e2docs.app import documents

    monkeypatch.setattr(documents, "processes_for", lambda count: 2)
    monkeypatch.setattr(documents, "CHUNK", chunk)
    monkeypatch.setattr(documents, "WINDOW", window)


def members(path: Path) -> dict[str, bytes]:
    """The members of the package at ``path``, its edit date (« Édité le 29/11/2026 ») written as
    JJ/MM/AAAA: two runs on either side of midnight differ by that alone (CI once did)."""
    import datetime as dt
    import zipfile

    today = dt.date.today()
    dates = [(today - dt.timedelta(days=days)).strftime("%d/%m/%Y").encode() for days in (0, 1)]
    with zipfile.ZipFile(path) as z:
        found = {name: z.read(name) for name in z.namelist()}
    for date in dates:
        found = {name: data.replace(date, b"JJ/MM/AAAA") for name, data in found.items()}
    return found


def test_documents_made_over_two_processes_are_those_of_one(campaign, tmp_path, monkeypatch):
    serial = tmp_path / "serial"
    shutil.copytree(campaign, serial)
    one = report(serial, "--merge")
    two_processes(monkeypatch)
    two = report(campaign, "--merge")
    assert one.exit_code == two.exit_code == 0, two.output
    assert one.output.replace(str(serial), str(campaign)) == two.output  # same lines, same PROVISOIRE, same skipped
    assert names(campaign / "rapports") == names(serial / "rapports") == sorted(EXPECTED + [MERGED])
    for name in names(serial / "rapports"):
        if name.endswith(".docx"):  # every member the same (only the zip's dates may differ)
            assert members(campaign / "rapports" / name) == members(serial / "rapports" / name), name


def test_a_broken_template_over_two_processes_gives_the_same_error_and_writes_nothing(campaign, tmp_path, monkeypatch):
    mine = tmp_path / "modeles"
    mine.mkdir()
    doc = Document(str(template_path(EVALUATION)))
    doc.add_paragraph("Nom : {{ candidat.nmo }}")
    doc.save(str(mine / EVALUATION))
    serial = tmp_path / "serial"
    shutil.copytree(campaign, serial)
    one = report(serial, "--templates", str(mine))
    two_processes(monkeypatch)
    two = report(campaign, "--templates", str(mine))
    assert one.exit_code == two.exit_code == 2
    assert one.output.replace(str(serial), str(campaign)) == two.output
    assert "champ inconnu « nmo »" in two.output and "Traceback" not in two.output
    assert not list((campaign / "rapports").glob("*.docx"))
    assert not [p for p in (campaign / "rapports").iterdir()]  # no staging folder left either


def early_renders(monkeypatch) -> list[bool]:
    """Spy on the class record's early rendering: for each call, whether it rendered it then."""
    from e2docs.app import documents

    early: list[bool] = []
    real = documents._ClassRecord.early

    def spy(self):
        real(self)
        early.append(self.done)

    monkeypatch.setattr(documents._ClassRecord, "early", spy)
    return early


@pytest.mark.parametrize("also_the_sheet", [False, True], ids=["class record", "both"])
def test_a_broken_class_record_over_two_processes_gives_one_process_s_error(
    campaign, tmp_path, monkeypatch, also_the_sheet
):
    """The class record is rendered while the other process renders candidates (collect kept every
    evaluation): its template's error still comes after the candidates' own, as in one process."""
    from e2docs.reports import CLASS_RECORD as CLASS_TEMPLATE

    mine = tmp_path / "modeles"
    mine.mkdir()
    doc = Document(str(template_path(CLASS_TEMPLATE)))
    doc.add_paragraph("{{ classe.inconnu }}")
    doc.save(str(mine / CLASS_TEMPLATE))
    if also_the_sheet:
        doc = Document(str(template_path(EVALUATION)))
        doc.add_paragraph("Nom : {{ candidat.nmo }}")
        doc.save(str(mine / EVALUATION))
    serial = tmp_path / "serial"
    shutil.copytree(campaign, serial)
    one = report(serial, "--templates", str(mine))
    early = early_renders(monkeypatch)
    two_processes(monkeypatch)
    two = report(campaign, "--templates", str(mine))
    assert early == [True]  # rendered early, while the other process worked
    assert one.exit_code == two.exit_code == 2
    assert one.output.replace(str(serial), str(campaign)) == two.output
    assert ("champ inconnu « nmo »" in two.output) == also_the_sheet
    assert "Traceback" not in two.output
    assert not [p for p in (campaign / "rapports").iterdir()]  # nothing written, no staging folder left


def test_the_class_record_waits_for_every_return_when_one_must_be_read_again(campaign, tmp_path, monkeypatch):
    import sqlite3

    with contextlib.closing(sqlite3.connect(campaign / "registre.sqlite")) as db, db:
        db.execute("DELETE FROM evaluations WHERE candidate = ?", ("2709411105",))  # LE GOFF: read again
    serial = tmp_path / "serial"
    shutil.copytree(campaign, serial)
    one = report(serial)
    early = early_renders(monkeypatch)
    two_processes(monkeypatch)
    two = report(campaign)
    assert early == [False]  # made at the end, from every return read
    assert one.exit_code == two.exit_code == 0
    assert members(campaign / "rapports" / CLASS_RECORD) == members(serial / "rapports" / CLASS_RECORD)


@pytest.mark.parametrize("broken", [1, 6])  # the second candidate returned (this process's), the last (the other's)
def test_an_unreadable_return_over_two_processes_gives_the_same_error_and_writes_nothing(
    campaign, tmp_path, monkeypatch, broken
):
    out = campaign / "rapports"
    assert report(campaign).exit_code == 0
    before = {name: (out / name).read_bytes() for name in names(out)}
    stored = sorted((campaign / "retours").glob("*.xlsx"))
    stored[broken].write_bytes(b"PK\x03\x04 not a workbook any more")
    serial = tmp_path / "serial"
    shutil.copytree(campaign, serial)
    one = report(serial)
    two_processes(monkeypatch, chunk=1)
    two = report(campaign)
    assert one.exit_code == two.exit_code == 2, two.output
    assert one.output.replace(str(serial), str(campaign)) == two.output
    assert stored[broken].name in two.output and "Traceback" not in two.output
    assert {name: (out / name).read_bytes() for name in names(out)} == before  # the previous documents


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(x) for x in (task / "children").read_text().split()}
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="lists child processes through /proc")
def test_a_report_over_two_processes_killed_stops_its_worker_and_a_new_run_ends_as_one(campaign):
    out = campaign / "rapports"
    code = (
        "import sys; from e2docs.app import documents as d; d.processes_for = lambda n: 2; d.CHUNK = 1; "
        "from e2docs.cli import main; main(sys.argv[1:])"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "-C", str(campaign), "report", "--merge"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while not workers and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        workers = children(proc.pid)
    assert workers, "no process was spawned"
    time.sleep(1.5)  # the spawned process has started and renders
    proc.kill()  # SIGKILL: no clean-up runs
    proc.wait()
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{w}").exists() for w in workers), "a spawned process outlived the run"
    result = report(campaign, "--merge")
    assert result.exit_code == 0, result.output
    assert names(out) == sorted(EXPECTED + [MERGED])  # no staging folder, no spare « nouvelle version »
    assert table_row(out / SHEET, "NOTE FINALE")[-1] == "16 / 20"


def test_statuses_read_a_batch_at_a_time_are_those_read_at_once(campaign):
    from e2docs.app.campaign import open_campaign
    from e2docs.app.status import candidate_statuses, iter_candidate_statuses

    with open_campaign(campaign).ledger(readonly=False) as ledger:
        whole = candidate_statuses(ledger)
        assert len(whole) == ledger.candidate_count() > 3
        for batch in (1, 2, 3, 500):
            assert list(iter_candidate_statuses(ledger, batch)) == whole
        # a shorter roster given later: its candidates take positions the others still have
        roster = ledger.candidates()
        ledger.set_candidates(roster[:3][::-1])
        again = ledger.candidates()
        assert sorted(c.number for c in again) == sorted(c.number for c in roster)
        for size in (1, 2, 500):
            assert [c for batch in ledger.candidate_batches(size) for c in batch] == again
        assert ledger.divisions() == ["TMCV2"]


@pytest.mark.parametrize("processes", [1, 2])
def test_report_holds_a_few_candidates_at_a_time_not_all(campaign, monkeypatch, processes):
    """The candidates are read from the ledger as their turn comes, and let go once their documents
    are made: report's memory does not grow with the number of candidates."""
    from e2docs.app import documents
    from e2docs.app.campaign import open_campaign

    if processes == 2:
        two_processes(monkeypatch, chunk=1, window=2)
    real = documents.iter_candidate_statuses
    pulled: list[list[int]] = []  # per reading of the ledger: how many candidates it gave so far

    def one_by_one(ledger, batch=500):
        pulled.append(count := [0])
        for status in real(ledger, 1):
            count[0] += 1
            yield status

    monkeypatch.setattr(documents, "iter_candidate_statuses", one_by_one)
    ahead: list[int] = []  # when each candidate is settled: how many more were read from the ledger

    def progress(statuses):
        for settled, _ in enumerate(statuses, 1):
            ahead.append(pulled[0][0] - settled)  # the first reading is the documents' own
            yield _

    with open_campaign(campaign).ledger() as ledger:
        count = ledger.candidate_count()
    result = documents.make_reports(open_campaign(campaign), progress=progress)
    assert len(ahead) == count > 8 and len(result.written) == len(EXPECTED)
    # one process: none read ahead; two: at most the window handed out (2 chunks of 1), not the class
    assert max(ahead) == 0 if processes == 1 else 0 < max(ahead) <= 2


def test_a_ledger_row_read_ahead_fails_in_the_candidates_order_over_two_processes(campaign, tmp_path, monkeypatch):
    """Two processes read the ledger ahead of the work; a row that cannot be read (a birth date edited
    by hand) is still reported after the earlier candidates' own errors, as one process reports it."""
    import sqlite3

    from e2docs.app import documents
    from e2docs.app.campaign import open_campaign

    with open_campaign(campaign).ledger() as ledger:
        roster = ledger.candidates()
        returned = [c for c in roster if ledger.returns(c.number)]
        first = ledger.returns(returned[0].number)[-1]
    (campaign / first.stored_path).write_bytes(b"PK\x03\x04 not a workbook any more")  # the first returned
    with contextlib.closing(sqlite3.connect(campaign / "registre.sqlite")) as db, db:
        db.execute("UPDATE candidates SET birth_date = '14/03/2009' WHERE number = ?", (roster[-1].number,))
    real = documents.iter_candidate_statuses
    monkeypatch.setattr(documents, "iter_candidate_statuses", lambda ledger, batch=500: real(ledger, 1))
    serial = tmp_path / "serial"
    shutil.copytree(campaign, serial)
    one = report(serial)
    two_processes(monkeypatch, chunk=1, window=64)  # every candidate read before the first is settled
    two = report(campaign)
    assert one.exit_code == two.exit_code == 2, two.output
    assert one.output.replace(str(serial), str(campaign)) == two.output
    assert Path(first.stored_path).name in two.output and "Traceback" not in two.output
