"""Read the examiners' file: who assesses which candidates (CSV or XLSX, like a candidate list).

One line per examiner and candidate, or per examiner and whole division::

    Examinateur;Courriel;N° candidat;Division
    Mme Martin;martin@lycee.example.fr;;TMCV1
    M. Durand;durand@lycee.example.fr;2709411021;

The reading rules are those of candidate lists (:mod:`e2docs.formats.tabular`: regular files
only, encodings recognised or refused, web pages saved as .xls, delimiters, headers matched
ignoring case, accents and punctuation). This module checks what
the file alone can tell (required columns, a name, a well-formed address, a candidate or a
division on each line, one name per address); whether the candidates and divisions exist is
the campaign's business (:mod:`e2docs.app.examiners`).
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from e2docs.formats.tabular import Kind, Table, clean, is_blank, match_columns, read_table
from e2docs.model.errors import E2docsError, Place
from e2docs.model.examiner import Examiner

_NUMBER_KEYS = ("ncandidat", "ndecandidat", "nocandidat", "numerocandidat", "numerodecandidat", "numero", "candidat")
_HEADER_KEYS: dict[str, tuple[str, ...]] = {
    "name": (
        "examinateur",
        "examinatrice",
        "nomexaminateur",
        "nomdelexaminateur",
        "evaluateur",
        "professeur",
        "enseignant",
        "nom",
        "nomprenom",
        "nometprenom",
    ),
    "email": (
        "email",
        "mail",
        "courriel",
        "mel",
        "adressemail",
        "adresseemail",
        "adressecourriel",
        "adressemel",
        "adresseelectronique",
        "emailexaminateur",
        "mailexaminateur",
        "courrielexaminateur",
        "courrieldelexaminateur",
    ),
    "number": _NUMBER_KEYS,
    "division": ("division", "divisiondeclasse", "classe"),
}
_FIELD_NAMES = {"name": "examinateur", "email": "adresse e-mail", "number": "n° candidat", "division": "division"}

# An addr-spec as mail clients accept it: ASCII local part (dot-atom) @ a domain with a dot.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
_ADDRESS = re.compile(rf"^{_LOCAL}@{_DOMAIN}$")

_HINT_FORMAT = (
    "Donnez un fichier CSV ou un classeur .xlsx avec une ligne d'en-tête « Examinateur », « Courriel », "
    "« N° candidat » et/ou « Division »."
)


class ExaminersError(E2docsError):
    """The examiners' file is unreadable or inconsistent (nothing is changed in the campaign)."""


_KIND = Kind(
    keys=_HEADER_KEYS,
    error=ExaminersError,
    subject="la liste des examinateurs",
    format_hint=_HINT_FORMAT,
    rows="d'examinateurs",
)


@dataclass(frozen=True)
class AssignmentLine:
    """One line of the file: ``examiner`` assesses the candidate ``number``, or (``number`` "") every
    candidate of ``division``. ``line``: the line (CSV) or row (XLSX) as the user sees it;
    ``number_place``, ``division_place``: where those cells are, for messages (``None`` when the
    file has no such column)."""

    line: int
    examiner: Examiner
    number: str
    division: str
    number_place: Place | None
    division_place: Place | None


@dataclass(frozen=True)
class ExaminersFile:
    """The lines of an examiners' file, in order, blank lines left out; ``examiners``: each examiner
    once, in order of first appearance."""

    path: Path
    lines: tuple[AssignmentLine, ...]
    examiners: tuple[Examiner, ...]


def valid_address(text: str) -> bool:
    """Whether ``text`` is a plain e-mail address (``martin@lycee.example.fr``): ASCII, one ``@``, a
    domain with a dot; no display name, no spaces."""
    return bool(_ADDRESS.match(text)) and len(text) <= 254


