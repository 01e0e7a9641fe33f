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
on the sample campaign. Two cases keep docxtpl's own path (:func:`~e2docs.reports.render.render_to`):
a context holding :class:`~e2docs.reports.charts.Chart` values (the class record: its images add
parts and relationships; one document per class) and a template with footnotes (docxtpl renders
them once per section).
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
_WP_DOCPR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"


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
        try:
            xml = part.template.render(context)
        except TemplateError as exc:
            _quote(exc, part.source)
            raise
        xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        return _resolve_listing(self._tpl, xml)

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
        declared = self._namespaces

        def keep(m: re.Match[bytes]) -> bytes:
            return b"" if declared.get(m.group(1) or b"") == m.group(2) else m.group(0)

        return self._before + _XMLNS.sub(keep, xml[:end]) + xml[end:] + self._after

    def render(self, context: Mapping[str, Any]) -> bytes:
        """The .docx package of this template filled with ``context`` (the fast path only: see
        :meth:`render_to`). Raises :class:`ReportError` as :func:`~e2docs.reports.render.render_to` does."""
        from docx.oxml.parser import parse_xml

        env = make_env()
        replaced: dict[str, bytes] = {}
        with explained(self.path), env.bounded():
            body = self._fixed_tables(self._render(self._body, context))
            for n, el in enumerate(body.iter(_WP_DOCPR), 1001):
                el.set("id", str(n))
            replaced[self._document_member] = self._document(body)
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
        members = [rawzip.compress(m.name, replaced[m.name]) if m.name in replaced else m for m in self._members]
        return rawzip.write_zip(members, time.time())

    def render_to(self, context: Mapping[str, Any], out: str | Path) -> Path:
        """Fill the template with ``context`` and write ``out`` atomically; returns ``out``.

        A context holding charts, or a template with footnotes, goes through docxtpl
        (:func:`~e2docs.reports.render.render_to`). Raises :class:`ReportError` (French message,
        the template) as that function does, and ``OSError`` when ``out`` cannot be written."""
        out = Path(out)
        if not self.fast or _has_chart(context):
            return render_to(self.path, context, out)
        atomic_write(out, self.render(context), prefix=f".{out.stem}.")
        return out


_XMLNS = re.compile(rb' xmlns(?::([^=\s]+))?="([^"]*)"')
_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)
_SPECIAL = re.compile("[\t\a\n\f]")


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
    columns than the grid has."""
    grid = table.find(_W + "tblGrid")
    if grid is None:
        return True  # docxtpl fails on it: let it say so
    columns = len(grid.findall(_W + "gridCol"))
    widest = 0
    for row in table.iter(_W + "tr"):
        cells = row.findall(_W + "tc")
        if len(cells) > columns:
            return True
        span = 0
        for cell in cells:
            found = cell.find(f"{_W}tcPr/{_W}gridSpan")
            if found is None:
                span += 1
            elif (val := found.get(_W + "val") or "").isdigit():
                span += int(val)
            else:
                return True  # docxtpl fails on it: let it say so
        widest = max(widest, span)
    return widest < columns


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
