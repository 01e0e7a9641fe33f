"""``e2docs export``: the school summary, one row per candidate, as .xlsx (with charts) or .csv.

The .xlsx layout: sheet « Synthèse » (the table, then the statistics below it; A4 landscape, one
page wide, header row repeated) and sheet « Graphiques » (two blocks side by side, each a small
table of counts with its chart right below it; the whole sheet prints on one A4 landscape page).
Charts never cover a cell that holds data, and read in black and white (grey levels, hatches,
value labels).
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from e2docs.app.campaign import GRID_FILE, LEDGER, SECRET, SETTINGS
from e2docs.app.status import CandidateStatus
from e2docs.app.written import RECORD, Record, write_file
from e2docs.formats.atomic import atomic_write
from e2docs.formats.xlsx.writer import TypedWorkbook
from e2docs.model import french
from e2docs.model.distribution import Distribution, distribution
from e2docs.model.errors import E2docsError, os_error_fr
from e2docs.model.grid import Grid
from e2docs.model.states import CandidateState
from e2docs.model.text import csv_cell

if TYPE_CHECKING:
    from e2docs.app.campaign import Campaign


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


def summary_distribution(rows: list[SummaryRow], grid: Grid) -> Distribution:
    """What the summary's charts show: final marks per band and levels per criterion of the
    candidates with an accepted return (the same counts as the class record's charts)."""
    return distribution(grid, [r.final for r in rows if r.final is not None], [r.levels for r in rows])


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
    with Record.load(campaign.root) as record:
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


# ------------------------------------------------------------------ .xlsx

CHARTS = "Graphiques"
# Pixels as Excel and XlsxWriter count them: a column of width w characters is int(7 w + 5) pixels
# wide, a default row 20 pixels high.
ROW_PX = 20
CHART_SIZE = (560, 360)  # width × height of each chart, in pixels
MARGIN_IN = 0.5
# Fills per level of the scale (level 1 first): grey levels and hatches, and the value labels' ink.
LEVEL_FILLS: tuple[tuple[dict[str, Any], str], ...] = (
    ({"pattern": {"pattern": "percent_10", "fg_color": "#000000", "bg_color": "#FFFFFF"}}, "#000000"),
    ({"pattern": {"pattern": "wide_upward_diagonal", "fg_color": "#000000", "bg_color": "#C8C8C8"}}, "#000000"),
    ({"fill": {"color": "#7A7A7A"}}, "#FFFFFF"),
    ({"fill": {"color": "#262626"}}, "#FFFFFF"),
)


def _col_px(width: float) -> int:
    return int(width * 7 + 5)


def _width(header: str, values: list[str], minimum: float = 6, maximum: float = 40) -> float:
    """A column width (characters) that shows every value whole and the header wrapped on words."""
    longest_word = max((len(w) for w in header.split()), default=0)
    longest_value = max((len(v) for v in values), default=0)
    return min(maximum, max(minimum, longest_word + 2, longest_value + 2))


def _lines(header: str, width: float) -> int:
    """How many lines ``header`` takes, wrapped on words, in a column ``width`` characters wide."""
    lines, used = 1, 0
    for word in header.split():
        if used and used + 1 + len(word) > width - 1:
            lines, used = lines + 1, len(word)
        else:
            used += (1 if used else 0) + len(word)
    return lines


def _xlsx(rows: list[SummaryRow], grid: Grid, title: str) -> bytes:
    buf = io.BytesIO()
    wb = TypedWorkbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    f = _Formats(wb)
    _summary_sheet(wb, f, rows, grid, title)
    _charts_sheet(wb, f, summary_distribution(rows, grid), grid)
    wb.close()
    return buf.getvalue()


class _Formats:
    """The cell formats of the summary workbook."""

    def __init__(self, wb: TypedWorkbook) -> None:
        border = {"border": 1, "valign": "vcenter"}
        self.head = wb.add_format(border | {"bold": True, "bg_color": "#D9D9D9", "text_wrap": True, "align": "center"})
        self.cell = wb.add_format(border)
        self.mark = wb.add_format(border | {"num_format": "0.0", "align": "center"})
        self.mean = wb.add_format(border | {"num_format": "0.00", "align": "center"})
        self.count = wb.add_format(border | {"num_format": "0", "align": "center"})
        self.center = wb.add_format(border | {"align": "center"})
        self.bold = wb.add_format(border | {"bold": True})
        self.title = wb.add_format({"bold": True, "font_size": 13})


def _summary_sheet(wb: TypedWorkbook, f: _Formats, rows: list[SummaryRow], grid: Grid, title: str) -> None:
    """The table (header on row 3, one row per candidate from row 4), then the statistics of the
    final marks two rows below (labels in column E, values in F)."""
    ws = wb.add_worksheet("Synthèse")
    ws.write_string(0, 0, title, f.title)
    cols = headers(grid)
    first = 3
    for i, r in enumerate(rows, first):
        for j, v in enumerate((r.number, r.last_name, r.first_name, r.division)):
            ws.write_string(i, j, v, f.cell)
        for j, value in ((4, r.proposed), (5, r.final)):
            ws.write_number(i, j, value, f.mark) if value is not None else ws.write_blank(i, j, None, f.mark)
        ws.write_string(i, 6, r.state, f.center)
        for k, cr in enumerate(grid.criteria, 7):
            level = r.levels.get(cr.id)
            ws.write_number(i, k, level, f.count) if level else ws.write_blank(i, k, None, f.count)
    last = first + len(rows) - 1
    finals = [r.final for r in rows if r.final is not None]
    stats_row = max(last, first - 1) + 2
    rng = f"F{first + 1}:F{max(last, first) + 1}"
    formulas = [
        (f'=IF(COUNT({rng})>0,ROUND(AVERAGE({rng}),2),"")', f.mean),
        (f'=IF(COUNT({rng})>0,MIN({rng}),"")', f.mark),
        (f'=IF(COUNT({rng})>0,MAX({rng}),"")', f.mark),
        (f"=COUNT({rng})", f.count),
    ]
    stats = _stats(finals)
    for k, ((label, value), (formula, fmt)) in enumerate(zip(stats, formulas, strict=True)):
        ws.write_string(stats_row + k, 4, label, f.bold)
        ws.write_formula(stats_row + k, 5, formula, fmt, "" if value is None else value)

    shown: list[list[str]] = [
        [r.number for r in rows],
        [r.last_name for r in rows],
        [r.first_name for r in rows],
        [r.division for r in rows],
        [label for label, _ in stats],  # the statistics' labels stand in column E
        ["00,00"],
        [r.state for r in rows],
    ] + [["4"] for _ in grid.criteria]
    widths = [_width(h, v) for h, v in zip(cols, shown, strict=True)]
    for j, (text, width) in enumerate(zip(cols, widths, strict=True)):
        ws.write_string(2, j, text, f.head)
        ws.set_column(j, j, width)
    ws.set_row(2, 15 * max(_lines(h, w) for h, w in zip(cols, widths, strict=True)) + 3)
    ws.freeze_panes(3, 2)
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=MARGIN_IN, right=MARGIN_IN, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(2)
    ws.print_area(0, 0, stats_row + len(stats) - 1, len(cols) - 1)
    ws.autofilter(2, 0, max(last, first), len(cols) - 1)


def _charts_sheet(wb: TypedWorkbook, f: _Formats, dist: Distribution, grid: Grid) -> None:
    """Two blocks side by side, each a table of counts on top and its chart right below it: the
    final marks per band (columns A–B), then, after an empty column, the levels per criterion.
    Charts move and resize with their cells, so they never cover the tables, whatever the font."""
    ws = wb.add_worksheet(CHARTS)
    n, m = len(dist.bands), len(dist.criteria)
    chart_row = max(n, m) + 2

    # Block 1: final marks per band.
    widths1 = [16.0, 12.0]
    for j, w in enumerate(widths1):
        ws.set_column(j, j, w)
    ws.write_string(0, 0, "Tranche de notes", f.head)
    ws.write_string(0, 1, "Candidats", f.head)
    for i, band in enumerate(dist.bands, 1):
        ws.write_string(i, 0, f"{band.low} à {band.high}", f.cell)
        ws.write_number(i, 1, band.count, f.count)
    marks = wb.add_chart({"type": "column"})
    marks.add_series(
        {
            "name": "Candidats",
            "categories": [CHARTS, 1, 0, n, 0],
            "values": [CHARTS, 1, 1, n, 1],
            "fill": {"color": "#A6A6A6"},
            "border": {"color": "#000000", "width": 0.75},
            "gap": 40,
            "data_labels": {"value": True, "position": "outside_end", "num_format": "0;;;", "font": {"bold": True}},
        }
    )
    marks.set_title({"name": "Répartition des notes finales", "name_font": {"size": 12}})
    marks.set_x_axis({"name": f"Note finale (sur {int(grid.max_mark)}), par tranche de 2 points"})
    marks.set_y_axis(_count_axis(max((b.count for b in dist.bands), default=0)))
    marks.set_legend({"none": True})
    last1 = _place(ws, marks, chart_row, 0, widths1, CHART_SIZE)

    # Block 2: levels per criterion, after an empty column.
    c2 = last1 + 2
    widths2 = [10.0] + [13.0] * len(grid.scale)
    for j, w in enumerate(widths2, c2):
        ws.set_column(j, j, w)
    ws.write_string(0, c2, "Critère", f.head)
    for k, lvl in enumerate(grid.scale, 1):
        ws.write_string(0, c2 + k, f"{lvl.value} {lvl.label}", f.head)
    for i, cl in enumerate(dist.criteria, 1):
        ws.write_string(i, c2, cl.criterion.id, f.cell)
        for k, count in enumerate(cl.counts, 1):
            ws.write_number(i, c2 + k, count, f.count)
    levels = wb.add_chart({"type": "column", "subtype": "stacked"})
    for k in range(1, len(grid.scale) + 1):
        fill, ink = LEVEL_FILLS[min(k, len(LEVEL_FILLS)) - 1]
        label: dict[str, Any] = {"value": True, "num_format": "0;;;", "font": {"bold": True, "color": ink}}
        if "pattern" in fill:
            label["fill"] = {"color": "#FFFFFF"}
        levels.add_series(
            fill
            | {
                "name": [CHARTS, 0, c2 + k],
                "categories": [CHARTS, 1, c2, m, c2],
                "values": [CHARTS, 1, c2 + k, m, c2 + k],
                "border": {"color": "#000000", "width": 0.75},
                "gap": 50,
                "data_labels": label,
            }
        )
    levels.set_title({"name": "Niveaux atteints par critère", "name_font": {"size": 12}})
    levels.set_x_axis({"name": "Critère"})
    levels.set_y_axis(_count_axis(max((c.total for c in dist.criteria), default=0)))
    levels.set_legend({"position": "bottom"})
    last2 = _place(ws, levels, chart_row, c2, widths2, CHART_SIZE)

    # Print: both blocks whole on one A4 landscape page.
    ws.print_area(0, 0, chart_row + -(-CHART_SIZE[1] // ROW_PX), last2)
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=MARGIN_IN, right=MARGIN_IN, top=MARGIN_IN, bottom=MARGIN_IN)
    ws.center_horizontally()
    ws.fit_to_pages(1, 1)


def _place(ws: Any, chart: Any, row: int, col: int, widths: list[float], size: tuple[int, int]) -> int:
    """Insert ``chart`` (``size``: width × height in pixels, at least as wide as ``widths``'s
    columns) at (``row``, ``col``), moving and resizing with its cells; return the last column
    it covers (columns past ``widths`` have the default width, 64 pixels)."""
    used = sum(_col_px(w) for w in widths)
    last = col + len(widths) - 1
    while used < size[0]:
        last, used = last + 1, used + 64
    chart.set_size({"width": size[0], "height": size[1]})
    ws.insert_chart(row, col, chart, {"object_position": 1})
    return last


def _count_axis(most: int) -> dict[str, Any]:
    """A value axis of whole numbers of candidates (never "0,5 candidat"), about ten steps at most."""
    return {
        "name": "Nombre de candidats",
        "min": 0,
        "major_unit": max(1, math.ceil(most / 10)),
        "num_format": "0",
        "major_gridlines": {"visible": True, "line": {"color": "#BFBFBF", "width": 0.5}},
    }
