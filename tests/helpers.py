"""Shared test helpers: generate a candidate's workbook and fill it like openpyxl users do."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl

from e2docs.formats.gridfile import load_grid
from e2docs.formats.xlsx import names
from e2docs.formats.xlsx.layout import build_layout
from e2docs.formats.xlsx.writer import Options, write_workbook
from e2docs.model.candidate import Candidate, Context

PROJECT = Path(__file__).resolve().parents[1]
"""The source checkout (README, samples, tools)."""
DATA = PROJECT / "tests" / "data"
"""Test inputs: rosters, cases from the field."""

GRID = load_grid()
CTX = Context("2027", "LP Jean Moulin – Villefictive", "Versailles")
CANDIDATE = Candidate("2709411047", "D'ALMEIDA", "Inès", "TMCV2", dt.date(2009, 3, 14))


def make_workbook(
    tmp: Path, cand: Candidate = CANDIDATE, options: Options | None = None, name: str = "grille.xlsx"
) -> Path:
    path = Path(tmp) / name
    write_workbook(path, GRID, cand, CTX, options or Options())
    return path


def layout_of(cand: Candidate = CANDIDATE):
    return build_layout(GRID, cand, CTX)


def fill(path: Path, values: dict[str, object], out: Path | None = None, cand: Candidate = CANDIDATE) -> Path:
    """Write values into named cells with openpyxl (which ignores sheet protection) and save."""
    named = layout_of(cand).named
    wb = openpyxl.load_workbook(path)
    for name, value in values.items():
        cell = named[name]
        wb[cell.sheet][cell.ref] = value
    out = out or path
    wb.save(out)
    return out


def level_values(levels: dict[str, int | None]) -> dict[str, object]:
    """Named level cells with an X at each criterion's level."""
    return {names.level(cid, lvl): "X" for cid, lvl in levels.items() if lvl}


ALL_LEVEL_3 = {c.id: 3 for c in GRID.criteria}


def rewrite_parts(src: Path, dst: Path, edit: Callable[[str, bytes], bytes]) -> Path:
    """Copy the workbook ``src`` to ``dst`` member by member, each member's bytes passed through
    ``edit(name, data)`` (as a suite re-saving the file would change them); returns ``dst``."""
    with zipfile.ZipFile(src) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, edit(info.filename, data))
    return dst


# Transitional namespaces → Strict ones (ECMA-376 Part 1 Strict; the longer URIs first, as they start
# like the shorter ones). The core properties keep their namespaces in Strict.
STRICT_NAMESPACES = {
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main": "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties": (
        "http://purl.oclc.org/ooxml/officeDocument/relationships/extendedProperties"
    ),
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties": (
        "http://purl.oclc.org/ooxml/officeDocument/relationships/customProperties"
    ),
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
        "http://purl.oclc.org/ooxml/officeDocument/relationships"
    ),
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties": (
        "http://purl.oclc.org/ooxml/officeDocument/extendedProperties"
    ),
    "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties": (
        "http://purl.oclc.org/ooxml/officeDocument/customProperties"
    ),
    "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes": (
        "http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes"
    ),
    "http://schemas.openxmlformats.org/drawingml/2006/main": "http://purl.oclc.org/ooxml/drawingml/main",
}


def to_strict(src: Path, dst: Path) -> Path:
    """``src`` as Excel's "Strict Open XML Spreadsheet" writes it: the parts' namespaces and relationship
    types moved to the Strict ones, ``conformance="strict"`` on the workbook (LibreOffice 7.4 cannot
    write Strict: its "Office Open XML Spreadsheet" filter writes Transitional namespaces too)."""

    def edit(name: str, data: bytes) -> bytes:
        if name == "[Content_Types].xml" or not name.endswith((".xml", ".rels")):
            return data
        text = data.decode("utf-8")
        for old, new in STRICT_NAMESPACES.items():
            text = text.replace(old, new)
        if name == "xl/workbook.xml":
            text = text.replace("<workbook ", '<workbook conformance="strict" ', 1)
        return text.encode("utf-8")

    return rewrite_parts(src, dst, edit)


def fsync_threads(monkeypatch) -> list[str]:
    """Spy on ``os.fsync`` (still called): the names of the threads that call it, in order."""
    import os
    import threading

    names: list[str] = []
    real = os.fsync

    def spy(fd):
        names.append(threading.current_thread().name)
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return names
