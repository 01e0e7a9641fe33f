"""Word's own mail-merge fields («Nom_candidat») are found by check-template and refused by report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from e2docs.cli import main
from e2docs.reports import candidate_context, check_template
from e2docs.reports.check import ERROR
from e2docs.reports.context import CANDIDATE_FIELDS, CLASS_FIELDS
from e2docs.reports.errors import ReportError
from e2docs.reports.mergefields import suggest
from e2docs.reports.render import render_to
from e2docs.reports.samples import sample_evaluation
from tests.helpers import DATA

CASE = DATA / "cases" / "09-word-mergefield-template" / "mes-modeles" / "fiche-evaluation.docx"

W = nsdecls("w")


def _simple(name: str) -> str:
    return (
        f'<w:fldSimple {W} w:instr=" MERGEFIELD {name} \\* MERGEFORMAT "><w:r><w:t>«{name}»</w:t></w:r></w:fldSimple>'
    )


def _complex(*instr_pieces: str, shown: str) -> list[str]:
    """The runs of a complex field whose instruction is split over ``instr_pieces`` runs."""
    runs = [f'<w:r {W}><w:fldChar w:fldCharType="begin"/></w:r>']
    runs += [f'<w:r {W}><w:instrText xml:space="preserve">{p}</w:instrText></w:r>' for p in instr_pieces]
    runs += [
        f'<w:r {W}><w:fldChar w:fldCharType="separate"/></w:r>',
        f"<w:r {W}><w:t>{shown}</w:t></w:r>",
        f'<w:r {W}><w:fldChar w:fldCharType="end"/></w:r>',
    ]
    return runs


def _with_fields(tmp_path: Path, where: str, name: str = "fiche-evaluation.docx") -> Path:
    """A template with {{ candidat.nom }} and merge fields in the part ``where``."""
    doc = Document()
    doc.add_paragraph("Nom : {{ candidat.nom }}")
    if where == "corps":
        p = doc.add_paragraph("Candidat : ")
        for xml in _complex(" MERGE", "FIELD  Nom_", "candidat ", shown="«Nom_candidat»"):
            p._p.append(parse_xml(xml))
        p._p.append(parse_xml(_simple("Prénom")))
    elif where == "en-tête":
        p = doc.sections[0].header.paragraphs[0]
        p.text = "Établissement : "
        p._p.append(parse_xml(_simple("Etablissement")))
    elif where == "pied de page":
        p = doc.sections[0].footer.paragraphs[0]
        for xml in _complex(' MERGEFIELD "Date de naissance" ', shown="«Date de naissance»"):
            p._p.append(parse_xml(xml))
    elif where == "zone de texte":
        inner = "".join(_complex(" MERGEFIELD Classe ", shown="«Classe»"))
        box = (
            f'<w:r {W} xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape style="width:100pt;height:30pt">'
            f"<v:textbox><w:txbxContent><w:p><w:r><w:t>Classe : </w:t></w:r>{inner}</w:p></w:txbxContent>"
            "</v:textbox></v:shape></w:pict></w:r>"
        )
        doc.add_paragraph("Encadré")._p.append(parse_xml(box))
    path = tmp_path / name
    doc.save(path)
    return path


def _merge_problems(path: Path) -> list:
    return [p for p in check_template(path) if "publipostage" in p.message]


def test_field_case_is_not_called_correct():
    """../shared/cases/09: check-template does not call it correct, and says what to type instead."""
    result = CliRunner().invoke(main, ["check-template", str(CASE)])
    assert result.exit_code == 1
    assert "modèle correct" not in result.output
    assert "champ de publipostage Word « Nom_candidat »" in result.output
    assert "tapez à sa place « {{ candidat.nom }} »" in result.output
    assert "champ de publipostage Word « Prenom_candidat »" in result.output
    assert "tapez à sa place « {{ candidat.prenom }} »" in result.output
    assert result.output.rstrip().endswith(f"{CASE} : 2 erreur(s), 0 avertissement(s).")


def test_body_fields_simple_and_complex_split_over_runs(tmp_path):
    problems = _merge_problems(_with_fields(tmp_path, "corps"))
    assert [p.severity for p in problems] == [ERROR, ERROR]
    first, second = problems
    assert first.message.startswith("champ de publipostage Word « Nom_candidat » : e2docs ne remplit que les champs")
    assert "chaque document afficherait « «Nom_candidat» »" in first.message
    assert first.message.endswith("tapez à sa place « {{ candidat.nom }} ».")
    assert first.paragraph == "Candidat : «Nom_candidat»«Prénom»" and first.part == "corps du document"
    assert "« Prénom »" in second.message and second.message.endswith("« {{ candidat.prenom }} ».")


@pytest.mark.parametrize(
    ("where", "field", "instead"),
    [
        ("en-tête", "Etablissement", "etablissement"),
        ("pied de page", "Date de naissance", "candidat.naissance"),
        ("zone de texte", "Classe", "candidat.division"),
    ],
)
def test_fields_in_headers_footers_and_text_boxes(tmp_path, where, field, instead):
    (p,) = _merge_problems(_with_fields(tmp_path, where))
    assert f"champ de publipostage Word « {field} »" in p.message
    assert p.message.endswith(f"tapez à sa place « {{{{ {instead} }}}} ».")
    assert p.part == ("corps du document" if where == "zone de texte" else where)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Nom_candidat", "candidat.nom"),
        ("NOM", "candidat.nom"),
        ("NomCandidat", "candidat.nom"),
        ("prénom_élève", "candidat.prenom"),
        ("Numero_candidat", "candidat.numero"),
        ("Date_de_naissance", "candidat.naissance"),
        ("Division", "candidat.division"),
        ("Établissement", "etablissement"),
        ("Session", "session"),
        ("Zorglub", None),
    ],
)
def test_merge_field_names_are_matched_loosely(name, expected):
    assert suggest(name, CANDIDATE_FIELDS, "candidat") == expected


def test_class_record_fields_are_suggested_from_its_own_list():
    assert suggest("Etablissement", CLASS_FIELDS, "classe") == "etablissement"


def test_render_refuses_a_template_with_merge_fields(tmp_path):
    with pytest.raises(ReportError) as err:
        render_to(CASE, candidate_context(sample_evaluation()), tmp_path / "o.docx")
    message = str(err.value)
    assert message.startswith(f"{CASE} : le modèle contient 2 champ(s) de publipostage Word : champ de publipostage")
    assert "« Nom_candidat »" in message and "« {{ candidat.nom }} »" in message
    assert "Vérifiez-le avec e2docs check-template" in message or "e2docs check-template" in message
    assert not (tmp_path / "o.docx").exists()


def test_a_template_without_merge_fields_is_unaffected(tmp_path):
    doc = Document()
    doc.add_paragraph("Nom : {{ candidat.nom }} ; champ de date Word :")
    for xml in _complex(" DATE \\@ dd/MM/yyyy ", shown="01/01/2027"):
        doc.paragraphs[0]._p.append(parse_xml(xml))
    doc.save(tmp_path / "t.docx")
    assert _merge_problems(tmp_path / "t.docx") == []
    render_to(tmp_path / "t.docx", candidate_context(sample_evaluation()), tmp_path / "o.docx")
    assert "D'ALMEIDA" in Document(tmp_path / "o.docx").paragraphs[0].text


def test_report_refuses_the_field_case_with_the_same_message(tmp_path):
    from tests.app.test_collect import Setup, new_campaign, number

    s = Setup(new_campaign(tmp_path / "c", 2), tmp_path / "arrivees")
    assert s.collect(s.make(number(0), "retour.xlsx")).exit_code == 0
    templates = tmp_path / "mes-modeles"
    shutil.copytree(CASE.parent, templates)
    result = s.run("report", "--templates", str(templates))
    assert result.exit_code == 2, result.output
    assert "champ de publipostage Word « Nom_candidat »" in result.output
    assert "tapez à sa place « {{ candidat.nom }} »" in result.output
