"""``e2docs inspect``: what a workbook holds, as the JSON contract of DESIGN.md (the CLI turns it into French text)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import NotRequired, TypedDict

from e2docs.app.campaign import Campaign, locate_campaign
from e2docs.formats.gridfile import load_grid
from e2docs.formats.xlsx import integrity
from e2docs.formats.xlsx.reader import Issue, Reading, known_grids, read_workbook
from e2docs.model.errors import E2docsError

# ------------------------------------------------------------------ the inspect --json contract


class IssueJson(TypedDict):
    """A problem: ``kind`` (``input``, ``modified``, ``identity``, ``cache``, ``protection``, or ``file`` for an
    unreadable file), where it is (``None`` when not about one sheet or cell), the French message."""

    kind: str
    sheet: str | None
    cell: str | None
    message: str


class CandidateJson(TypedDict):
    """Who the workbook is for, as it says."""

    number: str
    last_name: str
    first_name: str
    division: str


class GridJson(TypedDict):
    """The grid the workbook was generated with: id, version, content hash (hex)."""

    id: str
    version: str
    hash: str


class OutputJson(TypedDict):
    """A formula cell: defined name, sheet, cell (``"F12"``), kind, value (see :func:`json_value`)."""

    name: str
    sheet: str
    cell: str
    kind: str
    value: object


class InputJson(OutputJson):
    """An input cell; a level cell adds its ``criterion`` and ``level`` (1 to 4), a "Repérage" cell its
    ``competence``."""

    criterion: NotRequired[str | None]
    level: NotRequired[int | None]
    competence: NotRequired[str | None]


class ResultsJson(TypedDict):
    """The scoring rule applied to the inputs: marks out of 20 (``None`` when there is none), complete
    or not, what is missing (criterion ids, then ``note_finale``, ``observations``), the French
    status line, criterion id → level ticked (``None`` when none or several)."""

    proposed_mark: float | None
    final_mark: float | None
    complete: bool
    missing: list[str]
    status: str
    levels: dict[str, int | None]


class ReadingEntry(TypedDict):
    """One candidate of a workbook that could be read. ``ok``: no invalid input, nothing modified
    outside the input cells, valid signature; ``errors`` lists invalid inputs then modifications;
    ``campaign_id``: ``""`` outside a campaign."""

    path: str
    ok: bool
    errors: list[IssueJson]
    warnings: list[IssueJson]
    modified: bool
    candidate: CandidateJson
    grid: GridJson
    campaign_id: str
    inputs: list[InputJson]
    outputs: list[OutputJson]
    results: ResultsJson


class FailureEntry(TypedDict):
    """A file that could not be read: ``ok`` is false, one ``file`` error, the rest empty or ``None``."""

    path: str
    ok: bool
    errors: list[IssueJson]
    warnings: list[IssueJson]
    candidate: None
    grid: None
    inputs: list[InputJson]
    outputs: list[OutputJson]
    results: None


class InspectResult(TypedDict):
    """The whole ``inspect --json`` output: one entry per candidate read, or per unreadable file."""

    files: list[ReadingEntry | FailureEntry]


def json_value(value: object) -> object:
    """A cell value as JSON: dates in ISO form, fractions as floats, anything else unchanged
    (text, number, bool, ``None`` for an empty cell)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Fraction):
        return float(value)
    return value


def _mark(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def _issue_json(issue: Issue) -> IssueJson:
    return {"kind": issue.kind, "sheet": issue.sheet, "cell": issue.cell, "message": issue.message}


def reading_json(reading: Reading) -> ReadingEntry:
    """One candidate of one file, per the ``inspect --json`` contract."""
    inputs: list[InputJson] = []
    for c in reading.layout.inputs:
        item: InputJson = {
            "name": c.key,
            "sheet": c.sheet,
            "cell": c.ref,
            "kind": c.kind,
            "value": json_value(reading.values.get(c.key)),
        }
        if c.kind == "level":
            item["criterion"] = c.criterion
            item["level"] = c.level
        if c.kind == "competence":
            item["competence"] = c.competence
        inputs.append(item)
    outputs: list[OutputJson] = [
        {
            "name": c.key,
            "sheet": c.sheet,
            "cell": c.ref,
            "kind": c.kind,
            "value": json_value(reading.outputs.get(c.key)),
        }
        for c in reading.layout.outputs
    ]
    cand = reading.candidate
    res = reading.outcome
    return {
        "path": str(reading.path),
        "ok": reading.ok,
        "errors": [_issue_json(i) for i in reading.errors + reading.modified],
        "warnings": [_issue_json(i) for i in reading.warnings],
        "modified": bool(reading.modified),
        "candidate": {
            "number": cand.number,
            "last_name": cand.last_name,
            "first_name": cand.first_name,
            "division": cand.division,
        },
        "grid": {"id": reading.grid.id, "version": reading.grid.version, "hash": reading.grid.content_hash},
        "campaign_id": str(reading.meta.get("campaign_id", "")),
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


def failure_json(path: Path, error: E2docsError) -> FailureEntry:
    """A file that could not be read at all, per the ``inspect --json`` contract."""
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


def inspect_files(
    paths: Iterable[Path], grid_paths: Sequence[Path] = (), directory: Path | None = None
) -> InspectResult:
    """Read each file; a class workbook gives one entry per candidate.

    A workbook of a campaign is verified with that campaign's secret (the campaign
    in ``directory`` when given, else the campaign folder the file lies in); its
    grid is recognised too. Returns ``{"files": [entry, …]}`` per the ``inspect
    --json`` contract. Raises :class:`E2docsError` when ``directory`` is not a
    campaign or a grid file is unusable; an unreadable workbook is an entry.
    """
    given = locate_campaign(directory) if directory is not None else None
    extra = [load_grid(p) for p in grid_paths]
    files: list[ReadingEntry | FailureEntry] = []
    for path in paths:
        owner = given or _enclosing_campaign(path)
        grids = known_grids(extra + ([owner.grid()] if owner else []))
        secret = owner.secret if owner else integrity.PUBLIC_SECRET
        try:
            files.extend(reading_json(r) for r in read_workbook(path, grids, secret=secret))
        except E2docsError as exc:
            files.append(failure_json(Path(path), exc))
    return {"files": files}
