"""Read a table a user gives (a CSV, the first sheet of an XLSX, a web page saved as .xls) into rows,
before any meaning.

Shared by the candidate list (:mod:`e2docs.formats.roster`) and the examiners' file
(:mod:`e2docs.formats.examiners`), so that both accept the same files. The format is
recognised from the content, not from the file name:

* the file must be a regular file of at most :attr:`Kind.limit` bytes
  (:mod:`e2docs.formats.files`): a directory, a named pipe or a device is refused
  before it is opened;
* a file starting like a ZIP archive is read as an XLSX workbook (first sheet, values);
* an old ``.xls`` (or an encrypted workbook) and Excel's « XML 2003 » workbook are refused;
* a web page (what many web exports saved as ``.xls`` are, and Excel's « Page Web ») is
  read from its first table holding the expected header; rows are numbered as a
  spreadsheet opening the page shows them (the table's rows);
* any other text file is read as CSV (``;``, ``,`` or tab, sniffed from the header
  line); its encoding (UTF-8 with or without BOM, UTF-16, Windows-1252, Mac Roman) is
  recognised by :mod:`e2docs.formats.textencoding`, which refuses to guess when unsure,
  or forced by the caller;
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
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

from e2docs.formats import sniff, textencoding
from e2docs.formats.files import Expect, read_regular
from e2docs.formats.xlsx.safety import MAX_FILE_BYTES
from e2docs.model.errors import E2docsError, Place

_DELIMITERS = (";", "\t", ",")
_HEADER_SEARCH_ROWS = 20  # the header is looked for among the first non-empty rows
_MAX_XLSX_UNZIPPED = 100 * 1024 * 1024  # a list is tiny; refuse ZIP bombs
MAX_TABLE_BYTES = MAX_FILE_BYTES
"""The largest file read by default (25 Mo, as a returned workbook; a school's whole Cyclades export is far
smaller)."""

_HINT_WEB_PAGE = (
    "Ce fichier est une page web (export d'un site) nommée .xls : ouvrez-la dans votre tableur et "
    "enregistrez la liste au format .xlsx ou en « CSV UTF-8 »."
)


@dataclass(frozen=True)
class Kind:
    """What kind of table is read, for the messages and the header search.

    ``keys``: field → accepted header spellings (as :func:`header_key` gives them);
    ``error``: the exception raised; ``subject``: the file in French (« la liste des
    candidats »); ``format_hint``: what to give instead of an unreadable file; ``rows``:
    what a table of the web page should hold, after « tableau » (« de candidats »);
    ``limit``: the largest file read, in bytes.
    """

    keys: Mapping[str, tuple[str, ...]]
    error: type[E2docsError]
    subject: str
    format_hint: str
    rows: str
    limit: int = MAX_TABLE_BYTES

    @property
    def expect(self) -> Expect:
        """What :func:`~e2docs.formats.files.read_regular` checks, with the French messages
        (« fichier de la liste des candidats introuvable. »)."""
        return Expect(
            f"fichier de {self.subject}",
            self.limit,
            f"Vérifiez le chemin et le nom du fichier de {self.subject}.",
            self.error,
        )


@dataclass
class Table:
    """Rows of a list as read, before any meaning is given to them.

    ``rows`` pairs each row's cells with its line (CSV) or row number (XLSX, web page table), as the
    user sees it; ``preamble`` holds the rows above the header. Cells are texts
    (CSV, web page) or openpyxl values (XLSX: text, number, datetime or ``None``).
    ``sheet`` is the sheet's title, ``None`` for a CSV or a web page. ``format``:
    ``"csv"``, ``"xlsx"`` or ``"html"`` (a web page). ``encoding`` names the text
    encoding as users know it (« UTF-8 », « Mac Roman »…), ``None`` for a workbook;
    ``data`` the file's bytes as read.
    """

    format: str
    header_line: int
    header: list[str]
    rows: Sequence[tuple[int, Sequence[object]]]
    preamble: Sequence[Sequence[object]] = field(default_factory=list)
    sheet: str | None = None
    encoding: str | None = None
    data: bytes = field(default=b"", repr=False, compare=False)

    def place(self, line: int, index: int) -> Place:
        """Where a cell is, named by its line and its column header (or number if unnamed)."""
        column = self.header[index] if index < len(self.header) and self.header[index] else index + 1
        return Place(sheet=self.sheet, line=line, column=column)


def read_table(path: Path, kind: Kind, encoding: str | None = None) -> Table:
    """Read the table at ``path`` (CSV, XLSX or web page, recognised from the content).

    ``encoding`` forces the encoding of a text file: a key of
    :data:`e2docs.formats.textencoding.ENCODINGS` (``"mac-roman"``…); ``None`` recognises it.
    Raises ``kind.error`` when the file cannot be read (missing, not a regular file, more than
    ``kind.limit`` bytes, empty, an old .xls, an encrypted or « XML 2003 » workbook, encoding in
    doubt, damaged workbook, web page without a table…).
    """
    data = _read_bytes(path, kind)
    if sniff.is_zip(data):
        return replace(_read_xlsx(path, data, kind), data=data)
    if sniff.is_ole(data):  # .xls, or an encrypted .xlsx
        raise kind.error(
            "ce fichier est un ancien classeur Excel (.xls) ou un classeur protégé par mot de passe : "
            "il ne peut pas être lu.",
            path=path,
            hint="Enregistrez la liste au format .xlsx (sans mot de passe) ou CSV.",
        )
    markup = sniff.markup_kind(data[: sniff.HEAD_BYTES])
    if markup == "spreadsheet-xml":
        raise kind.error(
            "ce fichier est un classeur « XML 2003 » d'Excel (souvent nommé .xls) : il ne peut pas être lu.",
            path=path,
            hint="Ouvrez-le dans votre tableur et enregistrez-le au format .xlsx ou en CSV UTF-8.",
        )
    declared = sniff.declared_charset(data) if markup == "html" else None
    decoded = textencoding.decode(path, data, encoding, declared, error=kind.error)
    text = _check_text(path, decoded.text, kind)
    table = _read_html(path, text, kind) if markup == "html" else _read_csv(path, text, kind)
    return replace(table, encoding=decoded.encoding, data=data)


def _read_bytes(path: Path, kind: Kind) -> bytes:
    """Return the file's bytes: a regular file of at most ``kind.limit`` bytes, not empty."""
    data = read_regular(path, kind.expect)
    if not data.strip():
        raise kind.error("le fichier est vide.", path=path, hint=kind.format_hint)
    return data


