"""The merge as it was before e2docs 0.x streamed it (python-docx): the reference of tests/reports/test_merge.py.

Each document becomes a section of the result (section break "next page"), keeps
its own header and footer (copied as new parts) and restarts page numbering at
1; a "page X / Y" total is dropped, since Y would count the whole file. Images and
hyperlinks are re-linked; styles and numbering are those of the first document,
which is right for documents rendered from the same template.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml.ns import qn
from docx.parts.hdrftr import FooterPart, HeaderPart
from lxml import etree

from e2docs.reports.errors import ReportError
from e2docs.reports.render import save_atomically

_R_ATTRS = (qn("r:id"), qn("r:embed"), qn("r:link"), qn("r:pict"))


def merge_documents(paths: Sequence[str | Path], out: str | Path) -> Path:
    """Concatenate the .docx files ``paths`` (in order) into ``out``, one section per document;
    returns ``out``. Raises :class:`ReportError` when ``paths`` is empty, a document cannot
    be read or holds content that cannot be carried over (charts, embedded objects)."""
    files = [Path(p) for p in paths]
    if not files:
        raise ReportError("aucun document à assembler.", out)
    base = _open(files[0])
    _restart_numbering(base.element.body)
    for path in files[1:]:
        _append(base, _open(path))
    _drop_page_totals(base)
    _renumber_drawings(base)
    out = Path(out)
    save_atomically(base, out)
    return out


def _open(path: Path) -> DocxDocument:
    """The document at ``path``; :class:`ReportError` when python-docx cannot read it."""
    try:
        return Document(str(path))
    except Exception as exc:  # python-docx raises many types on damaged files
        raise ReportError(f"document illisible ({type(exc).__name__} : {exc}).", path) from None


def _final_sectpr(body: etree._Element) -> etree._Element:
    """The body's own ``w:sectPr`` (its last section's properties), added when absent."""
    sectpr = body.find(qn("w:sectPr"))
    if sectpr is None:
        sectpr = body.makeelement(qn("w:sectPr"), {})
        body.append(sectpr)
    return sectpr


def _restart_numbering(body: etree._Element) -> None:
    """Page numbers of the body's last section start at 1."""
    sectpr = _final_sectpr(body)
    pg = sectpr.find(qn("w:pgNumType"))
    if pg is None:
        pg = sectpr.makeelement(qn("w:pgNumType"), {})
        # schema order: pgNumType comes after pgMar and before cols
        cols = sectpr.find(qn("w:cols"))
        if cols is not None:
            cols.addprevious(pg)
        else:
            sectpr.append(pg)
    pg.set(qn("w:start"), "1")


def _append(base: DocxDocument, doc: DocxDocument) -> None:
    """Add ``doc``'s body to ``base`` after a "next page" section break, its parts relinked
    and its page numbers starting at 1."""
    body = base.element.body
    src_body = doc.element.body
    # Close the current last section: its properties move into a paragraph (section break).
    old = _final_sectpr(body)
    brk = body.makeelement(qn("w:p"), {})
    ppr = brk.makeelement(qn("w:pPr"), {})
    brk.append(ppr)
    ppr.append(copy.deepcopy(old))
    old.addprevious(brk)
    mapping: dict[str, str] = {}
    for el in list(src_body):
        if el.tag == qn("w:sectPr"):
            continue
        new = copy.deepcopy(el)
        _relink(new, doc.part, base.part, mapping)
        old.addprevious(new)
    # The appended document's last section becomes the body's last section.
    new_sect = copy.deepcopy(_final_sectpr(src_body))
    _relink(new_sect, doc.part, base.part, mapping)
    new_type = new_sect.find(qn("w:type"))
    if new_type is not None:
        new_type.set(qn("w:val"), "nextPage")
    old.addprevious(new_sect)
    body.remove(old)
    _restart_numbering(body)


def _relink(el: etree._Element, src_part: Part, dst_part: Part, mapping: dict[str, str]) -> None:
    """Point every relationship id of ``el`` (from ``src_part``) at an equivalent in ``dst_part``.

    ``mapping`` maps ids of ``src_part`` to ids of ``dst_part``; it is filled as
    relationships are copied, so each is copied once.
    """
    for node in el.iter():
        for attr in _R_ATTRS:
            rid = node.get(attr)
            if rid is None:
                continue
            if rid not in mapping:
                mapping[rid] = _copy_rel(src_part, dst_part, rid)
            node.set(attr, mapping[rid])


def _copy_rel(src_part: Part, dst_part: Part, rid: str) -> str:
    """Copy relationship ``rid`` of ``src_part`` (link, image, header or footer) to ``dst_part``
    and return its new id there; :class:`ReportError` for any other target."""
    rel = src_part.rels[rid]
    if rel.is_external:
        return dst_part.relate_to(rel.target_ref, rel.reltype, is_external=True)
    target = rel.target_part
    if rel.reltype == RT.IMAGE:
        image_part = dst_part.package.get_or_add_image_part(io.BytesIO(target.blob))
        return dst_part.relate_to(image_part, RT.IMAGE)
    if rel.reltype in (RT.HEADER, RT.FOOTER):
        cls, tmpl = (
            (HeaderPart, "/word/header%d.xml") if rel.reltype == RT.HEADER else (FooterPart, "/word/footer%d.xml")
        )
        part = cls(
            PackURI(dst_part.package.next_partname(tmpl)),
            target.content_type,
            copy.deepcopy(target.element),
            dst_part.package,
        )
        inner: dict[str, str] = {}
        _relink(part.element, target, part, inner)
        return dst_part.relate_to(part, rel.reltype)
    # Anything else (charts, embedded objects…) would need its own copy: refuse rather than corrupt.
    raise ReportError(
        f"contenu non pris en charge pour l'assemblage ({rel.reltype.rsplit('/', 1)[-1]}).",
        hint="Retirez ce contenu du modèle ou imprimez les documents séparément.",
    )


def _drop_page_totals(doc: DocxDocument) -> None:
    """ "Page X / Y" in a header or footer becomes "Page X": once documents are put together,
    the total would count every page of the file (LibreOffice cannot count a section's pages)."""
    parts = [
        rel.target_part
        for rel in doc.part.rels.values()
        if not rel.is_external and rel.reltype in (RT.HEADER, RT.FOOTER)
    ]
    for part in parts:
        for fld in list(part.element.iter(qn("w:fldSimple"))):
            if fld.get(qn("w:instr"), "").split()[:1] != ["NUMPAGES"]:
                continue
            prev = fld.getprevious()
            texts = list(prev.iter(qn("w:t"))) if prev is not None and prev.tag == qn("w:r") else []
            if texts and re.search(r"\s*(/|sur)\s*$", texts[-1].text or ""):
                texts[-1].text = re.sub(r"\s*(/|sur)\s*$", "", texts[-1].text)
            fld.getparent().remove(fld)


def _renumber_drawings(doc: DocxDocument) -> None:
    """Drawings need distinct ids once documents are put together."""
    for n, el in enumerate(doc.element.body.iter(qn("wp:docPr")), 1):
        el.set("id", str(n))
