"""A returned workbook read straight from its XML parts: only what the reader needs, nothing trusted.

openpyxl's read-only mode costs about 0.1 s per returned grid (two passes, and the whole
stylesheet, workbook and properties turned into objects). This module reads the same
:class:`~e2docs.formats.xlsx.package.Package` from the parts e2docs needs, each parsed once by
lxml with a hardened parser (no entities resolved, no DTD loaded, no network, no huge text
nodes, any ``<!DOCTYPE`` refused, :data:`~e2docs.formats.xlsx.safety.MAX_PART_BYTES` per part):
the content types, ``xl/workbook.xml`` and its relationships, ``xl/styles.xml`` (cell protection
and number formats only), the shared strings, ``docProps/core.xml``, and each worksheet when it is
first looked at (:class:`Sheets`), values and cached results in the same pass. The stored
``<dimension>`` is never read. The parts every return of a campaign shares byte for byte (styles,
content types, workbook relationships) are parsed once per distinct content (:func:`_parsed`), and a
workbook part in Strict Open XML raises :class:`StrictWorkbook`, so that the caller need not open
the file again to find out.

Every cell is typed as openpyxl types it (its rules, copied here and checked against its own
functions by the tests, so that a collect never imports openpyxl: serial dates through the
workbook's epoch and its date formats, booleans, errors as their text; shared formulas
translated by openpyxl's own ``Translator``, imported only then; openpyxl's quirks kept: a row's
cells past its last cell's column are dropped, rows out of order are skipped, ``x005F_`` removed
from shared strings) and every text
goes through :func:`~e2docs.formats.xlsx.package.cell_text`, so a reading is the same whichever
path made it (``tests/formats/xlsx/test_fastread.py`` compares both on every workbook of the tests).

Anything this module does not expect raises :class:`Unplaceable`, and the caller reads the file
with openpyxl instead (:func:`e2docs.formats.xlsx.package.read_package`): a workbook part that is
not ``/xl/workbook.xml`` or not of an ordinary Excel content type (Strict Open XML, .xlsb), chart
sheets, duplicate sheet titles, array or data-table formulas, an unknown element inside a cell or
a string, a part over the cap, a DOCTYPE, XML that does not parse, a value openpyxl would refuse.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from lxml import etree

from e2docs.formats.sniff import is_strict_root
from e2docs.formats.xlsx.package import (
    MAIN_NS,
    Package,
    Sheet,
    _core_times,
    _protection_tag,
    cell_text,
    column_letters,
    defined_names,
)
from e2docs.formats.xlsx.safety import MAX_PART_BYTES

CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
WORKBOOK_TYPES = {  # openpyxl's search order: the first of these an Override names is the workbook part
    "application/vnd.ms-excel.template.macroEnabled.main+xml": 0,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": 1,
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": 2,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": 3,
}
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHEET_STATES = ("visible", "hidden", "veryHidden")

_C, _V, _F, _IS, _ROW, _SHEET_DATA = (f"{MAIN_NS}{t}" for t in ("c", "v", "f", "is", "row", "sheetData"))
_T, _R, _RPR, _RPH, _PHONETIC, _EXT = (f"{MAIN_NS}{t}" for t in ("t", "r", "rPr", "rPh", "phoneticPr", "extLst"))
_CELL_CHILDREN = {_V, _F, _IS, _EXT}


# What openpyxl 3.1 (MIT licence) decides about dates, copied so that reading a return does not import
# it (about 0.3 s with numpy): tests/formats/xlsx/test_fastread.py checks each against openpyxl's own.
WINDOWS_EPOCH = dt.datetime(1899, 12, 30)
MAC_EPOCH = dt.datetime(1904, 1, 1)
BUILTIN_DATES = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})  # built-in number formats of dates
BUILTIN_DURATIONS = frozenset({46})  # "[h]:mm:ss"
_STRIP = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DURATION = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)


def is_date_format(code: str | None) -> bool:
    """openpyxl's ``styles.numbers.is_date_format``."""
    if code is None:
        return False
    return re.search(r"(?<![_\\])[dmhysDMHYS]", _STRIP.sub("", code.split(";")[0])) is not None


