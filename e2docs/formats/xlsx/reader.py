"""Read a generated workbook back: identity, inputs, recomputed results, problems.

Nothing in a returned file is trusted by default. The candidate comes from the
signed metadata; every input cell is validated; every result is recomputed with
:mod:`e2docs.scoring`; cached formula values are only compared; every cell outside
the inputs is compared with the layout to detect tampering.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeGuard

from e2docs.formats.gridfile import load_grid
from e2docs.formats.intake import kept_conversion, strict_to_xlsx
from e2docs.formats.sniff import is_strict_ooxml
from e2docs.formats.xlsx import fastread, integrity, names
from e2docs.formats.xlsx.layout import (
    LAYOUT_VERSION,
    LAYOUT_VERSIONS,
    META_SHEET,
    CandidateLayout,
    Cell,
    CellKind,
    CellRole,
    layout_for,
)
from e2docs.formats.xlsx.package import Package, core_times, read_package_openpyxl
from e2docs.formats.xlsx.results import compute_outputs, outcome
from e2docs.formats.xlsx.safety import check_workbook_file
from e2docs.model import french, scoring
from e2docs.model.candidate import Candidate, Context
from e2docs.model.errors import WorkbookError
from e2docs.model.grid import Grid

Meta = dict[str, Any]
"""A candidate's signed metadata: key → text (``local_names``: bool). Keys: ``writer.META_KEYS``."""


class IssueKind(StrEnum):
    """What kind of problem an :class:`Issue` is (``inspect --json`` ``errors[].kind``: never rename)."""

    INPUT = "input"  # an invalid input: the return is rejected
    MODIFIED = "modified"  # a change outside the input cells (tampering, or a broken file)
    IDENTITY = "identity"  # the signed metadata does not verify
    CACHE = "cache"  # a displayed value differs from e2docs' computation (a warning)
    PROTECTION = "protection"  # a re-save dropped sheet passwords, the structure lock or the hidden state (a warning)


@dataclass(frozen=True)
class Issue:
    """A problem found in a workbook: an invalid input, a modified cell, a file-level fault."""

    kind: IssueKind
    message: str
    sheet: str | None = None
    cell: str | None = None

    def __str__(self) -> str:
        where = ", ".join(
            p
            for p in (f"feuille « {self.sheet} »" if self.sheet else "", f"cellule {self.cell}" if self.cell else "")
            if p
        )
        return f"{where} : {self.message}" if where else self.message


@dataclass
class Reading:
    """One candidate read from a workbook."""

    path: Path
    meta: Meta
    grid: Grid
    layout: CandidateLayout
    values: dict[str, object]
    outputs: dict[str, object]
    outcome: scoring.Outcome
    errors: list[Issue] = field(default_factory=list)
    modified: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    signature_ok: bool = True
    saved_at: str | None = None  # when a person last saved the file, ISO date-time; None: never re-saved

    @property
    def candidate(self) -> Candidate:
        return self.layout.candidate

    @property
    def blank(self) -> bool:
        """Nothing typed: every input as e2docs wrote it (empty), spaces counting as nothing."""
        return all(_blank(self.values.get(c.key)) for c in self.layout.inputs)

    @property
    def ok(self) -> bool:
        """No invalid input and nothing changed outside the input cells."""
        return not self.errors and not self.modified and self.signature_ok


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def saved_time(pkg: Package) -> str | None:
    """When a person last saved the workbook (``docProps/core.xml`` ``modified``), ISO 8601 with offset;
    ``None`` when it was never saved after generation (``modified`` equal to ``created``, as XlsxWriter
    writes them) or the time is absent or unreadable."""
    if not pkg.modified or pkg.modified == pkg.created:
        return None
    try:
        when = dt.datetime.fromisoformat(pkg.modified)
    except ValueError:
        return None
    if when.tzinfo is None:  # W3CDTF without a zone: the application wrote UTC
        when = when.replace(tzinfo=dt.UTC)
    return when.replace(microsecond=0).isoformat()


# ------------------------------------------------------------ metadata


