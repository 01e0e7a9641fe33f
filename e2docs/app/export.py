"""``e2docs export``: the school summary, one row per candidate, as .xlsx (with charts) or .csv."""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from e2docs.app.campaign import GRID_FILE, LEDGER, SECRET, SETTINGS
from e2docs.app.status import CandidateStatus
from e2docs.app.written import RECORD, Record, write_file
from e2docs.formats.atomic import atomic_write
from e2docs.formats.xlsx.writer import TypedWorkbook
from e2docs.model import french
from e2docs.model.errors import E2docsError, os_error_fr
from e2docs.model.grid import Grid
from e2docs.model.states import CandidateState
from e2docs.model.text import csv_cell

if TYPE_CHECKING:
    from e2docs.app.campaign import Campaign

BANDS = [(i, i + 2) for i in range(0, 20, 2)]


@dataclass
class SummaryRow:
    """One candidate of the summary: identity, marks out of 20 (``None`` without an accepted return
    or without a mark), the state's French label, criterion id → level (1 to 4, ``None`` when none
    or several; empty without an accepted return)."""

    number: str
    last_name: str
    first_name: str
    division: str
    proposed: float | None
    final: float | None
    state: str  # French label of the candidate's state
    levels: dict[str, int | None]


def summary_rows(statuses: list[CandidateStatus]) -> list[SummaryRow]:
    """One row per candidate, in the order given; marks and levels only from accepted returns."""
    rows = []
    for s in statuses:
        r = s.current if s.state in (CandidateState.COMPLETE, CandidateState.INCOMPLETE) else None
        c = s.candidate
        rows.append(
            SummaryRow(
                c.number,
                c.last_name,
                c.first_name,
                c.division,
                r.proposed_mark if r else None,
                r.final_mark if r else None,
                s.state.label,
                dict(r.levels) if r else {},
            )
        )
    return rows


