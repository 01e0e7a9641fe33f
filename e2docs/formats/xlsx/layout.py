"""Where every cell of a candidate's workbook goes, and what it holds.

The layout is a plain description — labels, identity values, inputs, formulas,
merges, defined names — built from the grid and the candidate. The writer renders
it, the reader finds the inputs through it, and the integrity check compares a
returned file with it: one description, three uses.

Defined names come from :mod:`e2docs.formats.xlsx.names`.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from e2docs.formats.xlsx import names
from e2docs.model import french, prospecting, scoring
from e2docs.model.candidate import Candidate, Context
from e2docs.model.grid import Criterion, Grid

GRID_SHEET = "Grille E2"
PROSPECT_SHEET = "Opération de prospection"
META_SHEET = "e2docs"
LAYOUT_VERSION = "2"
"""The layout new workbooks are written with. A workbook's signed metadata names the layout it was
written with (``layout_version``, ``"1"`` when absent): the reader rebuilds that one, cell for cell.

* ``"1"`` (e2docs 0.1): the grid fitted to the page width (body text printed at about 4 pt);
* ``"2"``: the grid printed at 100 % on A4 portrait (body text 8 pt or more) with page breaks between
  méta-compétences, an instruction block at the top of the grid sheet, every text input sized for
  the number of characters its validation allows (see :data:`TEXT_LIMITS`).
"""
LAYOUT_VERSIONS = ("1", "2")
DEFAULT_PASSWORD = "e2docs"
"""The sheet protection password of workbooks written without a campaign's own (``mot_de_passe``)."""


def _rc(row: int, col: int) -> str:
    """A cell's A1 reference from its 0-based ``row`` and ``col`` (0, 0 → "A1"); XlsxWriter's
    ``xl_rowcol_to_cell``, here so that reading a workbook does not import the writer."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


_A1 = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")


def xl_cell_to_rowcol(ref: str) -> tuple[int, int]:
    """0-based (row, col) of an A1 reference ("B7" → (6, 1)); ``ValueError`` for anything else."""
    m = _A1.fullmatch(ref)
    if m is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    col = 0
    for ch in m[1]:
        col = col * 26 + ord(ch) - 64
    return int(m[2]) - 1, col - 1


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
    limit: int | None = None  # text inputs: the most characters the cell shows whole (its validation's limit)

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
    page, ``None`` for none. ``breaks`` lists the 0-based rows that start a new printed
    page; with ``fit_width`` the print is shrunk to the page width (layout version 1),
    without it the sheet prints at 100 % and ``breaks`` are where pages end.
    ``slots`` maps the index (in ``cells``) of each cell holding a text of
    :func:`candidate_texts` to that text's key (not compared: it follows from the cells).
    """

    title: str
    cells: list[Cell] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    title_rows: tuple[int, int] | None = None
    landscape: bool = False
    breaks: list[int] = field(default_factory=list)
    fit_width: bool = True
    slots: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

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

    def slot(self, key: str, cell: Cell) -> Cell:
        """Record that ``cell``, the last one placed, holds the candidate's text ``key`` (:func:`candidate_texts`)."""
        self.slots[len(self.cells) - 1] = key
        return cell


@dataclass
class CandidateLayout:
    """The two sheets of one candidate and an index of named cells."""

    grid: Grid
    candidate: Candidate
    sheets: list[SheetLayout]
    local_names: bool = False
    version: str = LAYOUT_VERSION

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


def _wrapped(text: str, per_line: int) -> int:
    """Lines ``text`` takes once wrapped at spaces, ``per_line`` characters a line (a longer word
    is cut, as spreadsheet programs do)."""
    lines = 0
    for paragraph in str(text).split("\n"):
        lines += 1
        used = 0
        for word in paragraph.split():
            used = used + 1 + len(word) if used else len(word)
            if used > per_line and used > len(word):  # the word goes to the next line
                lines += 1
                used = len(word)
            while used > per_line:
                lines += 1
                used -= per_line
    return lines


