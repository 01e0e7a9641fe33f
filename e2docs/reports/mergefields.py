"""Word's own mail-merge fields («Nom_candidat») in a template: found, and the ``{{ }}`` field to use.

e2docs fills ``{{ … }}`` tags only; a ``MERGEFIELD`` left in a template would print
«Nom_candidat» in every document. Both forms Word writes are found, in any part given
(body, headers, footers; text boxes are inside them):

* ``<w:fldSimple w:instr=" MERGEFIELD Nom_candidat ">``;
* ``<w:fldChar w:fldCharType="begin"/>`` … ``<w:instrText> MERGEFIELD Nom_</w:instrText>``
  ``<w:instrText>candidat </w:instrText>`` … ``separate`` … ``end``, the instruction possibly
  split over several runs.

Decision: they are refused (an error of ``check-template``, a refusal of ``report``), not
converted, so that a person chooses the ``{{ }}`` field; the message suggests the closest one.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from docxtpl import DocxTemplate
from lxml import etree

from e2docs.reports.problem import ERROR, Problem, short
from e2docs.reports.schema import LIST, OBJECT, Spec, flatten

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_NAME = re.compile(r'^\s*MERGEFIELD\s+(?:"([^"]*)"|(\S+))', re.IGNORECASE)
# Words of merge-field names and the word e2docs uses for the same thing.
_SYNONYMS = {
    "classe": "division",
    "num": "numero",
    "no": "numero",
    "n": "numero",
    "date_naissance": "naissance",
    "ne": "naissance",
    "nee": "naissance",
    "prenoms": "prenom",
    "eleve": "candidat",
    "etudiant": "candidat",
    "lycee": "etablissement",
    "note": "note_finale",
}
_STOP = {"de", "du", "des", "la", "le", "les", "d", "l", "en", "et"}


@dataclass(frozen=True)
class MergeField:
    """A Word merge field: its name as Word shows it («Nom_candidat») and the paragraph holding it."""

    name: str
    paragraph: str


def merge_fields(root: etree._Element) -> list[MergeField]:
    """The ``MERGEFIELD`` fields under ``root`` (a part's XML root), in document order, simple and
    complex forms alike; nested fields (a MERGEFIELD inside an IF) are found too."""
    out: list[MergeField] = []
    stack: list[tuple[list[str], etree._Element, list[bool]]] = []  # (instruction pieces, begin, [seen]) per field
    for el in root.iter(W + "fldSimple", W + "fldChar", W + "instrText"):
        if el.tag == W + "fldSimple":
            _add(out, el.get(W + "instr") or "", el)
        elif el.tag == W + "instrText":
            if stack:
                stack[-1][0].append(el.text or "")
        else:
            kind = el.get(W + "fldCharType")
            if kind == "begin":
                stack.append(([], el, [False]))
            elif kind in ("separate", "end") and stack:
                pieces, begin, seen = stack[-1]
                if not seen[0]:  # the instruction ends at "separate", or at "end" without a result
                    _add(out, "".join(pieces), begin)
                    seen[0] = True
                if kind == "end":
                    stack.pop()
    return out


def _add(out: list[MergeField], instruction: str, el: etree._Element) -> None:
    m = _NAME.match(instruction)
    if m:
        out.append(MergeField(m.group(1) or m.group(2), _paragraph(el)))


def _paragraph(el: etree._Element) -> str:
    node: etree._Element | None = el
    while node is not None and node.tag != W + "p":
        node = node.getparent()
    if node is None:
        return ""
    return short("".join(t.text or "" for t in node.iter(W + "t")))


def _words(text: str) -> list[str]:
    """Lower-case words without accents: "NomCandidat", "Nom_du-candidat" → ["nom", "candidat"]."""
    text = re.sub(r"([a-zà-ÿ])([A-ZÀ-Ý])", r"\1 \2", text)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in _STOP]
    joined = "_".join(words)
    if joined in _SYNONYMS:
        return _SYNONYMS[joined].split("_")
    return [x for w in words for x in _SYNONYMS.get(w, w).split("_")]


def suggest(name: str, fields: Sequence[Spec], document: str) -> str | None:
    """The template field (``candidat.nom``) closest to merge field ``name`` among the plain fields
    of ``fields`` (not lists, objects or list items), or ``None`` when none is close."""
    wanted = _words(name)
    if not wanted:
        return None
    best: tuple[float, str] | None = None
    for doc in flatten(fields, document):
        if doc.kind in (LIST, OBJECT) or "[]" in doc.path:
            continue
        have = _words(doc.path.replace(".", "_"))
        hits = sum(1 for w in wanted if any(_same(w, h) for h in have))
        if not hits:
            continue
        score = hits / len(wanted) - 0.1 * (len(have) - hits) / len(have)
        if best is None or score > best[0]:
            best = (score, doc.path)
    if best is not None and best[0] >= 0.5:
        return best[1]
    close = difflib.get_close_matches("_".join(wanted), [d.path for d in flatten(fields, document)], n=1, cutoff=0.7)
    return close[0] if close else None


def _same(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a)))


def template_parts(tpl: DocxTemplate) -> list[tuple[str, etree._Element]]:
    """(French name of the part, its XML root) for the body, then each header and footer."""
    out = [("corps du document", tpl.docx.element.body)]
    for rel in tpl.docx.part.rels.values():
        kind = rel.reltype.rsplit("/", 1)[-1]
        if not rel.is_external and kind in ("header", "footer"):
            out.append(("en-tête" if kind == "header" else "pied de page", rel.target_part.element))
    return out


def merge_field_problems(root: etree._Element, part: str, fields: Sequence[Spec], document: str) -> list[Problem]:
    """One error per Word merge field under ``root`` (the XML root of Word part ``part``), with
    the ``{{ }}`` field of ``fields`` to type instead when one is close."""
    out = []
    for field in merge_fields(root):
        target = suggest(field.name, fields, document)
        instead = (
            f"tapez à sa place « {{{{ {target} }}}} »"
            if target
            else "tapez à sa place le champ voulu entre {{ }} (liste des champs : e2docs fields)"
        )
        out.append(
            Problem(
                ERROR,
                f"champ de publipostage Word « {field.name} » : e2docs ne remplit que les champs entre {{{{ }}}}, "
                f"chaque document afficherait « «{field.name}» ». Supprimez ce champ (sélectionnez-le, "
                f"touche Suppr) et {instead}.",
                field.paragraph,
                part,
            )
        )
    return out
