"""A returned workbook's contents, read once into plain dictionaries.

openpyxl's full loader formats every merged cell and is slow (about 0.15 s per
grid); its read-only mode streams the sheets ten times faster but offers no
random access, no sheet protection and no cell locks by coordinate. This module
streams each sheet once for the formulas/values and once for the cached results,
and reads the few things read-only mode lacks (sheet protection, defined names)
straight from the package XML through defusedxml.

What office suites write is not taken on trust: the stored sheet dimensions are
ignored (WPS writes ``<dimension ref="A1"/>`` for every sheet, which would make
read-only mode see one cell), Excel's ``_xHHHH_`` escapes are decoded in every
text read (:func:`cell_text`), and the warnings openpyxl prints about parts it
does not need (styles, extensions) are silenced (:func:`quiet_openpyxl`).
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from defusedxml import ElementTree

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
DCTERMS_NS = "{http://purl.org/dc/terms/}"


@dataclass
class Sheet:
    """One worksheet: cell contents (formulas as ``=…`` text), cached results, locked cells.

    ``values`` and ``cached`` map a cell reference ("B7") to what openpyxl reads there
    (text, number, bool, datetime), empty cells left out: ``values`` as typed (a
    formula as its "=…" text), ``cached`` the results the last spreadsheet application
    stored for formulas. ``unlocked`` holds the references of cells with protection
    off; ``state`` is ``"visible"``, ``"hidden"`` or ``"veryHidden"``; ``protected``
    says whether sheet protection is on, ``password`` whether that protection carries a
    password (the legacy 16-bit hash or a ``hashValue``; Gnumeric drops it on save).
    """

    title: str
    state: str
    values: dict[str, object] = field(default_factory=dict)
    cached: dict[str, object] = field(default_factory=dict)
    unlocked: set[str] = field(default_factory=set)
    protected: bool = False
    password: bool = False

    def rows(self) -> list[list[object]]:
        """The sheet's values as rows from row 1 and column A, each as long as its last
        non-empty cell, ``None`` for empty cells (for the small metadata sheet)."""
        cells: dict[int, dict[int, object]] = {}  # row → column → value, both 1-based
        for ref, value in self.values.items():
            m = re.match(r"([A-Z]+)(\d+)", ref)
            if m is None:  # not a cell reference (openpyxl gives none such)
                continue
            col, row = m.groups()
            cells.setdefault(int(row), {})[column_number(col)] = value
        return [
            [cells.get(r, {}).get(c) for c in range(1, max(cells.get(r, {0: 0})) + 1)]
            for r in range(1, max(cells, default=0) + 1)
        ]


@dataclass
class Package:
    """The sheets of a workbook, by title, and its defined names.

    ``sheets``: a plain dictionary (openpyxl's reading), or the fast reader's mapping that
    reads each sheet when first looked at (:class:`e2docs.formats.xlsx.fastread.Sheets`).

    ``names`` maps a workbook-wide defined name to its destination, (sheet title,
    reference as written, "$B$7"); ``local_names`` maps a sheet title to the names
    defined for that sheet only, the same way. Names that do not point at one cell
    (ranges, formulas) are left out. ``created`` and ``modified``: the document's times
    from ``docProps/core.xml`` (W3CDTF text as written, ``None`` when absent); Excel and
    LibreOffice set ``modified`` on every save, XlsxWriter writes both at generation.
    ``structure_locked``: ``xl/workbook.xml`` holds a ``workbookProtection`` element (XlsxWriter
    writes it with ``lockStructure``, LibreOffice keeps it without attributes, Gnumeric and
    ExcelJS drop it).
    """

    sheets: Mapping[str, Sheet]
    names: dict[str, tuple[str, str]]
    local_names: dict[str, dict[str, tuple[str, str]]]
    created: str | None = None
    modified: str | None = None
    structure_locked: bool = False

    @property
    def sheetnames(self) -> list[str]:
        """The sheet titles, in workbook order."""
        return list(self.sheets)

    def value(self, sheet: str, ref: str) -> object:
        """The content of cell ``ref`` ("B7") of ``sheet``; ``None`` when empty or no such sheet."""
        s = self.sheets.get(sheet)
        return None if s is None else s.values.get(ref)


def column_number(letters: str) -> int:
    """A column's number from its letters: "A" → 1, "AB" → 28 (openpyxl's ``column_index_from_string``
    for the references it gives)."""
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def column_letters(number: int) -> str:
    """A column's letters from its number: 1 → "A", 28 → "AB" (openpyxl's ``get_column_letter``)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def defined_names(
    book: Any, titles: list[str]
) -> tuple[dict[str, tuple[str, str]], dict[str, dict[str, tuple[str, str]]]]:
    """The defined names of a parsed ``xl/workbook.xml`` (``book``, an ElementTree or lxml element) whose
    destination is one cell or range: global name → (sheet, reference), and sheet title → its local
    names (``localSheetId`` indexes ``titles``, the sheets in workbook order; other scopes are ignored)."""
    names: dict[str, tuple[str, str]] = {}
    local: dict[str, dict[str, tuple[str, str]]] = {}
    for dn in book.iter(f"{MAIN_NS}definedName"):
        dest = _destination(dn.text or "")
        name = dn.get("name")
        if dest is None or name is None:
            continue
        scope = dn.get("localSheetId")
        if scope is None:
            names[name] = dest
        elif scope.isdigit() and int(scope) < len(titles):
            local.setdefault(titles[int(scope)], {})[name] = dest
    return names, local


