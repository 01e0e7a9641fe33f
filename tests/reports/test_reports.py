"""Word documents: template data, rendering (sandboxed, escaped), merging, PDF through LibreOffice."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document

from e2docs.formats import libreoffice
from e2docs.formats.xlsx.evaluation import evaluation_of
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.model.candidate import Candidate
from e2docs.model.states import CandidateState
from e2docs.reports import (
    FIELDS_DOC,
    ClassInfo,
    ClassRow,
    ReportError,
    candidate_context,
    class_context,
    class_rows,
    convert_to_pdf,
    fields_text,
    merge_documents,
    render_candidate_documents,
    render_class_record,
    template_path,
)
from e2docs.reports.render import render_to
from e2docs.reports.samples import sample_class_info, sample_class_rows, sample_evaluation
from tests.helpers import ALL_LEVEL_3, DATA, fill, level_values, make_workbook
from tests.lo.lo import pdf_pages, require_tools

OBS = (
    "Très bonne analyse du tableau de bord pour « Dupont & Fils <SARL> » ; l'élève a su "
    "justifier ses choix.\nDeuxième ligne : 5 < 7 & 7 > 5. "
)
LONG_OBS = (OBS * 12)[:1500].rstrip()
ORGANISATION = "Dupont & Fils <SARL>"


def _filled(tmp_path, **extra) -> Path:
    levels = dict(ALL_LEVEL_3, **{"C2.1": 4})
    values = level_values(levels)
    values.update(
        {
            "observations": OBS,
            "commission_prof_nom": "Mme Lefèvre-D'Arc",
            "commission_date": dt.datetime(2027, 3, 12),
            "reperage_1_1": "X",
            "prosp_organisation": ORGANISATION,
            "prosp_debut": dt.datetime(2027, 1, 5),
            "prosp_fin": dt.datetime(2027, 1, 20),
            "prosp_obj_contacts": 100,
            "prosp_res_contacts": 80,
            "prosp_obj_ventes": 4,
            "prosp_res_ventes": 6,
            "prosp_moy_budget": 1250,
            "prosp_obj_ca": 5000,
            "prosp_res_ca": 5250.5,
            "prosp_tech_phoning": "X",
            "prosp_tech_autre": "X",
            "prosp_tech_autre_precision": "Flyers",
        }
    )
    values.update(extra)
    return fill(make_workbook(tmp_path), values)


def _read(path: Path):
    (r,) = read_workbook(path)
    return evaluation_of(r)


@pytest.fixture
def evaluation(tmp_path):
    return _read(_filled(tmp_path))


def _all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    for s in doc.sections:
        parts += [p.text for p in s.header.paragraphs] + [p.text for p in s.footer.paragraphs]
    return "\n".join(parts)


def _table_with(doc, text: str):
    return next(t for t in doc.tables if any(text in c.text for r in t.rows for c in r.cells))


# ------------------------------------------------------------------ context


def test_candidate_context_is_formatted_the_french_way(evaluation):
    c = candidate_context(evaluation)
    assert c["candidat"] == {
        "numero": "2709411047",
        "nom": "D'ALMEIDA",
        "prenom": "Inès",
        "division": "TMCV2",
        "naissance": "14/03/2009",
    }
    assert c["commission"]["date"] == "12/03/2027"
    assert c["etablissement"] == "LP Jean Moulin – Villefictive" and c["academie_libelle"] == "Académie de Versailles"
    crit = {k["id"]: k for m in c["metas"] for k in m["criteres"]}
    assert crit["C1.1"]["points"] == "2,25" and crit["C1.1"]["niveau_libelle"] == "Averti"
    assert crit["C3.1"]["points"] == "1,875"
    assert crit["C2.1"]["coches"] == [False, False, False, True] and crit["C2.1"]["marques"][3] == "✗"
    assert c["metas"][0]["competences"][0]["observee"] and c["metas"][0]["competences"][0]["case"] == "☒"
    assert c["metas"][4]["criteres"] == []
    assert (c["note_proposee"], c["note_finale"], c["complet"], c["provisoire"]) == ("15,5", "15,5", True, False)
    p = c["prospection"]
    assert p["organisation"] == ORGANISATION and p["debut"] == "05/01/2027" and p["duree"] == "16 jours"
    assert p["moy_budget"] == "1\u00a0250,00\u00a0€" and p["cout_contact"] == "15,63\u00a0€"
    assert p["taux_conversion"] == "7,5\u00a0%"
    assert p["techniques"] == ["Phoning", "Autre : Flyers"] and p["tech_phoning"] is True
    rows = {r["libelle"]: r for r in p["tableau"]}
    assert rows["Contacts"] == {
        "libelle": "Contacts",
        "objectif": "100",
        "resultat": "80",
        "ecart": "-20",
        "taux": "80,0\u00a0%",
    }
    assert rows["Ventes"]["ecart"] == "+2" and rows["Chiffre d'affaires (€)"]["ecart"] == "+250,50\u00a0€"
    assert rows["Rendez-vous"] == {"libelle": "Rendez-vous", "objectif": "", "resultat": "", "ecart": "", "taux": ""}


def _paths(data, prefix="") -> set[str]:
    out = set()
    for key, value in data.items():
        path = f"{prefix}{key}"
        out.add(path)
        if isinstance(value, dict):
            out |= _paths(value, path + ".")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out |= _paths(value[0], path + "[].")
    return out


def test_fields_doc_describes_exactly_the_data(evaluation):
    documented = {f.document: set() for f in FIELDS_DOC}
    for f in FIELDS_DOC:
        documented[f.document].add(f.path)
        assert f.description and f.kind
    assert _paths(candidate_context(evaluation)) == documented["candidat"]
    assert _paths(class_context(sample_class_rows(), sample_class_info())) == documented["classe"]
    text = fields_text()
    assert "candidat.nom" in text and "metas[].criteres[].points" in text and "lignes[].statut" in text
    assert "| `prospection.organisation` |" in fields_text(markdown=True)


def test_incomplete_and_empty_grid_gives_blanks_not_none(tmp_path):
    r = _read(make_workbook(tmp_path))
    c = candidate_context(r)
    assert c["provisoire"] and not c["complet"]
    assert c["note_proposee"] == c["note_finale"] == c["total_points"] == c["observations"] == ""
    assert c["manquants"][0] == "niveau du critère C1.1" and c["manquants"][-1] == "observations"
    assert c["prospection"]["periode"] == "" and c["prospection"]["techniques"] == []


def test_invalid_inputs_are_shown_as_typed(tmp_path):
    path = _filled(tmp_path, prosp_obj_contacts="beaucoup", note_commission=25)
    r = _read(path)
    c = candidate_context(r)
    assert c["prospection"]["obj_contacts"] == "beaucoup"
    assert c["note_commission"] == "25" and c["note_finale"] == ""


def test_user_text_is_cleaned_and_never_interpreted(tmp_path):
    r = sample_evaluation(observations="Ligne\x0bsuivante\x07 {{ candidat.nom }} {% if x %}\r\nfin ")
    assert candidate_context(r)["observations"] == "Ligne\nsuivante {{ candidat.nom }} {% if x %}\nfin"
    (sheet, _) = render_candidate_documents(r, tmp_path, "x")
    obs = _table_with(Document(sheet), "Ligne")
    assert obs.cell(0, 0).text == "Ligne\nsuivante {{ candidat.nom }} {% if x %}\nfin"


def test_class_context_statistics_and_distribution():
    marks = {"01": {c: 4 for c in ALL_LEVEL_3}, "02": {c: 1 for c in ALL_LEVEL_3}, "03": ALL_LEVEL_3}
    evaluations = [sample_evaluation(Candidate(n, f"NOM{n}", "Prénom", "T1"), lv) for n, lv in marks.items()]
    rows = class_rows(
        evaluations,
        missing=[Candidate("04", "ABSENT", "Léo", "T1")],
        rejected=[(Candidate("05", "REJET", "Ana", "T1"), "signature invalide")],
    )
    c = class_context(rows, ClassInfo("2027", "LP Test", "Amiens", "T1"))
    assert [r["statut"] for r in c["lignes"]] == ["complète", "complète", "complète", "non rendue", "rejetée"]
    assert c["academie_libelle"] == "Académie d'Amiens"
    s = c["stats"]
    assert (s["effectif"], s["effectif_notes"], s["non_rendues"], s["rejetees"]) == (5, 3, 1, 1)
    # 20, 5 and 15: mean 13,33
    assert (s["moyenne"], s["min"], s["max"], s["mediane"]) == ("13,33", "5", "20", "15")
    bands = {b["tranche"]: b["effectif"] for b in c["repartition"]}
    assert list(bands)[0] == "0–2" and list(bands)[-1] == "18–20"
    assert bands["18–20"] == 1 and bands["4–6"] == 1 and bands["14–16"] == 1 and sum(bands.values()) == 3
    assert max(len(b["barre"]) for b in c["repartition"]) == 30
    c11 = c["criteres"][0]
    assert c11["id"] == "C1.1" and c11["comptes"] == [1, 0, 1, 1] and c11["total"] == 3
    assert c11["barre"] == "░" * 10 + "▓" * 10 + "█" * 10
    assert [m["nom"] for m in c["manquants"]] == ["ABSENT", "REJET"]
    assert c["manquants"][1]["etat"] == "signature invalide"


def test_incomplete_grid_marks_count_but_rejected_do_not():
    inc = sample_evaluation(Candidate("1", "A", "B", "T"), {"C1.1": 2}, observations=None)
    rej = sample_evaluation(Candidate("2", "C", "D", "T"))
    rows = [ClassRow.from_evaluation(inc), ClassRow(rej.candidate, "rejected", rej)]
    c = class_context(rows)
    assert c["lignes"][0]["statut"] == "incomplète" and c["lignes"][1]["note_finale"] == ""
    assert c["stats"]["effectif_notes"] == 0 and c["stats"]["moyenne"] == ""
    assert c["criteres"][0]["comptes"] == [0, 1, 0, 0]


# ------------------------------------------------------------------ rendering


def test_excel_escaped_line_break_becomes_a_line_break_in_the_documents(tmp_path):
    """Case 10 (tests/data/cases/10-excel-escaped-control-char): MARTIN's observations hold Excel's
    ``_x000B_`` (a line break typed in Word and pasted); the documents show a line break there."""
    from e2docs.app.campaign import open_campaign

    campaign = open_campaign(DATA / "cases" / "campagne-0.1")
    grid = campaign.grid()
    (path,) = (DATA / "cases" / "10-excel-escaped-control-char").glob("*.xlsx")
    (reading,) = read_workbook(path, {grid.content_hash: grid}, secret=campaign.secret)
    sheet, summary = render_candidate_documents(evaluation_of(reading), tmp_path, "MARTIN_Zoe")
    doc = Document(sheet)
    obs = _table_with(doc, "Travail régulier.")
    assert obs.cell(0, 0).text == "Travail régulier.\nL'entreprise « Dupont & Fils <SARL> » souligne sa ponctualité."
    with zipfile.ZipFile(sheet) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    assert re.search(r"Travail régulier\.</w:t>(?:</w:r><w:r>(?:<w:rPr>.*?</w:rPr>)?)?<w:br/>", xml)
    for document in (sheet, summary):
        with zipfile.ZipFile(document) as zf:
            assert not any(b"_x000" in zf.read(n) for n in zf.namelist() if n.endswith(".xml")), document.name


def test_evaluation_sheet_holds_values_where_expected(evaluation, tmp_path):
    sheet, summary = render_candidate_documents(evaluation, tmp_path / "out", "DALMEIDA_Ines")
    assert sheet.name == "DALMEIDA_Ines_fiche-evaluation.docx"
    assert summary.name == "DALMEIDA_Ines_synthese-prospection.docx"
    doc = Document(sheet)
    ident = _table_with(doc, "N° candidat")
    assert ident.cell(0, 1).text == "D'ALMEIDA" and ident.cell(0, 3).text == "2709411047"
    assert ident.cell(1, 1).text == "Inès" and ident.cell(2, 1).text == "14/03/2009"
    obs = _table_with(doc, "Deuxième ligne")
    assert obs.cell(0, 0).text == OBS.strip()  # "&", "<", ">" and the line break as typed
    grid = _table_with(doc, "Critères d'évaluation et indicateurs")
    row = next(r for r in grid.rows if r.cells[2].text.startswith("C2.1 — "))
    assert [c.text for c in row.cells[3:7]] == ["", "", "", "✗"] and row.cells[7].text == "2"
    row = next(r for r in grid.rows if r.cells[2].text.startswith("C1.1 — "))
    assert [c.text for c in row.cells[3:8]] == ["", "", "✗", "", "2,25"]
    assert "☒ 1.1 Identifier" in row.cells[1].text and "☐ 1.2 Collecter" in row.cells[1].text
    assert any("Pas de critère d'évaluation" in r.cells[2].text for r in grid.rows)
    text = _all_text(doc)
    assert "PROVISOIRE" not in text and "{{" not in text and "{%" not in text and "None" not in text
    assert "15,5 / 20" in text and "Mme Lefèvre-D'Arc" in text
    header = doc.sections[0].header.paragraphs[0].text
    assert "LP Jean Moulin – Villefictive" in header and "Académie de Versailles" in header


def test_incomplete_sheet_is_marked_provisional(tmp_path):
    r = _read(make_workbook(tmp_path))
    sheet, summary = render_candidate_documents(r, tmp_path, "vide")
    text = _all_text(Document(sheet))
    assert "PROVISOIRE — grille incomplète : 9 critère(s) à renseigner, observations à rédiger" in text
    assert "None" not in text and "{{" not in text
    assert "None" not in _all_text(Document(summary))


def test_prospecting_summary(evaluation, tmp_path):
    _, summary = render_candidate_documents(evaluation, tmp_path, "x")
    doc = Document(summary)
    ctx = _table_with(doc, "Organisation")
    assert ctx.cell(0, 1).text == ORGANISATION
    board = _table_with(doc, "Taux de réalisation")
    contacts = next(r for r in board.rows if r.cells[0].text == "Contacts")
    assert [c.text for c in contacts.cells] == ["Contacts", "100", "80", "-20", "80,0\u00a0%"]
    assert len(board.rows) == 1 + 4 + 2  # header, the four indicators, argumentés and prospects
    text = _all_text(doc)
    assert "Phoning, Autre : Flyers" in text and "du 05/01/2027 au 20/01/2027" in text
    assert "—" in _table_with(doc, "Causes des écarts").cell(0, 1).text  # empty field shown as a dash


def test_class_record(tmp_path):
    out = render_class_record(sample_class_rows(), sample_class_info(), tmp_path / "recap.docx")
    doc = Document(out)
    table = _table_with(doc, "Note finale")
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert rows[0][:2] == ["02709411047", "D'ALMEIDA"] and rows[0][-1] == "complète"
    assert ["07", "BERNARD", "Hugo", "TMCV2", "", "", "non rendue"] in rows
    assert rows[-1][1:3] == ["DURAND & FILS", "Max <test>"] and rows[-1][-1] == "rejetée"
    assert len(doc.inline_shapes) == 2  # the two charts (tests/reports/test_charts.py)
    levels = _table_with(doc, "Évalués")
    assert [r.cells[0].text for r in levels.rows[1:]] == [
        "C1.1",
        "C2.1",
        "C2.2",
        "C3.1",
        "C3.2",
        "C4.1",
        "C4.2",
        "C4.3",
        "C4.4",
    ]
    missing = _table_with(doc, "rejetée : signature invalide")
    assert len(missing.rows) == 3
    assert "RÉCAPITULATIF DE CLASSE — TMCV2" in _all_text(doc)


def test_class_record_without_missing_candidates_has_no_missing_section(tmp_path):
    rows = [r for r in sample_class_rows() if r.status in ("complete", "incomplete")]
    text = _all_text(Document(render_class_record(rows, None, tmp_path / "r.docx")))
    assert "Grilles non rendues ou rejetées" not in text and "{%" not in text


def test_a_class_record_of_outcomes_alone_is_that_of_whole_evaluations(tmp_path):
    """report holds each row's outcome only (a quarter of an evaluation's memory): the class record
    is the same, statistics and charts included."""
    rows = sample_class_rows()
    slim = [ClassRow(r.candidate, r.status, None, r.detail, r.outcome) for r in rows]
    assert any(r.evaluation is not None for r in rows) and all(r.evaluation is None for r in slim)
    assert [r.scored for r in slim] == [r.scored for r in rows]
    whole = render_class_record(rows, sample_class_info(), tmp_path / "entier.docx")
    light = render_class_record(slim, sample_class_info(), tmp_path / "leger.docx")
    with zipfile.ZipFile(whole) as a, zipfile.ZipFile(light) as b:
        assert a.namelist() == b.namelist()
        assert [n for n in a.namelist() if n != "docProps/core.xml" and a.read(n) != b.read(n)] == []


def _template(tmp_path: Path, *paragraphs: str, name: str = "fiche-evaluation.docx") -> Path:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    path = tmp_path / name
    doc.save(path)
    return path


@pytest.mark.parametrize(
    "code",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ 'x' * 10000000 }}",
        "{% for i in range(10**9) %}{% endfor %}",
    ],
)
def test_template_cannot_reach_python(tmp_path, code):
    tpl = _template(tmp_path, code)
    with pytest.raises(ReportError) as err:
        render_to(tpl, candidate_context(sample_evaluation()), tmp_path / "o.docx")
    assert "interdit" in str(err.value) or "trop" in str(err.value)
    assert str(tpl) in str(err.value)
    assert not (tmp_path / "o.docx").exists()


def test_unknown_field_is_an_error_not_a_blank(tmp_path):
    tpl = _template(tmp_path, "Nom : {{ candidat.nmo }}")
    with pytest.raises(ReportError, match="champ inconnu « nmo »"):
        render_to(tpl, candidate_context(sample_evaluation()), tmp_path / "o.docx")


def test_failed_render_leaves_existing_document_untouched(tmp_path):
    out = tmp_path / "o.docx"
    out.write_bytes(b"previous")
    with pytest.raises(ReportError):
        render_to(_template(tmp_path, "{{ inconnu }}"), {}, out)
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fiche-evaluation.docx", "o.docx"]


def test_templates_dir_overrides_one_template(tmp_path):
    own = tmp_path / "modeles"
    own.mkdir()
    _template(own, "Fiche maison : {{ candidat.nom }}")
    assert template_path("fiche-evaluation.docx", own) == own / "fiche-evaluation.docx"
    assert template_path("synthese-prospection.docx", own).parent.name == "docx"
    sheet, summary = render_candidate_documents(sample_evaluation(), tmp_path / "out", "x", own)
    assert Document(sheet).paragraphs[0].text == "Fiche maison : D'ALMEIDA"
    assert "SYNTHÈSE" in _all_text(Document(summary))


def test_unreadable_template_is_reported(tmp_path):
    bad = tmp_path / "fiche-evaluation.docx"
    bad.write_text("pas un docx")
    with pytest.raises(ReportError, match="illisible"):
        render_to(bad, {}, tmp_path / "o.docx")


# ------------------------------------------------------------------ merge


def _sheets(tmp_path: Path, n: int = 3) -> list[Path]:
    paths = []
    for i in range(n):
        r = sample_evaluation(Candidate(f"0{i}", f"NOM{i}", "Prénom", "T1"))
        paths += render_candidate_documents(r, tmp_path / "sheets", f"c{i}")[:1]
    return paths


def test_merge_documents_one_section_per_sheet(tmp_path):
    paths = _sheets(tmp_path)
    out = merge_documents(paths, tmp_path / "toutes.docx")
    doc = Document(out)
    assert len(doc.sections) == 3
    footers = [s.footer.paragraphs[0].text for s in doc.sections]
    assert [("NOM0" in f, "NOM1" in f, "NOM2" in f) for f in footers] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    body = doc.element.body.xml
    assert body.count('w:start="1"') == 3  # page numbers restart for each candidate
    assert "NUMPAGES" not in "".join(s.footer._element.xml for s in doc.sections)
    names = [t.cell(0, 1).text for t in doc.tables if t.cell(0, 0).text == "Nom"]
    assert names == ["NOM0", "NOM1", "NOM2"]


# ------------------------------------------------------------------ LibreOffice


@pytest.mark.libreoffice
def test_libreoffice_converts_every_document_and_sheet_fits_twopdf_pages(tmp_path):
    require_tools("soffice", "pdfinfo")
    long_names = Candidate(
        "2709411047", "DE LA FONTAINE-D'ALMEIDA & FILS", "Marie-Éléonore Inès", "TMCV2", dt.date(2009, 3, 14)
    )
    docs = render_candidate_documents(sample_evaluation(long_names, observations=LONG_OBS), tmp_path, "long")
    incomplete = sample_evaluation(long_names, {"C1.1": 2}, observations=LONG_OBS)
    docs += render_candidate_documents(incomplete, tmp_path, "provisoire")[:1]
    docs.append(render_class_record(sample_class_rows(), sample_class_info(), tmp_path / "recap.docx"))
    docs.append(merge_documents(_sheets(tmp_path, 2), tmp_path / "toutes.docx"))
    pdfs = convert_to_pdf(docs, tmp_path / "pdf")
    pages = {p.stem: pdf_pages(p) for p in pdfs}
    assert pages["long_fiche-evaluation"] <= 2 and pages["provisoire_fiche-evaluation"] <= 2
    assert pages["long_synthese-prospection"] == 1
    assert pages["recap"] >= 1
    assert pages["toutes"] == 2 * pdf_pages(convert_to_pdf(_sheets(tmp_path / "one", 1), tmp_path / "p1")[0])
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "pdf" / "provisoire_fiche-evaluation.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "PROVISOIRE" in text and "Dupont & Fils <SARL>" in text


@pytest.mark.libreoffice
def test_templates_saved_by_libreoffice_writer_still_work(tmp_path):
    """A secretary opens a template in Writer and saves it as .docx: it must stay usable."""
    require_tools("soffice", "pdfinfo")
    from e2docs.reports import TEMPLATE_NAMES, check_template

    copies = []
    for name in TEMPLATE_NAMES:
        copies.append(tmp_path / "orig" / name)
        copies[-1].parent.mkdir(exist_ok=True)
        shutil.copy(template_path(name), copies[-1])
    done = libreoffice.convert(copies, "docx:MS Word 2007 XML", tmp_path / "lo", 180)
    assert done.returncode == 0, done
    for name in TEMPLATE_NAMES:
        assert check_template(tmp_path / "lo" / name) == [], name
    sheet, _ = render_candidate_documents(sample_evaluation(), tmp_path / "out", "x", tmp_path / "lo")
    grid = _table_with(Document(sheet), "Critères d'évaluation et indicateurs")
    row = next(r for r in grid.rows if r.cells[2].text.startswith("C2.1 — "))
    assert row.cells[6].text == "✗"


def test_missing_libreoffice_gives_french_error(tmp_path, monkeypatch):
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    doc = tmp_path / "a.docx"
    Document().save(doc)
    with pytest.raises(ReportError, match="LibreOffice est introuvable") as err:
        convert_to_pdf([doc], tmp_path)
    assert "libreoffice-writer" in str(err.value)


def test_same_names_would_overwrite_each_other(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        Document().save(tmp_path / d / "x.docx")
    with pytest.raises(ReportError, match="même nom"):
        convert_to_pdf([tmp_path / "a" / "x.docx", tmp_path / "b" / "x.docx"], tmp_path)


def test_a_class_record_of_rows_kept_on_disk_is_that_of_rows_in_memory(tmp_path):
    """report keeps the rows in a temporary file, put in the order the processes finish: the class
    record read back from it (lists, statistics, charts) is the one made from the rows in memory."""
    from e2docs.reports.rows import ClassRows

    rows = sample_class_rows() * 3  # even and odd counts of marks: the median both ways
    for count in (len(rows), len(rows) - 1):
        wanted = rows[:count]
        with ClassRows(count) as kept:
            for i in [*range(1, count, 2), *range(0, count, 2)]:  # out of order
                kept.put(i, wanted[i])
            assert [(r.candidate, r.status, r.detail, r.outcome) for r in kept] == [
                (r.candidate, r.status, r.detail, r.outcome) for r in wanted
            ]
            assert all(r.evaluation is None for r in kept)  # only the outcome is kept of it
            memory = render_class_record(wanted, sample_class_info(), tmp_path / f"memoire{count}.docx")
            disk = render_class_record(kept, sample_class_info(), tmp_path / f"disque{count}.docx")
        with zipfile.ZipFile(memory) as a, zipfile.ZipFile(disk) as b:
            assert a.namelist() == b.namelist()
            assert [n for n in a.namelist() if n != "docProps/core.xml" and a.read(n) != b.read(n)] == []


def test_a_class_context_of_rows_on_disk_reads_them_when_the_template_does():
    from e2docs.reports.rows import ClassRows
    from e2docs.reports.schema import Lazy

    rows = sample_class_rows()
    with ClassRows(len(rows)) as kept:
        for i, row in enumerate(rows):
            kept.put(i, row)
        c = class_context(kept, sample_class_info())
        assert isinstance(c["lignes"], Lazy) and isinstance(c["manquants"], Lazy)
        expected = class_context(rows, sample_class_info())
        for key in ("lignes", "manquants"):
            assert len(c[key]) == len(expected[key])
            assert list(c[key]) == expected[key] == c[key][:]  # read again at each reading
            assert c[key][-1] == expected[key][-1]
        assert {k: v for k, v in c.items() if k not in ("lignes", "manquants", "graphiques")} == {
            k: v for k, v in expected.items() if k not in ("lignes", "manquants", "graphiques")
        }
        assert [r.status for r in kept.where(CandidateState.MISSING)] == [CandidateState.MISSING]
    with ClassRows(2) as empty, pytest.raises(LookupError):
        empty[1]  # a row not put


LIST_EXPRESSIONS = [
    "{{ (lignes + manquants)|length }}",
    "{{ (manquants + lignes)|map(attribute='nom')|join(',') }}",
    "{{ manquants == [] }}",
    "{{ lignes|string }}",
    "{{ lignes.items is defined }}{{ lignes.make is defined }}",
    "{{ (lignes|first).nom }} {{ (lignes|last).nom }} {{ lignes[-1].nom }}",
    "{{ lignes[1:3]|map(attribute='nom')|join(',') }}",
    "{% for l in lignes|reverse %}{{ loop.revindex }}{{ l.nom }}{{ loop.length }}{% endfor %}",
    "{{ (lignes * 2)|length }}",
    "{{ lignes[0] in lignes }}",
    "{% if manquants %}oui{% else %}non{% endif %}",
    "{{ lignes|selectattr('complet')|list|length }}",
    "{{ lignes|sort(attribute='nom')|map(attribute='nom')|join(',') }}",
]


@pytest.mark.parametrize("all_returned", [False, True], ids=["with missing", "none missing"])
def test_a_template_reads_the_rows_on_disk_as_it_reads_a_list(all_returned):
    """Expressions a school's template may use on ``lignes`` and ``manquants`` give the same text with
    rows read from disk (report) as with real lists (check-template, class_context)."""
    from e2docs.reports import limits
    from e2docs.reports.render import make_env
    from e2docs.reports.rows import ClassRows

    rows = [r for r in sample_class_rows() if not all_returned or r.status in ("complete", "incomplete")]
    with ClassRows(len(rows)) as kept:
        for i, row in enumerate(rows):
            kept.put(i, row)
        lists = class_context(rows, sample_class_info())
        lazy = class_context(kept, sample_class_info())
        env = make_env()
        for expression in LIST_EXPRESSIONS:
            with env.bounded(limits.SECONDS):
                template = env.from_string(expression)
                assert template.render(lazy) == template.render(lists), expression
