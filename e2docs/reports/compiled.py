"""Word templates compiled once per run, documents written many times.

docxtpl opens the template package, parses it, pre-processes its XML (``patch_xml``),
compiles its Jinja and recompresses every part for each document. A
:class:`CompiledTemplate` does that work once: the package as python-docx saves it (its
members kept compressed), the body, headers and footers pre-processed and compiled in the
bounded sandbox (:func:`e2docs.reports.render.make_env`), the merge-field refusal made. Each
document then only renders those Jinja parts, and its package is written from the template's
members copied as they are plus the rendered parts (:mod:`e2docs.formats.rawzip`).

The documents are the ones docxtpl writes (same steps on the same XML: ``patch_xml``, the
``<w:p`` line breaks, ``resolve_listing``, ``fix_tables``, drawing ids from 1001, headers and
footers parsed and serialised by python-docx, core properties rendered); a test compares both
on the sample campaign. A context holding :class:`~e2docs.reports.charts.Chart` values (the class
record) gets its images as docxtpl adds them (a part per distinct picture, its relationship, the PNG
content type, python-docx's drawing). A template with footnotes keeps docxtpl's own path
(:func:`~e2docs.reports.render.render_to`: docxtpl renders them once per section).

The body is rendered in chunks of :data:`BODY_CHUNK` characters. One of :data:`LARGE_BODY` characters
or more (the class record of a few hundred candidates and more) is never held whole: each chunk is
checked as it comes (:class:`_BodyCheck`) and compressed into the package as Jinja gave it, so that
the memory a report takes does not grow with the class.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import re
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from docxtpl import DocxTemplate
from jinja2 import Template, TemplateError
from lxml import etree

from e2docs.formats import rawzip
from e2docs.formats.atomic import atomic_write
from e2docs.reports.charts import Chart
from e2docs.reports.errors import ReportError
from e2docs.reports.render import BrokenXml, explained, load_template, make_env, refuse_merge_fields, render_to

_TAGS = ("{{", "{%", "{#")
# The core properties docxtpl renders through Jinja (docxtpl.template.DocxTemplate.render_properties).
_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
_CORE = "application/vnd.openxmlformats-package.core-properties+xml"
_HEADER = DocxTemplate.HEADER_URI
_FOOTER = DocxTemplate.FOOTER_URI
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
_WP_DOCPR = f"{{{_WP}}}docPr"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
_CONTENT_TYPES = "[Content_Types].xml"
LARGE_BODY = 1_000_000
"""Characters of a filled-in body from which it is checked while rendered and compressed as it comes
(:meth:`CompiledTemplate._streamed`) rather than parsed into a tree and written again: the class
record of 5,000 candidates is 7.4 million characters, whose tree took 95 MB."""
BODY_CHUNK = 1 << 20
"""Characters of a body rendered, post-processed, checked and compressed at a time."""


@dataclass(frozen=True)
class _Part:
    """A part rendered for each document: its member name, its pre-processed XML (kept to quote
    the template around an error) and its compiled Jinja."""

    member: str
    source: str
    template: Template


def _has_chart(value: object) -> bool:
    """Whether ``value`` holds a :class:`Chart` (in nested dicts and lists too). Walked without
    recursion: a candidate's context holds some 400 values, looked at for each of its documents."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (str, int, float)):  # most of the values: texts and numbers
            continue
        if isinstance(item, Chart):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


