"""check_template on templates as users break them in Word: split tags, typos, unclosed blocks."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docxtpl import DocxTemplate

from e2docs.reports import TEMPLATE_NAMES, ReportError, candidate_context, check_template, template_path
from e2docs.reports.check import ERROR, WARNING
from e2docs.reports.render import make_env, render_to
from e2docs.reports.samples import sample_evaluation


def _doc(tmp_path: Path, *paragraphs, name: str = "modele.docx") -> Path:
    """Each paragraph is a string (one run) or a list of (text, bold) runs."""
    doc = Document()
    for para in paragraphs:
        p = doc.add_paragraph()
        for text, bold in [(para, False)] if isinstance(para, str) else para:
            p.add_run(text).bold = bold or None
    path = tmp_path / name
    doc.save(path)
    return path


def _only(problems, severity=ERROR):
    assert len(problems) == 1, problems
    assert problems[0].severity == severity
    return problems[0]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_shipped_templates_have_no_problem(name):
    assert check_template(template_path(name)) == []


def test_tag_split_with_different_formatting_is_a_warning(tmp_path):
    path = _doc(tmp_path, [("Nom : {{ candidat.", False), ("nom }}", True)])
    p = _only(check_template(path), WARNING)
    assert "la balise « {{ candidat.nom }} » mélange plusieurs mises en forme" in p.message
    assert "prendra celle du début de la balise (« Nom : {{ candidat. »)" in p.message
    assert p.paragraph == "Nom : {{ candidat.nom }}"
    assert str(p).startswith("Avertissement — corps du document, paragraphe « Nom : {{ candidat.nom }} » : ")
    tpl = DocxTemplate(path)  # what the warning says: it works, in the first run's formatting
    tpl.render({"candidat": {"nom": "D'ALMEIDA"}}, make_env(), autoescape=True)
    runs = tpl.docx.paragraphs[0].runs
    assert [(r.text, r.bold) for r in runs if r.text] == [("Nom : D'ALMEIDA", None)]


def test_tag_split_with_same_formatting_is_fine(tmp_path):
    """Word splits runs for revision ids all the time; docxtpl glues them back: not reported."""
    path = _doc(tmp_path, [("Nom : {{ cand", False), ("idat.nom }}", False)])
    assert check_template(path) == []
    tpl = DocxTemplate(path)
    tpl.render({"candidat": {"nom": "D'ALMEIDA"}}, make_env(), autoescape=True)
    assert tpl.docx.paragraphs[0].text == "Nom : D'ALMEIDA"


def test_tag_across_a_hyperlink_is_an_error(tmp_path):
    doc = Document()
    p = doc.add_paragraph()
    p.add_run("Voir {{ candidat.")
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), doc.part.relate_to("https://example.org", RT.HYPERLINK, is_external=True))
    link.append(copy.deepcopy(p.add_run("nom }}")._r))
    p._p.remove(p.runs[-1]._r)
    p._p.append(link)
    doc.add_paragraph("Paragraphe suivant")
    doc.save(tmp_path / "lien.docx")
    problem = check_template(tmp_path / "lien.docx")[0]
    assert problem.severity == ERROR
    assert "est à cheval sur un lien, un champ, une modification suivie" in problem.message
    # Really broken: plain docxtpl silently loses the following paragraph; e2docs refuses.
    tpl = DocxTemplate(tmp_path / "lien.docx")
    tpl.render({"candidat": {"nom": "X"}}, make_env(), autoescape=True)
    assert "Paragraphe suivant" not in [p.text for p in tpl.docx.paragraphs]
    with pytest.raises(ReportError, match="le document produit serait invalide"):
        render_to(tmp_path / "lien.docx", candidate_context(sample_evaluation()), tmp_path / "o.docx")


def test_tag_over_two_paragraphs_is_a_warning(tmp_path):
    """docxtpl glues the two paragraphs into one: it works, but the paragraph break is lost."""
    path = _doc(tmp_path, "Nom : {{ candidat.", "nom }} suite")
    p = _only(check_template(path), WARNING)
    assert p.message.startswith(
        "la balise « {{ candidat. » se termine dans un paragraphe suivant : les "
        "paragraphes concernés seront réunis en un seul."
    )
    assert p.paragraph == "Nom : {{ candidat."
    tpl = DocxTemplate(path)
    tpl.render({"candidat": {"nom": "X"}}, make_env(), autoescape=True)
    assert [q.text for q in tpl.docx.paragraphs] == ["Nom : X suite"]


def test_tag_over_two_table_cells_is_an_error(tmp_path):
    doc = Document()
    t = doc.add_table(rows=1, cols=2)
    t.cell(0, 0).text = "{{ candidat."
    t.cell(0, 1).text = "nom }}"
    doc.save(tmp_path / "cellules.docx")
    problems = check_template(tmp_path / "cellules.docx")
    assert problems[0].severity == ERROR
    assert "se termine dans une autre cellule" in problems[0].message


def test_tag_never_closed(tmp_path):
    p = check_template(_doc(tmp_path, "Nom : {{ candidat.nom", "Fin"))[0]
    assert (
        p.message == "balise « {{ candidat.nom » ouverte mais jamais fermée : ajoutez « }} » dans le même paragraphe."
    )


def test_tag_with_a_line_break_inside_is_an_error(tmp_path):
    doc = Document()
    p = doc.add_paragraph()
    p.add_run("{{ candidat.")
    p.add_run().add_break()
    p.add_run("nom }}")
    doc.save(tmp_path / "br.docx")
    assert "contient un élément « br »" in _only(check_template(tmp_path / "br.docx")).message


def test_unknown_field_with_suggestion(tmp_path):
    path = _doc(tmp_path, "Candidat :", "Nom : {{ candidat.nmo }}")
    p = _only(check_template(path))
    assert p.message == "champ inconnu « candidat.nmo ». Vouliez-vous dire « candidat.nom » ?"
    assert p.paragraph == "Nom : {{ candidat.nmo }}"


def test_unknown_top_level_field_and_loop_item_field(tmp_path):
    path = _doc(
        tmp_path,
        "{{ etablisement }}",
        "{% for m in metas %}{{ m.titr }} {{ m.numero }}{% endfor %}",
        "{% for l in prospection.tableau %}{{ l.taux }}{% endfor %}",
    )
    messages = [p.message for p in check_template(path)]
    assert messages == [
        "champ inconnu « etablisement ». Vouliez-vous dire « etablissement » ?",
        "champ inconnu « metas[].titr ». Vouliez-vous dire « metas[].titre » ?",
    ]


def test_unclosed_for_names_its_paragraph(tmp_path):
    path = _doc(tmp_path, "Début", "{% for m in metas %}{{ m.titre }}", "Fin")
    p = _only(check_template(path))
    assert p.message.startswith("bloc « {% for m in metas %} » jamais fermé : ajoutez « {% endfor %} »")
    assert p.paragraph == "{% for m in metas %}{{ m.titre }}"


def test_unclosed_table_row_loop(tmp_path):
    doc = Document()
    t = doc.add_table(rows=3, cols=2)
    t.cell(0, 0).text = "{%tr for l in lignes %}"
    t.cell(1, 0).text = "{{ l.nom }}"
    t.cell(1, 1).text = "{{ l.note_finale }}"
    doc.save(tmp_path / "recap.docx")
    p = _only(check_template(tmp_path / "recap.docx"))
    assert "bloc « {% for l in lignes %} » jamais fermé" in p.message and "{%tr endfor %}" in p.message
    assert p.paragraph == "{% for l in lignes %}"


def test_endfor_without_for(tmp_path):
    p = _only(check_template(_doc(tmp_path, "{{ candidat.nom }}", "{% endfor %}")))
    assert p.message == "« {% endfor %} » sans « {% for … %} » ouvert avant."
    assert p.paragraph == "{% endfor %}"


def test_typographic_quotes_from_word(tmp_path):
    p = _only(check_template(_doc(tmp_path, "{{ candidat.nom or « inconnu » }}")))
    assert p.message.startswith("guillemet typographique « « » dans une balise")


def test_paragraph_tag_with_other_text_warns_about_lost_text(tmp_path):
    p = _only(
        check_template(_doc(tmp_path, "Provisoire ? {%p if provisoire %}", "PROVISOIRE", "{%p endif %}")), WARNING
    )
    assert "« {%p if provisoire %} » remplace tout son paragraphe : le texte « Provisoire ? »" in p.message


def test_class_record_fields_are_recognised(tmp_path):
    doc = Document()
    doc.add_paragraph("{{ classe }} : {{ stats.moyenne }}")
    t = doc.add_table(rows=3, cols=2)
    t.cell(0, 0).text = "{%tr for l in lignes %}"
    t.cell(1, 0).text = "{{ l.nom }}"
    t.cell(1, 1).text = "{{ l.statu }}"
    t.cell(2, 0).text = "{%tr endfor %}"
    doc.save(tmp_path / "maison.docx")
    assert [p.message for p in check_template(tmp_path / "maison.docx")] == [
        "champ inconnu « lignes[].statu ». Vouliez-vous dire « lignes[].statut » ?"
    ]
    assert check_template(tmp_path / "maison.docx", document="candidat")[0].message.startswith(
        "champ inconnu « classe »"
    )


def test_test_render_catches_sandbox_escape(tmp_path):
    p = _only(check_template(_doc(tmp_path, "{{ candidat.nom.__class__.__mro__ }}")))
    assert p.message.startswith(
        "essai avec des données d'exemple : le modèle tente d'accéder à l'intérieur de Python, ce qui est interdit"
    )


def test_headers_are_checked_too(tmp_path):
    doc = Document()
    doc.add_paragraph("{{ candidat.nom }}")
    doc.sections[0].header.paragraphs[0].text = "{{ etablissment }}"
    doc.save(tmp_path / "h.docx")
    p = _only(check_template(tmp_path / "h.docx"))
    assert p.part == "en-tête" and "« etablissement »" in p.message


def test_edited_shipped_template_round_trip(tmp_path):
    """A shipped template saved again by python-docx (as an editor would) still checks clean."""
    doc = Document(template_path("fiche-evaluation.docx"))
    doc.add_paragraph("Ajout : {{ candidat.prenom }}")
    doc.save(tmp_path / "fiche.docx")
    assert check_template(tmp_path / "fiche.docx") == []
