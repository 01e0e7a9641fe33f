#!/usr/bin/env python3
"""Build the Word templates of ``templates/docx/`` with python-docx, reproducibly.

    python tools/make_templates.py [OUTDIR]
    python tools/make_templates.py --previews docs   # also: PNG previews from sample data


Every docxtpl tag is written in a single run (one formatting), so the shipped
templates pass ``e2docs check-template``. Layout: A4 portrait, Arial (Liberation
Sans in LibreOffice, same metrics), French language for spelling.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "templates" / "docx"
FONT = "Arial"
GREY = "D9D9D9"
LIGHT = "F2F2F2"
DARK_RED = RGBColor(0xC0, 0x00, 0x00)
WIDTH = 18.0  # cm between margins


# ------------------------------------------------------------------ low-level helpers


# Child order of the property elements this builder writes (ECMA-376 Part 1, wml.xsd: each is an
# xsd:sequence, except CT_TrPrBase, a choice in any order). Word "repairs" or refuses a file whose
# properties come in another order, so a child is inserted at its place, never appended.
# fmt: off
SCHEMA_ORDER: dict[str, tuple[str, ...]] = {
    "w:pPr": (  # CT_PPr (§17.3.1.26)
        "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
        "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens",
        "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
        "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
        "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
        "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
    ),
    "w:rPr": (  # CT_RPr (§17.3.2.28)
        "w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike",
        "w:dstrike", "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid",
        "w:vanish", "w:webHidden", "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz", "w:szCs",
        "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs",
        "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath", "w:rPrChange",
    ),
    "w:tblPr": (  # CT_TblPr (§17.4.60)
        "w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual", "w:tblStyleRowBandSize",
        "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
        "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange",
    ),
    "w:tcPr": (  # CT_TcPr (§17.4.70)
        "w:cnfStyle", "w:tcW", "w:gridSpan", "w:hMerge", "w:vMerge", "w:tcBorders", "w:shd", "w:noWrap",
        "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark", "w:headers", "w:cellIns",
        "w:cellDel", "w:cellMerge", "w:tcPrChange",
    ),
    "w:trPr": (  # CT_TrPr (§17.4.82): the CT_TrPrBase choice (any order), then ins, del, trPrChange
        "w:cnfStyle", "w:divId", "w:gridBefore", "w:gridAfter", "w:wBefore", "w:wAfter", "w:cantSplit",
        "w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange",
    ),
    "w:tblCellMar": ("w:top", "w:start", "w:left", "w:bottom", "w:end", "w:right"),  # CT_TblCellMar
    "w:pBdr": ("w:top", "w:left", "w:bottom", "w:right", "w:between", "w:bar"),  # CT_PBdr (§17.3.1.24)
}
# fmt: on
_CHOICE = {"w:trPr": 12}  # the first n children of these may come in any order


def _prefixed(el) -> str:
    """``el``'s tag as "w:name" (the keys of :data:`SCHEMA_ORDER`)."""
    return "w:" + el.tag.rsplit("}", 1)[1]


def _set(el, tag: str, **attrs) -> OxmlElement:
    """Get or create child ``tag`` of ``el`` and set its w: attributes.

    A new child goes before its first successor in schema order (python-docx's
    ``insert_element_before``); ``KeyError`` for a parent or child whose order is not in
    :data:`SCHEMA_ORDER`, rather than a guess."""
    child = el.find(qn(tag))
    if child is None:
        order = SCHEMA_ORDER[_prefixed(el)]
        if tag not in order:
            raise KeyError(f"{tag} is not a child of {_prefixed(el)}")
        later = order[max(order.index(tag) + 1, _CHOICE.get(_prefixed(el), 0)) :]
        child = OxmlElement(tag)
        successor = next((c for c in el if c.tag in {qn(t) for t in later}), None)
        if successor is None:
            el.append(child)
        else:
            successor.addprevious(child)
    for k, v in attrs.items():
        child.set(qn(f"w:{k}"), str(v))
    return child


