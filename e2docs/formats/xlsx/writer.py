"""Render layouts into protected .xlsx files with XlsxWriter.

A workbook is built in memory, then written to a temporary file beside the target
and renamed, so a reader never sees half a file and an existing one is replaced
only when the new one is complete.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_cell_to_rowcol
from xlsxwriter.worksheet import Worksheet

from e2docs import __version__
from e2docs.formats.atomic import atomic_write
from e2docs.formats.xlsx import integrity, names
from e2docs.formats.xlsx.layout import (
    DEFAULT_PASSWORD,
    LAYOUT_VERSION,
    MARGINS,
    META_SHEET,
    CandidateLayout,
    Cell,
    CellKind,
    CellRole,
    SheetLayout,
    build_layout,
)
from e2docs.formats.xlsx.results import compute_outputs
from e2docs.formats.xlsx.styles import BASE, CONDITIONAL, DEFAULT_FONT, STYLES
from e2docs.model import french, scoring
from e2docs.model.candidate import Candidate, Context
from e2docs.model.grid import Grid

FORMAT_ID = "e2docs-grille/1"
RECAP_SHEET = "Récapitulatif"


@dataclass(frozen=True)
class Options:
    """How workbooks are protected and signed. ``secret`` is the campaign's signing key."""

    password: str = DEFAULT_PASSWORD
    secret: bytes = integrity.PUBLIC_SECRET
    campaign_id: str = ""
    generated_at: str = ""
    layout_version: str = LAYOUT_VERSION  # an older one only to reproduce workbooks already sent (tests)


@dataclass(frozen=True)
class Written:
    """A workbook written: its path and, per candidate, the signed metadata."""

    path: Path
    metas: tuple[dict[str, Any], ...]


class _Worksheet(Worksheet):
    """XlsxWriter worksheet that stores a formula's empty text result as text.

    XlsxWriter writes the cached value ``""`` as ``<c><f>…</f><v></v></c>``, a number cell
    without a number, which some readers (SheetJS) drop with the formula. An empty text
    result is written ``t="str"`` with an empty ``<v/>`` (ECMA-376 Part 1, §18.3.1.4 and
    §18.18.11), as Excel does for a formula giving ``""``; numbers stay untyped numbers.
    """

    def _xml_formula_element(self, formula: str, result: object, attributes: Sequence[tuple[str, object]] = ()) -> None:
        attributes = list(attributes)
        if result == "" and all(key != "t" for key, _ in attributes):
            attributes.append(("t", "str"))
        super()._xml_formula_element(formula, result, attributes)


def _cached(value: object) -> str | int | float:
    """A formula's cached result as XlsxWriter must get it: text (``""`` for an empty result,
    see :class:`_Worksheet`) or a number; ``TypeError`` for anything else (a bug upstream)."""
    if value is None:
        return ""
    if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise TypeError(f"cached formula value of type {type(value).__name__}: {value!r}")


class TypedWorkbook(xlsxwriter.Workbook):
    """XlsxWriter workbook whose formula cells cache an empty result as text (see :class:`_Worksheet`).
    Every workbook e2docs writes (grids, ``synthese.xlsx``) is one."""

    worksheet_class = _Worksheet


class _Workbook(TypedWorkbook):
    """A grid workbook: also locks the workbook structure (sheets cannot be added,
    removed, renamed or unhidden without the password)."""

    structure_password: str = ""

    def _write_book_views(self) -> None:  # element order: workbookPr, workbookProtection, bookViews
        attributes = [("lockStructure", "1")]
        if self.structure_password:
            attributes.insert(0, ("workbookPassword", password_hash(self.structure_password)))
        self._xml_empty_tag("workbookProtection", attributes)
        super()._write_book_views()


def password_hash(password: str) -> str:
    """The legacy 16-bit spreadsheet password hash (ECMA-376 §18.2.29), as 4 hex digits."""
    value = 0
    for i, ch in enumerate(password, 1):
        code = ord(ch) << i
        value ^= ((code & 0x7FFF) | (code >> 15)) & 0x7FFF
    value ^= len(password) ^ 0xCE4B
    return f"{value:04X}"