def _fit(text: str, width_chars: float, size: float = 8, caps: bool = False) -> float:
    """Row height (points) that shows ``text`` whole in a wrapped cell ``width_chars`` wide, in a
    ``size``-point Arial (``caps``: bold capitals, wider), for layout version 2.

    Measured for Excel, whose columns are the narrowest (a width unit is 5.25 points there, about
    5.5 in LibreOffice): 8-point French prose averages 4 points a character, so a unit holds 1.25
    characters (1.3 measured); a line takes 1.25 × the font size, plus 4 points of cell padding."""
    per_unit = (0.9 if caps else 1.25) * 8 / size
    lines = _wrapped(text, max(1, int(width_chars * per_unit)))
    return max(15.0, round(lines * size * 1.25 + 4, 1))


def _capacity(chars: int, width_chars: float, size: float = 9) -> float:
    """Row height (points) that shows ``chars`` characters of prose whole, in a wrapped cell
    ``width_chars`` wide (layout version 2): one line in ten left over for paragraph ends and
    words pushed to the next line."""
    per_line = max(1, int(width_chars * 1.25 * 8 / size))
    lines = math.ceil(chars / per_line * 1.1)
    return max(15.0, round(lines * size * 1.25 + 4, 1))


# Printed A4 portrait at 100 % (layout version 2): the rows a page holds, in points (842 points
# less the top and bottom margins of :data:`MARGINS`, 79 points, less some room to spare). Row
# heights are set, not measured by the spreadsheet program: the pages end where this says.
PAGE_HEIGHT = 745.0
MARGINS = {"left": 0.3, "right": 0.3, "top": 0.5, "bottom": 0.6}
"""Page margins in inches (version 2; version 1: 0.4 left and right)."""

# The characters a text input accepts (its validation says so) and shows whole, on screen and on
# paper (layout version 2): a commission member's name or function, a line of text, a longer
# text, the three analysis texts of the prospecting operation, the grid's observations.
TEXT_LIMITS = {"name": 50, "text": 120, "longtext": 300, "analysis": 1500, "observations": 1000}


def paginate(heights: dict[int, float], blocks: list[tuple[int, int]], repeated: float = 0.0) -> list[int]:
    """Rows that start a new page when printed at 100 %, never inside a block.

    ``heights``: 0-based row → height in points (every row printed); ``blocks``: inclusive row
    ranges kept on one page, in order, covering the printed rows; ``repeated``: the height of the
    title rows repeated at the top of every page after the first. Greedy: a block goes to the next
    page when it does not fit in what is left of this one (a block taller than a page stays whole).
    """
    breaks: list[int] = []
    used = 0.0
    for first, last in blocks:
        size = sum(heights.get(r, 15.0) for r in range(first, last + 1))
        if used and used + size > PAGE_HEIGHT:
            breaks.append(first)
            used = repeated
        used += size
    return breaks


# ------------------------------------------------------------------ grid sheet

GRID_WIDTHS = {0: 17, 1: 40, 2: 7, 3: 42, 4: 6.5, 5: 6.5, 6: 6.5, 7: 6.5, 8: 8}
"""Column widths of the grid sheet, layout version 1 (characters of the default font)."""
GRID_WIDTHS_2 = {0: 13.5, 1: 24, 2: 4.5, 3: 26, 4: 4.3, 5: 4.3, 6: 4.3, 7: 4.3, 8: 5.5}
"""Version 2: 91 characters, which A4 portrait holds at 100 % between 0.3-inch margins (the first
column holds « D'EXPLOITATION », the longest word of a méta-compétence, on one line)."""
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


