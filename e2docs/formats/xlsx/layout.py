"""Where every cell of a candidate's workbook goes, and what it holds.

The layout is a plain description — labels, identity values, inputs, formulas,
merges, defined names — built from the grid and the candidate. The writer renders
it, the reader finds the inputs through it, and the integrity check compares a
returned file with it: one description, three uses.

Defined names come from :mod:`e2docs.formats.xlsx.names`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell as _rc

from e2docs.formats.xlsx import names
from e2docs.model import french, prospecting, scoring
from e2docs.model.candidate import Candidate, Context
from e2docs.model.grid import Criterion, Grid

GRID_SHEET = "Grille E2"
PROSPECT_SHEET = "Opération de prospection"
META_SHEET = "e2docs"
LAYOUT_VERSION = "1"


class CellRole(StrEnum):
    """What a placed cell is for (values written into the layout fingerprint: never rename)."""

    LABEL = "label"  # static text
    IDENTITY = "identity"  # candidate and school data, locked
    INPUT = "input"  # unlocked, typed by the teacher
    OUTPUT = "output"  # a formula


class CellKind(StrEnum):
    """What a cell holds; for inputs, what it accepts (``inspect --json`` ``kind``: never rename)."""

    TEXT = "text"
    LONGTEXT = "longtext"  # several lines
    DATE = "date"
    LEVEL = "level"  # an X in a criterion's level column
    COMPETENCE = "competence"  # an X in the "Repérage" column
    TICK = "tick"  # an X for a prospecting technique
    INTEGER = "integer"  # a count ≥ 0
    AMOUNT = "amount"  # euros ≥ 0
    MARK = "mark"  # out of the grid's maximum
    POINTS = "points"  # a criterion's points (output)
    STATUS = "status"  # the grid's status line (output)
    NUMBER = "number"  # a prospecting indicator (output)


@dataclass(frozen=True)
class Cell:
    """One placed cell (top-left of its merge).

    ``role`` is ``label`` (static text), ``identity`` (candidate data, locked),
    ``input`` (unlocked, typed by the teacher) or ``output`` (formula).
    """

    sheet: str
    ref: str
    role: CellRole
    kind: CellKind
    value: object = None
    formula: str | None = None
    name: str | None = None
    style: str = "label"
    merge: str | None = None
    label: str = ""
    criterion: str | None = None
    level: int | None = None
    competence: str | None = None
    field: str | None = None

    @property
    def key(self) -> str:
        """The defined name of an input or output cell (every one has a name); ``""`` for a label."""
        return self.name or ""


@dataclass
class SheetLayout:
    """A sheet: its cells, column widths, row heights and print titles.

    ``widths`` maps a 0-based column to its width in characters of the default
    font (XlsxWriter's ``set_column`` unit); ``heights`` maps a 0-based row to its
    height in points (``set_row``); rows and columns not listed keep the default.
    ``title_rows`` is the inclusive range of 0-based rows repeated on each printed
    page, ``None`` for none.
    """

    title: str
    cells: list[Cell] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    title_rows: tuple[int, int] | None = None
    landscape: bool = False

    def add(
        self, row: int, col: int, role: CellRole, kind: CellKind, *, last: tuple[int, int] | None = None, **kw: Any
    ) -> Cell:
        """Place a cell at 0-based ``row``/``col``, merged down to ``last`` (inclusive); ``kw``: Cell fields."""
        ref = _rc(row, col)
        merge = f"{ref}:{_rc(*last)}" if last and last != (row, col) else None
        cell = Cell(self.title, ref, role, kind, merge=merge, **kw)
        self.cells.append(cell)
        return cell

    def label(self, row: int, col: int, text: str, style: str = "label", last: tuple[int, int] | None = None) -> Cell:
        """Place static text (a style of :mod:`styles`), merged down to ``last`` when given."""
        return self.add(row, col, CellRole.LABEL, CellKind.TEXT, value=text, style=style, last=last)


@dataclass
class CandidateLayout:
    """The two sheets of one candidate and an index of named cells."""

    grid: Grid
    candidate: Candidate
    sheets: list[SheetLayout]
    local_names: bool = False

    @property
    def cells(self) -> list[Cell]:
        """Every placed cell, sheet by sheet, in placing order."""
        return [c for s in self.sheets for c in s.cells]

    @property
    def named(self) -> dict[str, Cell]:
        """Defined name → its cell (inputs, outputs and identity cells)."""
        return {c.name: c for c in self.cells if c.name}

    @property
    def inputs(self) -> list[Cell]:
        """The unlocked cells a teacher types into."""
        return [c for c in self.cells if c.role is CellRole.INPUT]

    @property
    def outputs(self) -> list[Cell]:
        """The formula cells (points, marks, status line, prospecting indicators)."""
        return [c for c in self.cells if c.role is CellRole.OUTPUT]


# --- text measuring, to give wrapped rows a height that shows all their text ---


def _lines(text: str, width_chars: float) -> int:
    per_line = max(1, int(width_chars * 1.15))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def _height(lines: int) -> float:
    return max(15.0, 12.0 * lines + 3)


# ------------------------------------------------------------------ grid sheet

GRID_WIDTHS = {0: 17, 1: 40, 2: 7, 3: 42, 4: 6.5, 5: 6.5, 6: 6.5, 7: 6.5, 8: 8}
LAST_COL = 8


def _criterion_spans(grid: Grid, meta: int, n_rows: int) -> list[tuple[Criterion, int, int]]:
    """Rows (offsets within the méta block) each criterion spans.

    When the criteria of a block evaluate disjoint runs of competences (block 3),
    each stands beside its own competences; when they share them (blocks 2 and 4),
    the block's rows are shared out evenly, in order.
    """
    crits = grid.criteria_of(meta)
    if not crits:
        return []
    ranks = [sorted(int(c.split(".")[1]) - 1 for c in cr.competences) for cr in crits]
    disjoint = all(r == list(range(r[0], r[-1] + 1)) for r in ranks) and all(
        a[-1] < b[0] for a, b in zip(ranks, ranks[1:], strict=False)
    )
    if disjoint:
        spans = [(cr, r[0], r[-1]) for cr, r in zip(crits, ranks, strict=False)]
        first = spans[0]
        spans[0] = (first[0], 0, first[2])
        last = spans[-1]
        spans[-1] = (last[0], last[1], n_rows - 1)
        return spans
    size, extra = divmod(n_rows, len(crits))
    out, start = [], 0
    for i, cr in enumerate(crits):
        rows = size + (1 if i < extra else 0)
        rows = max(rows, 1)
        out.append((cr, start, start + rows - 1))
        start += rows
    return out


def build_grid_sheet(grid: Grid, cand: Candidate, ctx: Context, title: str = GRID_SHEET) -> SheetLayout:
    """The competence grid sheet: header, identity, commission, the grid, marks, observations, status line.

    Row heights grow with the text they hold (estimated from the column widths) so
    that nothing is cut on a protected sheet.
    """
    s = SheetLayout(title, widths=dict(GRID_WIDTHS))
    L = LAST_COL
    s.label(0, 0, grid.diploma, "title", (0, L))
    s.label(1, 0, grid.option, "subtitle", (1, L))
    s.label(2, 0, f"{grid.epreuve} — {grid.bloc}" if grid.bloc else grid.epreuve, "subtitle", (2, L))
    s.label(3, 0, grid.title, "subtitle_italic", (3, L))
    s.label(4, 0, "Session", "field_label")
    s.add(
        4, 1, CellRole.IDENTITY, CellKind.TEXT, value=ctx.session, name=names.SESSION, style="identity", label="Session"
    )
    s.label(4, 2, "Académie", "field_label", (4, 3))
    s.add(
        4,
        4,
        CellRole.IDENTITY,
        CellKind.TEXT,
        value=ctx.academie,
        name=names.ACADEMIE,
        style="identity",
        last=(4, L),
        label="Académie",
    )
    s.label(5, 0, "Établissement", "field_label")
    s.add(
        5,
        1,
        CellRole.IDENTITY,
        CellKind.TEXT,
        value=ctx.school,
        name=names.SCHOOL,
        style="identity",
        last=(5, L),
        label="Établissement",
    )
    for r in (0, 1, 2, 3):
        s.heights[r] = 20 if r == 0 else 16
    s.heights[6] = 6

    # Candidate
    s.label(7, 0, "Candidat", "section", (7, L))
    birth = cand.birth_date.strftime("%d/%m/%Y") if cand.birth_date else ""
    ident = [
        (8, "Nom", cand.last_name, names.LAST_NAME, "N° candidat", cand.number, names.CANDIDATE_NUMBER),
        (9, "Prénom(s)", cand.first_name, names.FIRST_NAME, "Division", cand.division, names.DIVISION),
        (10, "Date de naissance", birth, names.BIRTH_DATE, "Spécialité", f"{grid.specialty} — {grid.option}", None),
    ]
    for row, l1, v1, n1, l2, v2, n2 in ident:
        s.label(row, 0, l1, "field_label")
        s.add(row, 1, CellRole.IDENTITY, CellKind.TEXT, value=v1, name=n1, style="identity", label=l1)
        s.label(row, 2, l2, "field_label", (row, 3))
        if n2:
            s.add(
                row, 4, CellRole.IDENTITY, CellKind.TEXT, value=v2, name=n2, style="identity", last=(row, L), label=l2
            )
        else:
            s.label(row, 4, v2, "identity_small", (row, L))
    s.heights[10] = 24
    s.heights[11] = 6

    # Commission
    s.label(12, 0, "Commission d'évaluation", "section", (12, L))
    s.label(13, 0, "Membre", "table_head")
    s.label(13, 1, "Nom et prénom", "table_head")
    s.label(13, 2, "Fonction", "table_head", (13, 3))
    s.label(13, 4, "Signature", "table_head", (13, L))
    members: tuple[tuple[int, str, names.Member, str], ...] = (
        (14, "Professeur", "prof", "professeur"),
        (15, "Professionnel", "pro", "professionnel"),
    )
    for row, who, key, label in members:
        s.label(row, 0, who, "field_label")
        s.add(
            row,
            1,
            CellRole.INPUT,
            CellKind.TEXT,
            name=names.commission_name(key),
            style="input",
            label=f"Nom et prénom du {label}",
        )
        s.add(
            row,
            2,
            CellRole.INPUT,
            CellKind.TEXT,
            name=names.commission_function(key),
            style="input",
            last=(row, 3),
            label=f"Fonction du {label}",
        )
        s.label(row, 4, "", "signature", (row, L))
        s.heights[row] = 30
    s.label(16, 0, "Date de l'évaluation", "field_label")
    s.add(
        16,
        1,
        CellRole.INPUT,
        CellKind.DATE,
        name=names.COMMISSION_DATE,
        style="input_date",
        label="Date de l'évaluation",
    )
    s.heights[17] = 6

    # Competence table
    head = 18
    s.title_rows = (head, head)
    s.label(head, 0, "Méta-compétences", "table_head")
    s.label(head, 1, "Compétences détaillées", "table_head")
    s.label(head, 2, "Repérage (X)", "table_head")
    s.label(head, 3, "Critères d'évaluation et indicateurs", "table_head")
    for lvl in grid.scale:
        s.label(head, 3 + lvl.value, f"{lvl.value}\n{lvl.label}", "table_head_small")
    s.label(head, L, "Points", "table_head")
    s.heights[head] = 30

    row = head + 1
    points_refs: list[str] = []
    for meta in grid.metas:
        n = len(meta.competences)
        first = row
        heights = []
        for k, comp in enumerate(meta.competences):
            r = first + k
            s.label(r, 1, comp.text, "competence")
            s.add(
                r,
                2,
                CellRole.INPUT,
                CellKind.COMPETENCE,
                name=names.competence(comp.id),
                style="input_tick",
                competence=comp.id,
                label=f"Repérage de la compétence {comp.id}",
            )
            heights.append(_height(_lines(comp.text, GRID_WIDTHS[1])))
        s.label(first, 0, f"{meta.number}. {meta.title}", "meta", (first + n - 1, 0))
        meta_need = _height(_lines(f"{meta.number}. {meta.title}", GRID_WIDTHS[0]))
        spans = _criterion_spans(grid, meta.number, n)
        for cr, a, b in spans:
            r0, r1 = first + a, first + b
            text = f"{cr.id} — {cr.title} ({french.mark(cr.points)} pts)\n{cr.indicator}"
            s.add(r0, 3, CellRole.LABEL, CellKind.TEXT, value=text, style="criterion", last=(r1, 3), criterion=cr.id)
            refs = []
            for lvl in grid.scale:
                c = s.add(
                    r0,
                    3 + lvl.value,
                    CellRole.INPUT,
                    CellKind.LEVEL,
                    name=names.level(cr.id, lvl.value),
                    style="input_level",
                    last=(r1, 3 + lvl.value),
                    criterion=cr.id,
                    level=lvl.value,
                    label=f"Critère {cr.id}, niveau {lvl.value} ({lvl.label})",
                )
                refs.append(c.ref)
            level_range = f"{refs[0]}:{refs[-1]}"
            pts = s.add(
                r0,
                L,
                CellRole.OUTPUT,
                CellKind.POINTS,
                name=names.points(cr.id),
                style="points",
                last=(r1, L),
                criterion=cr.id,
                formula=scoring.points_formula(grid, cr, refs, level_range),
                label=f"Points du critère {cr.id}",
            )
            points_refs.append(pts.ref)
            need = _height(_lines(text, GRID_WIDTHS[3]))
            have = sum(heights[a : b + 1])
            if need > have:
                grow = (need - have) / (b - a + 1)
                for k in range(a, b + 1):
                    heights[k] += grow
        if not spans:
            s.label(
                first,
                3,
                "Pas de critère d'évaluation pour cette méta-compétence dans la grille officielle.",
                "no_criterion",
                (first + n - 1, L),
            )
        if sum(heights) < meta_need:
            heights = [h + (meta_need - sum(heights)) / n for h in heights]
        for k, h in enumerate(heights):
            s.heights[first + k] = round(h, 1)
        row = first + n

    levels_text = " · ".join(f"{lvl.value} : {lvl.label}" for lvl in grid.scale)
    s.label(
        row, 0, f"Niveaux — {levels_text}. Une seule X par critère ; les points se calculent seuls.", "legend", (row, L)
    )
    row += 1
    s.label(
        row,
        0,
        f"Note proposée pour le candidat — note arrondie au {scoring.step_name(grid.rounding_step)} supérieur (sur "
        f"{french.mark(grid.max_mark)})",
        "mark_label",
        (row, L - 1),
    )
    proposed = s.add(
        row,
        L,
        CellRole.OUTPUT,
        CellKind.MARK,
        name=names.PROPOSED_MARK,
        style="mark",
        formula=scoring.proposed_formula(grid, points_refs),
        label="Note proposée",
    )
    s.heights[row] = 20
    row += 1
    s.label(
        row,
        0,
        "Note attribuée par la commission (facultatif : de 0 à "
        f"{french.mark(grid.max_mark)}, par {scoring.step_name(grid.rounding_step)} ; vide = note proposée)",
        "mark_label",
        (row, L - 1),
    )
    commission = s.add(
        row,
        L,
        CellRole.INPUT,
        CellKind.MARK,
        name=names.COMMISSION_MARK,
        style="input_mark",
        label="Note attribuée par la commission",
    )
    s.heights[row] = 20
    row += 1
    s.label(row, 0, f"Note finale (sur {french.mark(grid.max_mark)})", "mark_label_bold", (row, L - 1))
    final = s.add(
        row,
        L,
        CellRole.OUTPUT,
        CellKind.MARK,
        name=names.FINAL_MARK,
        style="mark_final",
        formula=scoring.final_formula(grid, commission.ref, proposed.ref),
        label="Note finale",
    )
    s.heights[row] = 22
    row += 1
    s.label(row, 0, "Observations, commentaires (justification de la note) — obligatoire", "section", (row, L))
    row += 1
    obs = s.add(
        row,
        0,
        CellRole.INPUT,
        CellKind.LONGTEXT,
        name=names.OBSERVATIONS,
        style="input_long",
        last=(row + 4, L),
        label="Observations, commentaires",
    )
    for r in range(row, row + 5):
        s.heights[r] = 18
    row += 5
    s.label(row, 0, "État de la grille", "field_label_bold")
    s.add(
        row,
        1,
        CellRole.OUTPUT,
        CellKind.STATUS,
        name=names.STATUS,
        style="status",
        last=(row, L),
        formula=scoring.status_formula(grid, points_refs, commission.ref, final.ref, obs.ref),
        label="État de la grille",
    )
    s.heights[row] = 20
    return s


# ------------------------------------------------------------ prospecting sheet

PROSPECT_WIDTHS = {0: 34, 1: 16, 2: 16, 3: 16, 4: 18}


def build_prospect_sheet(cand: Candidate, title: str = PROSPECT_SHEET) -> SheetLayout:
    """The prospecting-operation sheet: the fields of :mod:`e2docs.model.prospecting` and its indicators."""
    s = SheetLayout(title, widths=dict(PROSPECT_WIDTHS))
    L = 4
    F = prospecting.FIELD_BY_KEY
    s.label(0, 0, "Opération de prospection", "title", (0, L))
    s.label(1, 0, f"{cand.full_name} — N° candidat {cand.number}", "subtitle", (1, L))
    s.label(
        2,
        0,
        "À remplir par le candidat ou le professeur : seules les cellules claires sont modifiables.",
        "legend",
        (2, L),
    )
    s.heights[0] = 20
    refs: dict[str, str] = {}

    def put(row: int, key: str, col: int = 1, last_col: int = L, height: float | None = None) -> Cell:
        f = F[key]
        style = {
            "longtext": "input_long",
            "date": "input_date",
            "integer": "input_int",
            "amount": "input_amount",
            "tick": "input_tick",
            "text": "input",
        }[f.kind]
        c = s.add(
            row,
            col,
            CellRole.INPUT,
            CellKind(f.kind),
            name=names.prospecting(key),
            style=style,
            last=(row, last_col),
            field=key,
            label=f.label,
        )
        refs[key] = c.ref
        if height:
            s.heights[row] = height
        return c

    def out(row: int, col: int, key: str, formula: str, style: str, label: str, last_col: int | None = None) -> Cell:
        return s.add(
            row,
            col,
            CellRole.OUTPUT,
            CellKind.NUMBER,
            name=names.prospecting(key),
            style=style,
            formula=formula,
            label=label,
            field=key,
            last=(row, last_col) if last_col else None,
        )

    row = 4
    s.label(row, 0, prospecting.CONTEXT, "section", (row, L))
    row += 1
    for key in ("organisation", "secteur", "offre", "cible", "choix_cible"):
        s.label(row, 0, F[key].label, "field_label")
        put(row, key, height=45 if F[key].kind == "longtext" else 18)
        row += 1
    row += 1
    s.label(row, 0, prospecting.DURATION, "section", (row, L))
    row += 1
    s.label(row, 0, "Date de début", "field_label")
    put(row, "debut", 1, 1)
    s.label(row, 2, "Date de fin", "field_label")
    put(row, "fin", 3, 3)
    row += 1
    s.label(row, 0, "Durée (jours, début et fin compris)", "field_label")
    out(
        row,
        1,
        "duree",
        prospecting.duration_formula(refs["debut"], refs["fin"]),
        "computed_int",
        "Durée de l'opération",
    )
    row += 2

    s.label(row, 0, prospecting.OBJECTIVES, "section", (row, L))
    row += 1
    for col, text in enumerate(("Indicateur", "Objectif", "Résultat", "Écart", "Taux de réalisation")):
        s.label(row, col, text, "table_head")
    row += 1
    for label, obj, res in prospecting.DASHBOARD:
        stem = res.removeprefix("res_")
        s.label(row, 0, label, "field_label")
        put(row, obj, 1, 1)
        put(row, res, 2, 2)
        money = obj == "obj_ca"
        out(
            row,
            3,
            f"ecart_{stem}",
            prospecting.gap_formula(refs[obj], refs[res]),
            "computed_amount" if money else "computed_int",
            f"Écart {label.lower()}",
        )
        out(
            row,
            4,
            f"taux_{stem}",
            prospecting.ratio_formula(refs[res], refs[obj]),
            "computed_pct",
            f"Taux de réalisation {label.lower()}",
        )
        row += 1
    for key, label in (("res_argumentes", "Contacts argumentés"), ("res_prospects", "Nouveaux prospects qualifiés")):
        s.label(row, 0, label, "field_label")
        s.label(row, 1, "—", "na")
        put(row, key, 2, 2)
        row += 1
    s.label(row, 0, F["obj_qualitatifs"].label, "field_label")
    put(row, "obj_qualitatifs", height=45)
    row += 2

    s.label(row, 0, prospecting.MEANS, "section", (row, L))
    row += 1
    s.label(row, 0, "Personnes mobilisées", "field_label")
    put(row, "moy_personnes", 1, 1)
    s.label(row, 2, "Budget (€)", "field_label")
    put(row, "moy_budget", 3, 3)
    row += 1
    s.label(row, 0, F["moy_materiel"].label, "field_label")
    put(row, "moy_materiel", height=40)
    row += 2

    s.label(row, 0, prospecting.TECHNIQUES, "section", (row, L))
    row += 1
    ticks = [f for f in prospecting.FIELDS if f.kind == "tick"]
    for i in range(0, len(ticks), 2):
        for j, f in enumerate(ticks[i : i + 2]):
            s.label(row, 2 * j, f.label, "field_label_right" if j else "field_label")
            put(row, f.key, 2 * j + 1, 2 * j + 1)
        row += 1
    s.label(row, 0, F["tech_autre_precision"].label, "field_label")
    put(row, "tech_autre_precision")
    row += 1
    s.label(row, 0, F["outils"].label, "field_label")
    put(row, "outils", height=40)
    row += 2

    s.label(row, 0, "Indicateurs calculés", "section", (row, L))
    row += 1
    s.label(row, 0, "Taux de conversion (ventes / contacts réalisés)", "field_label")
    out(
        row,
        1,
        "taux_conversion",
        prospecting.ratio_formula(refs["res_ventes"], refs["res_contacts"]),
        "computed_pct",
        "Taux de conversion",
    )
    row += 1
    s.label(row, 0, "Coût par contact (budget / contacts réalisés)", "field_label")
    out(
        row,
        1,
        "cout_contact",
        prospecting.ratio_formula(refs["moy_budget"], refs["res_contacts"]),
        "computed_amount",
        "Coût par contact",
    )
    row += 2

    s.label(row, 0, prospecting.ANALYSIS, "section", (row, L))
    row += 1
    for key in ("causes_ecarts", "actions_correctives", "suivi_contacts"):
        s.label(row, 0, F[key].label, "field_label")
        put(row, key, height=60)
        row += 1
    s.title_rows = (0, 1)
    return s


def build_layout(
    grid: Grid,
    cand: Candidate,
    ctx: Context,
    *,
    grid_title: str = GRID_SHEET,
    prospect_title: str = PROSPECT_SHEET,
    local_names: bool = False,
) -> CandidateLayout:
    """The complete description of one candidate's sheets."""
    return CandidateLayout(
        grid,
        cand,
        [build_grid_sheet(grid, cand, ctx, grid_title), build_prospect_sheet(cand, prospect_title)],
        local_names,
    )