NEW_LINE = "Pour aller à la ligne : Alt+Entrée dans Excel, Ctrl+Entrée dans LibreOffice."
"""How to start a new line in a cell: the keys differ (in LibreOffice, Alt+Entrée replaces what the
cell held; in Excel, Ctrl+Entrée fills the selection)."""

VALIDATIONS: dict[str, dict[str, object]] = {
    "level": {
        "validate": "list",
        "source": ["X"],
        "input_title": "Niveau atteint",
        "input_message": "Tapez X dans une seule colonne de niveau pour ce critère.",
        "error_title": "Saisie refusée",
        "error_message": "Seule possibilité : X",
    },
    "competence": {
        "validate": "list",
        "source": ["X"],
        "input_title": "Repérage",
        "input_message": "Tapez X si la compétence a été observée.",
        "error_title": "Saisie refusée",
        "error_message": "Seule possibilité : X",
    },
    "tick": {
        "validate": "list",
        "source": ["X"],
        "input_title": "Technique utilisée",
        "input_message": "Tapez X si la technique a été utilisée.",
        "error_title": "Saisie refusée",
        "error_message": "Seule possibilité : X",
    },
    "integer": {
        "validate": "integer",
        "criteria": ">=",
        "value": 0,
        "input_title": "Nombre entier",
        "input_message": "Nombre entier positif ou nul.",
        "error_title": "Saisie refusée",
        "error_message": "Saisissez un nombre entier positif ou nul.",
    },
    "amount": {
        "validate": "decimal",
        "criteria": ">=",
        "value": 0,
        "input_title": "Montant en euros",
        "input_message": "Montant positif ou nul, en euros.",
        "error_title": "Saisie refusée",
        "error_message": "Saisissez un montant positif ou nul.",
    },
    "date": {
        "validate": "date",
        "criteria": "between",
        "minimum": dt.date(2000, 1, 1),
        "maximum": dt.date(2100, 12, 31),
        "input_title": "Date",
        "input_message": "Date au format jj/mm/aaaa.",
        "error_title": "Saisie refusée",
        "error_message": "Saisissez une date au format jj/mm/aaaa.",
    },
    "text": {
        "validate": "length",
        "criteria": "<=",
        "value": 255,
        "input_title": "Texte",
        "input_message": "Texte libre (255 caractères au plus).",
        "error_title": "Saisie refusée",
        "error_message": "Texte trop long : 255 caractères au plus.",
    },
    "longtext": {
        "validate": "length",
        "criteria": "<=",
        "value": 4000,
        "input_title": "Texte",
        "input_message": f"Texte libre (4000 caractères au plus). {NEW_LINE}",
        "error_title": "Saisie refusée",
        "error_message": "Texte trop long : 4000 caractères au plus.",
    },
}
"""Data validation of each kind of input (XlsxWriter ``data_validation`` options). A text input
with a ``limit`` (layout version 2) says that limit instead, and that the cell shows it all."""


def _validation(cell: Cell, layout: CandidateLayout) -> dict[str, object]:
    if cell.kind is CellKind.MARK:
        top = layout.grid.max_mark
        step = layout.grid.rounding_step
        step_words = scoring.step_name(step)
        example = french.mark(scoring.ceil_to_step(top * 5 / 8, step))  # 12,5 out of 20
        r = cell.ref
        return {
            "validate": "custom",
            "value": f"=AND(ISNUMBER({r}),{r}>=0,{r}<={french.dot_decimal(top)},MOD({r},{french.dot_decimal(step)})=0)",
            "input_title": "Note de la commission",
            "input_message": f"Facultatif. Note de 0 à {french.mark(top)}, par {step_words} (ex. {example}). "
            "Laissez vide pour retenir la note proposée.",
            "error_title": "Note refusée",
            "error_message": f"La note doit être comprise entre 0 et {french.mark(top)}, par {step_words}.",
        }
    rule: dict[str, object] = dict(VALIDATIONS[cell.kind])
    if cell.limit and cell.kind in (CellKind.TEXT, CellKind.LONGTEXT):
        shown = french.number(cell.limit)
        rule.update(
            value=cell.limit,
            input_message=f"Texte libre : {shown} caractères au plus, tous visibles à l'écran et à l'impression."
            + (f" {NEW_LINE}" if cell.kind is CellKind.LONGTEXT else ""),
            error_message=f"Texte trop long : {shown} caractères au plus (espaces compris).",
        )
    if cell.field == "fin":
        start = layout.named[names.prospecting("debut")].ref
        row, col = xl_cell_to_rowcol(start)
        rule.update(
            criteria=">=",
            value=f"=${re.sub(r'[0-9]', '', start)}${row + 1}",
            error_message="La date de fin doit être postérieure ou égale à la date de début.",
        )
        rule.pop("minimum"), rule.pop("maximum")
    return rule