def shade(cell, fill: str) -> None:
    _set(cell._tc.get_or_add_tcPr(), "w:shd", val="clear", color="auto", fill=fill)


def cell_margins(table, top=0.05, bottom=0.05, left=0.1, right=0.1) -> None:
    tblPr = table._tbl.tblPr
    mar = _set(tblPr, "w:tblCellMar")
    for side, v in (("top", top), ("left", left), ("bottom", bottom), ("right", right)):
        _set(mar, f"w:{side}", w=int(v * 567), type="dxa")


def widths(table, cm: list[float]) -> None:
    """Fixed column widths (Word honours tblGrid and each cell's tcW)."""
    table.autofit = False
    _set(table._tbl.tblPr, "w:tblLayout", type="fixed")
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), cm, strict=False):
        col.set(qn("w:w"), str(int(w * 567)))
    for row in table.rows:
        for i, cell in enumerate(row.cells):
            if i < len(cm):
                cell.width = Cm(cm[i])


def header_row(row) -> None:
    """Repeat this row at the top of each page; never split a row across pages."""
    _set(row._tr.get_or_add_trPr(), "w:tblHeader")


def keep_row(row) -> None:
    _set(row._tr.get_or_add_trPr(), "w:cantSplit")


def keep_together(table) -> None:
    """Keep a short table on one page (each row kept with the next)."""
    for row in table.rows:
        for cell in row.cells:
            for par in cell.paragraphs:
                par.paragraph_format.keep_with_next = True


def min_height(row, cm: float) -> None:
    row.height = Cm(cm)
    row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST


