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

Every problem a user can fix raises :class:`~e2docs.model.errors.RosterError` with a
French message, the file, the line and the column, and a hint.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

from e2docs.formats import sniff, textencoding
from e2docs.formats.files import Expect, read_regular
from e2docs.formats.xlsx.safety import MAX_FILE_BYTES
from e2docs.model.academies import academie_of
from e2docs.model.candidate import Candidate
from e2docs.model.errors import Place, RosterError

DEFAULT_SPECIALTY = "31214"

# Accepted header spellings per field, as normalised by _header_key().
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

_DELIMITERS = (";", "\t", ",")
_HEADER_SEARCH_ROWS = 20  # the header is looked for among the first non-empty rows
_MAX_XLSX_UNZIPPED = 100 * 1024 * 1024  # a class list is tiny; refuse ZIP bombs
MAX_ROSTER_BYTES = MAX_FILE_BYTES
"""The largest list read (25 Mo, as a returned workbook; a school's whole Cyclades export is far smaller)."""
ROSTER_EXPECT = Expect(
    "fichier de la liste des candidats",
    MAX_ROSTER_BYTES,
    "Vérifiez le chemin et le nom du fichier de la liste des candidats.",
    RosterError,
)

_UAI_LINE = re.compile(r"^(?P<school>.*\S)\s*\((?P<uai>\d{7}[A-Z])\)$")
_SESSION = re.compile(r"^\d{4}$")
_NUMBER = re.compile(r"^[0-9A-Za-z]+$")
_DATE_FR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")