class CompiledTemplate:
    """One Word template, ready to fill many times (:meth:`render_to`).

    Built from ``path``; raises :class:`ReportError` (French message, the template) when it is
    missing, unreadable, holds Word merge fields or a Jinja syntax error."""

    def __init__(self, path: str | Path) -> None:
        self.path = path = Path(path)
        if not path.exists():
            raise ReportError("modèle Word introuvable.", path, hint="Vérifiez le dossier de modèles (--templates).")
        tpl = load_template(path)
        refuse_merge_fields(tpl, path)
        self._tpl = tpl  # its patch_xml, resolve_listing and fix_tables are used (they keep no state)
        docx = tpl.docx
        package = docx.part.package
        self.fast = not any(p.content_type == _FOOTNOTES for p in package.iter_parts())
        env = make_env()
        # Core properties: docxtpl renders each one and sets it back (an absent one becomes empty).
        core = docx.core_properties
        self._properties: dict[str, Template] = {}
        for name in _PROPERTIES:
            value = getattr(core, name)
            if any(t in value for t in _TAGS):
                with explained(path):
                    self._properties[name] = env.from_string(value)
            setattr(core, name, value)
        self._core = core._element
        self._core_member = next(p.partname.membername for p in package.iter_parts() if p.content_type == _CORE)
        # Body and headers/footers, as docxtpl pre-processes them.
        self._document_member = docx.part.partname.membername
        # document.xml is written as python-docx writes it once the body is replaced: the element's
        # serialisation around the body, whose namespace declarations (those of the document
        # element, copied by docxtpl's serialisation) lxml drops when the body is put in place.
        root = copy.deepcopy(docx.element)
        marker = root.makeelement(root[_body_index(root)].tag, {})
        root.replace(root[_body_index(root)], marker)
        whole = etree.tostring(root, encoding="UTF-8", standalone=True)
        empty = f"<{marker.prefix}:body/>" if marker.prefix else "<body/>"
        self._before, _, self._after = whole.partition(empty.encode())
        self._namespaces = {(p or "").encode(): uri.encode() for p, uri in root.nsmap.items()}
        self._body = self._compile(self._document_member, tpl.get_xml())
        self._parts: list[_Part] = []
        for uri in (_HEADER, _FOOTER):
            for _, part in tpl.get_headers_footers(uri):
                self._parts.append(self._compile(part.partname.membername, tpl.get_part_xml(part)))
        # The package as python-docx writes it, members kept compressed.
        import io

        buffer = io.BytesIO()
        docx.save(buffer)
        self._members = rawzip.read_members(buffer.getvalue())
        # What adding a picture needs (docx.parts.story.StoryPart.new_pic_inline, as docxtpl calls it).
        part = docx.part
        self._rels_member = part.partname.rels_uri.membername
        self._rids = set(part.rels.keys())
        related = {rel.target_part.partname: rid for rid, rel in part.rels.items() if not rel.is_external}
        # sha1 → (member, the document's relationship to it or None)
        self._images = {p.sha1: (p.partname.membername, related.get(p.partname)) for p in package.image_parts}
        self._image_numbers = {p.partname.idx for p in package.image_parts}
        self._shape_id = part.next_id

    def _compile(self, member: str, xml: str) -> _Part:
        """``xml`` pre-processed and compiled as docxtpl's ``render_xml_part`` does."""
        source = re.sub(r"<w:p([ >])", r"\n<w:p\1", self._tpl.patch_xml(xml))
        with explained(self.path):
            try:
                return _Part(member, source, make_env().from_string(source))
            except TemplateError as exc:
                _quote(exc, source)
                raise

    def _render(self, part: _Part, context: Mapping[str, Any]) -> str:
        """``part`` filled with ``context``, post-processed as docxtpl's ``render_xml_part`` does."""
        return "".join(self._chunks(part, context))

    def _chunks(self, part: _Part, context: Mapping[str, Any]) -> Iterator[str]:
        """``part`` filled with ``context`` as Jinja produces it, in texts of about :data:`BODY_CHUNK`
        characters each ending after a paragraph's ``</w:p>``, post-processed as docxtpl's
        ``render_xml_part`` does. None of its steps spans a paragraph's end (:func:`_post_processed`):
        the texts joined are the whole part post-processed."""
        carry = ""
        try:
            for text in make_env().meter.stream(part.template.generate(context), BODY_CHUNK):
                text = carry + text
                cut = text.rfind("</w:p>") + len("</w:p>")
                if cut < len("</w:p>"):  # no paragraph ends in it yet
                    carry = text
                    continue
                carry = text[cut:]
                yield _post_processed(self._tpl, text[:cut])
        except TemplateError as exc:
            _quote(exc, part.source)
            raise
        if carry:
            yield _post_processed(self._tpl, carry)

    def _fixed_tables(self, xml: str) -> etree._Element:
        """The filled-in body parsed (:class:`BrokenXml` when it is not well-formed), its tables'
        column grids fixed by docxtpl's ``fix_tables`` when a row has more or fewer cells than its
        grid has columns (a ``{% for %}`` over cells); otherwise that step would change nothing."""
        try:
            tree = etree.fromstring(xml)
        except etree.XMLSyntaxError as exc:
            raise BrokenXml(exc.msg) from None
        if any(_grid_mismatch(t) for t in tree.iter(_W + "tbl")):
            return self._tpl.fix_tables(xml)
        return tree

    def _document(self, body: etree._Element) -> bytes:
        """document.xml holding ``body`` (a ``w:body`` element), as python-docx would write it."""
        xml = etree.tostring(body, encoding="UTF-8")
        end = xml.index(b">")
        return self._before + _undeclared(xml[:end], self._namespaces) + xml[end:] + self._after

    def _streamed(self, held: list[str], rest: Iterator[str], spool: _Spool) -> rawzip.Member:
        """document.xml compressed from a large body's chunks (``held``, then ``rest``) as they come, each
        checked (:class:`_BodyCheck`) and let go: the body is never held whole, as text or as a tree.
        Each chunk is also kept in ``spool`` (compressed), for when only a whole tree will do: then
        :class:`_WholeTreeNeeded` is raised, and the body is ``spool``'s text followed by what ``rest``
        still gives (the template is not rendered twice). A body that is not well-formed raises
        :class:`BrokenXml` once Jinja has rendered it all, so that an error of the template further on
        is the one raised, as when the body is rendered whole."""
        check = _BodyCheck(self._namespaces)

        def body() -> Iterator[bytes]:
            for chunk in itertools.chain(_taken(held), rest):
                data = chunk.encode("utf-8")
                spool.add(data)
                try:
                    yield check.feed(data)
                except BrokenXml:
                    for _ in rest:  # the template's own errors first
                        pass
                    raise
            check.close()

        return rawzip.compress_parts(self._document_member, itertools.chain((self._before,), body(), (self._after,)))

    def render(self, context: Mapping[str, Any], scale: float = 1.0, charts: bool | None = None) -> bytes:
        """The .docx package of this template filled with ``context`` (the fast path only: see
        :meth:`render_to`); its :class:`Chart` values become pictures (``charts``: whether it holds any,
        ``None``: looked for; a candidate's never does). ``scale``: the bounds of the
        rendering multiplied (:meth:`~e2docs.reports.render.Sandbox.bounded`). Raises
        :class:`ReportError` as :func:`~e2docs.reports.render.render_to` does."""
        from docx.oxml.parser import parse_xml

        env = make_env()
        replaced: dict[str, bytes] = {}
        ready: dict[str, rawzip.Member] = {}  # members already compressed (a large body)
        pictures = _Pictures(self)
        if charts or (charts is None and _has_chart(context)):
            context = pictures.bind(context)
        with explained(self.path), env.bounded(scale=scale):
            chunks = self._chunks(self._body, context)
            held: list[str] = []  # the body's first chunks, until it is known to be large
            size = 0
            for chunk in chunks:
                held.append(chunk)
                size += len(chunk)
                if size >= LARGE_BODY:
                    break
            xml: str | None = None
            if size >= LARGE_BODY:
                spool = _Spool()
                try:
                    ready[self._document_member] = self._streamed(held, chunks, spool)
                except _WholeTreeNeeded:  # the whole text: what was checked, then the rest
                    xml = spool.text() + "".join(chunks)
                del spool
            else:
                xml = "".join(held)
            del held, chunks
            if xml is not None:
                body = self._fixed_tables(xml)
                del xml
                for n, el in enumerate(body.iter(_WP_DOCPR), 1001):
                    el.set("id", str(n))
                replaced[self._document_member] = self._document(body)
                del body
            for part in self._parts:
                xml = self._render(part, context)
                try:
                    element = parse_xml(xml.encode("utf-8"))
                except etree.XMLSyntaxError as exc:
                    raise BrokenXml(exc.msg) from None
                replaced[part.member] = etree.tostring(element, encoding="UTF-8", standalone=True)
            if self._properties:
                from docx.opc.coreprops import CoreProperties

                core = copy.deepcopy(self._core)
                props = CoreProperties(core)
                for name, template in self._properties.items():
                    setattr(props, name, template.render(context))
                replaced[self._core_member] = etree.tostring(core, encoding="UTF-8", standalone=True)
        replaced.update(pictures.parts())
        for name, data in replaced.items():
            ready[name] = rawzip.compress(name, data)
        members = [ready.pop(m.name, m) for m in self._members]
        members += list(ready.values())  # the pictures added
        return rawzip.write_zip(members, time.time())

    def render_to(
        self,
        context: Mapping[str, Any],
        out: str | Path,
        scale: float = 1.0,
        charts: bool | None = None,
        durable: bool = True,
    ) -> Path:
        """Fill the template with ``context`` and write ``out`` atomically; returns ``out``.

        A template with footnotes goes through docxtpl (:func:`~e2docs.reports.render.render_to`).
        ``durable=False``: not flushed to disk (:func:`~e2docs.formats.atomic.atomic_write`). Raises
        :class:`ReportError` (French message, the template) as that function does, and ``OSError`` when
        ``out`` cannot be written."""
        out = Path(out)
        if not self.fast:
            return render_to(self.path, context, out, scale)
        atomic_write(out, self.render(context, scale, charts), prefix=f".{out.stem}.", durable=durable)
        return out