_DESTINATION = re.compile(r"'?(.*?)'?!(\$?[A-Z]+\$?\d+)")
_DESTINATIONS: dict[str, tuple[str, str] | None] = {}  # every return of a campaign has the same names
DESTINATIONS = 20_000
"""Defined names' texts :func:`_destination` remembers, each of at most 300 characters."""


def _destination(text: str) -> tuple[str, str] | None:
    """``'Fiche 1'!$B$7`` → ("Fiche 1", "$B$7"); ``None`` unless it names one cell."""
    if text in _DESTINATIONS:
        return _DESTINATIONS[text]
    m = _DESTINATION.fullmatch((text or "").strip())
    found = (m[1].replace("''", "'"), m[2]) if m else None
    if len(_DESTINATIONS) < DESTINATIONS and len(text) <= 300:
        _DESTINATIONS[text] = found
    return found


_OTHER_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")  # openpyxl's utils.escape.unescape, without importing openpyxl


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def cell_text(text: str) -> str:
    """Text as a cell holds it, from text as the file stores it: Excel's ``_xHHHH_`` escapes decoded
    (ECMA-376 Part 1, 22.4.2.4: ``_x000B_`` is a vertical tab, ``_x005F_`` the underscore that makes
    ``_x005F_x000B_`` the literal text "_x000B_"); a vertical tab or form feed (a line break pasted from
    Word) becomes a line feed, other control characters but tab, line feed and carriage return are
    removed; a lone surrogate escape becomes U+FFFD."""
    if "_x" not in text and text.isprintable():  # no escape, no control character: as it is
        return text
    if "_x" in text:
        text = _unescape(text).encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = text.replace("\x0b", "\n").replace("\x0c", "\n")
    return _OTHER_CONTROLS.sub("", text)


@contextmanager
def quiet_openpyxl() -> Iterator[None]:
    """Silence the warnings openpyxl emits inside the block (in English, about parts e2docs does not
    read: "Workbook contains no default style", "Data Validation extension is not supported…", a date
    cell out of range read as an error value…). Whatever they are about shows in the values read, which
    e2docs checks itself; they must never reach a user's terminal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _stream(wb: Workbook, sheets: dict[str, Sheet], target: Literal["values", "cached"]) -> None:
    """Store every non-empty cell of a read-only workbook into ``sheets`` (by title, added as
    met) under ``target`` (text through :func:`cell_text`); the values pass also records unlocked
    cells. The sheets' stored dimensions are ignored: every row and column is read."""
    for ws in wb.worksheets:
        sheet = sheets.setdefault(ws.title, Sheet(ws.title, ws.sheet_state))
        store = sheet.values if target == "values" else sheet.cached
        ws.reset_dimensions()  # some suites write <dimension ref="A1"/> whatever the sheet holds
        for row in ws.iter_rows():
            for cell in row:
                ref = getattr(cell, "coordinate", None)
                if ref is None:
                    continue
                if cell.value is not None:
                    store[ref] = cell_text(cell.value) if isinstance(cell.value, str) else cell.value
                if target == "values" and cell.has_style and not cell.protection.locked:
                    sheet.unlocked.add(ref)