class _Renderer:
    """Writes layouts into one XlsxWriter workbook, creating each format once."""

    def __init__(self, wb: _Workbook):
        self.wb = wb
        self.formats: dict[str, Format] = {}
        self.cond = {k: wb.add_format(v) for k, v in CONDITIONAL.items()}

    def fmt(self, style: str) -> Format:
        """The XlsxWriter format of a style of :mod:`styles` (created on first use)."""
        if style not in self.formats:
            props = dict(BASE)
            props.update(STYLES[style])
            self.formats[style] = self.wb.add_format(props)
        return self.formats[style]

    def sheet(
        self, layout: CandidateLayout, sheet: SheetLayout, cached: Mapping[str, object], password: str
    ) -> Worksheet:
        """Write one sheet of a layout; ``cached``: output name → value stored as the formula's result."""
        ws = self.wb.add_worksheet(sheet.title)
        for col, width in sheet.widths.items():
            ws.set_column(col, col, width)
        for row, height in sheet.heights.items():
            ws.set_row(row, height)
        for cell in sheet.cells:
            self.cell(ws, layout, cell, cached)
        if sheet.title_rows:
            ws.repeat_rows(*sheet.title_rows)
        ws.set_paper(9)
        ws.set_portrait()
        ws.center_horizontally()
        if sheet.fit_width:  # layout version 1
            ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
            ws.fit_to_pages(1, 0)
        else:  # 100 %, pages ending where the layout says (fitting to the width would drop them in Excel)
            ws.set_margins(**MARGINS)
            ws.set_print_scale(100)
            ws.set_h_pagebreaks(sheet.breaks)
        with warnings.catch_warnings():  # a name holding "&[Picture]" (escaped, printed as such) makes it warn
            warnings.simplefilter("ignore", UserWarning)
            ws.set_footer(footer(layout.candidate, sheet.title))
        ws.hide_gridlines(2)
        ws.protect(password, {"select_locked_cells": True, "select_unlocked_cells": True})
        return ws

    def cell(self, ws: Worksheet, layout: CandidateLayout, cell: Cell, cached: Mapping[str, object]) -> None:
        fmt = self.fmt(cell.style)
        if cell.merge:
            ws.merge_range(cell.merge, "", fmt)
        if cell.role is CellRole.OUTPUT:
            ws.write_formula(cell.ref, cell.formula, fmt, _cached(cached.get(cell.name or "", "")))
        elif cell.role is CellRole.INPUT:
            ws.write_blank(cell.ref, None, fmt)
            ws.data_validation(cell.ref, _validation(cell, layout))
        elif cell.style == "criterion" and "\n" in str(cell.value):
            title, rest = str(cell.value).split("\n", 1)
            ws.write_rich_string(cell.ref, self.fmt("rich_bold"), title, self.fmt("rich_plain"), "\n" + rest, fmt)
        elif cell.value in (None, ""):
            ws.write_blank(cell.ref, None, fmt)
        else:
            ws.write_string(cell.ref, str(cell.value), fmt)
        if cell.kind is CellKind.LEVEL and cell.level == 1:
            self.level_warnings(ws, layout, cell)

    def level_warnings(self, ws: Worksheet, layout: CandidateLayout, first: Cell) -> None:
        """Colour a criterion's level cells: orange with no X, red with two X's or anything else."""
        n = len(layout.grid.scale)
        row, col = xl_cell_to_rowcol(first.ref)
        rng = f"{first.ref}:{xlsxwriter.utility.xl_rowcol_to_cell(row, col + n - 1)}"
        abs_rng = (
            f"{xlsxwriter.utility.xl_rowcol_to_cell(row, col, True, True)}:"
            f"{xlsxwriter.utility.xl_rowcol_to_cell(row, col + n - 1, True, True)}"
        )
        ws.conditional_format(
            rng, {"type": "formula", "criteria": f"=COUNTA({abs_rng})=0", "format": self.cond["missing"]}
        )
        ws.conditional_format(
            rng,
            {
                "type": "formula",
                "criteria": f'=AND(COUNTA({abs_rng})>0,NOT(AND(COUNTIF({abs_rng},"X")=1,COUNTA({abs_rng})=1)))',
                "format": self.cond["conflict"],
            },
        )

    def names(self, layout: CandidateLayout) -> None:
        """Define every named cell of a layout (sheet-local names in a class workbook)."""
        for cell in layout.cells:
            if not cell.name:
                continue
            row, col = xl_cell_to_rowcol(cell.ref)
            target = f"='{cell.sheet}'!{xlsxwriter.utility.xl_rowcol_to_cell(row, col, True, True)}"
            name = f"'{cell.sheet}'!{cell.name}" if layout.local_names else cell.name
            self.wb.define_name(name, target)