def _read_metas(pkg: Package, path: Path) -> list[Meta]:
    if META_SHEET not in pkg.sheets:
        raise WorkbookError(
            "ce classeur n'a pas été généré par e2docs (feuille de métadonnées absente).",
            path,
            hint="Utilisez le classeur envoyé par l'établissement.",
        )
    rows = pkg.sheets[META_SHEET].rows()
    metas: list[Meta] = []
    if not rows:
        raise WorkbookError("métadonnées e2docs vides.", path, hint="Utilisez le classeur envoyé par l'établissement.")
    for j in range(1, len(rows[0])):
        meta: Meta = {}
        for row in rows[1:]:
            if row and row[0]:
                value = row[j] if j < len(row) else None
                meta[str(row[0])] = "" if value is None else str(value)
        if meta.get("candidate_number"):
            meta["local_names"] = meta.get("local_names") == "1"
            metas.append(meta)
    if not metas:
        raise WorkbookError("métadonnées e2docs illisibles (aucun candidat).", path)
    return metas


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def layout_from_meta(meta: Meta, grid: Grid) -> CandidateLayout:
    """Rebuild the layout the generator used, from the signed metadata: the layout version it names
    (``"1"`` when absent, as e2docs 0.1 wrote it). A version this e2docs does not know is rebuilt
    as the current one: the fingerprint check then reports the workbook as made by another version.
    Built by :func:`~e2docs.formats.xlsx.layout.layout_for` (the layout of a class built once)."""
    version = meta.get("layout_version") or "1"
    cand = Candidate(
        meta.get("candidate_number", ""),
        meta.get("last_name", ""),
        meta.get("first_name", ""),
        meta.get("division", ""),
        _parse_date(meta.get("birth_date", "")),
        meta.get("ine", ""),
        meta.get("specialty", ""),
    )
    ctx = Context(meta.get("session", ""), meta.get("school", ""), meta.get("academie", ""))
    return layout_for(
        grid,
        cand,
        ctx,
        grid_title=meta.get("grid_sheet", ""),
        prospect_title=meta.get("prospect_sheet", ""),
        local_names=bool(meta.get("local_names")),
        version=version if version in LAYOUT_VERSIONS else LAYOUT_VERSION,
    )


# ------------------------------------------------------------ normalisation

_FUNC_PREFIX = re.compile(r"_xl(?:fn|ws)\.", re.I)


_NORMALIZED: dict[str, str] = {}
NORMALIZED_FORMULAS = 5_000
"""Formula texts :func:`normalize_formula` remembers (a grid has a few dozen, the same in every return),
each of at most :data:`NORMALIZED_LENGTH` characters: a few megabytes at worst."""
NORMALIZED_LENGTH = 1_000


def normalize_formula(text: object) -> str:
    """Formula text compared modulo what spreadsheet programs rewrite on save."""
    if isinstance(text, str):
        done = _NORMALIZED.get(text)
        if done is None:
            done = _normalize_formula(text)
            if len(_NORMALIZED) < NORMALIZED_FORMULAS and len(text) <= NORMALIZED_LENGTH:
                _NORMALIZED[text] = done
        return done
    return _normalize_formula(text)


def _normalize_formula(text: object) -> str:
    s = str(text or "")
    s = s[1:] if s.startswith("=") else s
    s = _FUNC_PREFIX.sub("", s)
    s = s.replace("$", "").replace(" ", "")
    s = re.sub(r"(TRUE|FALSE)\(\)", r"\1", s, flags=re.I)
    s = s.replace("CEILING.MATH(", "CEILING(").replace("CEILING.XCL(", "CEILING(")
    return s.upper()


