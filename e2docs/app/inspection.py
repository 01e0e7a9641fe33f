"""``e2docs inspect``: what a workbook holds, as the JSON contract of DESIGN.md (the CLI turns it into French text)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

from e2docs.app.campaign import Campaign, locate_campaign
from e2docs.formats.gridfile import load_grid
from e2docs.formats.xlsx import integrity
from e2docs.formats.xlsx.reader import Reading, known_grids, read_workbook
from e2docs.model.errors import E2docsError


def json_value(value: object) -> object:
    """A cell value as JSON: dates in ISO form, fractions as numbers."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Fraction):
        return float(value)
    return value


def _mark(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def reading_json(reading: Reading) -> dict:
    """One candidate of one file, per the ``inspect --json`` contract."""
    inputs = []
    for c in reading.layout.inputs:
        item = {
            "name": c.name,
            "sheet": c.sheet,
            "cell": c.ref,
            "kind": c.kind,
            "value": json_value(reading.values.get(c.name)),
        }
        if c.kind == "level":
            item.update(criterion=c.criterion, level=c.level)
        if c.kind == "competence":
            item["competence"] = c.competence
        inputs.append(item)
    outputs = [
        {
            "name": c.name,
            "sheet": c.sheet,
            "cell": c.ref,
            "kind": c.kind,
            "value": json_value(reading.outputs.get(c.name)),
        }
        for c in reading.layout.outputs
    ]
    cand = reading.candidate
    res = reading.outcome
    return {
        "path": str(reading.path),
        "ok": reading.ok,
        "errors": [i.to_json() for i in reading.errors + reading.modified],
        "warnings": [i.to_json() for i in reading.warnings],
        "modified": bool(reading.modified),
        "candidate": {
            "number": cand.number,
            "last_name": cand.last_name,
            "first_name": cand.first_name,
            "division": cand.division,
        },
        "grid": {"id": reading.grid.id, "version": reading.grid.version, "hash": reading.grid.content_hash},
        "campaign_id": reading.meta.get("campaign_id", ""),
        "inputs": inputs,
        "outputs": outputs,
        "results": {
            "proposed_mark": _mark(res.proposed_mark),
            "final_mark": _mark(res.final_mark),
            "complete": res.complete,
            "missing": list(res.missing),
            "status": res.status_text,
            "levels": dict(res.levels),
        },
    }


def failure_json(path: Path, error: E2docsError) -> dict:
    """A file that could not be read at all."""
    place = error.place
    return {
        "path": str(path),
        "ok": False,
        "errors": [
            {
                "kind": "file",
                "sheet": getattr(place, "sheet", None),
                "cell": getattr(place, "cell", None),
                "message": error.message + (f" {error.hint}" if error.hint else ""),
            }
        ],
        "warnings": [],
        "candidate": None,
        "grid": None,
        "inputs": [],
        "outputs": [],
        "results": None,
    }


def _enclosing_campaign(path: Path) -> Campaign | None:
    """The campaign folder holding ``path``, if any (a damaged one counts as none)."""
    try:
        return locate_campaign(start=Path(path).resolve().parent)
    except E2docsError:
        return None


def inspect_files(paths: Iterable[Path], grid_paths: Sequence[Path] = (), directory: Path | None = None) -> dict:
    """Read each file; a class workbook gives one entry per candidate.

    A workbook of a campaign is verified with that campaign's secret (the campaign
    in ``directory`` when given, else the campaign folder the file lies in); its
    grid is recognised too. Returns ``{"files": [entry, …]}`` per the ``inspect
    --json`` contract. Raises :class:`E2docsError` when ``directory`` is not a
    campaign or a grid file is unusable; an unreadable workbook is an entry.
    """
    given = locate_campaign(directory) if directory is not None else None
    extra = [load_grid(p) for p in grid_paths]
    files = []
    for path in paths:
        owner = given or _enclosing_campaign(path)
        grids = known_grids(extra + ([owner.grid()] if owner else []))
        secret = owner.secret if owner else integrity.PUBLIC_SECRET
        try:
            files.extend(reading_json(r) for r in read_workbook(path, grids, secret=secret))
        except E2docsError as exc:
            files.append(failure_json(Path(path), exc))
    return {"files": files}
