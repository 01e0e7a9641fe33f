"""Read a table a user gives (a CSV or the first sheet of an XLSX) into rows, before any meaning.

Shared by the candidate list (:mod:`e2docs.formats.roster`) and the examiners' file
(:mod:`e2docs.formats.examiners`), so that both accept the same files:

* a file starting like a ZIP archive is read as an XLSX workbook (first sheet, values);
* any other text file is read as CSV (``;``, ``,`` or tab, sniffed from the header
  line; UTF-8, UTF-8 with BOM or Windows-1252);
* the header is the first row naming at least two known columns; columns are matched
  by name, ignoring case, accents, spaces and punctuation ("Prénom(s)", "prenoms" and
  "PRÉNOM" are the same column).

Every problem a user can fix raises the :class:`Kind`'s error class with a French message,
the file, the line and the column, and a hint.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from e2docs.formats import sniff
from e2docs.model.errors import E2docsError, Place, os_error_fr

_DELIMITERS = (";", "\t", ",")
_HEADER_SEARCH_ROWS = 20  # the header is looked for among the first non-empty rows
_MAX_XLSX_UNZIPPED = 100 * 1024 * 1024  # a list is tiny; refuse ZIP bombs


@dataclass(frozen=True)
class Kind:
    """What kind of table is read, for the messages and the header search.

    ``keys``: field → accepted header spellings (as :func:`header_key` gives them);
    ``error``: the exception raised; ``subject``: the file in French (« la liste des
    candidats »); ``format_hint``: what to give instead of an unreadable file.
    """

    keys: Mapping[str, tuple[str, ...]]
    error: type[E2docsError]
    subject: str
    format_hint: str


@dataclass
class Table:
    """Rows of a list as read, before any meaning is given to them.

    ``rows`` pairs each row's cells with its line (CSV) or row number (XLSX), as the
    user sees it; ``preamble`` holds the rows above the header. Cells are texts
    (CSV) or openpyxl values (XLSX: text, number, datetime or ``None``). ``sheet`` is
    the sheet's title, ``None`` for a CSV. ``format``: ``"csv"`` or ``"xlsx"``.
    """

    format: str
    header_line: int
    header: list[str]
    rows: Sequence[tuple[int, Sequence[object]]]
    preamble: Sequence[Sequence[object]] = field(default_factory=list)
    sheet: str | None = None

    def place(self, line: int, index: int) -> Place:
        """Where a cell is, named by its line and its column header (or number if unnamed)."""
        column = self.header[index] if index < len(self.header) and self.header[index] else index + 1
        return Place(sheet=self.sheet, line=line, column=column)


def read_table(path: Path, kind: Kind) -> Table:
    """Read the table at ``path`` (CSV or XLSX, recognised from the content).

    Raises ``kind.error`` when the file cannot be read (missing, empty, an old .xls or an
    encrypted workbook, unreadable characters, damaged workbook…).
    """
    data = _read_bytes(path, kind)
    if sniff.is_zip(data):
        return _read_xlsx(path, data, kind)
    if sniff.is_ole(data):  # .xls, or an encrypted .xlsx
        raise kind.error(
            "ce fichier est un ancien classeur Excel (.xls) ou un classeur protégé par mot de passe : "
            "il ne peut pas être lu.",
            path=path,
            hint="Enregistrez la liste au format .xlsx (sans mot de passe) ou CSV.",
        )
    return _read_csv(path, _decode(path, data, kind), kind)


def _read_bytes(path: Path, kind: Kind) -> bytes:
    """Return the file's bytes, turning OS errors into French messages."""
    if not path.exists():
        raise kind.error(
            "fichier introuvable.", path=path, hint=f"Vérifiez le chemin et le nom du fichier de {kind.subject}."
        )
    if not path.is_file():
        raise kind.error(
            "ce chemin n'est pas un fichier.",
            path=path,
            hint=f"Indiquez le fichier de {kind.subject}, pas un dossier.",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise kind.error(
            f"lecture du fichier impossible ({os_error_fr(exc)}).",
            path=path,
            hint="Vérifiez que le fichier n'est pas ouvert ailleurs et que vous avez le droit de le lire.",
        ) from exc
    if not data.strip():
        raise kind.error("le fichier est vide.", path=path, hint=kind.format_hint)
    return data


def _decode(path: Path, data: bytes, kind: Kind) -> str:
    """Decode a text file: UTF-8 (with or without BOM) first, then Windows-1252.

    UTF-8 is tried strictly, so a cp1252 file (as older Cyclades exports and Excel
    "CSV" saves produce) is never half-decoded.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise kind.error(
                "caractères illisibles : l'encodage n'est ni UTF-8 ni Windows-1252.",
                path=path,
                place=Place(line=line),
                hint="Enregistrez la liste en « CSV UTF-8 » depuis votre tableur.",
            ) from exc
    if not text.strip():
        raise kind.error("le fichier est vide.", path=path, hint=kind.format_hint)
    if any(unicodedata.category(char) == "Cc" and char not in "\r\n\t" for char in text):
        raise kind.error("ce fichier n'est ni un CSV ni un classeur .xlsx.", path=path, hint=kind.format_hint)
    return text


def _read_csv(path: Path, text: str, kind: Kind) -> Table:
    """Split a CSV text into rows and find its header line and delimiter."""
    found: tuple[int, str, int] | None = None  # (matched columns, delimiter, index of the header row)
    for delimiter in _DELIMITERS:
        records = _csv_records(path, text, delimiter, kind)
        index = find_header((cells for _, cells in records), kind.keys)
        if index is not None:
            matched = len(match_columns(records[index][1], kind.keys))
            if found is None or matched > found[0]:
                found = (matched, delimiter, index)
    if found is None:
        # No recognisable header: take the first line as header, so that the
        # "missing columns" error can show what the file has.
        first_line = next(line for line in text.splitlines() if line.strip())
        delimiter = max(_DELIMITERS, key=first_line.count)
        records = _csv_records(path, text, delimiter, kind)
        index = next(i for i, (_, cells) in enumerate(records) if not is_blank(cells))
    else:
        _, delimiter, index = found
        records = _csv_records(path, text, delimiter, kind)
    header_line, header = records[index]
    return Table(
        format="csv",
        header_line=header_line,
        header=[clean(cell) for cell in header],
        rows=records[index + 1 :],
        preamble=[cells for _, cells in records[:index]],
    )


def _csv_records(path: Path, text: str, delimiter: str, kind: Kind) -> list[tuple[int, list[str]]]:
    """Parse CSV text, pairing each record with the line where it starts."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:  # e.g. a cell longer than the csv module accepts
        raise kind.error(
            "ligne illisible : une case est trop longue ou mal formée.",
            path=path,
            place=Place(line=line),
            hint=kind.format_hint,
        ) from exc
    return records


def _read_xlsx(path: Path, data: bytes, kind: Kind) -> Table:
    """Read the first sheet of a workbook (values, not formulas) into a table.

    The bytes are given to openpyxl as a file object, because openpyxl refuses a
    path whose extension is not .xlsx even when the content is a workbook.
    """
    import openpyxl  # imported here: reading a CSV must not pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    _check_xlsx_archive(path, data, kind)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # some writers store wrong dimensions: read every row
            rows = [(number, list(values)) for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
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
        raise kind.error(
            "ce classeur .xlsx est illisible ou endommagé.",
            path=path,
            hint="Ouvrez-le dans votre tableur et enregistrez-le à nouveau au format .xlsx, ou en CSV.",
        ) from exc
    if all(is_blank(cells) for _, cells in rows):
        raise kind.error(
            "la première feuille du classeur est vide.",
            path=path,
            place=Place(sheet=title),
            hint=f"Mettez {kind.subject} sur la première feuille.",
        )
    index = find_header((cells for _, cells in rows), kind.keys)
    if index is None:
        index = next(i for i, (_, cells) in enumerate(rows) if not is_blank(cells))
    header_line, header = rows[index]
    return Table(
        format="xlsx",
        header_line=header_line,
        header=[clean(cell) for cell in header],
        rows=rows[index + 1 :],
        preamble=[cells for _, cells in rows[:index]],
        sheet=title,
    )


def _check_xlsx_archive(path: Path, data: bytes, kind: Kind) -> None:
    """Refuse a ZIP file that is not a workbook (e.g. .ods, .docx) or that unzips to a huge size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise kind.error("ce fichier compressé est endommagé.", path=path, hint=kind.format_hint) from exc
    if "xl/workbook.xml" not in names:
        raise kind.error(
            "ce fichier compressé n'est pas un classeur .xlsx (un classeur .ods ?).", path=path, hint=kind.format_hint
        )
    if unzipped > _MAX_XLSX_UNZIPPED:
        raise kind.error(
            f"ce classeur est bien trop volumineux pour {kind.subject}.",
            path=path,
            hint="Copiez la liste seule dans un nouveau classeur .xlsx ou en CSV.",
        )


# --- Columns -------------------------------------------------------------------------------


def header_key(text: object) -> str:
    """Reduce a header to lowercase ASCII letters and digits: "N° Candidat" → "ncandidat"."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    return "".join(char for char in decomposed.lower() if char.isascii() and char.isalnum())


def match_columns(header: Iterable[object], keys: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """Map each known field of ``keys`` to the index of the first header cell naming it."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = header_key(cell)
        for name, spellings in keys.items():
            if key in spellings and name not in columns:
                columns[name] = index
    return columns


def find_header(rows: Iterable[Sequence[object]], keys: Mapping[str, tuple[str, ...]]) -> int | None:
    """Index of the first row naming at least two known columns, among the first non-empty rows."""
    seen = 0
    for index, cells in enumerate(rows):
        if is_blank(cells):
            continue
        if len(match_columns(cells, keys)) >= 2:
            return index
        seen += 1
        if seen >= _HEADER_SEARCH_ROWS:
            break
    return None


# --- Values --------------------------------------------------------------------------------


def clean(value: object, cyclades: bool = False) -> str:
    """Turn a cell into stripped text with single spaces; "-" (Cyclades' "empty") gives "".
    ``cyclades``: also remove the quotes Cyclades puts around class names ('TMCV2')."""
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


def is_blank(cells: Iterable[object]) -> bool:
    """True when a row has no value at all."""
    return all(clean(cell) == "" for cell in cells)
