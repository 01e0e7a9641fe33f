"""The scoring rule, written once.

Python computes every mark here with exact fractions, and the workbook formulas
are built here from the same grid data, so the two cannot drift apart:

* a criterion earns ``points × fraction(level)`` when exactly one level is ticked
  and the other level cells are empty;
* the proposed mark is the sum over all criteria, rounded up to the grid's step
  ("arrondie au demi-point supérieur"), and exists only when every criterion
  has its one level;
* the final mark is the commission's mark when typed (0–max, multiple of the
  step), else the proposed mark; an invalid commission mark gives no final mark;
* a grid is complete when every criterion has its level, a final mark exists and
  the observations are written.

Spreadsheet side: sums are taken through ``ROUND(…;6)`` before ``CEILING`` so
binary floating point cannot push 10 to 10.5; the grid loader guarantees every
``points × fraction`` is exact to the millionth, so this rounding never changes
the exact result.

Marks and points are exact :class:`~fractions.Fraction` values, in points of the
grid's mark (out of ``grid.max_mark``, 20 for E2). Their French spelling is
:mod:`e2docs.model.french`'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeGuard

from e2docs.model import french
from e2docs.model.grid import Criterion, Grid

TICK = "X"
COMPLETE_TEXT = "Grille complète"


def is_tick(value: object) -> bool:
    """True for the one accepted tick: the text "X" (either case, as COUNTIF matches it)."""
    return isinstance(value, str) and value.casefold() == TICK.casefold()


def is_blank(value: object) -> bool:
    """An input cell left empty: ``None`` (as openpyxl reads it) or ""."""
    return value is None or value == ""


def ceil_to_step(value: Fraction, step: Fraction) -> Fraction:
    """Round up to the next multiple of ``step`` (CEILING(value; step) for value ≥ 0);
    ``step`` must not be 0 (``ZeroDivisionError``)."""
    return Fraction(math.ceil(value / step)) * step


def criterion_points(criterion: Criterion, grid: Grid, level: int | None) -> Fraction | None:
    """Points a criterion earns at ``level`` (1-based): ``criterion.points × fraction``;
    ``None`` when it has no single level. ``KeyError`` for a level not on the grid's scale."""
    if level is None:
        return None
    return criterion.points * grid.level(level).fraction


def single_level(cells: Sequence[object]) -> int | None:
    """The level (1-based) when exactly one cell holds a tick and the others are empty."""
    ticked = [i for i, v in enumerate(cells, 1) if is_tick(v)]
    filled = [v for v in cells if not is_blank(v)]
    return ticked[0] if len(ticked) == 1 and len(filled) == 1 else None