def _instructions(s: SheetLayout, grid: Grid, row: int) -> int:
    """The instruction block at the top of the grid sheet (layout version 2): what to type where,
    what the colours mean, what to send back. Returns the first row after it."""
    L = LAST_COL
    w = GRID_WIDTHS_2
    s.label(row, 0, "Comment remplir cette grille", "section", (row, L))
    low, high = grid.scale[0], grid.scale[-1]
    texts = [
        (
            "Saisir",
            f"Pour chaque critère, tapez X dans une seule colonne de niveau ({low.value} {low.label} à "
            f"{high.value} {high.label}) : les points et la note proposée se calculent seuls. Repérage : X en "
            "face de chaque compétence observée. Remplissez la commission et les observations (obligatoires) ; "
            "la note de la commission est facultative.",
        ),
        (
            "Renvoyer",
            "Enregistrez au format .xlsx et renvoyez ce fichier .xlsx (pas un PDF ni une photo) : e2docs le "
            "relit et vérifie chaque case.",
        ),
    ]
    text_width = sum(w[c] for c in range(1, L + 1))
    for i, (head, text) in enumerate(texts):
        r = row + 1 + (i * 3)  # "Saisir", then the colours (two rows), then "Renvoyer"
        s.label(r, 0, head, "field_label")
        s.label(r, 1, text, "instruction", (r, L))
        s.heights[r] = _fit(text, text_width, 9)
    r = row + 2
    s.label(r, 0, "Couleurs", "field_label", (r + 1, 0))
    swatches = [
        (r, 1, (r, 2), "Vert : à remplir (le reste est protégé)", "swatch_input"),
        (r, 3, (r, L), "Orange : critère sans X, choisissez un niveau", "swatch_missing"),
        (r + 1, 1, (r + 1, 2), "Rouge : deux X, ou autre chose qu'un X", "swatch_conflict"),
        (r + 1, 3, (r + 1, L), "Gris : calculé ou fixé par e2docs", "swatch_fixed"),
    ]
    for sr, sc, last, text, style in swatches:
        s.label(sr, sc, text, style, last)
    for sr in (r, r + 1):
        s.heights[sr] = _fit(swatches[0][3], w[1] + w[2], 9)
    return row + 5


SUBTITLE = "prospect_subtitle"
"""The key, in :func:`candidate_texts`, of the prospecting sheet's subtitle (the candidate's name and number)."""


def candidate_texts(cand: Candidate) -> dict[str, str]:
    """Every cell text of a layout that depends on the candidate, by key: the identity cells' by
    their defined name (last and first name, number, division, birth date as dd/mm/yyyy or ``""``),
    the prospecting sheet's subtitle by :data:`SUBTITLE`. With :func:`identity_heights` (the row
    heights, and so the page breaks), all that differs between two candidates' layouts: the
    builders place these texts, and :func:`layout_for` writes them into a layout built once."""
    birth = cand.birth_date.strftime("%d/%m/%Y") if cand.birth_date else ""
    return {
        names.LAST_NAME: cand.last_name,
        names.FIRST_NAME: cand.first_name,
        names.CANDIDATE_NUMBER: cand.number,
        names.DIVISION: cand.division,
        names.BIRTH_DATE: birth,
        SUBTITLE: f"{cand.full_name} — N° candidat {cand.number}",
    }


def _identity_rows(grid: Grid, cand: Candidate) -> list[tuple[int, str, str, str, str, str, str | None]]:
    """The candidate block's rows: (offset below its title row, left label, left value, left name,
    right label, right value, right name — ``None`` for a fixed text)."""
    t = candidate_texts(cand)
    return [
        (
            1,
            "Nom",
            t[names.LAST_NAME],
            names.LAST_NAME,
            "N° candidat",
            t[names.CANDIDATE_NUMBER],
            names.CANDIDATE_NUMBER,
        ),
        (2, "Prénom(s)", t[names.FIRST_NAME], names.FIRST_NAME, "Division", t[names.DIVISION], names.DIVISION),
        (
            3,
            "Date de naissance",
            t[names.BIRTH_DATE],
            names.BIRTH_DATE,
            "Spécialité",
            f"{grid.specialty} — {grid.option}",
            None,
        ),
    ]


def identity_heights(grid: Grid, cand: Candidate, version: str = LAYOUT_VERSION) -> tuple[float | None, ...]:
    """Heights (points) of the three rows of the grid sheet's candidate block, ``None`` for the default:
    the only row heights, and so the only page breaks, that depend on the candidate (version 2 sizes
    them for the name, number and division; version 1 does not)."""
    widths = GRID_WIDTHS_2 if version != "1" else GRID_WIDTHS
    right = sum(widths[c] for c in range(4, LAST_COL + 1))
    heights: list[float | None] = []
    for _, l1, v1, _, _, v2_, n2 in _identity_rows(grid, cand):
        if version != "1":
            heights.append(max(_fit(v1, widths[1], 9), _fit(l1, widths[0], 9), _fit(v2_, right, 8 if not n2 else 9)))
        else:
            heights.append(None)
    heights[-1] = max(24, heights[-1] or 0)
    return tuple(heights)


