"""Every output cell's value, recomputed in Python from the input cells.

Used twice: by the writer, to store correct cached results in a fresh workbook,
and by the reader, which trusts these values and only compares the cached ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from e2docs.formats.xlsx import names
from e2docs.formats.xlsx.layout import CandidateLayout
from e2docs.model import prospecting, scoring


def level_cells(layout: CandidateLayout, values: Mapping[str, object]) -> dict[str, list[object]]:
    """Each criterion's level cell values, level 1 first."""
    return {
        cr.id: [values.get(names.level(cr.id, lvl.value)) for lvl in layout.grid.scale] for cr in layout.grid.criteria
    }


def outcome(layout: CandidateLayout, values: Mapping[str, object]) -> scoring.Outcome:
    """The scoring rule applied to a workbook's raw inputs (keyed by defined name)."""
    return scoring.evaluate(
        layout.grid, level_cells(layout, values), values.get(names.COMMISSION_MARK), values.get(names.OBSERVATIONS)
    )


def prospect_values(values: Mapping[str, object]) -> dict[str, object]:
    """The prospecting inputs keyed by field (``prosp_`` prefix removed)."""
    return {f.key: values.get(names.prospecting(f.key)) for f in prospecting.FIELDS}


def _cell_value(value: object) -> object:
    """A computed value as a spreadsheet shows it: numbers as float, nothing as ""."""
    if value is None:
        return ""
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def compute_outputs(
    layout: CandidateLayout, values: Mapping[str, object], res: scoring.Outcome | None = None
) -> dict[str, object]:
    """Output name → value (float, int, text or "" for an empty result). ``res``: :func:`outcome` of
    the same layout and values when the caller has it already (``None``: computed here)."""
    res = res if res is not None else outcome(layout, values)
    out: dict[str, object] = {names.points(cid): _cell_value(p) for cid, p in res.points.items()}
    out[names.PROPOSED_MARK] = _cell_value(res.proposed_mark)
    out[names.FINAL_MARK] = _cell_value(res.final_mark)
    out[names.STATUS] = res.status_text
    for key, value in prospecting.indicators(prospect_values(values)).items():
        out[names.prospecting(key)] = _cell_value(value)
    return out