def is_duration_format(code: str | None) -> bool:
    """openpyxl's ``styles.numbers.is_timedelta_format``."""
    return code is not None and _DURATION.search(code.split(";")[0]) is not None


def from_excel(value: float, epoch: dt.datetime, duration: bool = False) -> object:
    """A serial date as openpyxl's ``utils.datetime.from_excel`` gives it: a datetime, a time of day
    (0 ≤ value < 1), a timedelta (``duration``)."""
    if duration:
        td = dt.timedelta(days=value)
        if td.microseconds:
            td = dt.timedelta(seconds=td.total_seconds() // 1, microseconds=round(td.microseconds, -3))
        return td
    day, fraction = divmod(value, 1)
    diff = dt.timedelta(milliseconds=round(fraction * 86400 * 1000))
    if 0 <= value < 1 and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return dt.time(hours, minutes, seconds, diff.microseconds)
    if 0 < value < 60 and epoch == WINDOWS_EPOCH:
        day += 1
    return epoch + dt.timedelta(days=day) + diff


class Unplaceable(Exception):
    """This reader cannot place the file (see the module docstring): read it with openpyxl instead."""


class StrictWorkbook(Unplaceable):
    """The workbook part is in Strict Open XML (:func:`~e2docs.formats.sniff.is_strict_root`): openpyxl
    reads it as a workbook without sheets, so the caller converts it first."""


def _parser() -> etree.XMLParser:
    """A parser hardened like defusedxml: no entity resolved, no DTD loaded, no network, text nodes
    under lxml's default limits; comments and processing instructions dropped (as ElementTree does)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _bool(text: str | None, default: bool) -> bool:
    """An XML boolean attribute as openpyxl's ``Bool`` descriptor reads it."""
    if text is None:
        return default
    return False if text in ("false", "f", "0") else bool(text)


def _cast_number(value: str) -> int | float:
    """A number as openpyxl casts it (``openpyxl.worksheet._reader._cast_number``)."""
    if "." in value or "E" in value or "e" in value:
        return float(value)
    return int(value)


def _text_content(node: etree._Element) -> str:
    """The text of an ``<si>`` or ``<is>`` element as openpyxl's ``Text.content``: the plain ``<t>``
    then each run's ``<t>``; phonetic runs left out."""
    plain: str | None = None
    runs: list[str] = []
    for child in node:
        tag = child.tag
        if tag == _T:
            plain = child.text
        elif tag == _R:
            run: str | None = None
            for part in child:
                if part.tag == _T:
                    run = part.text
                elif part.tag != _RPR:
                    raise Unplaceable(f"run element {part.tag}")
            if run is not None:
                runs.append(run)
        elif tag not in (_RPH, _PHONETIC):
            raise Unplaceable(f"string element {tag}")
    return (plain or "") + "".join(runs)


@dataclass(frozen=True)
class _Styles:
    """What the cells need of ``xl/styles.xml``: each cell format's lock, the date and time formats."""

    locked: tuple[bool, ...]
    dates: frozenset[int]
    timedeltas: frozenset[int]


_P = TypeVar("_P")
PARSED_PARTS = 16
"""Parts kept parsed by their bytes, per kind (the oldest dropped): the returns of a campaign share
their styles, content types and workbook relationships byte for byte, so each is parsed once."""
PARSED_BYTES = 1 << 20
"""The largest part kept parsed (a return's styles: about 20 kB): memory stays under 50 MB whatever the files."""
_PARSED: dict[str, dict[bytes, Any]] = {"styles": {}, "types": {}, "rels": {}}
_PARSED_LOCK = threading.Lock()


def _parsed(kind: str, data: bytes, parse: Callable[[bytes], _P]) -> _P:
    """``parse(data)``, remembered by ``data`` itself (never by a hash or a size: a part that differs
    by one byte is parsed on its own); what raises is not remembered. ``parse`` must give an
    object nobody changes."""
    cache = _PARSED[kind]
    with _PARSED_LOCK:
        found = cache.get(data)
    if found is None:
        found = parse(data)
        if len(data) > PARSED_BYTES:
            return found
        with _PARSED_LOCK:
            if len(cache) >= PARSED_PARTS:
                del cache[next(iter(cache))]
            cache[data] = found
    return found


@dataclass
class _Book:
    """The package-wide parts a sheet is read with."""

    zf: zipfile.ZipFile
    strings: list[str]
    styles: _Styles
    epoch: dt.datetime


class Sheets(Mapping[str, Sheet]):
    """The workbook's worksheets by title, in workbook order, each parsed when first looked at.

    Titles and states come from ``xl/workbook.xml``; a sheet's cells are read on first access
    (``sheets[title]``, iteration over values or items), so sheets the reader never asks about
    (a class workbook's summary, a sheet a user added) are never parsed. Raises :class:`Unplaceable`
    from an access when that sheet's XML is not what this reader expects. Holds the zip file open:
    :meth:`close` (or the package's :func:`read_fast` context) closes it.
    """

    def __init__(self, book: _Book, members: dict[str, tuple[str, str]], cached: bool) -> None:
        self._book = book
        self._members = members  # title → (zip member, state)
        self._cached = cached
        self._read: dict[str, Sheet] = {}

    def __getitem__(self, title: str) -> Sheet:
        sheet = self._read.get(title)
        if sheet is None:
            member, state = self._members[title]
            sheet = _read_sheet(self._book, title, state, member, self._cached)
            self._read[title] = sheet
        return sheet

    def __contains__(self, title: object) -> bool:
        return title in self._members

    def get(self, title: str, default: Any = None) -> Any:
        """``sheets[title]``, or ``default`` when the workbook has no such sheet (as a mapping's ``get``)."""
        sheet = self._read.get(title)
        if sheet is not None:
            return sheet
        return self[title] if title in self._members else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def load(self) -> dict[str, Sheet]:
        """Every sheet, read now, as a plain dictionary."""
        return {title: self[title] for title in self._members}

    def close(self) -> None:
        self._book.zf.close()


def _member(zf: zipfile.ZipFile, name: str) -> bytes:
    """A part's bytes, refused (:class:`Unplaceable`) over :data:`MAX_PART_BYTES` or holding a DOCTYPE."""
    info = zf.getinfo(name)
    if info.file_size > MAX_PART_BYTES:
        raise Unplaceable(f"{name}: {info.file_size} bytes")
    data = zf.read(info)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Unplaceable(f"{name}: DOCTYPE")
    return data


def _has_doctype(root: etree._Element) -> bool:
    """Whether the document declared a DOCTYPE (one the byte check missed: another encoding)."""
    return bool(getattr(root.getroottree().docinfo, "doctype", ""))


def _xml(zf: zipfile.ZipFile, name: str) -> etree._Element:
    """A part parsed by the hardened parser; :class:`Unplaceable` when it does not parse or has a DTD."""
    return _parse(_member(zf, name), name)


def _parse(data: bytes, name: str) -> etree._Element:
    """``data`` (a part's bytes, read by :func:`_member`) parsed as :func:`_xml` parses it."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise Unplaceable(f"{name}: {exc}") from None
    if _has_doctype(root):
        raise Unplaceable(f"{name}: DOCTYPE")
    return root


def _styles(zf: zipfile.ZipFile) -> _Styles:
    """The cell formats of ``xl/styles.xml``, parsed once per distinct part (:func:`_parsed`)."""
    return _parsed("styles", _member(zf, "xl/styles.xml"), _parse_styles)


def _parse_styles(data: bytes) -> _Styles:
    root = _parse(data, "xl/styles.xml")
    custom = {}
    for fmt in root.iterfind(f"{MAIN_NS}numFmts/{MAIN_NS}numFmt"):
        custom[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode")
    xfs = root.find(f"{MAIN_NS}cellXfs")
    if xfs is None or len(xfs) == 0:
        raise Unplaceable("no cell formats")  # openpyxl then uses its defaults
    locked: list[bool] = []
    dates: set[int] = set()
    timedeltas: set[int] = set()
    for idx, xf in enumerate(xfs):
        if xf.tag != f"{MAIN_NS}xf":
            raise Unplaceable(f"cellXfs element {xf.tag}")
        number = int(xf.get("numFmtId", "0"))
        if number in custom:
            code = custom[number]
            if is_date_format(code):
                dates.add(idx)
            if is_duration_format(code):
                timedeltas.add(idx)
        elif number in BUILTIN_DATES:
            dates.add(idx)
            if number in BUILTIN_DURATIONS:
                timedeltas.add(idx)
        protection = xf.find(f"{MAIN_NS}protection")
        locked.append(True if protection is None else _bool(protection.get("locked"), True))
    return _Styles(tuple(locked), frozenset(dates), frozenset(timedeltas))


def _strings(zf: zipfile.ZipFile, part: str | None) -> list[str]:
    """The shared strings of ``part`` (a part name from the content types, ``None``: none)."""
    if part is None:
        return []
    table = _xml(zf, part[1:])
    return [_text_content(si).replace("x005F_", "") for si in table.iter(f"{MAIN_NS}si")]


def _content_types(zf: zipfile.ZipFile) -> str | None:
    """The shared strings part the content types name (``/xl/sharedStrings.xml``), ``None`` for none;
    Unplaceable unless they name ``/xl/workbook.xml`` as the workbook, the way openpyxl finds it.
    Parsed once per distinct part (:func:`_parsed`)."""
    ok, strings = _parsed("types", _member(zf, "[Content_Types].xml"), _parse_content_types)
    if not ok:
        raise Unplaceable("workbook part")
    return strings


def _parse_content_types(data: bytes) -> tuple[bool, str | None]:
    """(whether the workbook part is ``/xl/workbook.xml``, the shared strings part or ``None``)."""
    root = _parse(data, "[Content_Types].xml")
    found: dict[int, str] = {}
    for override in root.iter(f"{CT_NS}Override"):
        rank = WORKBOOK_TYPES.get(override.get("ContentType", ""))
        if rank is not None:
            found.setdefault(rank, override.get("PartName", ""))
    strings = next(
        (o.get("PartName", "") for o in root.iter(f"{CT_NS}Override") if o.get("ContentType") == SHARED_STRINGS_TYPE),
        None,
    )
    return bool(found) and found[min(found)] == "/xl/workbook.xml", strings


def _relationships(data: bytes) -> Mapping[str | None, tuple[str, str]]:
    """The workbook's relationships (``xl/_rels/workbook.xml.rels``): id → (member, type), external ones left out."""
    rels: dict[str | None, tuple[str, str]] = {}
    for rel in _parse(data, "xl/_rels/workbook.xml.rels").iter(f"{REL_NS}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        rels[rel.get("Id")] = (target, rel.get("Type", ""))
    return MappingProxyType(rels)


def read_fast(path: Path, cached: bool = True) -> Package:
    """``path`` (already checked by :mod:`.safety`) as a :class:`Package` whose ``sheets`` is a
    :class:`Sheets` read on demand; ``cached=False`` leaves the cached results out. Raises
    :class:`Unplaceable` when this reader cannot place the file, now or when a sheet is first read;
    zip errors pass through. The zip file stays open until ``package.sheets.close()``."""
    zf = zipfile.ZipFile(path)
    try:
        return _read(zf, cached)
    except Unplaceable:
        zf.close()
        raise
    except (zipfile.BadZipFile, OSError):
        zf.close()
        raise
    except Exception as exc:  # a value openpyxl may read otherwise, or refuse: it decides
        zf.close()
        raise Unplaceable(f"{type(exc).__name__}: {exc}") from None
    except BaseException:
        zf.close()
        raise


def _read(zf: zipfile.ZipFile, cached: bool) -> Package:
    shared_strings = _content_types(zf)
    book = _xml(zf, "xl/workbook.xml")
    if is_strict_root(book.tag):
        raise StrictWorkbook(book.tag)
    if book.tag != f"{MAIN_NS}workbook":
        raise Unplaceable(f"workbook root {book.tag}")
    rels = _parsed("rels", _member(zf, "xl/_rels/workbook.xml.rels"), _relationships)
    present = set(zf.namelist())
    members: dict[str, tuple[str, str]] = {}
    for sheet in book.iterfind(f"{MAIN_NS}sheets/{MAIN_NS}sheet"):
        rid, title, state = sheet.get(R_ID), sheet.get("name"), sheet.get("state", "visible")
        if not rid or title is None or state not in SHEET_STATES:
            raise Unplaceable("sheet entry")
        target, kind = rels[rid]
        if target not in present:
            continue  # openpyxl leaves it out too
        if kind != WORKSHEET_REL or title in members:
            raise Unplaceable(f"sheet {title!r}: {kind}")
        members[title] = (target, state)
    pr = book.find(f"{MAIN_NS}workbookPr")
    epoch = MAC_EPOCH if pr is not None and _bool(pr.get("date1904"), False) else WINDOWS_EPOCH
    names, local = defined_names(book, list(members))
    structure_locked = book.find(f"{MAIN_NS}workbookProtection") is not None
    sheets = Sheets(_Book(zf, _strings(zf, shared_strings), _styles(zf), epoch), members, cached)
    created, modified = _core_times(zf)
    return Package(sheets, names, local, created, modified, structure_locked)


def _read_sheet(book: _Book, title: str, state: str, member: str, cached: bool) -> Sheet:
    """One worksheet's cells, as openpyxl's read-only mode gives them (see the module docstring)."""
    try:
        data = _member(book.zf, member)
        return _cells(book, Sheet(title, state), data, cached)
    except Unplaceable:
        raise
    except Exception as exc:  # anything openpyxl might make something else of (a bad formula, number…)
        raise Unplaceable(f"{member}: {type(exc).__name__}: {exc}") from None


_REF = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
_DIMENSION = re.compile(r"\$?[A-Z]{1,3}\$?[1-9][0-9]{0,6}(:\$?[A-Z]{1,3}\$?[1-9][0-9]{0,6})?")


def _cells(book: _Book, sheet: Sheet, data: bytes, cached: bool) -> Sheet:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise Unplaceable(str(exc)) from None
    if _has_doctype(root):
        raise Unplaceable("DOCTYPE")
    dimension = root.find(f"{MAIN_NS}dimension")
    if dimension is not None and not _DIMENSION.fullmatch(dimension.get("ref") or ""):
        raise Unplaceable("dimension")  # never trusted, but openpyxl refuses one it cannot parse
    head = _protection_tag(data)
    sheet.protected = bool(head) and re.search(r'\bsheet="(1|true)"', head) is not None
    sheet.password = re.search(r'\b(?:password|hashValue)="[^"]+"', head) is not None
    strings, styles, epoch = book.strings, book.styles, book.epoch
    shared: dict[str | None, Any] = {}  # si → openpyxl's Translator
    values, cache, unlocked = sheet.values, sheet.cached, sheet.unlocked
    columns = _REF_COLUMNS
    kinds: dict[str | None, tuple[int, bool]] = {}  # a cell's "s" → (its cell format, whether unlocked)
    counter = 1  # openpyxl's next row to give out: rows before it are skipped
    row_number = 0
    for row in root.iter(_ROW):
        if row.getparent() is None or row.getparent().tag != _SHEET_DATA:  # type: ignore[union-attr]
            raise Unplaceable("row outside sheetData")
        r = row.get("r")
        if r is not None:
            try:
                row_number = int(r)
            except ValueError:
                number = float(r)
                if not number.is_integer():
                    raise
                row_number = int(number)
        else:
            row_number += 1
        column = 0
        ordered = True  # columns strictly increasing: the common case
        cells: list[tuple[str, int, etree._Element]] = []
        for c in row:
            if c.tag != _C:
                raise Unplaceable(f"row element {c.tag}")
            ref = c.get("r")
            if ref:
                at_col = columns.get(ref)
                if at_col is None:
                    at_col = _ref_column(ref)
            else:
                at_col = column + 1
                ref = f"{column_letters(at_col)}{row_number}"
            if at_col <= column:
                ordered = False
            column = at_col
            cells.append((ref, at_col, c))
        if counter < row_number:
            counter = row_number
        if counter > row_number:
            continue  # openpyxl skips a row numbered before the last one it gave
        counter += 1
        if not cells:
            continue
        if not ordered:  # openpyxl's placing: by column, the last of a column kept, none past the last cell's
            last = cells[-1][1]
            placed = {col: (ref, col, c) for ref, col, c in cells if 1 <= col <= last}
            cells = [placed[col] for col in sorted(placed)]
        for coordinate, _col, c in cells:
            s = c.get("s")
            kind = kinds.get(s)
            if kind is None:
                kind = kinds[s] = _style_of(s, styles)
            if len(c):  # a cell without children holds nothing, whatever its type (an empty inline string too)
                formula, typed = _cell(c, kind[0], strings, styles, epoch, shared, coordinate)
                if isinstance(typed, str):
                    typed = cell_text(typed)
                if formula is not None:
                    values[coordinate] = cell_text(formula)
                elif typed is not None:
                    values[coordinate] = typed
                if cached and typed is not None:
                    cache[coordinate] = typed
            if kind[1]:
                unlocked.add(coordinate)
    return sheet


def _style_of(s: str | None, styles: _Styles) -> tuple[int, bool]:
    """(cell format, whether unlocked) of a cell whose ``s`` attribute is ``s`` (``None``: absent, format 0)."""
    if s is None:
        return 0, False
    if not s:
        raise Unplaceable("empty style")  # openpyxl fails on it
    style = int(s)
    return style, style != 0 and not styles.locked[style]


REF_CACHE = 50_000
"""Cell references :func:`_ref_column` remembers (every cell of a grid is one of a few hundred)."""
_REF_COLUMNS: dict[str, int] = {}


def _ref_column(ref: str) -> int:
    """The column number of a canonical cell reference ("B7" → 2), remembered; :class:`Unplaceable`
    for any other ("b7", "A07", "$B$7": openpyxl decides)."""
    m = _REF.fullmatch(ref)
    if m is None:
        raise Unplaceable(f"reference {ref!r}")
    column = _column(m[1])
    if len(_REF_COLUMNS) < REF_CACHE:
        _REF_COLUMNS[ref] = column
    return column


_COLUMNS: dict[str, int] = {}


def _column(letters: str) -> int:
    """A column's number from its letters ("A" → 1), cached."""
    number = _COLUMNS.get(letters)
    if number is None:
        number = 0
        for ch in letters:
            number = number * 26 + ord(ch) - 64
        if number > 18278:
            raise Unplaceable(f"column {letters}")
        _COLUMNS[letters] = number
    return number


def _cell(
    c: etree._Element,
    style: int,
    strings: list[str],
    styles: _Styles,
    epoch: dt.datetime,
    shared: dict[str | None, Any],
    coordinate: str,
) -> tuple[str | None, object]:
    """(formula as ``=…`` text or ``None``, the value typed as openpyxl's ``data_only`` pass types
    it) for one ``<c>`` element whose cell format is ``style``."""
    kind = c.get("t", "n")
    v: str | None = None
    f = inline = None
    for child in c:
        tag = child.tag
        if tag == _V:
            if v is None:
                v = child.text or ""
        elif tag == _F:
            if f is None:
                f = child
        elif tag == _IS:
            if inline is None:
                inline = child
        elif tag not in _CELL_CHILDREN:
            raise Unplaceable(f"cell element {tag}")
    formula: str | None = None
    if f is not None:
        formula = "=" + (f.text or "")
        ftype = f.get("t")
        if ftype == "shared":
            from openpyxl.formula.translate import Translator  # noqa: PLC0415 — only for shared formulas

            idx = f.get("si")
            if idx in shared:
                formula = shared[idx].translate_formula(coordinate)
            elif formula != "=":
                shared[idx] = Translator(formula, coordinate)
        elif ftype in ("array", "dataTable"):  # openpyxl gives objects for these, not text
            raise Unplaceable(f"{ftype} formula")
    value: object = None
    if kind == "inlineStr":
        if inline is not None:
            value = _text_content(inline)
    elif v:
        if kind == "n":
            number = _cast_number(v)
            value = number
            if style in styles.dates:
                try:
                    value = from_excel(number, epoch, duration=style in styles.timedeltas)
                except (OverflowError, ValueError):
                    value = "#VALUE!"
        elif kind == "s":
            value = strings[int(v)]
        elif kind == "b":
            value = bool(int(v))
        elif kind == "d":
            from openpyxl.utils.datetime import from_ISO8601  # noqa: PLC0415 — rare: ISO dates in cells

            value = from_ISO8601(v)
        else:  # "str", "e" and anything else: the text as stored
            value = v
    return formula, value
