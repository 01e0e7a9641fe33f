"""User-facing errors: one exception type that carries a French message and a place.

Every error a user can cause (bad roster, broken grid file, hostile workbook…) is
raised as an :class:`E2docsError`, so the CLI can print it without a traceback and
exit with the right code.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Place:
    """Where in a file a problem lies: a sheet and cell, a line and column, or a key.

    ``line`` counts from 1 as editors show it; ``column`` is a header text or a
    1-based number; ``key`` is a dotted key of a grid file ("criterion[3].points").
    ``None`` (or "" for a text) leaves a part out; ``str()`` joins the others in French.
    """

    sheet: str | None = None
    cell: str | None = None
    line: int | None = None
    column: str | int | None = None
    key: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"feuille « {self.sheet} »")
        if self.cell:
            parts.append(f"cellule {self.cell}")
        if self.line is not None:
            parts.append(f"ligne {self.line}")
        if self.column is not None:
            parts.append(f"colonne {self.column}" if isinstance(self.column, int) else f"colonne « {self.column} »")
        if self.key:
            parts.append(f"clé « {self.key} »")
        return ", ".join(parts)


class E2docsError(Exception):
    """An error caused by the user's input, described in French.

    ``exit_code`` follows the CLI contract: 2 for bad usage or unusable input
    (nothing written), 1 when some input was rejected but the rest processed.
    ``message`` is a French sentence, ``path`` the file concerned, ``hint`` what
    the user can do; ``None`` leaves them out of the text ``str()`` gives.
    """

    exit_code = 2

    def __init__(
        self, message: str, path: str | Path | None = None, place: Place | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.place = place
        self.hint = hint

    def __str__(self) -> str:
        head = []
        if self.path is not None:
            head.append(str(self.path))
        if self.place is not None and str(self.place):
            head.append(str(self.place))
        text = (" — ".join(head) + " : " if head else "") + self.message
        if self.hint:
            text += f"\n  → {self.hint}"
        return text


class GridError(E2docsError):
    """A grid definition file is unreadable or inconsistent."""


class RosterError(E2docsError):
    """A candidate list is unreadable, empty or inconsistent."""


class WorkbookError(E2docsError):
    """A workbook cannot be read (not a workbook, encrypted, too large, hostile…)."""


_OS_ERRORS: dict[int, str] = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EACCES: "accès refusé (droits du fichier ou du dossier)",
    errno.EPERM: "opération non permise (droits du fichier ou du dossier)",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ENOSPC: "disque plein",
    errno.EROFS: "support en lecture seule",
    errno.EEXIST: "le fichier existe déjà",
    errno.ENAMETOOLONG: "nom de fichier trop long",
}


def os_error_fr(exc: OSError) -> str:
    """A system error in French words (strerror is English on most machines)."""
    if not exc.errno:  # None (an OSError raised without one) or 0
        return "erreur système"
    return _OS_ERRORS.get(exc.errno, f"erreur système n° {exc.errno}")