def _check_text(path: Path, text: str, kind: Kind) -> str:
    """Refuse a decoded text that is empty or holds control characters (a binary file)."""
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

    from e2docs.formats.xlsx.package import cell_text, quiet_openpyxl

    _check_xlsx_archive(path, data, kind)
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


def _read_html(path: Path, text: str, kind: Kind) -> Table:
    """Read the first table of a web page whose header names the expected columns.

    Rows are numbered within the table, from 1, as a spreadsheet opening the page shows them.
    Without such a table, the first table that is not empty is read, so that the "missing
    columns" error shows what it has. Raises ``kind.error`` for a page without any table.
    """
    parser = _HtmlTables()
    try:
        parser.feed(text)
        parser.close()
    except (ValueError, AssertionError) as exc:  # html.parser's own complaints on broken markup
        raise kind.error("page web enregistrée en .xls, illisible.", path=path, hint=_HINT_WEB_PAGE) from exc
    tables = [[(number, row) for number, row in enumerate(rows, start=1)] for rows in parser.tables]
    tables = [rows for rows in tables if not all(is_blank(cells) for _, cells in rows)]
    if not tables:
        raise kind.error(f"page web enregistrée en .xls, sans tableau {kind.rows}.", path=path, hint=_HINT_WEB_PAGE)
    for rows in tables:
        index = find_header((cells for _, cells in rows), kind.keys)
        if index is not None:
            break
    else:
        rows = tables[0]
        index = next(i for i, (_, cells) in enumerate(rows) if not is_blank(cells))
    header_line, header = rows[index]
    return Table(
        format="html",
        header_line=header_line,
        header=[clean(cell) for cell in header],
        rows=rows[index + 1 :],
        preamble=[cells for _, cells in rows[:index]],
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
