"""Several rendered documents into one printable .docx, each starting on a new page.

Each document becomes a section of the result (section break "next page"), keeps
its own header and footer (copied as new parts) and restarts page numbering at
1; a "page X / Y" total is dropped, since Y would count the whole file. Images and
hyperlinks are re-linked; styles and numbering are those of the first document,
which is right for documents rendered from the same template.

The merge works on the packages themselves (zip members and their XML), one document
at a time: the merged body is streamed to a temporary file, headers, footers and
images are written into the result as they come, part names and relationship ids are
numbered here. Time grows linearly with the number of documents and memory stays flat
(python-docx, used before, looked for a free part name by walking every part for each
copied header and footer, and held the whole merged tree).
"""

from __future__ import annotations

import copy
import hashlib
import posixpath
import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lxml import etree

from e2docs.formats.atomic import atomic_stream
from e2docs.reports.errors import ReportError

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_WP_DOCPR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
RT_HEADER, RT_FOOTER, RT_IMAGE = _RT + "header", _RT + "footer", _RT + "image"
RT_OFFICE_DOCUMENT = _RT + "officeDocument"
CT_HEADER = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
CT_FOOTER = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"
_R_ATTRS = (R + "id", R + "embed", R + "link", R + "pict")
_XMLNS = re.compile(rb' xmlns(?::([^=\s]+))?="([^"]*)"')
_IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "emf": "image/x-emf",
    "wmf": "image/x-wmf",
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def merge_documents(paths: Sequence[str | Path], out: str | Path) -> Path:
    """Concatenate the .docx files ``paths`` (in order) into ``out``, one section per document;
    returns ``out``. Raises :class:`ReportError` when ``paths`` is empty, a document cannot
    be read or holds content that cannot be carried over (charts, embedded objects), and
    ``OSError`` when ``out`` cannot be written (it is then left as it was)."""
    files = [Path(p) for p in paths]
    out = Path(out)
    if not files:
        raise ReportError("aucun document à assembler.", out)
    with (
        _Source.open(files[0]) as first,
        tempfile.TemporaryFile() as body,
        atomic_stream(out, prefix=f".{out.stem}.") as fh,
        zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        merge = _Merge(first, zout, body)
        merge.add(first)
        for path in files[1:]:
            with _Source.open(path) as src:
                merge.add(src)
        merge.finish()
    return out


@dataclass
class _Rel:
    """A relationship: ``rid``, type, target (a member name, or the URL when ``external``)."""

    rid: str
    type: str
    target: str
    external: bool


def _read_rels(data: bytes | None, base: str) -> dict[str, _Rel]:
    """The relationships of a ``.rels`` member, by id; targets resolved against folder ``base``."""
    rels: dict[str, _Rel] = {}
    if data is None:
        return rels
    for el in etree.fromstring(data, _PARSER):
        if el.tag != f"{{{_PKG_RELS}}}Relationship":
            continue
        external = el.get("TargetMode") == "External"
        target = el.get("Target", "")
        if not external:
            target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        rels[el.get("Id", "")] = _Rel(el.get("Id", ""), el.get("Type", ""), target, external)
    return rels


def _rels_name(member: str) -> str:
    """The relationships member of part ``member`` (``word/_rels/document.xml.rels``)."""
    folder, name = posixpath.split(member)
    return posixpath.join(folder, "_rels", name + ".rels")


def _rels_xml(rels: Sequence[_Rel], base: str) -> bytes:
    """A ``.rels`` member holding ``rels``, targets relative to folder ``base``."""
    root = etree.Element(f"{{{_PKG_RELS}}}Relationships", nsmap={None: _PKG_RELS})  # type: ignore[dict-item]
    for rel in rels:
        el = etree.SubElement(root, f"{{{_PKG_RELS}}}Relationship", Id=rel.rid, Type=rel.type)
        el.set("Target", rel.target if rel.external else posixpath.relpath(rel.target, base))
        if rel.external:
            el.set("TargetMode", "External")
    return etree.tostring(root, encoding="UTF-8", standalone=True)


class _Source:
    """One document being merged: its zip, main part and the main part's relationships."""

    def __init__(self, path: Path, zf: zipfile.ZipFile) -> None:
        self.path, self.zip = path, zf
        package = _read_rels(self.read("_rels/.rels"), "")
        self.main = next((r.target for r in package.values() if r.type == RT_OFFICE_DOCUMENT), "word/document.xml")
        self.folder = posixpath.dirname(self.main)
        self.rels = _read_rels(self.read(_rels_name(self.main)), self.folder)
        self.root = self.xml(self.main)

    @classmethod
    def open(cls, path: Path) -> _Source:
        """``path`` opened; :class:`ReportError` when it is not a readable Word document."""
        try:
            return cls(path, zipfile.ZipFile(path))
        except (OSError, zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, ValueError) as exc:
            raise ReportError(f"document illisible ({type(exc).__name__} : {exc}).", path) from None

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()

    def read(self, member: str) -> bytes | None:
        """The bytes of ``member``, ``None`` when the package has no such member."""
        try:
            return self.zip.read(member)
        except KeyError:
            return None

    def xml(self, member: str) -> etree._Element:
        """``member`` parsed (``KeyError`` when absent)."""
        data = self.read(member)
        if data is None:
            raise KeyError(member)
        return etree.fromstring(data, _PARSER)


@dataclass
class _Merge:
    """The merged package being written: the first document's parts, then each document's body,
    headers, footers and images added by :meth:`add`; :meth:`finish` writes the rest."""

    first: _Source
    zout: zipfile.ZipFile
    body: IO[bytes]  # the merged body's children, serialised, in order
    names: set[str] = field(default_factory=set)  # every member of the result
    rels: list[_Rel] = field(default_factory=list)  # the main part's relationships
    images: dict[str, str] = field(default_factory=dict)  # SHA-1 of an image → its member
    overrides: dict[str, str] = field(default_factory=dict)  # content types, part name → type
    defaults: dict[str, str] = field(default_factory=dict)  # content types, extension → type
    pending: etree._Element | None = None  # the last document's section properties
    drawings: int = 0
    _free_rid: int = 1
    rids: set[str] = field(default_factory=set)  # ids of ``rels``
    links: dict[tuple[str, str, bool], str] = field(default_factory=dict)  # (type, target, external) → id
    counters: dict[str, int] = field(default_factory=dict)  # name pattern → first number maybe free

    def __post_init__(self) -> None:
        first = self.first
        self.names = set(first.zip.namelist())
        self.rels = list(first.rels.values())
        self.rids = {r.rid for r in self.rels}
        for r in reversed(self.rels):
            self.links[(r.type, r.target, r.external)] = r.rid
        root = etree.fromstring(first.read("[Content_Types].xml") or b"", _PARSER)
        for el in root:
            if el.tag == f"{{{_CT}}}Default":
                self.defaults[el.get("Extension", "")] = el.get("ContentType", "")
            elif el.tag == f"{{{_CT}}}Override":
                self.overrides[el.get("PartName", "")] = el.get("ContentType", "")
        for name in self.names:
            if name.startswith(f"{first.folder}/media/"):
                self.images.setdefault(hashlib.sha1(first.zip.read(name)).digest().hex(), name)
        # The main part's own headers and footers lose their "page X / Y" totals.
        self.own = {r.target for r in self.rels if not r.external and r.type in (RT_HEADER, RT_FOOTER)}
        doc = first.root
        self.namespaces = {(p or "").encode(): uri.encode() for p, uri in doc.nsmap.items()}
        body = _body(doc)
        marker = doc.makeelement(body.tag, {})
        holder = copy.copy(doc)  # the document element without its children's weight
        for child in list(holder):
            holder.remove(child)
        holder.append(marker)
        whole = etree.tostring(holder, encoding="UTF-8", standalone=True)
        empty = f"<{marker.prefix}:body/>" if marker.prefix else "<body/>"
        self.before, _, self.after = whole.partition(empty.encode())
        self.body_tag = (f"{marker.prefix}:body" if marker.prefix else "body").encode()

    def _rid(self) -> str:
        """The first relationship id of the main part not yet used (as python-docx numbers them;
        ids are only added, so the search goes on from the last one found)."""
        while f"rId{self._free_rid}" in self.rids:
            self._free_rid += 1
        return f"rId{self._free_rid}"

    def _name(self, pattern: str) -> str:
        """The first free member name ``pattern % n`` (n from 1; names are only added, so the search
        goes on from the last one found for ``pattern``)."""
        n = self.counters.get(pattern, 1)
        while pattern % n in self.names:
            n += 1
        self.counters[pattern] = n
        self.names.add(pattern % n)
        return pattern % n

    def _write(self, member: str, data: bytes) -> None:
        self.zout.writestr(member, data)

    def add(self, src: _Source) -> None:
        """Append ``src``'s body as a new section (the first document: as it is)."""
        body = _body(src.root)
        sectpr = body.find(W + "sectPr")
        if sectpr is None:
            sectpr = etree.SubElement(body, W + "sectPr")
        mapping: dict[str, str] = {}
        first = src is self.first
        if not first:  # the previous section ends here, in a paragraph (section break)
            assert self.pending is not None
            brk = etree.SubElement(body, W + "p")  # made inside the body: the document's prefixes
            etree.SubElement(brk, W + "pPr").append(self.pending)
            self._emit(brk)
            body.remove(brk)
        for el in body:
            if el.tag == W + "sectPr":
                continue
            if not first:
                self._relink(el, src, mapping)
            for docpr in el.iter(_WP_DOCPR):
                self.drawings += 1
                docpr.set("id", str(self.drawings))
            self._emit(el)
        sectpr = copy.deepcopy(sectpr)
        if not first:
            self._relink(sectpr, src, mapping)
            new_type = sectpr.find(W + "type")
            if new_type is not None:
                new_type.set(W + "val", "nextPage")
        _restart_numbering(sectpr)
        self.pending = sectpr

    def _emit(self, el: etree._Element) -> None:
        """Write body child ``el``, without the namespace declarations the document element makes."""
        self.body.write(_bytes_of(el, self.namespaces))

    def _relink(self, el: etree._Element, src: _Source, mapping: dict[str, str]) -> None:
        """Point every relationship id under ``el`` (an id of ``src``'s main part) at its copy among
        the result's; ``mapping`` (``src``'s ids to the result's) is filled as they are copied."""
        for node in el.iter():
            for attr in _R_ATTRS:
                rid = node.get(attr)
                if rid is None:
                    continue
                if rid not in mapping:
                    mapping[rid] = self._copy_rel(src, src.rels[rid])
                node.set(attr, mapping[rid])

    def _copy_rel(self, src: _Source, rel: _Rel) -> str:
        """Copy relationship ``rel`` (link, image, header or footer) of ``src``'s main part into the
        result and return its id; :class:`ReportError` for any other target."""
        if rel.external:  # the same link, or a new one
            return self.links.get((rel.type, rel.target, True)) or self._relate(rel.type, rel.target, external=True)
        if rel.type == RT_IMAGE:  # the same image, or a new one
            member = self._image(src, rel.target)
            return self.links.get((RT_IMAGE, member, False)) or self._relate(RT_IMAGE, member)
        if rel.type in (RT_HEADER, RT_FOOTER):
            return self._relate(rel.type, self._copy_header(src, rel))
        raise _unsupported(rel.type)

    def _relate(self, reltype: str, target: str, external: bool = False) -> str:
        rid = self._rid()
        self.rels.append(_Rel(rid, reltype, target, external))
        self.rids.add(rid)
        self.links.setdefault((reltype, target, external), rid)
        return rid

    def _image(self, src: _Source, member: str) -> str:
        """The result's member holding the image ``member`` of ``src`` (one copy per distinct image)."""
        data = src.read(member)
        if data is None:
            raise ReportError(f"image {member} absente du document.", src.path)
        digest = hashlib.sha1(data).digest().hex()
        if digest not in self.images:
            ext = posixpath.splitext(member)[1].lstrip(".").lower() or "bin"
            name = self._name(f"{self.first.folder}/media/image%d.{ext}")
            self._write(name, data)
            self.images[digest] = name
            if ext not in self.defaults:
                self.defaults[ext] = _IMAGE_TYPES.get(ext, "application/octet-stream")
        return self.images[digest]

    def _copy_header(self, src: _Source, rel: _Rel) -> str:
        """Copy header or footer ``rel.target`` of ``src`` as a new part; returns its member name."""
        header = rel.type == RT_HEADER
        name = self._name(f"{self.first.folder}/{'header' if header else 'footer'}%d.xml")
        root = src.xml(rel.target)
        own = _read_rels(src.read(_rels_name(rel.target)), posixpath.dirname(rel.target))
        inner: dict[str, str] = {}
        collected: list[_Rel] = []
        for node in root.iter():
            for attr in _R_ATTRS:
                rid = node.get(attr)
                if rid is None:
                    continue
                if rid not in inner:
                    inner[rid] = self._copy_inner_rel(src, own[rid], collected)
                node.set(attr, inner[rid])
        _drop_page_totals(root)
        self._write(name, etree.tostring(root, encoding="UTF-8", standalone=True))
        if collected:
            self._write(_rels_name(name), _rels_xml(collected, posixpath.dirname(name)))
        self.overrides["/" + name] = CT_HEADER if header else CT_FOOTER
        return name

    def _copy_inner_rel(self, src: _Source, rel: _Rel, collected: list[_Rel]) -> str:
        """Copy a header's or footer's relationship into ``collected`` (its new part's list)."""
        if rel.external:
            target = rel.target
        elif rel.type == RT_IMAGE:
            target = self._image(src, rel.target)
        else:
            raise _unsupported(rel.type)
        for have in collected:
            if have.type == rel.type and have.target == target and have.external == rel.external:
                return have.rid
        used = {r.rid for r in collected}
        n = 1
        while f"rId{n}" in used:
            n += 1
        collected.append(_Rel(f"rId{n}", rel.type, target, rel.external))
        return f"rId{n}"

    def finish(self) -> None:
        """Write the merged body, the first document's other parts, the relationships and content types."""
        first = self.first
        assert self.pending is not None
        with self.zout.open(first.main, "w", force_zip64=True) as fh:
            fh.write(self.before)
            fh.write(b"<" + self.body_tag + b">")
            self.body.seek(0)
            shutil.copyfileobj(self.body, fh)
            fh.write(_bytes_of(self.pending, self.namespaces))
            fh.write(b"</" + self.body_tag + b">")
            fh.write(self.after)
        skip = {first.main, _rels_name(first.main), "[Content_Types].xml"}
        for info in first.zip.infolist():
            if info.filename in skip or info.is_dir():
                continue
            data = first.zip.read(info.filename)
            if info.filename in self.own:
                root = etree.fromstring(data, _PARSER)
                _drop_page_totals(root)
                data = etree.tostring(root, encoding="UTF-8", standalone=True)
            self._write(info.filename, data)
        self._write(_rels_name(first.main), _rels_xml(self.rels, first.folder))
        self._write("[Content_Types].xml", self._content_types())

    def _content_types(self) -> bytes:
        """``[Content_Types].xml``: the first document's, with the new parts' (sorted, as python-docx does)."""
        root = etree.Element(f"{{{_CT}}}Types", nsmap={None: _CT})  # type: ignore[dict-item]
        for ext in sorted(self.defaults):
            etree.SubElement(root, f"{{{_CT}}}Default", Extension=ext, ContentType=self.defaults[ext])
        for name in sorted(self.overrides):
            etree.SubElement(root, f"{{{_CT}}}Override", PartName=name, ContentType=self.overrides[name])
        return etree.tostring(root, encoding="UTF-8", standalone=True)


def _bytes_of(el: etree._Element, namespaces: dict[bytes, bytes]) -> bytes:
    xml = etree.tostring(el, encoding="UTF-8")
    end = xml.index(b">")

    def keep(m: re.Match[bytes]) -> bytes:
        return b"" if namespaces.get(m.group(1) or b"") == m.group(2) else m.group(0)

    return _XMLNS.sub(keep, xml[:end]) + xml[end:]


def _body(root: etree._Element) -> etree._Element:
    body = root.find(W + "body")
    if body is None:
        raise ValueError("document sans w:body")
    return body


def _unsupported(reltype: str) -> ReportError:
    # Anything else (charts, embedded objects…) would need its own copy: refuse rather than corrupt.
    return ReportError(
        f"contenu non pris en charge pour l'assemblage ({reltype.rsplit('/', 1)[-1]}).",
        hint="Retirez ce contenu du modèle ou imprimez les documents séparément.",
    )


def _restart_numbering(sectpr: etree._Element) -> None:
    """Page numbers of the section ``sectpr`` describes start at 1."""
    pg = sectpr.find(W + "pgNumType")
    if pg is None:
        pg = sectpr.makeelement(W + "pgNumType", {})
        # schema order: pgNumType comes after pgMar and before cols
        cols = sectpr.find(W + "cols")
        if cols is not None:
            cols.addprevious(pg)
        else:
            sectpr.append(pg)
    pg.set(W + "start", "1")


def _drop_page_totals(root: etree._Element) -> None:
    """ "Page X / Y" in a header or footer (``root``) becomes "Page X": once documents are put
    together, the total would count every page of the file (LibreOffice cannot count a section's pages)."""
    for fld in list(root.iter(W + "fldSimple")):
        if fld.get(W + "instr", "").split()[:1] != ["NUMPAGES"]:
            continue
        prev = fld.getprevious()
        texts = list(prev.iter(W + "t")) if prev is not None and prev.tag == W + "r" else []
        if texts and re.search(r"\s*(/|sur)\s*$", texts[-1].text or ""):
            texts[-1].text = re.sub(r"\s*(/|sur)\s*$", "", texts[-1].text or "")
        parent = fld.getparent()
        if parent is not None:
            parent.remove(fld)