MAX_FOOTER = 255
"""Excel's limit on a footer, in UTF-16 code units, codes included (XlsxWriter drops a longer one)."""


def footer(cand: Candidate, sheet_title: str) -> str:
    """The printed footer of a candidate's sheet (XlsxWriter's ``set_footer`` codes: ``&&`` is one ``&``).

    A name too long for Excel's :data:`MAX_FOOTER` is shortened with « … », so the footer is never dropped.
    """

    def text(name: str) -> str:
        return f"&L&8{name.replace('&', '&&')} — N° {cand.number}&R&8{sheet_title.replace('&', '&&')} — page &P / &N"

    name, out = cand.full_name, text(cand.full_name)
    while len(out.encode("utf-16-le")) > 2 * MAX_FOOTER and name:
        name = name[:-1]
        out = text(name.rstrip() + "…")
    return out


def workbook_title(cand: Candidate) -> str:
    """The title document property of a candidate's workbook."""
    return f"Grille E2 — {cand.full_name}"


def candidate_meta(layout: CandidateLayout, ctx: Context, options: Options) -> dict[str, Any]:
    """The signed metadata of one candidate's sheets: :data:`META_KEYS` → text (``local_names``: bool)."""
    return meta_of(
        layout.grid,
        layout.candidate,
        ctx,
        options,
        version=layout.version,
        sheets=(layout.sheets[0].title, layout.sheets[1].title),
        local_names=layout.local_names,
        fingerprint=integrity.fingerprint(layout),
    )


def meta_of(
    grid: Grid,
    cand: Candidate,
    ctx: Context,
    options: Options,
    *,
    version: str,
    sheets: tuple[str, str],
    local_names: bool,
    fingerprint: str,
) -> dict[str, Any]:
    """:func:`candidate_meta` from its parts: the layout's version, (grid, prospecting) sheet titles,
    whether its names are sheet-local, and its fingerprint (hex); signed with ``options.secret``."""
    meta = {
        "format": FORMAT_ID,
        "layout_version": version,
        "e2docs_version": __version__,
        "generated_at": options.generated_at,
        "campaign_id": options.campaign_id,
        "grid_id": grid.id,
        "grid_version": grid.version,
        "grid_hash": grid.content_hash,
        "candidate_number": cand.number,
        "last_name": cand.last_name,
        "first_name": cand.first_name,
        "division": cand.division,
        "birth_date": cand.birth_date.isoformat() if cand.birth_date else "",
        "ine": cand.ine,
        "specialty": cand.specialty,
        "session": ctx.session,
        "school": ctx.school,
        "academie": ctx.academie,
        "grid_sheet": sheets[0],
        "prospect_sheet": sheets[1],
        "local_names": local_names,
        "fingerprint": fingerprint,
    }
    meta["signature"] = integrity.sign(options.secret, meta)
    return meta


