"""Candidates' workbooks written by patching one rendered workbook.

XlsxWriter rebuilds the same workbook for every candidate, though only a few parts differ. Here
it renders, once per run and per *shape*, the workbook of a stand-in candidate whose texts are
tokens (``\\ue000last_name\\ue001``: private-use characters no roster holds); each candidate's
workbook is that package with the candidate's parts written in — the shared strings (identity
cells, the prospecting sheet's subtitle, the metadata sheet with its fingerprint and signature),
the footers, the core and custom document properties — and every other part copied, already
compressed. The parts are those :func:`~e2docs.formats.xlsx.writer.render_candidate` writes for
the same candidate, byte for byte (the tests compare both); only the zip around them differs.

The shape is what would move or retype cells: which identity fields are empty (an empty one is a
blank cell, not a text) and the heights of the candidate block's rows (layout version 2 sizes
them for the name, and page breaks follow), :func:`~e2docs.formats.xlsx.layout.identity_heights`.
A candidate a template cannot write exactly — a name with spaces at either end, « &[Picture] »
in a footer, a text over Excel's 32,767 characters — is rendered whole, as is every candidate when a
template fails its own check (XlsxWriter writing its parts differently from what is patched).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from xlsxwriter.core import Core
from xlsxwriter.custom import Custom
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.xmlwriter import XMLwriter

from e2docs.formats.xlsx import integrity
from e2docs.formats.xlsx.layout import build_layout, identity_heights
from e2docs.formats.xlsx.writer import (
    Options,
    footer,
    meta_of,
    render_candidate,
    render_layout,
    stamped,
    workbook_title,
)
from e2docs.formats.zipwrite import LEVEL, Member, Prefix, deflated, zip_bytes
from e2docs.model.candidate import Candidate, Context
from e2docs.model.grid import Grid

_OPEN, _CLOSE = "\ue000", "\ue001"
_TOKEN = re.compile("\ue000([a-z_0-9]+)\ue001")
_STRING_CELL = re.compile(rb' t="s"><v>(\d+)</v>')
_SST = "xl/sharedStrings.xml"
_CORE = "docProps/core.xml"
_CUSTOM = "docProps/custom.xml"
_FOOTER_OPEN, _FOOTER_CLOSE = b"<oddFooter>", b"</oddFooter>"
MAX_TEMPLATES = 16
"""Templates kept at once (least recently used dropped): memory stays flat whatever the roster."""
_MAX_STRING = 16383  # a longer text may pass XlsxWriter's 32,767 UTF-16 units, which it cuts


class TemplateError(Exception):
    """A rendered template does not hold its tokens where patching expects them (a bug, or an
    XlsxWriter writing differently): the run renders every workbook whole."""


def _tok(key: str) -> str:
    return f"{_OPEN}{key}{_CLOSE}"


class _TokenDate(dt.date):
    """A birth date that formats as tokens: ``strftime`` gives ``date0``, ``date1``… (one per format,
    recorded in :attr:`formats`), ``isoformat`` gives ``birth_iso``."""

    formats: list[str]

    def strftime(self, fmt: str) -> str:
        if fmt not in self.formats:
            self.formats.append(fmt)
        return _tok(f"date{self.formats.index(fmt)}")

    def isoformat(self) -> str:
        return _tok("birth_iso")


def _shape(cand: Candidate) -> tuple[bool, ...]:
    """Which of the candidate's fields are empty."""
    return (
        not cand.number,
        not cand.last_name,
        not cand.first_name,
        not cand.division,
        cand.birth_date is None,
        not cand.ine,
        not cand.specialty,
    )


def _stand_in(cand: Candidate) -> tuple[Candidate, list[str]]:
    """A candidate of ``cand``'s shape whose texts are tokens, and the list its birth date's formats go to."""
    formats: list[str] = []
    birth = None
    if cand.birth_date is not None:
        birth = _TokenDate(2000, 1, 1)
        birth.formats = formats
    return (
        Candidate(
            _tok("number") if cand.number else "",
            _tok("last_name") if cand.last_name else "",
            _tok("first_name") if cand.first_name else "",
            _tok("division") if cand.division else "",
            birth,
            _tok("ine") if cand.ine else "",
            _tok("specialty") if cand.specialty else "",
        ),
        formats,
    )