class _Picture:
    """A :class:`Chart` of the context, written where the template shows it as docxtpl's ``InlineImage``
    writes a picture (its PNG drawn then, and added to the document once)."""

    def __init__(self, chart: Chart, pictures: _Pictures) -> None:
        self.chart = chart
        self.pictures = pictures

    def __html__(self) -> str:
        from docx.image.image import Image
        from docx.oxml.shape import CT_Inline
        from docx.shared import Mm

        png = self.chart.png
        rid = self.pictures.add(png)
        image = Image.from_blob(png)
        cx, cy = image.scaled_dimensions(Mm(self.chart.width_mm), None)
        compiled = self.pictures.template
        pic = CT_Inline.new_pic_inline(compiled._shape_id, rid, image.filename, cx, cy).xml
        # the declarations the document element makes already: lxml drops them once the body is in it
        pic = _undeclared(pic.encode("utf-8"), compiled._namespaces).decode("utf-8")
        return f'</w:t></w:r><w:r><w:drawing>{pic}</w:drawing></w:r><w:r><w:t xml:space="preserve">'

    __str__ = __html__


class _Pictures:
    """The pictures one document adds to its template's package (python-docx's rules: a part per
    distinct image, ``word/media/imageN.png`` with the first free N, a relationship with the first
    free ``rIdN``, the PNG default content type)."""

    def __init__(self, template: CompiledTemplate) -> None:
        self.template = template
        self.added: dict[str, tuple[str, str, bytes]] = {}  # sha1 → (rId, member, PNG; b"": the template's)
        self.rids = set(template._rids)
        self.numbers = set(template._image_numbers)

    def bind(self, context: Any) -> Any:
        """``context`` with its charts (in nested dicts and lists too) as pictures of this document."""
        if isinstance(context, Chart):
            return _Picture(context, self)
        if isinstance(context, dict):
            return {k: self.bind(v) for k, v in context.items()}
        if isinstance(context, list):
            return [self.bind(v) for v in context]
        return context

    def add(self, png: bytes) -> str:
        """The relationship id of ``png`` in this document, added on first use."""
        sha1 = hashlib.sha1(png).hexdigest()  # noqa: S324 — python-docx's key for the same image
        if sha1 in self.added:
            return self.added[sha1][0]
        rid = next(f"rId{n}" for n in range(1, len(self.rids) + 2) if f"rId{n}" not in self.rids)
        if sha1 in self.template._images:  # the template holds the same picture: related to, not added
            member, related = self.template._images[sha1]
            if related is not None:
                return related
            self.added[sha1] = (rid, member, b"")
        else:
            number = next(n for n in range(1, len(self.numbers) + 2) if n not in self.numbers)
            self.numbers.add(number)
            self.added[sha1] = (rid, f"word/media/image{number}.png", png)
        self.rids.add(rid)
        return rid

    def parts(self) -> dict[str, bytes]:
        """The members this document changes or adds for its pictures (none without pictures)."""
        if not self.added:
            return {}
        members = {m.name: m for m in self.template._members}
        rels = etree.fromstring(rawzip.content(members[self.template._rels_member]))
        types = etree.fromstring(rawzip.content(members[_CONTENT_TYPES]))
        out: dict[str, bytes] = {}
        for rid, member, png in self.added.values():
            target = member.removeprefix("word/")
            etree.SubElement(rels, f"{_RELS}Relationship", {"Id": rid, "Type": _IMAGE_REL, "Target": target})
            if png:
                out[member] = png
        defaults = types.findall(f"{_TYPES}Default")
        if not any((d.get("Extension") or "").lower() == "png" for d in defaults):
            png_default = types.makeelement(f"{_TYPES}Default", {"Extension": "png", "ContentType": "image/png"})
            after = [d for d in defaults if (d.get("Extension") or "") < "png"]
            if after:
                after[-1].addnext(png_default)
            else:
                types.insert(0, png_default)
        out[self.template._rels_member] = etree.tostring(rels, encoding="UTF-8", standalone=True)
        out[_CONTENT_TYPES] = etree.tostring(types, encoding="UTF-8", standalone=True)
        return out