def build_grid_sheet(
    grid: Grid,
    cand: Candidate,
    ctx: Context,
    title: str = GRID_SHEET,
    version: str = LAYOUT_VERSION,
    sized_for: Candidate | None = None,
) -> SheetLayout:
    """The competence grid sheet: header, identity, commission, the grid, marks, observations, status line.

    Row heights grow with the text they hold (estimated from the column widths) so
    that nothing is cut on a protected sheet. ``version``: one of :data:`LAYOUT_VERSIONS`
    (version 2 adds the instruction block, sizes text inputs for their limits, and
    prints at 100 % with page breaks between méta-compétences). ``sized_for``: the candidate
    whose identity sizes the candidate block's rows (:func:`identity_heights`), ``None`` for ``cand``.
    """
    v2 = version != "1"
    widths = GRID_WIDTHS_2 if v2 else GRID_WIDTHS
    s = SheetLayout(title, widths=dict(widths), fit_width=not v2)
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
    top = 7  # the candidate block
    if v2:
        s.heights[5] = _fit(ctx.school, sum(widths[c] for c in range(1, L + 1)), 9)
        top = _instructions(s, grid, top) + 1
        s.heights[top - 1] = 6

    # Candidate
    s.label(top, 0, "Candidat", "section", (top, L))
    for (k, l1, v1, n1, l2, v2_, n2), height in zip(
        _identity_rows(grid, cand), identity_heights(grid, sized_for or cand, version), strict=True
    ):
        row = top + k
        s.label(row, 0, l1, "field_label")
        s.slot(n1, s.add(row, 1, CellRole.IDENTITY, CellKind.TEXT, value=v1, name=n1, style="identity", label=l1))
        s.label(row, 2, l2, "field_label", (row, 3))
        if n2:
            s.slot(
                n2,
                s.add(
                    row,
                    4,
                    CellRole.IDENTITY,
                    CellKind.TEXT,
                    value=v2_,
                    name=n2,
                    style="identity",
                    last=(row, L),
                    label=l2,
                ),
            )
        else:
            s.label(row, 4, v2_, "identity_small", (row, L))
        if height is not None:
            s.heights[row] = height
    s.heights[top + 4] = 6

    # Commission
    com = top + 5
    s.label(com, 0, "Commission d'évaluation", "section", (com, L))
    s.label(com + 1, 0, "Membre", "table_head")
    s.label(com + 1, 1, "Nom et prénom", "table_head")
    s.label(com + 1, 2, "Fonction", "table_head", (com + 1, 3))
    s.label(com + 1, 4, "Signature", "table_head", (com + 1, L))
    members: tuple[tuple[int, str, names.Member, str], ...] = (
        (com + 2, "Professeur", "prof", "professeur"),
        (com + 3, "Professionnel", "pro", "professionnel"),
    )
    limit = TEXT_LIMITS["name"] if v2 else None
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
            limit=limit,
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
            limit=limit,
        )
        s.label(row, 4, "", "signature", (row, L))
        s.heights[row] = _capacity(limit, widths[1]) if limit else 30
    s.label(com + 4, 0, "Date de l'évaluation", "field_label")
    s.add(
        com + 4,
        1,
        CellRole.INPUT,
        CellKind.DATE,
        name=names.COMMISSION_DATE,
        style="input_date",
        label="Date de l'évaluation",
    )
    if v2:
        s.heights[com + 4] = _fit("Date de l'évaluation", widths[0], 9)
    s.heights[com + 5] = 6

    # Competence table
    head = com + 6
    s.title_rows = (head, head)
    s.label(head, 0, "Méta-compétences", "table_head")
    s.label(head, 1, "Compétences détaillées", "table_head")
    s.label(head, 2, "Repérage (X)", "table_head_vertical" if v2 else "table_head")
    s.label(head, 3, "Critères d'évaluation et indicateurs", "table_head")
    for lvl in grid.scale:
        s.label(head, 3 + lvl.value, f"{lvl.value}\n{lvl.label}", "table_head_vertical" if v2 else "table_head_small")
    s.label(head, L, "Points", "table_head_small" if v2 else "table_head")
    s.heights[head] = 60 if v2 else 30
    blocks = [(0, top - 2), (top - 1, com - 1), (com, head - 1)]
    block_start = head  # the table's head row stays with the first méta-compétence

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
            heights.append(_fit(comp.text, widths[1]) if v2 else _height(_lines(comp.text, widths[1])))
        meta_text = f"{meta.number}. {meta.title}"
        s.label(first, 0, meta_text, "meta", (first + n - 1, 0))
        meta_need = _fit(meta_text, widths[0], caps=True) if v2 else _height(_lines(meta_text, widths[0]))
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
            # version 2: the bold title is about a tenth wider than plain text
            need = _fit(text, widths[3] * 0.9) if v2 else _height(_lines(text, widths[3]))
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
        blocks.append((block_start, first + n - 1))
        row = block_start = first + n

    levels_text = " · ".join(f"{lvl.value} : {lvl.label}" for lvl in grid.scale)
    legend = f"Niveaux — {levels_text}. Une seule X par critère ; les points se calculent seuls."
    s.label(row, 0, legend, "legend", (row, L))
    if v2:
        s.heights[row] = _fit(legend, sum(widths.values()))
    marks_first = row
    row += 1
    text_width = sum(widths[c] for c in range(L))
    proposed_text = (
        f"Note proposée pour le candidat — note arrondie au {scoring.step_name(grid.rounding_step)} supérieur (sur "
        f"{french.mark(grid.max_mark)})"
    )
    s.label(row, 0, proposed_text, "mark_label", (row, L - 1))
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
    s.heights[row] = max(20, _fit(proposed_text, text_width, 9)) if v2 else 20
    row += 1
    commission_text = (
        "Note attribuée par la commission (facultatif : de 0 à "
        f"{french.mark(grid.max_mark)}, par {scoring.step_name(grid.rounding_step)} ; vide = note proposée)"
    )
    s.label(row, 0, commission_text, "mark_label", (row, L - 1))
    commission = s.add(
        row,
        L,
        CellRole.INPUT,
        CellKind.MARK,
        name=names.COMMISSION_MARK,
        style="input_mark",
        label="Note attribuée par la commission",
    )
    s.heights[row] = max(20, _fit(commission_text, text_width, 9)) if v2 else 20
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
    blocks.append((marks_first, row))
    row += 1
    obs_first = row
    s.label(row, 0, "Observations, commentaires (justification de la note) — obligatoire", "section", (row, L))
    row += 1
    obs_limit = TEXT_LIMITS["observations"] if v2 else None
    obs = s.add(
        row,
        0,
        CellRole.INPUT,
        CellKind.LONGTEXT,
        name=names.OBSERVATIONS,
        style="input_long",
        last=(row + 4, L),
        label="Observations, commentaires",
        limit=obs_limit,
    )
    obs_height = _capacity(obs_limit, sum(widths.values())) / 5 if obs_limit else 18
    for r in range(row, row + 5):
        s.heights[r] = round(max(18, obs_height), 1)
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
    s.heights[row] = max(20, _fit("État de la grille", widths[0] * 0.8, 10)) if v2 else 20
    blocks.append((obs_first, row))
    if v2:
        for r in range(row + 1):
            s.heights.setdefault(r, 15)
        s.breaks = paginate(s.heights, blocks, s.heights[head])
    return s


