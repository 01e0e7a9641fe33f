"""A returned workbook's contents, read once into plain dictionaries.

openpyxl's full loader formats every merged cell and is slow (about 0.15 s per
grid); its read-only mode streams the sheets ten times faster but offers no
random access, no sheet protection and no cell locks by coordinate. This module
streams each sheet once for the formulas/values and once for the cached results,
and reads the few things read-only mode lacks (sheet protection, defined names)
straight from the package XML through defusedxml.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import openpyxl
from defusedxml import ElementTree
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
    says whether sheet protection is on.
    """

    title: str
    state: str
    values: dict[str, object] = field(default_factory=dict)
    cached: dict[str, object] = field(default_factory=dict)
    unlocked: set[str] = field(default_factory=set)
    protected: bool = False

    def rows(self) -> list[list[object]]:
        """The sheet's values as rows from row 1 and column A, each as long as its last
        non-empty cell, ``None`` for empty cells (for the small metadata sheet)."""
        cells: dict[int, dict[int, object]] = {}  # row → column → value, both 1-based
        for ref, value in self.values.items():
            m = re.match(r"([A-Z]+)(\d+)", ref)
            if m is None:  # not a cell reference (openpyxl gives none such)
                continue
            col, row = m.groups()
            cells.setdefault(int(row), {})[openpyxl.utils.column_index_from_string(col)] = value
        return [
            [cells.get(r, {}).get(c) for c in range(1, max(cells.get(r, {0: 0})) + 1)]
            for r in range(1, max(cells, default=0) + 1)
        ]


@dataclass
class Package:
    """The sheets of a workbook, by title, and its defined names.

    ``names`` maps a workbook-wide defined name to its destination, (sheet title,
    reference as written, "$B$7"); ``local_names`` maps a sheet title to the names
    defined for that sheet only, the same way. Names that do not point at one cell
    (ranges, formulas) are left out. ``created`` and ``modified``: the document's times
    from ``docProps/core.xml`` (W3CDTF text as written, ``None`` when absent); Excel and
    LibreOffice set ``modified`` on every save, XlsxWriter writes both at generation.
    """

    sheets: dict[str, Sheet]
    names: dict[str, tuple[str, str]]
    local_names: dict[str, dict[str, tuple[str, str]]]
    created: str | None = None
    modified: str | None = None

    @property
    def sheetnames(self) -> list[str]:
        """The sheet titles, in workbook order."""
        return list(self.sheets)

    def value(self, sheet: str, ref: str) -> object:
        """The content of cell ``ref`` ("B7") of ``sheet``; ``None`` when empty or no such sheet."""
        s = self.sheets.get(sheet)
        return None if s is None else s.values.get(ref)


def _destination(text: str) -> tuple[str, str] | None:
    """``'Fiche 1'!$B$7`` → ("Fiche 1", "$B$7"); ``None`` unless it names one cell."""
    m = re.fullmatch(r"'?(.*?)'?!(\$?[A-Z]+\$?\d+)", (text or "").strip())
    return (m[1].replace("''", "'"), m[2]) if m else None


def _stream(wb: Workbook, sheets: dict[str, Sheet], target: Literal["values", "cached"]) -> None:
    """Store every non-empty cell of a read-only workbook into ``sheets`` (by title, added as
    met) under ``target``; the values pass also records unlocked cells."""
    for ws in wb.worksheets:
        sheet = sheets.setdefault(ws.title, Sheet(ws.title, ws.sheet_state))
        store = sheet.values if target == "values" else sheet.cached
        for row in ws.iter_rows():
            for cell in row:
                ref = getattr(cell, "coordinate", None)
                if ref is None:
                    continue
                if cell.value is not None:
                    store[ref] = cell.value
                if target == "values" and cell.has_style and not cell.protection.locked:
                    sheet.unlocked.add(ref)


def read_package(path: Path, cached: bool = True) -> Package:
    """Read ``path`` (already checked by :mod:`.safety`) into a :class:`Package`; ``cached=False``
    skips the formulas' stored results (a second pass over the file). openpyxl's and the
    zip module's errors (``KeyError``, ``zipfile.BadZipFile``, XML errors…) pass through."""
    sheets: dict[str, Sheet] = {}
    paths: dict[str, str] = {}
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
    names: dict[str, tuple[str, str]] = {}
    local: dict[str, dict[str, tuple[str, str]]] = {}
    titles = list(sheets)
    with zipfile.ZipFile(path) as zf:
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
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
        for title, member in paths.items():
            head = _sheet_protection(zf, member)
            sheets[title].protected = bool(head) and re.search(r'\bsheet="(1|true)"', head) is not None
        created, modified = _core_times(zf)
    return Package(sheets, names, local, created, modified)


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


def _sheet_protection(zf: zipfile.ZipFile, member: str) -> str:
    """The ``<sheetProtection …>`` tag of a sheet, found by scanning its XML in chunks."""
    tail = b""
    with zf.open(member) as fh:
        while chunk := fh.read(1 << 16):
            data = tail + chunk
            m = re.search(rb"<(?:\w+:)?sheetProtection\b[^>]*>", data)
            if m:
                return m[0].decode("utf-8", "replace")
            tail = data[-512:]
    return ""