class _Spool:
    """A large body's bytes as they go by, kept compressed (a tenth of their size), in case the whole
    text is needed after all (:meth:`CompiledTemplate._streamed`)."""

    def __init__(self) -> None:
        self._packer = zlib.compressobj(1)
        self._parts: list[bytes] = []

    def add(self, data: bytes) -> None:
        self._parts.append(self._packer.compress(data))

    def text(self) -> str:
        """Everything added, as text (the spool is then closed)."""
        self._parts.append(self._packer.flush())
        return zlib.decompress(b"".join(self._parts)).decode("utf-8")


def _taken(items: list[str]) -> Iterator[str]:
    """``items`` in order, each removed from the list as it is given (let go once used)."""
    while items:
        yield items.pop(0)


class _WholeTreeNeeded(Exception):
    """A large body needs what only a whole tree gives (:class:`_BodyCheck`)."""


class _BodyCheck:
    """A large filled-in body (a ``w:body`` element, UTF-8) checked as it is read, chunk after chunk
    (:meth:`feed`, then :meth:`close`), each table row let go once checked: the chunks come back with
    the body's start tag stripped of the namespace declarations the document element makes
    (``declared``), and the drawings numbered from 1001 as docxtpl numbers them.

    Raises :class:`_WholeTreeNeeded` for what only a whole tree gives: a table whose grid docxtpl
    would fix (:func:`_grid_mismatch`), or drawings the text does not show plainly (in a namespace not
    declared on the body with a prefix, or a ``docPr`` the text hides); :class:`BrokenXml` when the body
    is not well-formed. Each chunk must end at a tag's end (the chunks of :meth:`CompiledTemplate._chunks`
    end after ``</w:p>``), so that no drawing's tag is cut."""

    _WATCHED = (_W + "tbl", _W + "tblGrid", _W + "tr", _W + "p", _W + "sectPr", _WP_DOCPR)

    def __init__(self, declared: dict[bytes, bytes]) -> None:
        self.declared = declared
        self.parser = etree.XMLPullParser(
            events=("end",), tag=self._WATCHED, resolve_entities=False, no_network=True, huge_tree=True
        )
        self.columns: dict[etree._Element, int] = {}  # table → columns of its grid (the element kept alive: its key)
        self.widest: dict[etree._Element, int] = {}  # table → widest row seen, its nested tables' rows included
        self.drawings = 0  # docPr elements the parser met
        self.numbered = 0  # docPr tags the text shows, numbered
        self.docpr: re.Pattern[bytes] | None = None  # a docPr's start tag, once the body's is read

    def feed(self, chunk: bytes) -> bytes:
        """``chunk`` checked, returned with its drawings numbered (and the body's start tag undeclared)."""
        try:
            for start in range(0, len(chunk), _FEED):
                self.parser.feed(chunk[start : start + _FEED])
                self._check()
        except etree.XMLSyntaxError as exc:
            raise BrokenXml(exc.msg) from None
        if self.docpr is None:  # the first chunk: the body's start tag, and the drawings' prefix
            end = chunk.index(b">")
            prefix = next((p for p, uri in _XMLNS.findall(chunk[:end]) if uri == _WP.encode() and p), None)
            self.docpr = re.compile(rb"<" + re.escape(prefix) + rb":docPr\b[^>]*>") if prefix else _NO_DOCPR
            chunk = _undeclared(chunk[:end], self.declared) + chunk[end:]
        return self.docpr.sub(self._renumber, chunk)

    def close(self) -> None:
        """The end of the body: the last checks."""
        try:
            self.parser.close()
            self._check()
        except etree.XMLSyntaxError as exc:
            raise BrokenXml(exc.msg) from None
        if self.drawings != self.numbered:  # a drawing the text does not show plainly
            raise _WholeTreeNeeded

    def _renumber(self, m: re.Match[bytes]) -> bytes:
        tag = m.group(0)
        if not _DOCPR_ID.search(tag):
            return tag  # counted as not numbered: close() finds the difference
        self.numbered += 1
        return _DOCPR_ID.sub(f'id="{1000 + self.numbered}"'.encode(), tag, count=1)

    def _check(self) -> None:
        body = _W + "body"
        for _, found in self.parser.read_events():
            el = cast(etree._Element, found)  # "end" events give elements
            tag = el.tag
            if tag == _W + "tr":
                span = _row_span(el)
                for table in el.iterancestors(_W + "tbl"):
                    grid = self.columns.get(table)
                    if grid is None or span is None or span[0] > grid:
                        raise _WholeTreeNeeded
                    self.widest[table] = max(self.widest.get(table, 0), span[1])
                _let_go(el)
                continue
            if tag == _W + "tblGrid":
                parent = el.getparent()
                if parent is not None and parent.tag == _W + "tbl" and parent not in self.columns:
                    self.columns[parent] = len(el.findall(_W + "gridCol"))
                continue
            if tag == _W + "tbl":
                grid = self.columns.pop(el, None)
                if grid is None or self.widest.pop(el, 0) < grid:
                    raise _WholeTreeNeeded
            elif tag == _WP_DOCPR:
                self.drawings += 1
                continue
            parent = el.getparent()
            if parent is not None and parent.tag == body:
                _let_go(el)


