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

import openpyxl
from defusedxml import ElementTree

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass
class Sheet:
    """One worksheet: cell contents (formulas as ``=…`` text), cached results, locked cells."""

    title: str
    state: str
    values: dict[str, object] = field(default_factory=dict)
    cached: dict[str, object] = field(default_factory=dict)
    unlocked: set[str] = field(default_factory=set)
    protected: bool = False

    def rows(self) -> list[list[object]]:
        """The sheet as a list of rows (for the small metadata sheet)."""
        cells = {}
        for ref, value in self.values.items():
            col, row = re.match(r"([A-Z]+)(\d+)", ref).groups()
            cells.setdefault(int(row), {})[openpyxl.utils.column_index_from_string(col)] = value
        return [
            [cells.get(r, {}).get(c) for c in range(1, max(cells.get(r, {0: 0})) + 1)]
            for r in range(1, max(cells, default=0) + 1)
        ]


@dataclass
class Package:
    """The sheets of a workbook, by title, and its defined names."""

    sheets: dict[str, Sheet]
    names: dict[str, tuple[str, str]]  # global name → (sheet, $A$1 ref)
    local_names: dict[str, dict[str, tuple[str, str]]]  # sheet → name → (sheet, ref)

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)

    def value(self, sheet: str, ref: str) -> object:
        s = self.sheets.get(sheet)
        return None if s is None else s.values.get(ref)


def _destination(text: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"'?(.*?)'?!(\$?[A-Z]+\$?\d+)", (text or "").strip())
    return (m[1].replace("''", "'"), m[2]) if m else None


def _stream(wb, sheets: dict[str, Sheet], target: str) -> None:
    for ws in wb.worksheets:
        sheet = sheets.setdefault(ws.title, Sheet(ws.title, ws.sheet_state))
        store = getattr(sheet, target)
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
    skips the formulas' stored results (a second pass over the file)."""
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
            if dest is None:
                continue
            scope = dn.get("localSheetId")
            if scope is None:
                names[dn.get("name")] = dest
            elif scope.isdigit() and int(scope) < len(titles):
                local.setdefault(titles[int(scope)], {})[dn.get("name")] = dest
        for title, member in paths.items():
            head = _sheet_protection(zf, member)
            sheets[title].protected = bool(head) and re.search(r'\bsheet="(1|true)"', head) is not None
    return Package(sheets, names, local)


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