META_KEYS = (
    "format",
    "layout_version",
    "e2docs_version",
    "generated_at",
    "campaign_id",
    "grid_id",
    "grid_version",
    "grid_hash",
    "candidate_number",
    "last_name",
    "first_name",
    "division",
    "birth_date",
    "ine",
    "specialty",
    "session",
    "school",
    "academie",
    "grid_sheet",
    "prospect_sheet",
    "local_names",
    "fingerprint",
    "signature",
)


def _write_meta_sheet(wb: _Workbook, metas: Sequence[dict[str, Any]], password: str) -> None:
    """A hidden sheet with one column per candidate: the reader's source of identity."""
    ws = wb.add_worksheet(META_SHEET)
    ws.write_string(0, 0, "clé")
    for j in range(1, len(metas) + 1):
        ws.write_string(0, j, f"candidat {j}")
    for i, key in enumerate(META_KEYS, 1):
        ws.write_string(i, 0, key)
        for j, meta in enumerate(metas, 1):
            value = meta[key]
            ws.write_string(i, j, "1" if value is True else "0" if value is False else str(value))
    ws.set_column(0, 0, 18)
    ws.set_column(1, len(metas), 40)
    ws.hide()
    ws.protect(password)


def _created(options: Options) -> dt.datetime | None:
    """The workbook's creation date: the run's ``generated_at`` (``None`` when it is not a date-time)."""
    try:
        when = dt.datetime.fromisoformat(options.generated_at)
    except ValueError:
        return None
    return when.astimezone(dt.UTC) if when.tzinfo else when


def _new_workbook(buffer: io.BytesIO, options: Options, title: str, ctx: Context) -> _Workbook:
    wb = _Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            # a copy: XlsxWriter adds a key to this dict, which changed every later workbook of the process
            "default_format_properties": dict(DEFAULT_FONT),
        },
    )
    wb.structure_password = options.password
    created = _created(options)
    wb.set_properties(
        {
            **({"created": created} if created else {}),
            "title": title,
            "subject": "Épreuve E2 — Bac pro MCV option B",
            "author": "e2docs",
            "company": ctx.school,
            "comments": "Classeur généré par e2docs : ne pas modifier "
            "la structure ; seules les cellules vertes sont à remplir.",
        }
    )
    return wb


def _custom_properties(wb: _Workbook, metas: Sequence[dict[str, Any]]) -> None:
    first = metas[0]
    for key in ("format", "grid_id", "grid_version", "grid_hash", "campaign_id", "generated_at", "e2docs_version"):
        wb.set_custom_property(f"e2docs_{key}", str(first[key]) or "-")
    if len(metas) == 1:
        wb.set_custom_property("e2docs_candidat", first["candidate_number"])
        wb.set_custom_property("e2docs_signature", first["signature"])
    else:  # a class: the hidden sheet lists them (Excel caps a property at 255 characters)
        wb.set_custom_property("e2docs_candidats", len(metas))


def render_candidate(grid: Grid, cand: Candidate, ctx: Context, options: Options) -> tuple[bytes, dict[str, Any]]:
    """The bytes of one candidate's workbook (.xlsx) and its signed metadata (see :func:`candidate_meta`).

    The reference rendering: everything through XlsxWriter. :mod:`~e2docs.formats.xlsx.template` writes
    the same workbooks faster."""
    options = stamped(options)
    layout = build_layout(grid, cand, ctx, version=options.layout_version)
    meta = candidate_meta(layout, ctx, options)
    data, _ = render_layout(layout, ctx, options, meta)
    return data, meta


def render_layout(
    layout: CandidateLayout, ctx: Context, options: Options, meta: dict[str, Any]
) -> tuple[bytes, xlsxwriter.Workbook]:
    """The bytes of a candidate's workbook from its layout and signed metadata, and the closed XlsxWriter
    workbook (its shared strings, footers and properties, for the templates)."""
    buffer = io.BytesIO()
    wb = _new_workbook(buffer, options, workbook_title(layout.candidate), ctx)
    r = _Renderer(wb)
    cached = compute_outputs(layout, {})
    for sheet in layout.sheets:
        r.sheet(layout, sheet, cached, options.password)
    r.names(layout)
    _write_meta_sheet(wb, [meta], options.password)
    _custom_properties(wb, [meta])
    wb.close()
    return buffer.getvalue(), wb