def _label_text(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return text.replace("\r\n", "\n")


# ------------------------------------------------------------ input validation


def _is_number(v: object) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _shown(v: object) -> str:
    if isinstance(v, dt.datetime):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def check_input(cell: Cell, value: object, grid: Grid) -> tuple[object, str | None]:
    """The cleaned value of an input cell and, when invalid, what is expected (French)."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str) and value.startswith("=") and cell.kind not in (CellKind.TEXT, CellKind.LONGTEXT):
        return None, "formule non autorisée : saisissez une valeur."
    kind = cell.kind
    if kind in (CellKind.LEVEL, CellKind.COMPETENCE, CellKind.TICK):
        return (
            (scoring.TICK, None)
            if scoring.is_tick(value)
            else (value, f"« {_shown(value)} » : seule possibilité X (ou cellule vide).")
        )
    if kind is CellKind.INTEGER:
        if _is_number(value) and float(value).is_integer() and value >= 0:
            return int(value), None
        return value, f"« {_shown(value)} » : nombre entier positif ou nul attendu."
    if kind is CellKind.AMOUNT:
        if _is_number(value) and value >= 0:
            return value, None
        return value, f"« {_shown(value)} » : montant positif ou nul attendu (nombre, sans texte)."
    if kind is CellKind.DATE:
        if isinstance(value, dt.datetime):
            return value.date(), None
        if isinstance(value, dt.date):
            return value, None
        return value, f"« {_shown(value)} » : date attendue (jj/mm/aaaa)."
    if kind is CellKind.MARK:
        if scoring.commission_mark_ok(value, grid):
            return value, None
        return value, (
            f"« {_shown(value)} » : note de 0 à {french.mark(grid.max_mark)} "
            f"par {scoring.step_name(grid.rounding_step)} attendue."
        )
    if kind in (CellKind.TEXT, CellKind.LONGTEXT):
        return (_shown(value) if not isinstance(value, str) else value), None
    return value, None


# ------------------------------------------------------------ the reader


def _compare_locked(pkg: Package, layout: CandidateLayout) -> list[Issue]:
    """Every cell outside the inputs must hold what the layout prescribes."""
    issues = []
    missing_sheets = set()
    sheet_values: dict[str, dict[str, object]] = {}  # title → its values, looked up once
    for c in layout.cells:
        if c.role is CellRole.INPUT:
            continue
        found_values = sheet_values.get(c.sheet)
        if found_values is None:
            sheet = pkg.sheets.get(c.sheet)
            if sheet is None:
                if c.sheet not in missing_sheets:
                    missing_sheets.add(c.sheet)
                    issues.append(Issue(IssueKind.MODIFIED, "feuille supprimée ou renommée.", c.sheet, None))
                continue
            found_values = sheet_values[c.sheet] = sheet.values
        found = found_values.get(c.ref)
        if c.role is CellRole.OUTPUT:
            if normalize_formula(found) != normalize_formula(c.formula):
                issues.append(
                    Issue(
                        IssueKind.MODIFIED,
                        f"formule modifiée (attendu : {c.formula} ; trouvé : "
                        f"{found if found is not None else 'cellule vide'}).",
                        c.sheet,
                        c.ref,
                    )
                )
        elif _label_text(found) != _label_text(c.value):
            what = "identité du candidat modifiée" if c.role is CellRole.IDENTITY else "texte modifié"
            issues.append(
                Issue(
                    IssueKind.MODIFIED,
                    f"{what} (attendu : « {_label_text(c.value)} » ; trouvé : « {_label_text(found)} »).",
                    c.sheet,
                    c.ref,
                )
            )
    return issues


def _compare_structure(pkg: Package, layout: CandidateLayout) -> list[Issue]:
    """Protection still on, input cells where they were, defined names unmoved."""
    issues: list[Issue] = []
    for sheet_layout in layout.sheets:
        title = sheet_layout.title
        if title in pkg.sheets and not pkg.sheets[title].protected:
            issues.append(Issue(IssueKind.MODIFIED, "protection de la feuille retirée.", title, None))
    cells = layout.cells
    for c in cells:
        if not c.name:
            continue
        defined = pkg.local_names.get(c.sheet, {}) if layout.local_names else pkg.names
        dest = defined.get(c.name)
        if dest is None:
            issues.append(
                Issue(
                    IssueKind.MODIFIED,
                    f"nom défini « {c.name} » supprimé ou invalide (lignes ou colonnes supprimées ?).",
                    c.sheet,
                    c.ref,
                )
            )
            continue
        dest_sheet, ref = dest
        if dest_sheet != c.sheet or ref.replace("$", "") != c.ref:
            issues.append(
                Issue(
                    IssueKind.MODIFIED,
                    f"le nom « {c.name} » pointe sur {dest_sheet}!{ref.replace('$', '')} au lieu "
                    f"de {c.ref} (lignes ou colonnes insérées ?).",
                    c.sheet,
                    c.ref,
                )
            )
    for c in cells:
        if c.role is not CellRole.INPUT:
            continue
        found = pkg.sheets.get(c.sheet)
        if found is not None and found.protected and c.ref not in found.unlocked:
            issues.append(
                Issue(
                    IssueKind.MODIFIED,
                    "cellule de saisie verrouillée : la mise en forme a été modifiée.",
                    c.sheet,
                    c.ref,
                )
            )
    return issues


def lost_protection(
    pkg: Package, layout: CandidateLayout, signature_ok: bool, *, passwords_known: bool = True
) -> Issue | None:
    """A :attr:`IssueKind.PROTECTION` warning naming what a re-save dropped of what e2docs wrote, or ``None``.

    Gnumeric and ExcelJS keep the sheets protected but without their password, drop the
    workbook's ``workbookProtection`` (the structure lock) or show the hidden metadata sheet.
    None of that changes what is read: every cell is compared with the layout and the metadata
    are signed, so the return stays valid and the user is only told. A sheet whose protection is
    off altogether is a modification (:func:`_compare_structure`), not this warning; LibreOffice's
    ``<workbookProtection/>`` without attributes counts as kept. ``passwords_known=False``: the
    package is e2docs' own LibreOffice conversion of an .ods/.xls, whose passwords LibreOffice
    drops, so a missing password says nothing about the return.
    """
    lost: list[str] = []
    titles = [s.title for s in layout.sheets] + [META_SHEET]
    bare = [t for t in titles if t in pkg.sheets and pkg.sheets[t].protected and not pkg.sheets[t].password]
    bare = bare if passwords_known else []
    if bare:
        lost.append("le mot de passe de protection des feuilles " + ", ".join(f"« {t} »" for t in bare))
    if not pkg.structure_locked:
        lost.append("le verrouillage de la structure du classeur (ajout, renommage, affichage des feuilles)")
    meta = pkg.sheets.get(META_SHEET)
    if meta is not None and meta.state == "visible":
        lost.append(f"le masquage de la feuille « {META_SHEET} »")
    if not lost:
        return None
    checked = "le contenu a été vérifié cellule par cellule" + (
        " et la signature d'e2docs est intacte : le retour reste valable" if signature_ok else ""
    )
    return Issue(
        IssueKind.PROTECTION,
        f"classeur réenregistré par un tableur qui a perdu {' ; '.join(lost)}. Rien à faire : {checked}.",
    )


def _same(expected: object, cached: object) -> bool:
    if expected == "" and cached in (None, ""):
        return True
    if _is_number(expected) and _is_number(cached):
        return abs(float(expected) - float(cached)) < 1e-6
    return expected == cached


def known_grids(extra: Iterable[Grid] = ()) -> dict[str, Grid]:
    """Grids a reader recognises, by content hash: the bundled one plus any given."""
    grids = {g.content_hash: g for g in extra}
    default = load_grid()
    grids.setdefault(default.content_hash, default)
    return grids


def read_workbook(
    path: str | Path,
    grids: dict[str, Grid] | None = None,
    secret: bytes = integrity.PUBLIC_SECRET,
    check_cache: bool = True,
    converted: bool = False,
    keep_converted: Path | None = None,
    convert_strict: bool = True,
) -> list[Reading]:
    """Read every candidate of a generated workbook (one, or a class).

    ``converted``: ``path`` is e2docs' own LibreOffice conversion of a returned .ods or .xls;
    LibreOffice drops the sheet passwords when it writes such a conversion as .xlsx, so their
    absence is not reported (the protection itself and everything else still are).

    A workbook saved in Strict Open XML (Excel's "Strict Open XML Spreadsheet") is first
    converted by LibreOffice, then read as any other: into a temporary folder, or, when
    ``keep_converted`` is given (an archived return's :func:`~e2docs.formats.intake.kept_copy`),
    into that file, kept there and reused by the next reading
    (:func:`~e2docs.formats.intake.kept_conversion`). ``convert_strict=False``: a Strict workbook
    raises :class:`~e2docs.formats.xlsx.fastread.StrictWorkbook` instead (a process that must not
    start LibreOffice leaves it to another).

    Raises :class:`WorkbookError` when the file cannot be used at all (not a
    workbook, not from e2docs, unknown grid), :class:`~e2docs.formats.intake.ConversionError`
    (a :class:`WorkbookError`) when a Strict workbook cannot be converted on this machine;
    problems inside a usable file are returned in each reading's ``errors``, ``modified``
    and ``warnings``.
    """
    path = Path(path)
    check_workbook_file(path)
    grids = grids if grids is not None else known_grids()
    fast: Package | None = None
    try:  # the fast reader sees a Strict workbook part when it parses it; when it stops before, look
        fast = fastread.read_fast(path, cached=check_cache)
        strict = False
    except fastread.StrictWorkbook:
        strict = True
    except Exception:  # noqa: BLE001 — openpyxl reads it, and says what is wrong with it
        strict = _is_strict(path)
    if strict and not convert_strict:
        raise fastread.StrictWorkbook(str(path))
    if strict:
        if keep_converted is not None:
            kept = kept_conversion(keep_converted, lambda work: strict_to_xlsx(path, work))
            check_workbook_file(kept)
            return _read_file(kept, path, grids, secret, check_cache, False)
        with tempfile.TemporaryDirectory(prefix="e2docs-strict-") as work:
            transitional = strict_to_xlsx(path, Path(work))
            check_workbook_file(transitional)
            return _read_file(transitional, path, grids, secret, check_cache, False)
    return _read_package(fast, path, path, grids, secret, check_cache, converted)


def _is_strict(path: Path) -> bool:
    """Whether the .xlsx at ``path`` (checked by :func:`check_workbook_file`) is in Strict Open XML."""
    try:
        with zipfile.ZipFile(path) as zf:
            return is_strict_ooxml(zf)
    except (OSError, zipfile.BadZipFile):
        return False  # said when it is read


def _read_file(
    source: Path, path: Path, grids: dict[str, Grid], secret: bytes, check_cache: bool, converted: bool
) -> list[Reading]:
    """:func:`read_workbook` on ``source``, a checked ordinary .xlsx: ``path`` itself, or what ``path``
    was converted into; messages and readings name ``path``.

    Read by :mod:`.fastread` (each sheet parsed when the checks first look at it); a file that reader
    cannot place, at any point, is read again from the start with openpyxl, which decides."""
    try:
        fast: Package | None = fastread.read_fast(source, cached=check_cache)
    except Exception:  # noqa: BLE001 — openpyxl reads it, and says what is wrong with it
        fast = None
    return _read_package(fast, source, path, grids, secret, check_cache, converted)


def _read_package(
    fast: Package | None,
    source: Path,
    path: Path,
    grids: dict[str, Grid],
    secret: bytes,
    check_cache: bool,
    converted: bool,
) -> list[Reading]:
    """:func:`_read_file` once :mod:`.fastread` has read ``source`` into ``fast`` (closed here), or
    could not (``None``): openpyxl then reads it."""
    if fast is not None:
        sheets = fast.sheets
        try:
            return _readings(fast, source, path, grids, secret, check_cache, converted)
        except fastread.Unplaceable:
            pass
        finally:
            if isinstance(sheets, fastread.Sheets):
                sheets.close()
    try:
        pkg = read_package_openpyxl(source, cached=check_cache)
    except Exception as exc:  # openpyxl raises many types on malformed files
        raise WorkbookError(
            f"classeur illisible ({type(exc).__name__} : {exc}).",
            path,
            hint="Ouvrez-le dans Excel ou LibreOffice, enregistrez-le au format .xlsx, puis recommencez.",
        ) from None
    return _readings(pkg, source, path, grids, secret, check_cache, converted)


def _readings(
    pkg: Package, source: Path, path: Path, grids: dict[str, Grid], secret: bytes, check_cache: bool, converted: bool
) -> list[Reading]:
    """Every candidate of ``pkg``, read from ``source`` (see :func:`_read_file`)."""
    if source != path:  # when it was saved is what the original says, not its conversion
        pkg.created, pkg.modified = core_times(path)
    readings = []
    for meta in _read_metas(pkg, path):
        grid = grids.get(meta.get("grid_hash", ""))
        if grid is None:
            raise WorkbookError(
                f"grille inconnue : « {meta.get('grid_id')} » version {meta.get('grid_version')} "
                f"(empreinte {meta.get('grid_hash', '')[:12]}).",
                path,
                hint="Ce classeur a été généré avec une autre grille que celle attendue.",
            )
        reading = _read_candidate(pkg, path, meta, grid, secret, converted)
        reading.saved_at = saved_time(pkg)
        readings.append(reading)
    if check_cache:
        for reading in readings:
            for c in reading.layout.outputs:
                sheet = pkg.sheets.get(c.sheet)
                value = sheet.cached.get(c.ref) if sheet else None
                if value is None and reading.outputs[c.key] != "":
                    continue  # no cached value stored: nothing to compare
                if not _same(reading.outputs[c.key], value):
                    reading.warnings.append(
                        Issue(
                            IssueKind.CACHE,
                            f"valeur affichée dans le fichier ({value!r}) différente du calcul d'e2docs "
                            f"({reading.outputs[c.key]!r}) : la valeur recalculée est retenue.",
                            c.sheet,
                            c.ref,
                        )
                    )
    return readings


def _read_candidate(
    pkg: Package, path: Path, meta: Meta, grid: Grid, secret: bytes, converted: bool = False
) -> Reading:
    layout = layout_from_meta(meta, grid)
    signature_ok = integrity.verify(secret, meta)
    modified: list[Issue] = []
    if not signature_ok:
        why = (
            "classeur d'une campagne : vérifiez-le depuis le dossier de cette campagne (e2docs -C DOSSIER …), "
            "sinon ses métadonnées ont été modifiées"
            if meta.get("campaign_id") and secret == integrity.PUBLIC_SECRET
            else "métadonnées modifiées, ou classeur d'une autre campagne"
        )
        modified.append(Issue(IssueKind.IDENTITY, f"signature invalide : {why}.", META_SHEET, None))
    elif integrity.fingerprint(layout) != meta.get("fingerprint"):
        modified.append(
            Issue(
                IssueKind.IDENTITY,
                "empreinte de mise en page différente : classeur généré par une autre version d'e2docs.",
                META_SHEET,
                None,
            )
        )
    modified += _compare_structure(pkg, layout)
    modified += _compare_locked(pkg, layout)

    values: dict[str, object] = {}
    errors: list[Issue] = []
    for c in layout.inputs:
        # Where the input is now: rows inserted by a user move the defined names with the
        # cells, so the name (when it still points into the same sheet) is the better guide.
        dest = (pkg.local_names.get(c.sheet, {}) if layout.local_names else pkg.names).get(c.key)
        ref = dest[1].replace("$", "") if dest and dest[0] == c.sheet else c.ref
        raw = pkg.value(c.sheet, ref)
        clean, problem = check_input(c, raw, grid)
        values[c.key] = clean if problem is None else raw
        if problem:
            errors.append(Issue(IssueKind.INPUT, f"{c.label} : {problem}", c.sheet, c.ref))
    errors += _cross_checks(layout, values, errors)
    # Results come from the raw inputs, exactly as the formulas see them: an invalid
    # input scores nothing there, and nothing here.
    res = outcome(layout, values)
    outputs = compute_outputs(layout, values, res)
    lost = lost_protection(pkg, layout, signature_ok, passwords_known=not converted)
    warnings = [lost] if lost else []
    return Reading(path, meta, grid, layout, values, outputs, res, errors, modified, warnings, signature_ok)


def _cross_checks(layout: CandidateLayout, values: dict[str, object], errors: list[Issue]) -> list[Issue]:
    """Rules across cells: one level per criterion, end date after start date."""
    out = []
    named = layout.named
    for cr in layout.grid.criteria:
        cells = [named[names.level(cr.id, lvl.value)] for lvl in layout.grid.scale]
        ticked = [c for c in cells if scoring.is_tick(values.get(c.key))]
        if len(ticked) > 1:
            levels = ", ".join(str(c.level) for c in ticked)
            out.append(
                Issue(
                    IssueKind.INPUT,
                    f"critère {cr.id} : plusieurs niveaux cochés ({levels}) ; une seule X par critère.",
                    cells[0].sheet,
                    ",".join(c.ref for c in ticked),
                )
            )
    start, end = values.get(names.prospecting("debut")), values.get(names.prospecting("fin"))
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        c = named[names.prospecting("fin")]
        out.append(
            Issue(
                IssueKind.INPUT,
                f"date de fin ({end:%d/%m/%Y}) antérieure à la date de début ({start:%d/%m/%Y}).",
                c.sheet,
                c.ref,
            )
        )
    return out