def _xml_text(text: str) -> str:
    """Element text as XlsxWriter writes it (``&<>`` escaped, control characters as ``_xHHHH_``)."""
    return str(XMLwriter._escape_control_characters(XMLwriter()._escape_data(text)))


def _si(text: str) -> str:
    """One ``<si>`` of the shared strings, as XlsxWriter writes it."""
    writer = SharedStrings()
    writer._set_xml_writer(io.StringIO())
    writer._write_si(text)
    return str(writer.fh.getvalue())


def _sst_xml(strings: list[str], count: int) -> str:
    writer = SharedStrings()

    class Table:
        unique_count = len(strings)
        string_array = strings

    Table.count = count  # type: ignore[attr-defined]
    writer.string_table = Table
    writer._set_xml_writer(io.StringIO())
    writer._assemble_xml_file()
    return str(writer.fh.getvalue())


def _core_xml(properties: dict[str, Any]) -> str:
    core = Core()
    core._set_properties(properties)
    core._set_xml_writer(io.StringIO())
    core._assemble_xml_file()
    return str(core.fh.getvalue())


def _custom_xml(properties: list[Any]) -> str:
    custom = Custom()
    custom._set_properties(properties)
    custom._set_xml_writer(io.StringIO())
    custom._assemble_xml_file()
    return str(custom.fh.getvalue())


class _Patch:
    """An XML part whose tokens stand in element text XlsxWriter escaped as :func:`_xml_text` does:
    each token is replaced by its value escaped alike. Escaping piece by piece is escaping the
    whole only when no ``_xHHHH_`` can straddle a token's edge: :class:`TemplateError` when a
    token touches a letter, digit or ``_``."""

    def __init__(self, xml: str):
        self.parts = _TOKEN.split(xml)
        for i in range(1, len(self.parts), 2):
            before, after = self.parts[i - 1][-1:], self.parts[i + 1][:1]
            if re.match(r"\w", before) or re.match(r"\w", after):
                raise TemplateError("a token touches a word character")

    def apply(self, values: dict[str, str]) -> bytes:
        """The part with ``values`` (token key → text) written in, UTF-8."""
        parts = self.parts
        return "".join(p if i % 2 == 0 else _xml_text(values[p]) for i, p in enumerate(parts)).encode("utf-8")


def _sub(text: str, values: dict[str, str]) -> str:
    return _TOKEN.sub(lambda m: values[m.group(1)], text) if _OPEN in text else text