def write_workbook(
    path: str | Path, grid: Grid, cand: Candidate, ctx: Context, options: Options = Options()
) -> Written:
    """Write one candidate's protected workbook to ``path`` (atomically: the old file or the new one,
    never a part). Raises ``OSError`` when the folder cannot be written."""
    data, meta = render_candidate(grid, cand, ctx, options)
    atomic_write(Path(path), data)
    return Written(Path(path), (meta,))


def stamped(options: Options) -> Options:
    """``options`` with ``generated_at`` set to now (UTC, to the second) when empty."""
    if options.generated_at:
        return options
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    return dataclasses.replace(options, generated_at=now)


_SHEET_BAD = re.compile(r"[\[\]:*?/\\']")


def class_sheet_titles(cands: Sequence[Candidate]) -> list[tuple[str, str]]:
    """Unique (grid, prospecting) sheet titles per candidate, within Excel's 31 characters."""
    titles, seen = [], set()
    for cand in cands:
        base = _SHEET_BAD.sub(" ", cand.full_name)[:17].strip() or cand.number
        stem, k = base, 2
        while stem.casefold() in seen:
            suffix = f" {k}"
            stem, k = base[: 17 - len(suffix)] + suffix, k + 1
        seen.add(stem.casefold())
        titles.append((f"{stem} – Grille", f"{stem} – Prosp."))
    return titles


def write_class_workbook(
    path: str | Path, grid: Grid, cands: Sequence[Candidate], ctx: Context, options: Options = Options()
) -> Written:
    """One workbook for a class: a recap sheet, then each candidate's two sheets (local names)."""
    options = stamped(options)
    buffer = io.BytesIO()
    wb = _new_workbook(buffer, options, "Grilles E2 — classe", ctx)
    r = _Renderer(wb)
    layouts = [
        build_layout(grid, c, ctx, grid_title=g, prospect_title=p, local_names=True, version=options.layout_version)
        for c, (g, p) in zip(cands, class_sheet_titles(cands), strict=False)
    ]
    recap = wb.add_worksheet(RECAP_SHEET)
    metas = []
    for layout in layouts:
        cached = compute_outputs(layout, {})
        for sheet in layout.sheets:
            r.sheet(layout, sheet, cached, options.password)
        r.names(layout)
        metas.append(candidate_meta(layout, ctx, options))
    _write_recap(recap, r, layouts, ctx, options.password)
    _write_meta_sheet(wb, metas, options.password)
    _custom_properties(wb, metas)
    wb.close()
    atomic_write(Path(path), buffer.getvalue())
    return Written(Path(path), tuple(metas))


def _write_recap(ws: Worksheet, r: _Renderer, layouts: Sequence[CandidateLayout], ctx: Context, password: str) -> None:
    """The class summary: each mark linked by formula to the candidate's sheet."""
    ws.merge_range(0, 0, 0, 6, f"Récapitulatif — {layouts[0].grid.epreuve}", r.fmt("title"))
    ws.merge_range(1, 0, 1, 6, f"Session {ctx.session} — {ctx.school}", r.fmt("subtitle"))
    heads = ("N° candidat", "Nom", "Prénom(s)", "Division", "Note proposée", "Note finale", "État de la grille")
    for col, text in enumerate(heads):
        ws.write_string(3, col, text, r.fmt("table_head"))
    for i, layout in enumerate(layouts, 4):
        cand, named = layout.candidate, layout.named
        cached = compute_outputs(layout, {})
        for col, value in enumerate((cand.number, cand.last_name, cand.first_name, cand.division)):
            ws.write_string(i, col, value, r.fmt("label"))
        for col, key in ((4, names.PROPOSED_MARK), (5, names.FINAL_MARK), (6, names.STATUS)):
            ref = named[key].ref
            ws.write_formula(
                i,
                col,
                f"='{layout.sheets[0].title}'!{ref}",
                r.fmt("recap_mark" if col < 6 else "label"),
                _cached(cached[key]),
            )
    for col, width in enumerate((13, 20, 18, 10, 11, 11, 40)):
        ws.set_column(col, col, width)
    ws.repeat_rows(3, 3)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(2)
    ws.protect(password, {"select_locked_cells": True, "select_unlocked_cells": True})