_FEED = 1 << 18  # bytes given to the parser at a time: its events read between, rows let go
_NO_DOCPR = re.compile(rb"(?!)")  # never matches: no prefix for drawings on the body


def _undeclared(xml: bytes, declared: dict[bytes, bytes]) -> bytes:
    """``xml`` without the namespace declarations (prefix → URI) ``declared`` already makes, as lxml
    drops them once the element is inside the one that declares them."""

    def keep(m: re.Match[bytes]) -> bytes:
        return b"" if declared.get(m.group(1) or b"") == m.group(2) else m.group(0)

    return _XMLNS.sub(keep, xml)


_DOCPR_ID = re.compile(rb'\bid="[^"]*"')


def _row_span(row: etree._Element) -> tuple[int, int] | None:
    """(cells, columns spanned) of a table row as :func:`_grid_mismatch` counts them; ``None`` for a
    span that is not a number (docxtpl fails on it: the whole tree is built to let it say so)."""
    cells = row.findall(_W + "tc")
    span = 0
    for cell in cells:
        found = cell.find(f"{_W}tcPr/{_W}gridSpan")
        if found is None:
            span += 1
        elif (val := found.get(_W + "val") or "").isdigit():
            span += int(val)
        else:
            return None
    return len(cells), span


def _let_go(el: etree._Element) -> None:
    """Free ``el``'s content and the siblings before it (already checked)."""
    el.clear(keep_tail=True)  # type: ignore[call-arg]  # lxml's own argument
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