def read_package(path: Path, cached: bool = True) -> Package:
    """Read ``path`` (already checked by :mod:`.safety`) into a :class:`Package`, every sheet read:
    by :mod:`.fastread`, or by openpyxl (:func:`read_package_openpyxl`) when that reader cannot place
    the file. ``cached=False`` leaves the formulas' stored results out. Errors as
    :func:`read_package_openpyxl`'s."""
    from e2docs.formats.xlsx import fastread  # noqa: PLC0415 — fastread imports this module

    try:
        pkg = fastread.read_fast(path, cached)
    except fastread.Unplaceable:
        return read_package_openpyxl(path, cached)
    sheets = pkg.sheets
    assert isinstance(sheets, fastread.Sheets)
    try:
        pkg.sheets = sheets.load()
    except fastread.Unplaceable:
        return read_package_openpyxl(path, cached)
    finally:
        sheets.close()
    return pkg


def read_package_openpyxl(path: Path, cached: bool = True) -> Package:
    """Read ``path`` (already checked by :mod:`.safety`) into a :class:`Package` with openpyxl's
    read-only mode; ``cached=False`` skips the formulas' stored results (a second pass over the file).
    openpyxl's and the zip module's errors (``KeyError``, ``zipfile.BadZipFile``, XML errors…) pass
    through; openpyxl's warnings do not (:func:`quiet_openpyxl`). openpyxl is imported here only: the
    fast reader does not need it."""
    import openpyxl  # noqa: PLC0415 — about 0.3 s (with numpy), only for files the fast reader cannot place

    sheets: dict[str, Sheet] = {}
    paths: dict[str, str] = {}
    with quiet_openpyxl():
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
        try:
            for ws in wb.worksheets:
                paths[ws.title] = ws._worksheet_path  # noqa: SLF001 — where its XML lives
            _stream(wb, sheets, "values")
        finally:
            wb.close()
        if cached:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
            try:
                _stream(wb, sheets, "cached")
            finally:
                wb.close()
    with zipfile.ZipFile(path) as zf:
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        structure_locked = book.find(f"{MAIN_NS}workbookProtection") is not None
        names, local = defined_names(book, list(sheets))
        for title, member in paths.items():
            head = _sheet_protection(zf, member)
            sheets[title].protected = bool(head) and re.search(r'\bsheet="(1|true)"', head) is not None
            sheets[title].password = re.search(r'\b(?:password|hashValue)="[^"]+"', head) is not None
        created, modified = _core_times(zf)
    return Package(sheets, names, local, created, modified, structure_locked)


def core_times(path: Path) -> tuple[str | None, str | None]:
    """The ``dcterms:created`` and ``dcterms:modified`` texts of the workbook at ``path`` (``None`` when
    absent), read without openpyxl: the same in Strict and ordinary Open XML. Zip errors pass through."""
    with zipfile.ZipFile(path) as zf:
        return _core_times(zf)


def _core_times(zf: zipfile.ZipFile) -> tuple[str | None, str | None]:
    """The ``dcterms:created`` and ``dcterms:modified`` texts of ``docProps/core.xml`` (``None`` when absent)."""
    try:
        core = ElementTree.fromstring(zf.read("docProps/core.xml"))
    except (KeyError, ValueError, SyntaxError):  # absent; defusedxml's refusals; XML ParseError
        return None, None

    def text(tag: str) -> str | None:
        found = core.find(f"{DCTERMS_NS}{tag}")
        return found.text.strip() if found is not None and found.text and found.text.strip() else None

    return text("created"), text("modified")


_PROTECTION = re.compile(rb"<(?:\w+:)?sheetProtection\b[^>]*>")


def _protection_tag(data: bytes) -> str:
    """The ``<sheetProtection …>`` tag of a sheet's XML (the first match of :data:`_PROTECTION`), ``""``
    when it has none. Each occurrence of the tag's name is looked for (fast), then the pattern tried
    from the ``<`` before it, which starts any match holding that occurrence (a prefix has no ``<``)."""
    at = data.find(b"sheetProtection")
    while at >= 0:
        m = _PROTECTION.match(data, max(data.rfind(b"<", 0, at), 0))
        if m:
            return m[0].decode("utf-8", "replace")
        at = data.find(b"sheetProtection", at + 1)
    return ""


def _sheet_protection(zf: zipfile.ZipFile, member: str) -> str:
    """The ``<sheetProtection …>`` tag of a sheet, found by scanning its XML in chunks."""
    tail = b""
    with zf.open(member) as fh:
        while chunk := fh.read(1 << 16):
            data = tail + chunk
            m = _PROTECTION.search(data)
            if m:
                return m[0].decode("utf-8", "replace")
            tail = data[-512:]
    return ""
