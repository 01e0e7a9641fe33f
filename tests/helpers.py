"""Shared test helpers: generate a candidate's workbook and fill it like openpyxl users do."""

from __future__ import annotations

import datetime as dt
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