def band_counts(marks: list[float]) -> list[int]:
    """How many marks (out of 20) fall in each 2-point band of :data:`BANDS` (the last band includes 20)."""
    counts = [0] * len(BANDS)
    for m in marks:
        counts[min(int(m // 2), len(BANDS) - 1)] += 1
    return counts


def level_counts(rows: list[SummaryRow], grid: Grid) -> dict[str, list[int]]:
    """Criterion id → how many candidates reached each level (level 1 first)."""
    out: dict[str, list[int]] = {}
    for cr in grid.criteria:
        counts = [0] * len(grid.scale)
        for row in rows:
            lvl = row.levels.get(cr.id)
            if lvl:
                counts[lvl - 1] += 1
        out[cr.id] = counts
    return out


def _average(marks: list[float]) -> float:
    """The mean to 2 decimals, halves rounded up as the spreadsheet's ROUND does (Python's round() does not)."""
    exact = sum((Fraction(m) for m in marks), Fraction(0)) / len(marks)
    return math.floor(exact * 100 + Fraction(1, 2)) / 100  # marks are never negative


def _stats(marks: list[float]) -> list[tuple[str, float | int | None]]:
    return [
        ("Moyenne", _average(marks) if marks else None),
        ("Minimum", min(marks) if marks else None),
        ("Maximum", max(marks) if marks else None),
        ("Nombre de notes", len(marks)),
    ]


def headers(grid: Grid) -> list[str]:
    """The column titles (French), one "Niveau <id>" column per criterion."""
    return ["N° candidat", "Nom", "Prénom", "Division", "Note proposée", "Note finale", "État"] + [
        f"Niveau {c.id}" for c in grid.criteria
    ]


def export_title(campaign: Campaign) -> str:
    """The title written above the summary: « Épreuve E2 — session 2027 — <school> »."""
    return f"Épreuve E2 — session {campaign.session} — {campaign.school}"


def export(statuses: list[CandidateStatus], grid: Grid, out: Path, title: str) -> Path:
    """Write the summary to ``out`` (.xlsx or .csv, chosen by the extension) atomically, whatever is
    there; return ``out``. A campaign's summary goes through :func:`export_campaign`, which refuses
    to replace what e2docs did not write.

    Raises :class:`E2docsError` for any other extension.
    """
    out = Path(out)
    atomic_write(out, summary_bytes(statuses, grid, out, title))
    return out


def summary_bytes(statuses: list[CandidateStatus], grid: Grid, out: Path, title: str) -> bytes:
    """The summary file's content, in the format ``out``'s extension names (.xlsx or .csv).

    Raises :class:`E2docsError` for any other extension.
    """
    rows = summary_rows(statuses)
    suffix = Path(out).suffix.lower()
    if suffix == ".csv":
        return _csv(rows, grid)
    if suffix == ".xlsx":
        return _xlsx(rows, grid, title)
    raise E2docsError("format d'export inconnu : utilisez un nom de fichier en .xlsx ou .csv.", out)


def export_campaign(campaign: Campaign, out: Path, *, force: bool = False) -> Path:
    """Write the campaign's summary to ``out`` atomically and record it as written by e2docs
    (:mod:`e2docs.app.written`); return ``out``.

    Raises :class:`E2docsError` (exit 2, nothing written) for an unknown extension; for a target
    inside the campaign's ``envoi/``, ``retours/`` or ``liste/``, or one of its own files
    (``e2docs.toml``, ``registre.sqlite``, ``.secret``, ``grille.toml``…), even with ``force``; and
    for an existing file that e2docs did not write, or that changed since, unless ``force``.
    """
    from e2docs.app.status import campaign_statuses

    out = Path(out)
    protected = _protected_place(campaign.root, out)
    if protected:
        raise E2docsError(
            f"la synthèse ne peut pas être écrite {protected} : rien n'a été écrit.",
            out,
            hint="Indiquez un fichier ailleurs, par exemple « -o synthese.xlsx » dans le dossier de la campagne.",
        )
    data = summary_bytes(campaign_statuses(campaign), campaign.grid(), out, export_title(campaign))
    record = Record.load(campaign.root)
    if out.exists() and not record.owns(out) and not force:
        raise E2docsError(
            "ce fichier existe déjà et n'a pas été écrit par e2docs, ou a été modifié depuis : rien n'a été écrit.",
            out,
            hint="Choisissez un autre nom de fichier, ou ajoutez --force pour le remplacer.",
        )
    try:
        write_file(record, out, data, by="export")
    except OSError as exc:
        raise E2docsError(f"écriture impossible ({os_error_fr(exc)}) : rien n'a été écrit.", out) from None
    return out


# The campaign's own files, at its root: never written by an export, whatever the case of their name.
_OWN_FILES = {SETTINGS.lower(), GRID_FILE.lower(), SECRET.lower(), RECORD.lower()}
# The campaign's folders that hold what others sent or what e2docs sent: never written into.
_OWN_FOLDERS = {
    "envoi": "dans le dossier envoi/ (classeurs envoyés)",
    "retours": "dans le dossier retours/ (retours archivés)",
    "liste": "dans le dossier liste/ (liste importée)",
}


def _protected_place(root: Path, out: Path) -> str | None:
    """Why ``out`` must not be written (« dans le dossier retours/ … »), or ``None`` when it may.

    Folders are compared as the system sees them (same file or folder, so upper/lower case on
    Windows and macOS, ``..`` and links make no difference)."""
    folders = {}
    for name, why in _OWN_FOLDERS.items():
        try:
            folders[why] = os.stat(root / name)
        except OSError:
            continue
    target = Path(os.path.abspath(out))
    for folder in target.parents:
        try:
            st = os.stat(folder)
        except OSError:
            continue  # not created yet
        for why, own in folders.items():
            if os.path.samestat(st, own):
                return why
    try:
        at_root = os.path.samestat(os.stat(target.parent), os.stat(root))
    except OSError:
        at_root = False
    name = target.name.lower()
    if at_root and (name in _OWN_FILES or name.startswith(LEDGER.lower()) or name.startswith(".")):
        return "à la place d'un fichier de la campagne (réglages, registre, clé, grille)"
    return None


def _csv(rows: list[SummaryRow], grid: Grid) -> bytes:
    """Semicolon-separated, decimal comma, UTF-8 with BOM: what French Excel opens directly. Names,
    numbers and divisions beginning with = + - @, a tab or a carriage return get a leading single
    quote (:func:`~e2docs.model.text.csv_cell`): a spreadsheet shows them instead of running them."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(headers(grid))
    for r in rows:
        w.writerow(
            [csv_cell(x) for x in (r.number, r.last_name, r.first_name, r.division)]
            + [french.mark(r.proposed), french.mark(r.final), r.state]
            + [r.levels.get(c.id) or "" for c in grid.criteria]
        )
    w.writerow([])
    for label, value in _stats([r.final for r in rows if r.final is not None]):
        shown = french.mark(value) if isinstance(value, float) else ("" if value is None else value)
        w.writerow([label, "", "", "", "", shown])
    return buf.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[SummaryRow], grid: Grid, title: str) -> bytes:
    buf = io.BytesIO()
    wb = TypedWorkbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("Synthèse")
    head = wb.add_format(
        {"bold": True, "bg_color": "#D9D2E9", "border": 1, "text_wrap": True, "valign": "vcenter", "align": "center"}
    )
    cell = wb.add_format({"border": 1})
    mark = wb.add_format({"border": 1, "num_format": "0.0", "align": "center"})
    center = wb.add_format({"border": 1, "align": "center"})
    bold = wb.add_format({"bold": True, "border": 1})
    ws.write_string(0, 0, title, wb.add_format({"bold": True, "font_size": 13}))
    cols = headers(grid)
    for j, text in enumerate(cols):
        ws.write_string(2, j, text, head)
    first = 3
    for i, r in enumerate(rows, first):
        for j, v in enumerate((r.number, r.last_name, r.first_name, r.division)):
            ws.write_string(i, j, v, cell)
        for j, value in ((4, r.proposed), (5, r.final)):
            ws.write_number(i, j, value, mark) if value is not None else ws.write_blank(i, j, None, mark)
        ws.write_string(i, 6, r.state, center)
        for k, cr in enumerate(grid.criteria, 7):
            level = r.levels.get(cr.id)
            ws.write_number(i, k, level, center) if level else ws.write_blank(i, k, None, center)
    last = first + len(rows) - 1
    finals = [r.final for r in rows if r.final is not None]
    stats_row = last + 2
    rng = f"F{first + 1}:F{last + 1}"
    formulas = [
        f'=IF(COUNT({rng})>0,ROUND(AVERAGE({rng}),2),"")',
        f'=IF(COUNT({rng})>0,MIN({rng}),"")',
        f'=IF(COUNT({rng})>0,MAX({rng}),"")',
        f"=COUNT({rng})",
    ]
    for k, ((label, value), formula) in enumerate(zip(_stats(finals), formulas, strict=False)):
        ws.write_string(stats_row + k, 4, label, bold)
        ws.write_formula(stats_row + k, 5, formula, mark, "" if value is None else value)
    ws.set_column(0, 0, 13)
    ws.set_column(1, 2, 20)
    ws.set_column(3, 3, 10)
    ws.set_column(4, 5, 10)
    ws.set_column(6, 6, 12)
    ws.set_column(7, 6 + len(grid.criteria), 8)
    ws.freeze_panes(3, 2)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(2)
    ws.autofilter(2, 0, max(last, first), 6 + len(grid.criteria))

    charts = wb.add_worksheet("Graphiques")
    charts.write_string(0, 0, "Tranche de notes", head)
    charts.write_string(0, 1, "Candidats", head)
    for i, ((lo, hi), n) in enumerate(zip(BANDS, band_counts(finals), strict=False), 1):
        charts.write_string(i, 0, f"{lo} à {hi}" if hi < 20 else f"{lo} à 20", cell)
        charts.write_number(i, 1, n, center)
    dist = wb.add_chart({"type": "column"})
    dist.add_series(
        {
            "name": "Candidats",
            "categories": ["Graphiques", 1, 0, len(BANDS), 0],
            "values": ["Graphiques", 1, 1, len(BANDS), 1],
            "fill": {"color": "#5B9BD5"},
        }
    )
    dist.set_title({"name": "Répartition des notes finales"})
    dist.set_x_axis({"name": "Note sur 20"})
    dist.set_y_axis({"name": "Nombre de candidats", "major_unit": 1})
    dist.set_legend({"none": True})
    charts.insert_chart("D2", dist, {"x_scale": 1.3, "y_scale": 1.1})

    top = len(BANDS) + 3
    charts.write_string(top, 0, "Critère", head)
    for lvl in grid.scale:
        charts.write_string(top, lvl.value, f"{lvl.value} {lvl.label}", head)
    counts = level_counts(rows, grid)
    for i, cr in enumerate(grid.criteria, top + 1):
        charts.write_string(i, 0, cr.id, cell)
        for k, n in enumerate(counts[cr.id], 1):
            charts.write_number(i, k, n, center)
    levels = wb.add_chart({"type": "column", "subtype": "stacked"})
    colours = ["#F4B183", "#FFD966", "#A9D18E", "#548235"]
    for lvl, colour in zip(grid.scale, colours, strict=False):
        levels.add_series(
            {
                "name": ["Graphiques", top, lvl.value],
                "categories": ["Graphiques", top + 1, 0, top + len(grid.criteria), 0],
                "values": ["Graphiques", top + 1, lvl.value, top + len(grid.criteria), lvl.value],
                "fill": {"color": colour},
            }
        )
    levels.set_title({"name": "Niveaux atteints par critère"})
    levels.set_y_axis({"name": "Nombre de candidats", "major_unit": 1})
    charts.insert_chart(f"D{top + 2}", levels, {"x_scale": 1.3, "y_scale": 1.2})
    charts.set_column(0, 0, 16)
    charts.set_column(1, 4, 12)
    wb.close()
    return buf.getvalue()