_XMLNS = re.compile(rb' xmlns(?::([^=\s]+))?="([^"]*)"')
_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)
_SPECIAL = re.compile("[\t\a\n\f]")


def _post_processed(tpl: DocxTemplate, xml: str) -> str:
    """Rendered ``xml`` post-processed as docxtpl's ``render_xml_part`` does: the line breaks put
    before paragraphs removed, the escaped tags restored, the special characters of values resolved
    (:func:`_resolve_listing`). No step spans a paragraph's end: applied to texts cut after ``</w:p>``,
    the results joined are those of the whole."""
    xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
    xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    return _resolve_listing(tpl, xml)


def _resolve_listing(tpl: DocxTemplate, xml: str) -> str:
    """docxtpl's ``resolve_listing`` (tabs, line and page breaks typed in a value become Word's),
    applied only to the paragraphs holding such a character: it leaves the others as they are,
    and running it over every paragraph was half the cost of a document."""
    if not _SPECIAL.search(xml):
        return xml

    def paragraph(m: re.Match[str]) -> str:
        text = m.group(0)
        return str(tpl.resolve_listing(text)) if _SPECIAL.search(text) else text

    return _PARAGRAPH.sub(paragraph, xml)


def _grid_mismatch(table: etree._Element) -> bool:
    """Whether docxtpl's ``fix_tables`` would change ``table``: a row (its own or a nested table's,
    as docxtpl counts them) with more cells than the grid has columns, or every row spanning fewer
    columns than the grid has. Asked of lxml's XPath (in C: a document holds a dozen tables, whose
    rows a Python loop took a millisecond to count)."""
    grid = table.find(_W + "tblGrid")
    if grid is None:
        return True  # docxtpl fails on it: let it say so
    columns = len(grid.findall(_W + "gridCol"))
    return bool(_MISMATCH(table, n=columns))