_HINT_COLUMNS = (
    "La ligne d'en-tête doit nommer au moins les colonnes « Nom », « Prénom » "
    "et « N° candidat » (« Classe » et « Date de naissance » sont facultatives)."
)
_HINT_WEB_PAGE = (
    "Ce fichier est une page web (export d'un site) nommée .xls : ouvrez-la dans votre tableur et "
    "enregistrez la liste au format .xlsx ou en « CSV UTF-8 »."
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


@dataclass
class _Table:
    """Rows of a list as read, before any meaning is given to them.

    ``rows`` pairs each row's cells with its line (CSV) or row number (XLSX), as the
    user sees it; ``preamble`` holds the rows above the header. Cells are texts
    (CSV) or openpyxl values (XLSX: text, number, datetime or ``None``). ``sheet`` is
    the sheet's title, ``None`` for a CSV.
    """

    format: str
    header_line: int
    header: list[str]
    rows: Sequence[tuple[int, Sequence[object]]]
    preamble: Sequence[Sequence[object]] = field(default_factory=list)
    sheet: str | None = None


def read_roster(path: str | Path, specialty: str = DEFAULT_SPECIALTY, encoding: str | None = None) -> Roster:
    """Read the candidate list at ``path``, keeping the candidates of ``specialty``.

    ``encoding`` forces the encoding of a text list: a key of
    :data:`e2docs.formats.textencoding.ENCODINGS` (``"mac-roman"``…); ``None`` recognises it.
    Raises :class:`RosterError` when the file cannot be read (not a regular file, more than
    :data:`MAX_ROSTER_BYTES`, encoding in doubt…) or its content is unusable (missing
    columns, no candidate, duplicate number, bad date…).
    """
    path = Path(path)
    data = _read_bytes(path)
    decoded: textencoding.Decoded | None = None
    if sniff.is_zip(data):
        table = _read_xlsx(path, data)
    elif sniff.is_ole(data):  # .xls, or an encrypted .xlsx
        raise RosterError(
            "ce fichier est un ancien classeur Excel (.xls) ou un classeur protégé par mot de passe : "
            "il ne peut pas être lu.",
            path=path,
            hint="Enregistrez la liste au format .xlsx (sans mot de passe) ou CSV.",
        )
    else:
        markup = sniff.markup_kind(data[: sniff.HEAD_BYTES])
        if markup == "spreadsheet-xml":
            raise RosterError(
                "ce fichier est un classeur « XML 2003 » d'Excel (souvent nommé .xls) : il ne peut pas être lu.",
                path=path,
                hint="Ouvrez-le dans votre tableur et enregistrez-le au format .xlsx ou en CSV UTF-8.",
            )
        declared = sniff.declared_charset(data) if markup == "html" else None
        decoded = textencoding.decode(path, data, encoding, declared)
        text = _check_text(path, decoded.text)
        table = _read_html(path, text) if markup == "html" else _read_csv(path, text)
    roster = _build_roster(path, table, specialty)
    return replace(roster, encoding=decoded.encoding if decoded is not None else None, data=data)


# --- Reading files -------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """Return the file's bytes: a regular file of at most :data:`MAX_ROSTER_BYTES`, not empty."""
    data = read_regular(path, ROSTER_EXPECT)
    if not data.strip():
        raise RosterError("le fichier est vide.", path=path, hint=_HINT_FORMAT)
    return data


def _check_text(path: Path, text: str) -> str:
    """Refuse a decoded text that is empty or holds control characters (a binary file)."""
    if not text.strip():
        raise RosterError("le fichier est vide.", path=path, hint=_HINT_FORMAT)
    if any(unicodedata.category(char) == "Cc" and char not in "\r\n\t" for char in text):
        raise RosterError("ce fichier n'est ni un CSV ni un classeur .xlsx.", path=path, hint=_HINT_FORMAT)
    return text


def _read_csv(path: Path, text: str) -> _Table:
    """Split a CSV text into rows and find its header line and delimiter."""
    found: tuple[int, str, int] | None = None  # (matched columns, delimiter, index of the header row)
    for delimiter in _DELIMITERS:
        records = _csv_records(path, text, delimiter)
        index = _find_header(cells for _, cells in records)
        if index is not None:
            matched = len(_match_columns(records[index][1]))
            if found is None or matched > found[0]:
                found = (matched, delimiter, index)
    if found is None:
        # No recognisable header: take the first line as header, so that the
        # "missing columns" error can show what the file has.
        first_line = next(line for line in text.splitlines() if line.strip())
        delimiter = max(_DELIMITERS, key=first_line.count)
        records = _csv_records(path, text, delimiter)
        index = next(i for i, (_, cells) in enumerate(records) if not _is_blank(cells))
    else:
        _, delimiter, index = found
        records = _csv_records(path, text, delimiter)
    header_line, header = records[index]
    header = [_clean(cell) for cell in header]
    return _Table(
        format="cyclades" if _is_cyclades(header) else "csv",
        header_line=header_line,
        header=header,
        rows=records[index + 1 :],
        preamble=[cells for _, cells in records[:index]],
    )


def _csv_records(path: Path, text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Parse CSV text, pairing each record with the line where it starts."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:  # e.g. a cell longer than the csv module accepts
        raise RosterError(
            "ligne illisible : une case est trop longue ou mal formée.",
            path=path,
            place=Place(line=line),
            hint=_HINT_FORMAT,
        ) from exc
    return records


def _read_xlsx(path: Path, data: bytes) -> _Table:
    """Read the first sheet of a workbook (values, not formulas) into a table.

    The bytes are given to openpyxl as a file object, because openpyxl refuses a
    path whose extension is not .xlsx even when the content is a workbook.
    """
    import openpyxl  # imported here: reading a CSV must not pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    from e2docs.formats.xlsx.package import cell_text, quiet_openpyxl

    _check_xlsx_archive(path, data)
    try:
        with quiet_openpyxl():
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                sheet.reset_dimensions()  # some writers store wrong dimensions: read every row
                rows = [
                    (number, [cell_text(v) if isinstance(v, str) else v for v in values])
                    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
                ]
                title = sheet.title
            finally:
                workbook.close()
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        IndexError,
        SyntaxError,
        OSError,
    ) as exc:  # SyntaxError: the XML parsers' errors derive from it
        raise RosterError(
            "ce classeur .xlsx est illisible ou endommagé.",
            path=path,
            hint="Ouvrez-le dans votre tableur et enregistrez-le à nouveau au format .xlsx, ou en CSV.",
        ) from exc
    if all(_is_blank(cells) for _, cells in rows):
        raise RosterError(
            "la première feuille du classeur est vide.",
            path=path,
            place=Place(sheet=title),
            hint="Mettez la liste des candidats sur la première feuille.",
        )
    index = _find_header(cells for _, cells in rows)
    if index is None:
        index = next(i for i, (_, cells) in enumerate(rows) if not _is_blank(cells))
    header_line, header = rows[index]
    return _Table(
        format="cyclades" if _is_cyclades(header) else "xlsx",
        header_line=header_line,
        header=[_clean(cell) for cell in header],
        rows=rows[index + 1 :],
        preamble=[cells for _, cells in rows[:index]],
        sheet=title,
    )


class _HtmlTables(HTMLParser):
    """The tables of a web page: for each, its rows of cell texts (``colspan`` repeated as empty
    cells), in the order tables open. Tolerates what browsers do: ``</td>`` and ``</tr>`` left out,
    cells outside any ``<tr>``; a table inside a cell is a table of its own."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._open: list[_HtmlTable] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            rows: list[list[str]] = []
            self.tables.append(rows)
            self._open.append(_HtmlTable(rows))
        elif self._open:
            table = self._open[-1]
            if tag == "tr":
                table.new_row()
            elif tag in ("td", "th"):
                span = next((value for name, value in attrs if name == "colspan"), None)
                table.new_cell(int(span) if span and span.isdigit() else 1)
            elif tag in ("br", "p", "div"):
                table.text(" ")

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            return
        if tag == "table":
            self._open.pop().end_cell()
        elif tag in ("td", "th"):
            self._open[-1].end_cell()
        elif tag == "tr":
            self._open[-1].end_cell()
            self._open[-1].row = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1].text(data)


@dataclass
class _HtmlTable:
    """A table being read: its rows, the row and the cell open (``None`` when none)."""

    rows: list[list[str]]
    row: list[str] | None = None
    cell: list[str] | None = None
    span: int = 1

    def new_row(self) -> None:
        self.end_cell()
        self.row = []
        self.rows.append(self.row)

    def new_cell(self, span: int) -> None:
        self.end_cell()
        if self.row is None:
            self.new_row()
        self.cell, self.span = [], min(max(span, 1), 100)

    def text(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell))
            self.row.extend([""] * (self.span - 1))
        self.cell = None


def _read_html(path: Path, text: str) -> _Table:
    """Read the first table of a web page whose header names the expected columns.

    Rows are numbered within the table, from 1, as a spreadsheet opening the page shows them.
    Without such a table, the first table that is not empty is read, so that the "missing
    columns" error shows what it has. Raises :class:`RosterError` for a page without any table.
    """
    parser = _HtmlTables()
    try:
        parser.feed(text)
        parser.close()
    except (ValueError, AssertionError) as exc:  # html.parser's own complaints on broken markup
        raise RosterError("page web enregistrée en .xls, illisible.", path=path, hint=_HINT_WEB_PAGE) from exc
    tables = [[(number, row) for number, row in enumerate(rows, start=1)] for rows in parser.tables]
    tables = [rows for rows in tables if not all(_is_blank(cells) for _, cells in rows)]
    if not tables:
        raise RosterError("page web enregistrée en .xls, sans tableau de candidats.", path=path, hint=_HINT_WEB_PAGE)
    for rows in tables:
        index = _find_header(cells for _, cells in rows)
        if index is not None:
            break
    else:
        rows = tables[0]
        index = next(i for i, (_, cells) in enumerate(rows) if not _is_blank(cells))
    header_line, header = rows[index]
    header = [_clean(cell) for cell in header]
    return _Table(
        format="cyclades" if _is_cyclades(header) else "html",
        header_line=header_line,
        header=header,
        rows=rows[index + 1 :],
        preamble=[cells for _, cells in rows[:index]],
    )


def _check_xlsx_archive(path: Path, data: bytes) -> None:
    """Refuse a ZIP file that is not a workbook (e.g. .ods, .docx) or that unzips to a huge size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise RosterError("ce fichier compressé est endommagé.", path=path, hint=_HINT_FORMAT) from exc
    if "xl/workbook.xml" not in names:
        raise RosterError(
            "ce fichier compressé n'est pas un classeur .xlsx (un classeur .ods ?).", path=path, hint=_HINT_FORMAT
        )
    if unzipped > _MAX_XLSX_UNZIPPED:
        raise RosterError(
            "ce classeur est bien trop volumineux pour une liste de candidats.",
            path=path,
            hint="Copiez la liste seule dans un nouveau classeur .xlsx ou en CSV.",
        )


# --- Columns -------------------------------------------------------------------------------


def _header_key(text: object) -> str:
    """Reduce a header to lowercase ASCII letters and digits: "N° Candidat" → "ncandidat"."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    return "".join(char for char in decomposed.lower() if char.isascii() and char.isalnum())


def _match_columns(header: Iterable[object]) -> dict[str, int]:
    """Map each known field to the index of the first header cell naming it."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _header_key(cell)
        for name, keys in _HEADER_KEYS.items():
            if key in keys and name not in columns:
                columns[name] = index
    return columns


def _is_cyclades(header: Iterable[object]) -> bool:
    """Whether a header names the columns only a Cyclades export has all of."""
    return {_header_key(cell) for cell in header} >= _CYCLADES_KEYS


def _find_header(rows: Iterable[Sequence[object]]) -> int | None:
    """Index of the first row naming at least two known columns, among the first non-empty rows."""
    seen = 0
    for index, cells in enumerate(rows):
        if _is_blank(cells):
            continue
        if len(_match_columns(cells)) >= 2:
            return index
        seen += 1
        if seen >= _HEADER_SEARCH_ROWS:
            break
    return None


# --- Values --------------------------------------------------------------------------------


def _clean(value: object, cyclades: bool = False) -> str:
    """Turn a cell into stripped text with single spaces; "-" (Cyclades' "empty") gives ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed in a spreadsheet: 2095557742.0 → "2095557742"
    elif isinstance(value, dt.datetime):
        value = value.date()
    text = " ".join(str(value).split())
    if cyclades and len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1].strip()  # Cyclades quotes class names: 'TMCV2'
    return "" if text == "-" else text


def _is_blank(cells: Iterable[object]) -> bool:
    """True when a row has no value at all."""
    return all(_clean(cell) == "" for cell in cells)


def _parse_date(value: object, path: Path, place: Place) -> dt.date | None:
    """Read a birth date given as a spreadsheet date, JJ/MM/AAAA or AAAA-MM-JJ; ``None`` when
    the cell is empty. Raises :class:`RosterError` at ``place`` for anything else."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _clean(value)
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


def _build_roster(path: Path, table: _Table, specialty: str) -> Roster:
    """Check the table and turn its rows into candidates, kept or ignored."""
    columns = _match_columns(table.header)
    _check_required_columns(path, table, columns)
    kept: list[Candidate] = []
    ignored: list[IgnoredRow] = []
    first_line: dict[str, int] = {}
    other_specialties: dict[str, str] = {}  # code → label, for the "no candidate" message
    for line, cells in table.rows:
        if _is_blank(cells):
            continue
        candidate, label = _read_row(path, table, columns, line, cells)
        if candidate.number in first_line:
            raise RosterError(
                f"numéro de candidat « {candidate.number} » en double : il figure déjà ligne "
                f"{first_line[candidate.number]}.",
                path=path,
                place=_place(table, line, columns["number"]),
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
    )


def _check_required_columns(path: Path, table: _Table, columns: dict[str, int]) -> None:
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
    path: Path, table: _Table, columns: dict[str, int], line: int, cells: Sequence[object]
) -> tuple[Candidate, str]:
    """Check one row and return its candidate and the specialty label (for messages)."""
    cyclades = table.format == "cyclades"

    def raw(name: str) -> object:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    def text(name: str) -> str:
        return _clean(raw(name), cyclades)

    for name in _REQUIRED:
        if not text(name):
            raise RosterError(
                f"{_FIELD_NAMES[name]} manquant.",
                path=path,
                place=_place(table, line, columns[name]),
                hint="Complétez cette case, ou supprimez la ligne si ce n'est pas un candidat.",
            )
    number = text("number")
    if not _NUMBER.match(number):
        raise RosterError(
            f"numéro de candidat invalide : « {number} » (seuls des chiffres et des lettres sont admis).",
            path=path,
            place=_place(table, line, columns["number"]),
            hint="Recopiez le numéro tel qu'il figure dans Cyclades, sans espace ni tiret.",
        )
    birth_date = None
    if "birth_date" in columns:
        birth_date = _parse_date(raw("birth_date"), path, _place(table, line, columns["birth_date"]))
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


def _place(table: _Table, line: int, index: int) -> Place:
    """Where a cell is, named by its line and its column header (or number if unnamed)."""
    column = table.header[index] if index < len(table.header) and table.header[index] else index + 1
    return Place(sheet=table.sheet, line=line, column=column)


def _ignore_reason(code: str, label: str, specialty: str) -> str:
    """French reason for leaving out a row of another specialty."""
    if not code:
        return f"spécialité non renseignée, hors {specialty}"
    return f"spécialité {code}{f' ({label})' if label else ''}, hors {specialty}"


def _raise_empty(
    path: Path, table: _Table, columns: dict[str, int], ignored: int, other_specialties: dict[str, str], specialty: str
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
        first = _clean(cells[0]) if cells else ""
        if session is None and _SESSION.match(first):
            session = first
        match = _UAI_LINE.match(first)
        if school is None and match:
            school, uai = match.group("school"), match.group("uai")
    return session, school, uai