class _Template:
    """One rendered workbook of a shape, and what each candidate's copy changes in it."""

    def __init__(self, grid: Grid, ctx: Context, options: Options, cand: Candidate):
        self.ctx = ctx
        self.options = options
        stand_in, self.date_formats = _stand_in(cand)
        layout = build_layout(grid, stand_in, ctx, version=options.layout_version, sized_for=cand)
        self.full_name = stand_in.full_name
        self.sheets = (layout.sheets[0].title, layout.sheets[1].title)
        self.version = layout.version
        self.grid = grid
        fp_text = integrity.fingerprint_text(layout)
        self.fp_parts = _TOKEN.split(fp_text)  # text, key, text, key…, text
        meta = meta_of(
            grid,
            stand_in,
            ctx,
            options,
            version=layout.version,
            sheets=self.sheets,
            local_names=False,
            fingerprint=_tok("fingerprint"),
        )
        meta["signature"] = _tok("signature")
        data, wb = render_layout(layout, ctx, options, meta)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = {info.filename: zf.read(info) for info in zf.infolist()}
        self.names = list(parts)

        # shared strings: the template's, those with tokens patched for each candidate
        self.sst: list[str] = list(wb.str_table.string_array)
        self.sst_count: int = wb.str_table.count
        self.patched = [i for i, s in enumerate(self.sst) if _OPEN in s or _CLOSE in s]
        patched = set(self.patched)
        self.fixed = {s: i for i, s in enumerate(self.sst) if i not in patched}
        self.si = [_si(s) for s in self.sst]
        head = _sst_xml([], self.sst_count).removesuffix("</sst>")
        self.sst_head = head.replace('uniqueCount="0"', f'uniqueCount="{len(self.sst)}"', 1)
        self.core_props: dict[str, Any] = dict(wb.doc_properties)
        self.custom_props: list[Any] = [list(p) for p in wb.custom_properties]
        self.sheet_titles = {f"xl/worksheets/sheet{i}.xml": ws.name for i, ws in enumerate(wb.worksheets(), 1)}

        # the parts each candidate changes, checked against what XlsxWriter wrote for the stand-in
        identity = {k: _tok(k) for k in self._keys()}
        self.prefixes: dict[str, Prefix] = {}
        self.suffixes: dict[str, bytes] = {}
        for name, title in self.sheet_titles.items():
            xml = parts[name]
            if _FOOTER_OPEN not in xml:
                continue
            start = xml.index(_FOOTER_OPEN) + len(_FOOTER_OPEN)
            end = xml.index(_FOOTER_CLOSE, start)
            self.prefixes[name] = Prefix(name, xml[:start])
            self.suffixes[name] = xml[end:]
            if xml[start:end] != _xml_text(footer(stand_in, title)).encode("utf-8"):
                raise TemplateError(f"footer of {name} not where expected")
            if _OPEN.encode() in xml[:start] + xml[end:]:
                raise TemplateError(f"candidate text outside the footer of {name}")
        checks = {
            _SST: self._sst(self.sst),
            _CORE: _core_xml(self._core(stand_in)),
            _CUSTOM: _custom_xml(self._custom(identity)),
        }
        for name, text in checks.items():
            if parts.get(name) != text.encode("utf-8"):
                raise TemplateError(f"{name} not rewritten as XlsxWriter writes it")
        self.core = _Patch(checks[_CORE])
        self.custom = _Patch(checks[_CUSTOM])
        for name, content in parts.items():
            if name not in checks and name not in self.prefixes and _OPEN.encode() in content:
                raise TemplateError(f"candidate text in {name}")
        for i in self.patched:
            if _OPEN in _TOKEN.sub("", self.sst[i]) or _CLOSE in _TOKEN.sub("", self.sst[i]):
                raise TemplateError("a token was changed by the layout")
        self.sheet_xml = {name: parts[name] for name in self.sheet_titles}
        self.members: dict[str, Member] = {
            name: deflated(name, content)
            for name, content in parts.items()
            if name not in checks and name not in self.prefixes
        }

    def _keys(self) -> list[str]:
        keys = ["number", "last_name", "first_name", "division", "ine", "specialty", "fingerprint", "signature"]
        return [*keys, "birth_iso", *(f"date{i}" for i in range(len(self.date_formats)))]

    def _core(self, cand: Candidate) -> dict[str, Any]:
        return {**self.core_props, "title": workbook_title(cand)}

    def _custom(self, values: dict[str, str]) -> list[Any]:
        return [[n, _sub(v, values) if isinstance(v, str) else v, t] for n, v, t in self.custom_props]

    def _sst(self, strings: list[str]) -> str:
        """The shared strings part holding ``strings`` (the template's, patched; fewer when some
        became equal)."""
        if len(strings) != len(self.sst):
            return _sst_xml(strings, self.sst_count)
        si = list(self.si)
        for i in self.patched:
            si[i] = _si(strings[i])
        return self.sst_head + "".join(si) + "</sst>"

    def render(self, cand: Candidate) -> tuple[bytes, dict[str, Any]] | None:
        """The bytes of ``cand``'s workbook and its signed metadata; ``None`` when this template cannot
        write it exactly (see the module docstring)."""
        values = {
            "number": cand.number,
            "last_name": cand.last_name,
            "first_name": cand.first_name,
            "division": cand.division,
            "ine": cand.ine,
            "specialty": cand.specialty,
        }
        if cand.birth_date is not None:
            values["birth_iso"] = cand.birth_date.isoformat()
            for i, fmt in enumerate(self.date_formats):
                values[f"date{i}"] = cand.birth_date.strftime(fmt)
        if _sub(self.full_name, values) != cand.full_name:
            return None
        fp = self.fp_parts
        text = "".join(
            part if i % 2 == 0 else json.dumps(values[part], ensure_ascii=False)[1:-1] for i, part in enumerate(fp)
        )
        meta = meta_of(
            self.grid,
            cand,
            self.ctx,
            self.options,
            version=self.version,
            sheets=self.sheets,
            local_names=False,
            fingerprint=integrity.digest(text),
        )
        values["fingerprint"] = meta["fingerprint"]
        values["signature"] = meta["signature"]

        strings = list(self.sst)
        for i in self.patched:
            strings[i] = _sub(strings[i], values)
            if len(strings[i]) > _MAX_STRING:
                return None
        unique, remap = self._dedupe(strings)
        footers = {}
        for name in self.prefixes:
            text = footer(cand, self.sheet_titles[name])
            if "&[Picture]" in text:  # XlsxWriter rewrites it
                return None
            footers[name] = _xml_text(text).encode("utf-8")

        changed: dict[str, Member] = {
            _SST: deflated(_SST, self._sst(unique).encode("utf-8")),
            _CORE: deflated(_CORE, self.core.apply(values)),
            _CUSTOM: deflated(_CUSTOM, self.custom.apply(values)),
        }
        same = len(unique) == len(strings)
        for name, prefix in self.prefixes.items():
            if same:
                changed[name] = prefix.member(footers[name] + self.suffixes[name])
        if not same:  # a candidate text equal to another text: XlsxWriter stores it once
            for name, xml in self.sheet_xml.items():
                if name in self.prefixes:
                    start = xml.index(_FOOTER_OPEN) + len(_FOOTER_OPEN)
                    xml = xml[:start] + footers[name] + self.suffixes[name]
                changed[name] = deflated(name, _STRING_CELL.sub(_reindex(remap), xml))
        members = [changed.get(name) or self.members[name] for name in self.names]
        return zip_bytes(members), meta

    def _dedupe(self, strings: list[str]) -> tuple[list[str], list[int]]:
        """The strings once each in order of first use, and each string's new index."""
        seen = dict(self.fixed)
        clash = False
        for i in self.patched:
            if strings[i] in seen:
                clash = True
                break
            seen[strings[i]] = i
        if not clash:
            return strings, list(range(len(strings)))
        index: dict[str, int] = {}
        remap = []
        for s in strings:
            remap.append(index.setdefault(s, len(index)))
        return list(index), remap