def commission_mark_ok(value: object, grid: Grid) -> TypeGuard[int | float | Fraction]:
    """A commission mark is a number (not a bool, NaN or infinity) from 0 to
    ``grid.max_mark``, by ``grid.rounding_step``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    mark = Fraction(value)
    return 0 <= mark <= grid.max_mark and (mark / grid.rounding_step).denominator == 1


@dataclass(frozen=True)
class Outcome:
    """What the rule gives for one filled grid.

    ``levels`` maps each criterion id ("C1.1") to its ticked level (1-based), and
    ``points`` to the points it earns; both give ``None`` for a criterion without a
    single level. ``proposed_mark`` is ``None`` until every criterion has its level,
    ``final_mark`` when there is no proposed mark or the commission's mark is
    invalid. ``missing`` and ``status_text``: see :func:`evaluate`.
    """

    levels: dict[str, int | None]
    points: dict[str, Fraction | None]
    proposed_mark: Fraction | None
    final_mark: Fraction | None
    complete: bool
    missing: list[str] = field(default_factory=list)
    status_text: str = ""


def evaluate(
    grid: Grid, level_cells: Mapping[str, Sequence[object]], commission: object = None, observations: object = None
) -> Outcome:
    """Apply the rule to raw cell values.

    ``level_cells`` maps each criterion id to its level cells' values (level 1
    first; a criterion left out counts as unticked). ``commission`` is the typed
    commission mark (``None`` or "" when blank), ``observations`` the observations
    cell. ``missing`` lists criterion ids without a single level, then
    ``"note_finale"`` and ``"observations"`` when absent; ``status_text`` is
    :func:`status_text`'s line.
    """
    levels = {c.id: single_level(level_cells.get(c.id, ())) for c in grid.criteria}
    points = {c.id: criterion_points(c, grid, levels[c.id]) for c in grid.criteria}
    values = [p for p in points.values() if p is not None]
    proposed = ceil_to_step(sum(values, Fraction(0)), grid.rounding_step) if len(values) == len(grid.criteria) else None
    commission_blank = is_blank(commission)
    commission_valid = False
    final: Fraction | None = None
    if commission_blank:
        final = proposed
    elif commission_mark_ok(commission, grid):
        commission_valid = True
        final = Fraction(commission)
    observations_ok = isinstance(observations, (str, int, float)) and str(observations).strip(" ") != ""
    missing = [cid for cid, lvl in levels.items() if lvl is None]
    if final is None:
        missing.append("note_finale")
    if not observations_ok:
        missing.append("observations")
    complete = not missing
    n_missing = sum(1 for lvl in levels.values() if lvl is None)
    return Outcome(
        levels,
        points,
        proposed,
        final,
        complete,
        missing,
        status_text(n_missing, not commission_blank and not commission_valid, not observations_ok, complete),
    )


def status_text(n_criteria: int, commission_invalid: bool, observations_missing: bool, complete: bool) -> str:
    """The completeness line, exactly as the workbook formula writes it: "Grille complète",
    else the missing parts in French ("2 critère(s) à renseigner, observations à rédiger")."""
    if complete:
        return COMPLETE_TEXT
    parts = []
    if n_criteria:
        parts.append(f"{n_criteria} critère(s) à renseigner")
    if commission_invalid:
        parts.append("note de la commission invalide")
    if observations_missing:
        parts.append("observations à rédiger")
    return ", ".join(parts)


# --- spreadsheet formulas (English function names, comma separators: OOXML syntax) ---
# Constants are spelt by french.dot_decimal ("1.875"), the dot twin of the labels' "1,875".


def points_formula(grid: Grid, criterion: Criterion, level_refs: Sequence[str], level_range: str) -> str:
    """Points of one criterion: its share when exactly one level holds X and the rest is empty.

    ``level_refs`` are the criterion's level cells, level 1 first ("D20"…), and
    ``level_range`` the same cells as one range ("D20:G20"). The formula gives "" otherwise.
    """
    shares = "+".join(
        f'{french.dot_decimal(criterion.points * grid.level(i).fraction)}*COUNTIF({ref},"{TICK}")'
        for i, ref in enumerate(level_refs, 1)
    )
    return f'=IF(AND(COUNTIF({level_range},"{TICK}")=1,COUNTA({level_range})=1),{shares},"")'


def proposed_formula(grid: Grid, points_refs: Sequence[str]) -> str:
    """The proposed mark: every criterion scored (``points_refs``: the cells of
    :func:`points_formula`), sum rounded up to the step; else ""."""
    refs = ",".join(points_refs)
    step = french.dot_decimal(grid.rounding_step)
    return f'=IF(COUNT({refs})={len(points_refs)},CEILING(ROUND(SUM({refs}),6),{step}),"")'


def _commission_valid(grid: Grid, ref: str) -> str:
    top, step = french.dot_decimal(grid.max_mark), french.dot_decimal(grid.rounding_step)
    return f"AND({ref}>=0,{ref}<={top},MOD({ref},{step})=0)"


def final_formula(grid: Grid, commission_ref: str, proposed_ref: str) -> str:
    """The final mark: the commission's mark when valid, the proposed one when the
    commission cell is blank, "" when the commission's mark is invalid."""
    return (
        f"=IF(ISBLANK({commission_ref}),{proposed_ref},"
        f'IF(ISNUMBER({commission_ref}),IF({_commission_valid(grid, commission_ref)},{commission_ref},""),""))'
    )


def status_formula(
    grid: Grid, points_refs: Sequence[str], commission_ref: str, final_ref: str, observations_ref: str
) -> str:
    """The live completeness line, the spreadsheet twin of :func:`status_text`."""
    n = f"({len(points_refs)}-COUNT({','.join(points_refs)}))"
    invalid = (
        f"IF(ISBLANK({commission_ref}),FALSE(),IF(ISNUMBER({commission_ref}),"
        f"NOT({_commission_valid(grid, commission_ref)}),TRUE()))"
    )
    obs_missing = f"LEN(TRIM({observations_ref}))=0"
    parts = (
        f'IF({n}>0,", "&{n}&" critère(s) à renseigner","")'
        f'&IF({invalid},", note de la commission invalide","")'
        f'&IF({obs_missing},", observations à rédiger","")'
    )
    return f'=IF(AND({n}=0,ISNUMBER({final_ref}),NOT({obs_missing})),"{COMPLETE_TEXT}",MID({parts},3,500))'


_STEP_NAMES = {
    Fraction(1): "point",
    Fraction(1, 2): "demi-point",
    Fraction(1, 4): "quart de point",
    Fraction(1, 10): "dixième de point",
}


def step_name(step: Fraction) -> str:
    """The rounding step of a grid in French words, for labels and messages.

    ``1/2`` → ``"demi-point"`` (so "arrondie au demi-point supérieur", "par
    demi-point"), ``1`` → ``"point"``, ``1/4`` → ``"quart de point"``; any other
    step → ``"pas de 0,3 point"``. Source: the grid's ``rounding_step``.
    """
    return _STEP_NAMES.get(step) or f"pas de {french.mark(step)} point"