def read_examiners(path: str | Path, encoding: str | None = None) -> ExaminersFile:
    """Read the examiners' file at ``path``; ``encoding`` forces the encoding of a text file (a key of
    :data:`e2docs.formats.textencoding.ENCODINGS`), ``None`` recognises it.

    The address cell may hold ``Nom <adresse>`` (as copied from a mail client): the address is
    taken, and the name too when the name cell is empty. Raises :class:`ExaminersError` with the
    line and column for: a missing column (examiner, address, and candidate number or division),
    an empty name, a malformed address, a line with neither a candidate nor a division, one
    address given two different names; and for files that cannot be read (see
    :func:`~e2docs.formats.tabular.read_table`).
    """
    path = Path(path)
    table = read_table(path, _KIND, encoding)
    columns = match_columns(table.header, _HEADER_KEYS)
    _check_columns(path, table, columns)
    lines: list[AssignmentLine] = []
    examiners: dict[str, tuple[Examiner, int]] = {}  # address without case → (examiner, first line)
    for line, cells in table.rows:
        if is_blank(cells):
            continue

        def text(name: str, cells: Sequence[object] = cells) -> str:
            index = columns.get(name)
            return clean(cells[index], cyclades=True) if index is not None and index < len(cells) else ""

        def place(name: str, line: int = line) -> Place | None:
            return table.place(line, columns[name]) if name in columns else None

        name, address = text("name"), text("email")
        shown, parsed = email.utils.parseaddr(address)
        if parsed and ("<" in address or shown):
            address, name = parsed, name or shown
        if not name:
            raise ExaminersError(
                "nom de l'examinateur manquant.",
                path,
                place("name"),
                hint="Écrivez le nom tel que le message doit saluer l'examinateur (par exemple « Mme Martin »).",
            )
        if not address:
            raise ExaminersError(
                "adresse e-mail manquante.",
                path,
                place("email"),
                hint="Indiquez l'adresse où envoyer les classeurs de cet examinateur.",
            )
        if not valid_address(address):
            raise ExaminersError(
                f"adresse e-mail invalide : « {address} ».",
                path,
                place("email"),
                hint="Écrivez une seule adresse, sans espace ni accent, de la forme nom@domaine.fr.",
            )
        examiner = Examiner(name, address)
        known = examiners.get(examiner.key)
        if known is None:
            examiners[examiner.key] = (examiner, line)
        elif known[0].name != name:
            raise ExaminersError(
                f"l'adresse « {address} » porte déjà le nom « {known[0].name} » (ligne {known[1]}), ici « {name} ».",
                path,
                place("name"),
                hint="Une adresse est celle d'un seul examinateur : écrivez son nom de la même façon sur chaque ligne.",
            )
        else:
            examiner = known[0]
        number, division = text("number"), text("division")
        if not number and not division:
            raise ExaminersError(
                "ni numéro de candidat ni division : à qui cet examinateur est-il attribué ?",
                path,
                place("number") or place("division"),
                hint="Indiquez sur chaque ligne soit le numéro d'un candidat, soit une division entière.",
            )
        lines.append(AssignmentLine(line, examiner, number, division, place("number"), place("division")))
    if not lines:
        raise ExaminersError(
            "aucune ligne sous l'en-tête.",
            path,
            Place(sheet=table.sheet, line=table.header_line),
            hint="Ajoutez une ligne par examinateur et candidat (ou par examinateur et division).",
        )
    return ExaminersFile(path, tuple(lines), tuple(e for e, _ in examiners.values()))


def _check_columns(path: Path, table: Table, columns: dict[str, int]) -> None:
    """Raise when the header lacks the examiner, the address, or both the number and the division."""
    missing = [_FIELD_NAMES[n] for n in ("name", "email") if n not in columns]
    if "number" not in columns and "division" not in columns:
        missing.append("n° candidat ou division")
    if missing:
        found = ", ".join(f"« {cell} »" for cell in table.header if cell) or "aucune"
        raise ExaminersError(
            f"colonne(s) obligatoire(s) absente(s) : {', '.join(f'« {name} »' for name in missing)}. "
            f"Colonnes trouvées : {found}.",
            path,
            Place(sheet=table.sheet, line=table.header_line),
            hint=_HINT_FORMAT,
        )