_MISMATCH = etree.XPath(
    # a span that is not a number: docxtpl fails on it, let it say so
    ".//w:tr/w:tc/w:tcPr/w:gridSpan[string-length(@w:val) = 0 or translate(@w:val, '0123456789', '') != '']"
    # a row with more cells than the grid has columns
    " | .//w:tr[count(w:tc) > $n]"
    # no row spanning the grid (true when no row does: `not` of the rows that do)
    " | self::w:tbl[$n > 0 and not(.//w:tr["
    "count(w:tc[not(w:tcPr/w:gridSpan)]) + sum(w:tc/w:tcPr/w:gridSpan/@w:val) >= $n])]",
    namespaces={"w": _W[1:-1]},
)


def _body_index(root: etree._Element) -> int:
    """Position of ``w:body`` among the children of the document element ``root``."""
    for i, child in enumerate(root):
        if child.tag.endswith("}body"):
            return i
    raise ValueError("document without w:body")


def _quote(exc: TemplateError, source: str) -> None:
    """Record on ``exc`` the template text around its line, as docxtpl does (``docx_context``)."""
    lineno = getattr(exc, "lineno", None)
    if lineno is not None:
        start = max(lineno - 4, 0)
        exc.docx_context = [re.sub(r"<[^>]+>", "", x) for x in source.splitlines()[start : start + 7]]  # type: ignore[attr-defined]


class Templates:
    """The templates of one run, each compiled on first use: ``get(path)``."""

    def __init__(self) -> None:
        self._compiled: dict[Path, CompiledTemplate] = {}

    def get(self, path: str | Path) -> CompiledTemplate:
        """The compiled template at ``path`` (compiled once); :class:`ReportError` as
        :class:`CompiledTemplate`."""
        key = Path(path).absolute()
        if key not in self._compiled:
            self._compiled[key] = CompiledTemplate(key)
        return self._compiled[key]