def para_border(paragraph, color: str = "C00000", size: int = 12) -> None:
    pPr = paragraph._p.get_or_add_pPr()
    bdr = _set(pPr, "w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        _set(bdr, f"w:{side}", val="single", sz=size, space=2, color=color)


def para_shade(paragraph, fill: str) -> None:
    _set(paragraph._p.get_or_add_pPr(), "w:shd", val="clear", color="auto", fill=fill)


def field(paragraph, instr: str, size: float | None = None) -> None:
    """A simple field (PAGE, SECTIONPAGES) with a placeholder result."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instr)
    run = OxmlElement("w:r")
    if size:
        rpr = OxmlElement("w:rPr")
        _set(rpr, "w:sz", val=int(size * 2))
        run.append(rpr)
    t = OxmlElement("w:t")
    t.text = "1"
    run.append(t)
    fld.append(run)
    paragraph._p.append(fld)


def text(
    container,
    content: str = "",
    *,
    bold=False,
    italic=False,
    size: float | None = None,
    align=None,
    color: RGBColor | None = None,
    after: float | None = None,
    before: float | None = None,
    style: str | None = None,
    keep_next=False,
):
    """Add a paragraph with one run (so any tag in ``content`` stays in one run)."""
    p = container.add_paragraph(style=style)
    if content:
        run(p, content, bold=bold, italic=italic, size=size, color=color)
    fmt = p.paragraph_format
    if align is not None:
        p.alignment = align
    if after is not None:
        fmt.space_after = Pt(after)
    if before is not None:
        fmt.space_before = Pt(before)
    if keep_next:
        fmt.keep_with_next = True
    return p


def run(p, content: str, *, bold=False, italic=False, size: float | None = None, color=None):
    r = p.add_run(content)
    r.bold = bold or None
    r.italic = italic or None
    if size:
        r.font.size = Pt(size)
    if color is not None:
        r.font.color.rgb = color
    return r


def cell_text(cell, content: str = "", **kw):
    """Write into a cell's first paragraph (one run), returning the paragraph."""
    p = cell.paragraphs[0]
    if content:
        run(p, content, **{k: v for k, v in kw.items() if k in ("bold", "italic", "size", "color")})
    if kw.get("align") is not None:
        p.alignment = kw["align"]
    p.paragraph_format.space_after = Pt(kw.get("after", 0))
    return p


def control_row(table, tag: str) -> None:
    """A row holding only a docxtpl ``{%tr … %}`` tag (removed when rendered)."""
    row = table.add_row()
    cells = row.cells
    merged = cells[0].merge(cells[-1]) if len(cells) > 1 else cells[0]
    cell_text(merged, tag, size=7, color=RGBColor(0x80, 0x80, 0x80))


# ------------------------------------------------------------------ document frame


def _drop_styles_with_effects(doc) -> None:
    """Remove the Word 2010 ``stylesWithEffects`` part of python-docx's default template.

    It is a stale copy of ``styles.xml`` (Word 2010 reads it instead of ``styles.xml``, later
    versions neither read nor write it): once the styles are changed here, the two disagree
    (docDefaults, Header and Footer styles missing) and Word 2010 would show other styles.
    """
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(rid)


def new_document(title: str, footer: str):
    doc = Document()
    _drop_styles_with_effects(doc)
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(1.5)
    sec.top_margin, sec.bottom_margin = Cm(1.6), Cm(1.4)
    sec.header_distance, sec.footer_distance = Cm(0.6), Cm(0.6)

    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(9)
    normal.paragraph_format.space_after = Pt(2)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    rpr = normal.element.get_or_add_rPr()
    _set(rpr, "w:rFonts", ascii=FONT, hAnsi=FONT, cs=FONT, eastAsia=FONT)
    _set(rpr, "w:lang", val="fr-FR", eastAsia="fr-FR", bidi="ar-SA")
    for name, size in (("Heading 1", 11), ("Heading 2", 10)):
        st = doc.styles[name]
        st.font.name, st.font.size, st.font.bold = FONT, Pt(size), True
        st.font.color.rgb = RGBColor(0, 0, 0)
        st.paragraph_format.space_before = Pt(6)
        st.paragraph_format.space_after = Pt(2)
        st.paragraph_format.keep_with_next = True
        fonts = _set(st.element.get_or_add_rPr(), "w:rFonts", ascii=FONT, hAnsi=FONT, cs=FONT, eastAsia=FONT)
        for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
            fonts.attrib.pop(qn(f"w:{attr}"), None)

    cp = doc.core_properties
    cp.title, cp.author, cp.language, cp.comments = (
        title,
        "e2docs",
        "fr-FR",
        (
            "Modèle e2docs : les balises entre accolades sont remplacées à la génération. "
            "Liste des champs : e2docs fields. Après modification : e2docs check-template."
        ),
    )

    # Letterhead: school on the left, académie and session on the right.
    head = sec.header.paragraphs[0]
    head.style = doc.styles["Normal"]
    head.paragraph_format.tab_stops.add_tab_stop(Cm(WIDTH), WD_TAB_ALIGNMENT.RIGHT)
    run(head, "{{ etablissement }}", bold=True, size=9)
    run(head, "\t")
    run(head, "{{ academie_libelle }}", size=8)
    sub = sec.header.add_paragraph(style=doc.styles["Normal"])
    sub.paragraph_format.tab_stops.add_tab_stop(Cm(WIDTH), WD_TAB_ALIGNMENT.RIGHT)
    run(sub, "{{ diplome }}", size=7, color=RGBColor(0x40, 0x40, 0x40))
    run(sub, "\t")
    run(sub, "Session {{ session }}", size=8)
    _set(_set(sub._p.get_or_add_pPr(), "w:pBdr"), "w:bottom", val="single", sz=6, space=1, color="808080")

    foot = sec.footer.paragraphs[0]
    foot.style = doc.styles["Normal"]
    foot.paragraph_format.tab_stops.add_tab_stop(Cm(WIDTH), WD_TAB_ALIGNMENT.RIGHT)
    run(foot, footer, size=7)
    run(foot, "\tPage ", size=7)
    field(foot, "PAGE", 7)
    run(foot, " / ", size=7)
    field(foot, "NUMPAGES", 7)
    return doc


def grid_table(doc, cols: list[float], head: list[str] | None = None, size: float = 8):
    t = doc.add_table(rows=1 if head else 0, cols=len(cols))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    cell_margins(t)
    if head:
        for cell, label in zip(t.rows[0].cells, head, strict=False):
            cell_text(cell, label, bold=True, size=size, align=WD_ALIGN_PARAGRAPH.CENTER)
            shade(cell, GREY)
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        header_row(t.rows[0])
    widths(t, cols)
    return t


def label_value_table(doc, rows: list[tuple[str, str]], cols=(5.0, 13.0), size: float = 8.5):
    t = grid_table(doc, list(cols))
    for label, value in rows:
        r = t.add_row()
        keep_row(r)
        cell_text(r.cells[0], label, bold=True, size=size)
        shade(r.cells[0], LIGHT)
        cell_text(r.cells[1], value, size=size)
    widths(t, list(cols))
    return t


def title_block(doc, title: str, subtitle: str = "") -> None:
    text(doc, title, bold=True, size=13, align=WD_ALIGN_PARAGRAPH.CENTER, after=1)
    if subtitle:
        text(doc, subtitle, bold=True, size=10, align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    text(doc, "{{ diplome }}", size=8.5, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    text(doc, "{{ option }}", size=8.5, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    text(doc, "{{ epreuve }} — {{ bloc }}", bold=True, size=8.5, align=WD_ALIGN_PARAGRAPH.CENTER, after=4)


def provisional_banner(doc, what: str) -> None:
    text(doc, "{%p if provisoire %}", size=7)
    p = text(
        doc,
        f"PROVISOIRE — {what} : {{{{ etat }}}}",
        bold=True,
        size=11,
        color=DARK_RED,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        after=4,
    )
    para_border(p)
    text(doc, "{%p endif %}", size=7)


# ------------------------------------------------------------------ évaluation

LEVEL_W, META_W, COMP_W, CRIT_W, PTS_W = 1.15, 2.3, 5.2, 4.7, 1.2


def evaluation(doc) -> None:
    title_block(doc, "FICHE D'ÉVALUATION", "{{ intitule }}")
    provisional_banner(doc, "grille incomplète")

    text(doc, "Candidat", style="Heading 2")
    t = grid_table(doc, [3.2, 6.6, 2.6, 5.6])
    for l1, v1, l2, v2 in (
        ("Nom", "{{ candidat.nom }}", "N° candidat", "{{ candidat.numero }}"),
        ("Prénom(s)", "{{ candidat.prenom }}", "Division", "{{ candidat.division }}"),
        ("Date de naissance", "{{ candidat.naissance }}", "Session", "{{ session }}"),
    ):
        r = t.add_row()
        for i, (content, is_label) in enumerate(((l1, True), (v1, False), (l2, True), (v2, False))):
            cell_text(r.cells[i], content, bold=is_label or i == 1 and l1 == "Nom", size=8.5)
            if is_label:
                shade(r.cells[i], LIGHT)
    widths(t, [3.2, 6.6, 2.6, 5.6])

    text(doc, "Commission d'évaluation", style="Heading 2")
    t = grid_table(doc, [3.2, 7.4, 7.4], ["Membre", "Nom et prénom", "Fonction"])
    for who, key in (("Professeur", "prof"), ("Professionnel", "pro")):
        r = t.add_row()
        cell_text(r.cells[0], who, bold=True, size=8.5)
        shade(r.cells[0], LIGHT)
        cell_text(r.cells[1], f"{{{{ commission.{key}_nom }}}}", size=8.5)
        cell_text(r.cells[2], f"{{{{ commission.{key}_fonction }}}}", size=8.5)
    r = t.add_row()
    cell_text(r.cells[0], "Date", bold=True, size=8.5)
    shade(r.cells[0], LIGHT)
    merged = r.cells[1].merge(r.cells[2])
    cell_text(merged, "{{ commission.date }}", size=8.5)
    widths(t, [3.2, 7.4, 7.4])

    text(doc, "Repérage des compétences et évaluation des critères", style="Heading 2")
    cols = [META_W, COMP_W, CRIT_W] + [LEVEL_W] * 4 + [PTS_W]
    t = grid_table(
        doc,
        cols,
        [
            "Méta-compétences",
            "Compétences détaillées (☒ repérée)",
            "Critères d'évaluation et indicateurs",
            "1",
            "2",
            "3",
            "4",
            "Points",
        ],
        size=7.5,
    )
    levels = ("Novice", "Débrouillé", "Averti", "Expert")
    for i, _label in enumerate(levels):
        p = t.rows[0].cells[3 + i].add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_after = Pt(0)
        run(p, f"{{{{ niveaux[{i}].libelle }}}}", size=6)
    control_row(t, "{%tr for m in metas %}")
    control_row(t, "{%tr for c in m.criteres %}")
    r = t.add_row()
    keep_row(r)
    cell_text(r.cells[0], "{{ m.numero }}. {{ m.titre }}{% vm %}", bold=True, size=7)
    comp = cell_text(r.cells[1], "")
    run(comp, "{% for k in m.competences %}{{ k.case }} {{ k.id }} {{ k.texte }}{% if not loop.last %}", size=7)
    comp.add_run().add_break()
    run(comp, "{% endif %}{% endfor %}{% vm %}", size=7)
    cell_text(r.cells[2], "{{ c.id }} — {{ c.titre }} ({{ c.points_max }} pts)", bold=True, size=7)
    p = r.cells[2].add_paragraph()
    p.paragraph_format.space_after = Pt(0)
    run(p, "{{ c.indicateur }}", italic=True, size=7)
    for i in range(4):
        cell_text(r.cells[3 + i], f"{{{{ c.marques[{i}] }}}}", bold=True, size=11, align=WD_ALIGN_PARAGRAPH.CENTER)
        r.cells[3 + i].vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    cell_text(r.cells[7], "{{ c.points }}", bold=True, size=8, align=WD_ALIGN_PARAGRAPH.CENTER)
    r.cells[7].vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    control_row(t, "{%tr endfor %}")
    control_row(t, "{%tr if not m.criteres %}")
    r = t.add_row()
    keep_row(r)
    cell_text(r.cells[0], "{{ m.numero }}. {{ m.titre }}", bold=True, size=7)
    comp = cell_text(r.cells[1], "")
    run(comp, "{% for k in m.competences %}{{ k.case }} {{ k.id }} {{ k.texte }}{% if not loop.last %}", size=7)
    comp.add_run().add_break()
    run(comp, "{% endif %}{% endfor %}", size=7)
    rest = r.cells[2].merge(r.cells[7])
    cell_text(
        rest,
        "Pas de critère d'évaluation pour cette méta-compétence dans la grille officielle.",
        italic=True,
        size=7,
        color=RGBColor(0x59, 0x59, 0x59),
    )
    control_row(t, "{%tr endif %}")
    control_row(t, "{%tr endfor %}")
    widths(t, cols)
    text(
        doc,
        "Niveaux : {% for n in niveaux %}{{ n.numero }} {{ n.libelle }}{% if not loop.last %} · "
        "{% endif %}{% endfor %}. ✗ : niveau retenu pour le critère ; ☒ : compétence repérée.",
        italic=True,
        size=7,
        before=2,
        after=4,
    )

    t = grid_table(doc, [13.5, 4.5])
    for label, value, bold in (
        ("Total des points (avant arrondi)", "{{ total_points }}", False),
        ("Note proposée, arrondie au demi-point supérieur", "{{ note_proposee }} / {{ note_max }}", False),
        ("Note attribuée par la commission (facultatif)", "{{ note_commission }}", False),
        ("NOTE FINALE", "{{ note_finale }} / {{ note_max }}", True),
    ):
        r = t.add_row()
        keep_row(r)
        cell_text(r.cells[0], label, bold=bold, size=9 if bold else 8.5)
        shade(r.cells[0], LIGHT)
        cell_text(r.cells[1], value, bold=True, size=11 if bold else 9, align=WD_ALIGN_PARAGRAPH.CENTER)
        for cell in r.cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    widths(t, [13.5, 4.5])

    text(doc, "Observations, commentaires (justification de la note)", style="Heading 2")
    t = grid_table(doc, [WIDTH])
    r = t.add_row()
    min_height(r, 2.5)
    cell_text(r.cells[0], "{{ observations }}", size=8.5)
    widths(t, [WIDTH])

    text(doc, "Signatures des membres de la commission", style="Heading 2")
    t = grid_table(doc, [9.0, 9.0])
    r = t.add_row()
    keep_row(r)
    min_height(r, 2.2)
    for i, (who, key) in enumerate((("Le professeur", "prof"), ("Le professionnel", "pro"))):
        cell_text(r.cells[i], f"{who} : {{{{ commission.{key}_nom }}}}", bold=True, size=8.5)
        p = r.cells[i].add_paragraph()
        run(p, f"{{{{ commission.{key}_fonction }}}}", italic=True, size=8)
    widths(t, [9.0, 9.0])


# ------------------------------------------------------------------ prospection


def prospection(doc) -> None:
    title_block(doc, "SYNTHÈSE DE L'OPÉRATION DE PROSPECTION")
    text(
        doc,
        "{{ candidat.nom }} {{ candidat.prenom }} — n° {{ candidat.numero }} — {{ candidat.division }}",
        bold=True,
        size=10,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        after=6,
    )
    provisional_banner(doc, "grille d'évaluation incomplète")
    P = "prospection."

    def value(key: str) -> str:
        return f"{{{{ {P}{key} or '—' }}}}"

    text(doc, "Contexte de l'opération", style="Heading 2")
    label_value_table(
        doc,
        [
            ("Organisation", value("organisation")),
            ("Secteur d'activité", value("secteur")),
            ("Offre prospectée", value("offre")),
        ],
    )
    text(doc, "Cible", style="Heading 2")
    label_value_table(doc, [("Cible", value("cible")), ("Choix de la cible", value("choix_cible"))])
    text(doc, "Objectifs", style="Heading 2")
    label_value_table(
        doc,
        [
            ("Objectifs quantitatifs", "Voir le tableau de bord ci-dessous."),
            ("Objectifs qualitatifs", value("obj_qualitatifs")),
        ],
    )

    text(doc, "Moyens, techniques et durée", style="Heading 2")
    label_value_table(
        doc,
        [
            ("Personnes mobilisées", value("moy_personnes")),
            ("Budget", value("moy_budget")),
            ("Moyens matériels", value("moy_materiel")),
            ("Techniques de prospection", f"{{{{ {P}techniques|join(', ') or '—' }}}}"),
            ("Outils et supports", value("outils")),
            ("Période", value("periode")),
            ("Durée (début et fin compris)", value("duree")),
        ],
    )

    text(doc, "Tableau de bord : objectifs et résultats", style="Heading 2")
    cols = [5.4, 3.15, 3.15, 3.15, 3.15]
    t = grid_table(doc, cols, ["Indicateur", "Objectif", "Résultat", "Écart", "Taux de réalisation"])
    control_row(t, "{%tr for l in prospection.tableau %}")
    r = t.add_row()
    keep_row(r)
    cell_text(r.cells[0], "{{ l.libelle }}", bold=True, size=8.5)
    for i, key in enumerate(("objectif", "resultat", "ecart", "taux"), 1):
        cell_text(r.cells[i], f"{{{{ l.{key} }}}}", size=8.5, align=WD_ALIGN_PARAGRAPH.RIGHT)
    control_row(t, "{%tr endfor %}")
    for label, key in (("Contacts argumentés", "res_argumentes"), ("Nouveaux prospects qualifiés", "res_prospects")):
        r = t.add_row()
        cell_text(r.cells[0], label, bold=True, size=8.5)
        cell_text(r.cells[1], "—", size=8.5, align=WD_ALIGN_PARAGRAPH.RIGHT)
        cell_text(r.cells[2], f"{{{{ {P}{key} }}}}", size=8.5, align=WD_ALIGN_PARAGRAPH.RIGHT)
        cell_text(r.cells[3])
        cell_text(r.cells[4])
    widths(t, cols)
    label_value_table(
        doc,
        [
            ("Taux de conversion (ventes / contacts)", value("taux_conversion")),
            ("Coût par contact (budget / contacts)", value("cout_contact")),
        ],
        cols=(8.0, 10.0),
    )

    text(doc, "Analyse et suivi", style="Heading 2")
    label_value_table(
        doc,
        [
            ("Causes des écarts", value("causes_ecarts")),
            ("Actions correctives proposées", value("actions_correctives")),
            ("Suivi des contacts", value("suivi_contacts")),
        ],
    )


# ------------------------------------------------------------------ classe


def class_record(doc) -> None:
    title_block(doc, "RÉCAPITULATIF DE CLASSE — {{ classe }}")
    text(
        doc,
        "Édité le {{ date_edition }} · {{ stats.effectif }} candidat(s) · {{ stats.completes }} grille(s) "
        "complète(s), {{ stats.incompletes }} incomplète(s), {{ stats.non_rendues }} non rendue(s), "
        "{{ stats.rejetees }} rejetée(s)",
        size=8.5,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        after=6,
    )

    text(doc, "Notes des candidats", style="Heading 2")
    cols = [2.6, 4.2, 3.4, 1.9, 1.7, 1.7, 2.5]
    t = grid_table(doc, cols, ["N° candidat", "Nom", "Prénom", "Division", "Note proposée", "Note finale", "Statut"])
    control_row(t, "{%tr for l in lignes %}")
    r = t.add_row()
    keep_row(r)
    for i, key in enumerate(("numero", "nom", "prenom", "division", "note_proposee", "note_finale", "statut")):
        align = WD_ALIGN_PARAGRAPH.CENTER if i >= 4 else None
        cell_text(r.cells[i], f"{{{{ l.{key} }}}}", size=8.5, bold=key in ("nom", "note_finale"), align=align)
    control_row(t, "{%tr endfor %}")
    widths(t, cols)

    text(doc, "Statistiques des notes finales", style="Heading 2")
    cols = [3.6] * 5
    t = grid_table(doc, cols, ["Notes finales", "Moyenne", "Médiane", "Minimum", "Maximum"])
    r = t.add_row()
    for i, key in enumerate(("effectif_notes", "moyenne", "mediane", "min", "max")):
        cell_text(r.cells[i], f"{{{{ stats.{key} }}}}", bold=True, size=10, align=WD_ALIGN_PARAGRAPH.CENTER)
    widths(t, cols)

    text(doc, "Répartition des notes finales (sur {{ note_max }})", style="Heading 2", keep_next=True)
    text(doc, "{{ graphiques.repartition }}", align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True, after=0)
    text(
        doc,
        "Tranches de 2 points : « 10–12 » compte les notes de 10 à 11,5 ; la dernière tranche inclut la note maximale.",
        italic=True,
        size=7,
        before=2,
    )

    text(doc, "Niveaux atteints par critère", style="Heading 2", keep_next=True)
    text(doc, "{{ graphiques.niveaux }}", align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True, after=4)
    cols = [1.3, 10.2, 1.3, 1.3, 1.3, 1.3, 1.3]
    t = grid_table(doc, cols, ["Critère", "Intitulé", "1", "2", "3", "4", "Évalués"])
    control_row(t, "{%tr for c in criteres %}")
    r = t.add_row()
    keep_row(r)
    cell_text(r.cells[0], "{{ c.id }}", bold=True, size=8)
    cell_text(r.cells[1], "{{ c.titre }}", size=7)
    for i in range(4):
        cell_text(r.cells[2 + i], f"{{{{ c.comptes[{i}] }}}}", size=8, align=WD_ALIGN_PARAGRAPH.CENTER)
    cell_text(r.cells[6], "{{ c.total }}", size=8, align=WD_ALIGN_PARAGRAPH.CENTER)
    control_row(t, "{%tr endfor %}")
    widths(t, cols)
    keep_together(t)
    text(
        doc,
        "Niveaux : {% for n in niveaux %}{{ n.numero }} {{ n.libelle }}"
        "{% if not loop.last %} · {% endif %}{% endfor %}",
        italic=True,
        size=7.5,
        before=2,
    )

    text(doc, "{%p if manquants %}", size=7)
    text(doc, "Grilles non rendues ou rejetées", style="Heading 2")
    cols = [2.6, 4.2, 3.4, 1.9, 5.9]
    t = grid_table(doc, cols, ["N° candidat", "Nom", "Prénom", "Division", "Statut"])
    control_row(t, "{%tr for l in manquants %}")
    r = t.add_row()
    for i, key in enumerate(("numero", "nom", "prenom", "division")):
        cell_text(r.cells[i], f"{{{{ l.{key} }}}}", size=8.5)
    cell_text(r.cells[4], "{{ l.statut }}{% if l.etat %} : {{ l.etat }}{% endif %}", size=8.5)
    control_row(t, "{%tr endfor %}")
    widths(t, cols)
    text(doc, "{%p endif %}", size=7)


# ------------------------------------------------------------------ main

DOCUMENTS = {
    "fiche-evaluation.docx": (
        "Fiche d'évaluation E2",
        evaluation,
        "Fiche d'évaluation — {{ candidat.nom }} {{ candidat.prenom }} — n° {{ candidat.numero }}",
    ),
    "synthese-prospection.docx": (
        "Synthèse de l'opération de prospection",
        prospection,
        "Synthèse de prospection — {{ candidat.nom }} {{ candidat.prenom }} — n° {{ candidat.numero }}",
    ),
    "recapitulatif-classe.docx": (
        "Récapitulatif de classe E2",
        class_record,
        "Récapitulatif E2 — {{ classe }} — édité le {{ date_edition }}",
    ),
}


def build(outdir: Path = OUT) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (title, body, footer) in DOCUMENTS.items():
        doc = new_document(title, footer)
        first = doc.paragraphs[0] if doc.paragraphs else None
        body(doc)
        if first is not None and not first.text:
            first._p.getparent().remove(first._p)
        path = outdir / name
        doc.save(path)
        written.append(path)
    return written


def previews(docs: Path, templates: Path = OUT) -> list[Path]:
    """Render the templates with e2docs' sample data, then PDF (LibreOffice) → PNG (pdftoppm, 80 dpi)."""
    import subprocess
    import tempfile

    from e2docs.reports import convert_to_pdf, render_candidate_documents, render_class_record
    from e2docs.reports.samples import sample_class_info, sample_class_rows, sample_evaluation

    docs.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = render_candidate_documents(sample_evaluation(), tmp, "exemple", templates)
        files.append(
            render_class_record(
                sample_class_rows(), sample_class_info(), tmp / "exemple_recapitulatif-classe.docx", templates
            )
        )
        for pdf in convert_to_pdf(files, tmp):
            name = pdf.stem.removeprefix("exemple_")
            subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(tmp / name)], check=True)
            pages = sorted(tmp.glob(f"{name}-*.png"))
            for i, png in enumerate(pages, 1):
                target = docs / (f"{name}.png" if i == 1 else f"{name}-p{i}.png")
                png.replace(target)
                written.append(target)
    return written


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--previews"]:
        for p in build() + previews(Path(args[1]) if len(args) > 1 else ROOT / "docs"):
            print(p)
    else:
        for p in build(Path(args[0]) if args else OUT):
            print(p)