def _reindex(remap: list[int]) -> Callable[[re.Match[bytes]], bytes]:
    return lambda m: b' t="s"><v>%d</v>' % remap[int(m.group(1))]


class Stamper:
    """Writes the candidates' workbooks of one run (one grid, context and options) from templates.

    :meth:`render` gives what :func:`~e2docs.formats.xlsx.writer.render_candidate` gives, faster.
    ``options.generated_at`` is set once (now) when empty, so every workbook of the run shares it.
    """

    def __init__(self, grid: Grid, ctx: Context, options: Options):
        self.grid = grid
        self.ctx = ctx
        self.options = stamped(options)
        self._templates: OrderedDict[tuple[object, ...], _Template] = OrderedDict()
        self._broken = False
        self.rendered_whole = 0
        """Workbooks rendered whole (no template could write them exactly)."""

    def render(self, cand: Candidate) -> tuple[bytes, dict[str, Any]]:
        """The bytes of ``cand``'s workbook (.xlsx) and its signed metadata."""
        if not self._broken:
            key = (*_shape(cand), *identity_heights(self.grid, cand, self.options.layout_version))
            template = self._templates.get(key)
            if template is None:
                try:
                    template = _Template(self.grid, self.ctx, self.options, cand)
                except TemplateError:
                    self._broken = True
                else:
                    self._templates[key] = template
                    if len(self._templates) > MAX_TEMPLATES:
                        self._templates.popitem(last=False)
            else:
                self._templates.move_to_end(key)
            if template is not None:
                done = template.render(cand)
                if done is not None:
                    return done
        self.rendered_whole += 1
        return render_candidate(self.grid, cand, self.ctx, self.options)


__all__ = ["LEVEL", "MAX_TEMPLATES", "Stamper", "TemplateError"]
