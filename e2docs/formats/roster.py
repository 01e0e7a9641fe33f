"""Read a candidate list: a Cyclades "Liste simple" export, a plain CSV or an XLSX.

The format is recognised from the content, not from the file name:

* a file starting like a ZIP archive is read as an XLSX workbook (first sheet);
* a web page (what many web exports saved as ``.xls`` are, and Excel's « Page
  Web ») is read from its first table holding the expected header; rows are
  numbered as a spreadsheet opening the page shows them (the table's rows);
* any other text file is read as CSV (``;``, ``,`` or tab, sniffed from the
  header line); its encoding (UTF-8 with or without BOM, UTF-16, Windows-1252,
  Mac Roman) is recognised by :mod:`e2docs.formats.textencoding`, which refuses
  to guess when unsure;
* a list whose header carries Cyclades' own columns ("N° Candidat",
  "N° Inscription", "Code Spécialité") is a Cyclades export, whether CSV as
  exported or XLSX (the CSV opened and saved in Excel): the metadata lines above
  the header give the session and the school with its UAI (hence the académie),
  class names lose their quotes (``'TMCV2'``) and ``-`` means "empty".

Columns are matched by name, ignoring case, accents, spaces and punctuation, so
"Prénom(s)", "prenoms" and "PRÉNOM" are the same column. When the list has a
"Code Spécialité" column, only the rows of the wanted specialty are kept; the
others are reported in :attr:`Roster.ignored`.

The last name is always the official one ("Nom de famille" in Cyclades), never
"Nom d'usage": exam documents must carry the name the exam system knows.

The file is read by :mod:`e2docs.formats.tabular` (the same reader as the examiners' file);
this module gives the rows their meaning. Every problem a user can fix raises
:class:`~e2docs.model.errors.RosterError` with a French message, the file, the line and the
column, and a hint.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from e2docs.formats.tabular import (
    MAX_TABLE_BYTES,
    Kind,
    Table,
    clean,
    header_key,
    is_blank,
    match_columns,
    read_table,
)
from e2docs.model.academies import academie_of
from e2docs.model.candidate import Candidate
from e2docs.model.errors import Place, RosterError

DEFAULT_SPECIALTY = "31214"

# Accepted header spellings per field, as normalised by header_key().
_HEADER_KEYS: dict[str, tuple[str, ...]] = {
    "number": ("ncandidat", "ndecandidat", "nocandidat", "numerocandidat", "numerodecandidat", "numero"),
    "last_name": ("nom", "nomdefamille"),
    "first_name": ("prenom", "prenoms"),
    "division": ("division", "divisiondeclasse", "classe"),
    "birth_date": ("datedenaissance", "datenaissance", "neele", "nele"),
    "ine": ("ine",),
    "specialty": ("codespecialite",),
    "specialty_label": ("specialite",),
}
_REQUIRED = ("last_name", "first_name", "number")
# How a field is named in messages (French).
_FIELD_NAMES: dict[str, str] = {
    "number": "numéro de candidat",
    "last_name": "nom",
    "first_name": "prénom",
    "division": "division",
    "birth_date": "date de naissance",
}
# Header keys only a Cyclades export has all of.
_CYCLADES_KEYS = {"ncandidat", "ninscription", "codespecialite"}
MAX_ROSTER_BYTES = MAX_TABLE_BYTES
"""The largest list read (25 Mo, as a returned workbook; a school's whole Cyclades export is far smaller)."""

_UAI_LINE = re.compile(r"^(?P<school>.*\S)\s*\((?P<uai>\d{7}[A-Z])\)$")
_SESSION = re.compile(r"^\d{4}$")
_NUMBER = re.compile(r"^[0-9A-Za-z]+$")
_DATE_FR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")

_HINT_COLUMNS = (
    "La ligne d'en-tête doit nommer au moins les colonnes « Nom », « Prénom » "
    "et « N° candidat » (« Classe » et « Date de naissance » sont facultatives)."
)
_HINT_FORMAT = (
    "Donnez une liste au format CSV (export Cyclades « Liste simple » ou "
    "tableau enregistré en CSV) ou un classeur Excel .xlsx."
)


@dataclass(frozen=True)
class IgnoredRow:
    """A row left out of the roster, with the line it came from and why (in French)."""

    line: int
    candidate: Candidate
    reason: str


@dataclass(frozen=True)
class Roster:
    """The candidates read from one list, plus what the list says about itself.

    ``format`` is ``"cyclades"`` (a Cyclades export, as CSV or saved as XLSX), ``"csv"``,
    ``"xlsx"`` or ``"html"`` (a web page saved as ``.xls``). ``encoding`` names the text
    encoding as users know it (« UTF-8 », « Mac Roman »…), ``None`` for a workbook; ``data``
    the file's bytes as read (what a campaign keeps in ``liste/``).
    ``session`` (the year, "2027"), ``school`` and ``uai`` ("0921234A") come from a Cyclades
    preamble; ``None`` for other lists or when the preamble lacks them. ``ignored`` holds the
    rows of other specialties, in file order.
    """

    path: Path
    format: str
    candidates: tuple[Candidate, ...]
    ignored: tuple[IgnoredRow, ...] = ()
    session: str | None = None
    school: str | None = None
    uai: str | None = None
    encoding: str | None = None
    data: bytes = field(default=b"", repr=False, compare=False)

    @property
    def academie(self) -> str | None:
        """The académie of the school, from its UAI ("0921234A" → "Versailles"); ``None`` without a
        UAI or when its département is unknown."""
        return academie_of(self.uai) or None


_KIND = Kind(
    keys=_HEADER_KEYS,
    error=RosterError,
    subject="la liste des candidats",
    format_hint=_HINT_FORMAT,
    rows="de candidats",
    limit=MAX_ROSTER_BYTES,
)


def read_roster(path: str | Path, specialty: str = DEFAULT_SPECIALTY, encoding: str | None = None) -> Roster:
    """Read the candidate list at ``path``, keeping the candidates of ``specialty``.

    ``encoding`` forces the encoding of a text list: a key of
    :data:`e2docs.formats.textencoding.ENCODINGS` (``"mac-roman"``…); ``None`` recognises it.
    Raises :class:`RosterError` when the file cannot be read (not a regular file, more than
    :data:`MAX_ROSTER_BYTES`, encoding in doubt…) or its content is unusable (missing
    columns, no candidate, duplicate number, bad date…).
    """
    path = Path(path)
    table = read_table(path, _KIND, encoding)
    if _is_cyclades(table.header):
        table.format = "cyclades"
    return _build_roster(path, table, specialty)


def _is_cyclades(header: Iterable[object]) -> bool:
    """Whether a header names the columns only a Cyclades export has all of."""
    return {header_key(cell) for cell in header} >= _CYCLADES_KEYS


# --- Values --------------------------------------------------------------------------------


def _parse_date(value: object, path: Path, place: Place) -> dt.date | None:
    """Read a birth date given as a spreadsheet date, JJ/MM/AAAA or AAAA-MM-JJ; ``None`` when
    the cell is empty. Raises :class:`RosterError` at ``place`` for anything else."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = clean(value)
    if not text:
        return None
    for pattern, year_month_day in ((_DATE_FR, (3, 2, 1)), (_DATE_ISO, (1, 2, 3))):
        match = pattern.match(text)
        if match:
            try:
                return dt.date(*(int(match.group(group)) for group in year_month_day))
            except ValueError:  # 31/02/2009: the right shape, but no such day
                break
    raise RosterError(
        f"date de naissance illisible : « {text} ».",
        path=path,
        place=place,
        hint="Écrivez la date au format JJ/MM/AAAA (par exemple 14/05/2005) ou AAAA-MM-JJ.",
    )


# --- Building the roster -------------------------------------------------------------------


def _build_roster(path: Path, table: Table, specialty: str) -> Roster:
    """Check the table and turn its rows into candidates, kept or ignored."""
    columns = match_columns(table.header, _HEADER_KEYS)
    _check_required_columns(path, table, columns)
    kept: list[Candidate] = []
    ignored: list[IgnoredRow] = []
    first_line: dict[str, int] = {}
    other_specialties: dict[str, str] = {}  # code → label, for the "no candidate" message
    for line, cells in table.rows:
        if is_blank(cells):
            continue
        candidate, label = _read_row(path, table, columns, line, cells)
        if candidate.number in first_line:
            raise RosterError(
                f"numéro de candidat « {candidate.number} » en double : il figure déjà ligne "
                f"{first_line[candidate.number]}.",
                path=path,
                place=table.place(line, columns["number"]),
                hint="Chaque candidat doit avoir son propre numéro : corrigez l'une des deux lignes.",
            )
        first_line[candidate.number] = line
        if "specialty" in columns and candidate.specialty != specialty:
            ignored.append(IgnoredRow(line, candidate, _ignore_reason(candidate.specialty, label, specialty)))
            other_specialties.setdefault(candidate.specialty or "non renseignée", label)
        else:
            kept.append(candidate)
    if not kept:
        _raise_empty(path, table, columns, len(ignored), other_specialties, specialty)
    session, school, uai = _cyclades_metadata(table.preamble) if table.format == "cyclades" else (None,) * 3
    return Roster(
        path=path,
        format=table.format,
        candidates=tuple(kept),
        ignored=tuple(ignored),
        session=session,
        school=school,
        uai=uai,
        encoding=table.encoding,
        data=table.data,
    )


def _check_required_columns(path: Path, table: Table, columns: dict[str, int]) -> None:
    """Raise when the header lacks the number, last name or first name column."""
    missing = [_FIELD_NAMES[name] for name in _REQUIRED if name not in columns]
    if missing:
        found = ", ".join(f"« {cell} »" for cell in table.header if cell) or "aucune"
        raise RosterError(
            f"colonne(s) obligatoire(s) absente(s) : {', '.join(f'« {name} »' for name in missing)}. "
            f"Colonnes trouvées : {found}.",
            path=path,
            place=Place(sheet=table.sheet, line=table.header_line),
            hint=_HINT_COLUMNS,
        )


def _read_row(
    path: Path, table: Table, columns: dict[str, int], line: int, cells: Sequence[object]
) -> tuple[Candidate, str]:
    """Check one row and return its candidate and the specialty label (for messages)."""
    cyclades = table.format == "cyclades"

    def raw(name: str) -> object:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    def text(name: str) -> str:
        return clean(raw(name), cyclades)

    for name in _REQUIRED:
        if not text(name):
            raise RosterError(
                f"{_FIELD_NAMES[name]} manquant.",
                path=path,
                place=table.place(line, columns[name]),
                hint="Complétez cette case, ou supprimez la ligne si ce n'est pas un candidat.",
            )
    number = text("number")
    if not _NUMBER.match(number):
        raise RosterError(
            f"numéro de candidat invalide : « {number} » (seuls des chiffres et des lettres sont admis).",
            path=path,
            place=table.place(line, columns["number"]),
            hint="Recopiez le numéro tel qu'il figure dans Cyclades, sans espace ni tiret.",
        )
    birth_date = None
    if "birth_date" in columns:
        birth_date = _parse_date(raw("birth_date"), path, table.place(line, columns["birth_date"]))
    candidate = Candidate(
        number=number,
        last_name=text("last_name"),
        first_name=text("first_name"),
        division=text("division"),
        birth_date=birth_date,
        ine=text("ine"),
        specialty=text("specialty"),
    )
    return candidate, text("specialty_label")


def _ignore_reason(code: str, label: str, specialty: str) -> str:
    """French reason for leaving out a row of another specialty."""
    if not code:
        return f"spécialité non renseignée, hors {specialty}"
    return f"spécialité {code}{f' ({label})' if label else ''}, hors {specialty}"


def _raise_empty(
    path: Path, table: Table, columns: dict[str, int], ignored: int, other_specialties: dict[str, str], specialty: str
) -> None:
    """Raise the "no candidate" error, saying which specialties the list had instead."""
    if not ignored:
        raise RosterError(
            "aucun candidat dans la liste.",
            path=path,
            place=Place(sheet=table.sheet, line=table.header_line),
            hint="Ajoutez une ligne par candidat sous la ligne d'en-tête.",
        )
    found = ", ".join(f"{code} ({label})" if label else code for code, label in other_specialties.items())
    raise RosterError(
        f"aucun candidat de la spécialité {specialty} : {ignored} ligne(s) ignorée(s), "
        f"spécialité(s) trouvée(s) : {found}.",
        path=path,
        place=Place(sheet=table.sheet, column=table.header[columns["specialty"]]),
        hint=f"Exportez depuis Cyclades la liste des candidats de la spécialité {specialty}, "
        "ou indiquez la spécialité de cette liste.",
    )


def _cyclades_metadata(preamble: Iterable[Sequence[object]]) -> tuple[str | None, str | None, str | None]:
    """Session year, school name and UAI from the lines above a Cyclades header."""
    session: str | None = None
    school: str | None = None
    uai: str | None = None
    for cells in preamble:
        first = clean(cells[0]) if cells else ""
        if session is None and _SESSION.match(first):
            session = first
        match = _UAI_LINE.match(first)
        if school is None and match:
            school, uai = match.group("school"), match.group("uai")
    return session, school, uai