# ------------------------------------------------------------ prospecting sheet

PROSPECT_WIDTHS = {0: 34, 1: 16, 2: 16, 3: 16, 4: 18}
"""Column widths of the prospecting sheet, layout version 1 (characters of the default font)."""
PROSPECT_WIDTHS_2 = {0: 30, 1: 15, 2: 15, 3: 15, 4: 16}
"""Version 2: 91 characters, printed at 100 % on A4 portrait."""
ANALYSIS_KEYS = ("causes_ecarts", "actions_correctives", "suivi_contacts")


def build_prospect_sheet(cand: Candidate, title: str = PROSPECT_SHEET, version: str = LAYOUT_VERSION) -> SheetLayout:
    """The prospecting-operation sheet: the fields of :mod:`e2docs.model.prospecting` and its indicators.

    ``version``: one of :data:`LAYOUT_VERSIONS`; version 2 sizes every text input for the
    characters it accepts (the three analysis texts across the whole width) and prints at
    100 % with page breaks between rows, a section's title kept with its first row.
    """
    v2 = version != "1"
    widths = PROSPECT_WIDTHS_2 if v2 else PROSPECT_WIDTHS
    s = SheetLayout(title, widths=dict(widths), fit_width=not v2)
    L = 4
    F = prospecting.FIELD_BY_KEY
    s.label(0, 0, "Opération de prospection", "title", (0, L))
    s.slot(SUBTITLE, s.label(1, 0, candidate_texts(cand)[SUBTITLE], "subtitle", (1, L)))
    legend = (
        "À remplir par le candidat ou le professeur : seules les cellules vertes sont modifiables. "
        "Aller à la ligne dans un texte : Alt+Entrée dans Excel, Ctrl+Entrée dans LibreOffice."
        if v2
        else "À remplir par le candidat ou le professeur : seules les cellules claires sont modifiables."
    )
    s.label(2, 0, legend, "legend", (2, L))
    s.heights[0] = 20
    if v2:
        s.heights[2] = _fit(legend, sum(widths.values()))
    with_next: set[int] = set()  # rows printed on the same page as the row below them
    refs: dict[str, str] = {}

    def put(row: int, key: str, col: int = 1, last_col: int = L, height: float | None = None) -> Cell:
        f = F[key]
        limit = None
        if v2 and f.kind in ("text", "longtext"):
            limit = TEXT_LIMITS["analysis" if key in ANALYSIS_KEYS else f.kind]
            height = max(18.0, _capacity(limit, sum(widths[c] for c in range(col, last_col + 1))))
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
            limit=limit,
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
    with_next.add(row)
    s.label(row, 0, prospecting.CONTEXT, "section", (row, L))
    row += 1
    for key in ("organisation", "secteur", "offre", "cible", "choix_cible"):
        s.label(row, 0, F[key].label, "field_label")
        put(row, key, height=45 if F[key].kind == "longtext" else 18)
        row += 1
    row += 1
    with_next.add(row)
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

    with_next.update((row, row + 1))
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

    with_next.add(row)
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

    with_next.add(row)
    s.label(row, 0, prospecting.TECHNIQUES, "section", (row, L))
    row += 1
    ticks = [f for f in prospecting.FIELDS if f.kind == "tick"]
    with_next.update(range(row, row + (len(ticks) + 1) // 2))  # the techniques on one page
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

    with_next.add(row)
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

    with_next.add(row)
    s.label(row, 0, prospecting.ANALYSIS, "section", (row, L))
    row += 1
    for key in ANALYSIS_KEYS:
        if v2:  # the label above, the text across the whole width
            with_next.add(row)
            s.label(row, 0, F[key].label, "field_label", (row, L))
            row += 1
            put(row, key, 0, L)
        else:
            s.label(row, 0, F[key].label, "field_label")
            put(row, key, height=60)
        row += 1
    s.title_rows = (0, 1)
    if v2:
        for c in s.cells:  # labels in bold 9 points: a tenth wider than plain text
            r, col = xl_cell_to_rowcol(c.ref)
            if c.role is CellRole.LABEL and c.style.startswith("field_label") and not c.merge and c.value:
                s.heights[r] = max(s.heights.get(r, 15.0), _fit(str(c.value), widths[col] * 0.9, 9))
        for r in range(row):
            s.heights.setdefault(r, 15)
        blocks: list[tuple[int, int]] = []
        first = 0
        for r in range(row):
            if r not in with_next:
                blocks.append((first, r))
                first = r + 1
        s.breaks = paginate(s.heights, blocks, s.heights[0] + s.heights[1])
    return s


def build_layout(
    grid: Grid,
    cand: Candidate,
    ctx: Context,
    *,
    grid_title: str = GRID_SHEET,
    prospect_title: str = PROSPECT_SHEET,
    local_names: bool = False,
    version: str = LAYOUT_VERSION,
    sized_for: Candidate | None = None,
) -> CandidateLayout:
    """The complete description of one candidate's sheets, as layout ``version`` places them
    (one of :data:`LAYOUT_VERSIONS`; ``ValueError`` for another). ``sized_for``: see
    :func:`build_grid_sheet` (the workbook templates of :mod:`~e2docs.formats.xlsx.template`).
    :func:`layout_for` gives the same layout from one built for another candidate of the class."""
    if version not in LAYOUT_VERSIONS:
        raise ValueError(f"unknown layout version {version!r}")
    return CandidateLayout(
        grid,
        cand,
        [
            build_grid_sheet(grid, cand, ctx, grid_title, version, sized_for),
            build_prospect_sheet(cand, prospect_title, version),
        ],
        local_names,
        version,
    )


LAYOUT_CACHE_SIZE = 8
"""Layouts :func:`layout_for` keeps built (least recently used dropped): one per grid, school,
sheet titles, version and candidate block heights met lately."""
_BUILT: OrderedDict[tuple[object, ...], CandidateLayout] = OrderedDict()
_BUILT_LOCK = threading.Lock()


def layout_for(
    grid: Grid,
    cand: Candidate,
    ctx: Context,
    *,
    grid_title: str = GRID_SHEET,
    prospect_title: str = PROSPECT_SHEET,
    local_names: bool = False,
    version: str = LAYOUT_VERSION,
) -> CandidateLayout:
    """What :func:`build_layout` gives for these arguments (an equal layout, a new object the caller
    may change), about a hundred times faster for the second candidate of a class on: the layout is
    built once per grid (its content hash), context, sheet titles, ``local_names``, ``version`` and
    :func:`identity_heights`, and each candidate's texts (:func:`candidate_texts`) are written into
    a copy of it. ``ValueError`` for an unknown ``version``, as :func:`build_layout`."""
    if version not in LAYOUT_VERSIONS:
        raise ValueError(f"unknown layout version {version!r}")
    key = (
        grid.content_hash,
        ctx,
        grid_title,
        prospect_title,
        local_names,
        version,
        identity_heights(grid, cand, version),
    )
    with _BUILT_LOCK:
        base = _BUILT.get(key)
        if base is not None:
            _BUILT.move_to_end(key)
    if base is None:
        base = build_layout(
            grid,
            cand,
            ctx,
            grid_title=grid_title,
            prospect_title=prospect_title,
            local_names=local_names,
            version=version,
        )
        with _BUILT_LOCK:
            _BUILT[key] = base
            while len(_BUILT) > LAYOUT_CACHE_SIZE:
                _BUILT.popitem(last=False)
    return _with_candidate(base, grid, cand)


def _with_candidate(base: CandidateLayout, grid: Grid, cand: Candidate) -> CandidateLayout:
    """A copy of ``base`` for ``cand`` (whose candidate block has the same heights): the cells of
    :attr:`SheetLayout.slots` given ``cand``'s :func:`candidate_texts`, everything else shared
    (cells are frozen) or copied (the lists and dictionaries)."""
    texts = candidate_texts(cand)
    sheets = []
    for s in base.sheets:
        cells = list(s.cells)
        for index, key in s.slots.items():
            cells[index] = replace(cells[index], value=texts[key])
        sheets.append(
            SheetLayout(
                s.title,
                cells,
                dict(s.widths),
                dict(s.heights),
                s.title_rows,
                s.landscape,
                list(s.breaks),
                s.fit_width,
                dict(s.slots),
            )
        )
    return CandidateLayout(grid, cand, sheets, base.local_names, base.version)
