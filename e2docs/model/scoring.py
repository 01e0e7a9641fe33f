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
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from e2docs.model.grid import Criterion, Grid

TICK = "X"
COMPLETE_TEXT = "Grille complète"


def is_tick(value: object) -> bool:
    """True for the one accepted tick: the text "X" (either case, as COUNTIF matches it)."""
    return isinstance(value, str) and value.casefold() == TICK.casefold()


def is_blank(value: object) -> bool:
    """An input cell left empty."""
    return value is None or value == ""


def ceil_to_step(value: Fraction, step: Fraction) -> Fraction:
    """Round up to the next multiple of ``step`` (CEILING(value; step) for value ≥ 0)."""
    return Fraction(math.ceil(value / step)) * step


def criterion_points(criterion: Criterion, grid: Grid, level: int | None) -> Fraction | None:
    """Points a criterion earns at ``level``; ``None`` when it has no single level."""
    if level is None:
        return None
    return criterion.points * grid.level(level).fraction


def single_level(cells: Sequence[object]) -> int | None:
    """The level (1-based) when exactly one cell holds a tick and the others are empty."""
    ticked = [i for i, v in enumerate(cells, 1) if is_tick(v)]
    filled = [v for v in cells if not is_blank(v)]
    return ticked[0] if len(ticked) == 1 and len(filled) == 1 else None


def commission_mark_ok(value: object, grid: Grid) -> bool:
    """A commission mark is a number from 0 to the maximum, by the rounding step."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    mark = Fraction(value)
    return 0 <= mark <= grid.max_mark and (mark / grid.rounding_step).denominator == 1


@dataclass(frozen=True)
class Outcome:
    """What the rule gives for one filled grid."""

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
    first). ``missing`` lists criterion ids without a single level, then
    ``"note_finale"`` and ``"observations"`` when absent.
    """
    levels = {c.id: single_level(level_cells.get(c.id, ())) for c in grid.criteria}
    points = {c.id: criterion_points(c, grid, levels[c.id]) for c in grid.criteria}
    values = [p for p in points.values() if p is not None]
    proposed = ceil_to_step(sum(values, Fraction(0)), grid.rounding_step) if len(values) == len(grid.criteria) else None
    commission_blank = is_blank(commission)
    commission_valid = not commission_blank and commission_mark_ok(commission, grid)
    final = proposed if commission_blank else (Fraction(commission) if commission_valid else None)
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
    """The completeness line, exactly as the workbook formula writes it."""
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


def format_mark(mark: Fraction | None) -> str:
    """A mark in French notation: 12.5 → "12,5", 14 → "14", None → ""."""
    if mark is None:
        return ""
    if mark.denominator == 1:
        return str(mark.numerator)
    text = f"{float(mark):.6f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def number_text(value: Fraction) -> str:
    """A fraction as a spreadsheet literal (dot decimal, no exponent)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.6f}".rstrip("0").rstrip(".")


# --- spreadsheet formulas (English function names, comma separators: OOXML syntax) ---


def points_formula(grid: Grid, criterion: Criterion, level_refs: Sequence[str], level_range: str) -> str:
    """Points of one criterion: its share when exactly one level holds X and the rest is empty."""
    shares = "+".join(
        f'{number_text(criterion.points * grid.level(i).fraction)}*COUNTIF({ref},"{TICK}")'
        for i, ref in enumerate(level_refs, 1)
    )
    return f'=IF(AND(COUNTIF({level_range},"{TICK}")=1,COUNTA({level_range})=1),{shares},"")'


def proposed_formula(grid: Grid, points_refs: Sequence[str]) -> str:
    """The proposed mark: every criterion scored, sum rounded up to the step."""
    refs = ",".join(points_refs)
    return f'=IF(COUNT({refs})={len(points_refs)},CEILING(ROUND(SUM({refs}),6),{number_text(grid.rounding_step)}),"")'


def _commission_valid(grid: Grid, ref: str) -> str:
    return f"AND({ref}>=0,{ref}<={number_text(grid.max_mark)},MOD({ref},{number_text(grid.rounding_step)})=0)"


def final_formula(grid: Grid, commission_ref: str, proposed_ref: str) -> str:
    """The final mark: the commission's valid mark, else the proposed one."""
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
    return _STEP_NAMES.get(step) or f"pas de {format_mark(step)} point"
